/**
 * LeaveGroup (API key 13), written from Kafka's LeaveGroupRequest.json and LeaveGroupResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const LeaveGroupRequest = request({
  apiKey: 13,
  api: 'LeaveGroup',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: {
    groupId: t.string('0+'),
    memberId: t.string('0-2'),
    // MemberIdentity
    members: t.array('3+', {
      memberId: t.string('3+'),
      groupInstanceId: t.string('3+', { nullableVersions: '3+', default: null }),
      reason: t.string('5+', { nullableVersions: '5+', default: null }),
    }),
  },
});
export type LeaveGroupRequestData = Infer<typeof LeaveGroupRequest>;
export type LeaveGroupRequestInput = InferInput<typeof LeaveGroupRequest>;

export const LeaveGroupResponse = response({
  apiKey: 13,
  api: 'LeaveGroup',
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    errorCode: t.int16('0+'),
    // MemberResponse
    members: t.array('3+', {
      memberId: t.string('3+'),
      groupInstanceId: t.string('3+', { nullableVersions: '3+' }),
      errorCode: t.int16('3+'),
    }),
  },
});
export type LeaveGroupResponseData = Infer<typeof LeaveGroupResponse>;
export type LeaveGroupResponseInput = InferInput<typeof LeaveGroupResponse>;
