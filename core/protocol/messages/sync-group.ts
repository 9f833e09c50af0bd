/**
 * SyncGroup (API key 14), written from Kafka's SyncGroupRequest.json and SyncGroupResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const SyncGroupRequest = request({
  apiKey: 14,
  api: 'SyncGroup',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: {
    groupId: t.string('0+'),
    generationId: t.int32('0+'),
    memberId: t.string('0+'),
    groupInstanceId: t.string('3+', { nullableVersions: '3+', default: null }),
    protocolType: t.string('5+', { nullableVersions: '5+', default: null }),
    protocolName: t.string('5+', { nullableVersions: '5+', default: null }),
    // SyncGroupRequestAssignment
    assignments: t.array('0+', {
      memberId: t.string('0+'),
      assignment: t.bytes('0+'),
    }),
  },
});
export type SyncGroupRequestData = Infer<typeof SyncGroupRequest>;
export type SyncGroupRequestInput = InferInput<typeof SyncGroupRequest>;

export const SyncGroupResponse = response({
  apiKey: 14,
  api: 'SyncGroup',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    errorCode: t.int16('0+'),
    protocolType: t.string('5+', { nullableVersions: '5+', default: null }),
    protocolName: t.string('5+', { nullableVersions: '5+', default: null }),
    assignment: t.bytes('0+'),
  },
});
export type SyncGroupResponseData = Infer<typeof SyncGroupResponse>;
export type SyncGroupResponseInput = InferInput<typeof SyncGroupResponse>;
