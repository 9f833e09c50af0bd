/**
 * JoinGroup (API key 11), written from Kafka's JoinGroupRequest.json and JoinGroupResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const JoinGroupRequest = request({
  apiKey: 11,
  api: 'JoinGroup',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: {
    groupId: t.string('0+'),
    sessionTimeoutMs: t.int32('0+'),
    rebalanceTimeoutMs: t.int32('1+', { default: -1 }),
    memberId: t.string('0+'),
    groupInstanceId: t.string('5+', { nullableVersions: '5+', default: null }),
    protocolType: t.string('0+'),
    // JoinGroupRequestProtocol
    protocols: t.array('0+', {
      name: t.string('0+'),
      metadata: t.bytes('0+'),
    }),
    reason: t.string('8+', { nullableVersions: '8+', default: null }),
  },
});
export type JoinGroupRequestData = Infer<typeof JoinGroupRequest>;
export type JoinGroupRequestInput = InferInput<typeof JoinGroupRequest>;

export const JoinGroupResponse = response({
  apiKey: 11,
  api: 'JoinGroup',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: {
    throttleTimeMs: t.int32('2+'),
    errorCode: t.int16('0+'),
    generationId: t.int32('0+', { default: -1 }),
    protocolType: t.string('7+', { nullableVersions: '7+', default: null }),
    protocolName: t.string('0+', { nullableVersions: '7+' }),
    leader: t.string('0+'),
    skipAssignment: t.bool('9+', { default: false }),
    memberId: t.string('0+'),
    // JoinGroupResponseMember
    members: t.array('0+', {
      memberId: t.string('0+'),
      groupInstanceId: t.string('5+', { nullableVersions: '5+', default: null }),
      metadata: t.bytes('0+'),
    }),
  },
});
export type JoinGroupResponseData = Infer<typeof JoinGroupResponse>;
export type JoinGroupResponseInput = InferInput<typeof JoinGroupResponse>;
