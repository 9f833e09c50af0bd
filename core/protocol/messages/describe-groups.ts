/**
 * DescribeGroups (API key 15), written from Kafka's DescribeGroupsRequest.json and DescribeGroupsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const DescribeGroupsRequest = request({
  apiKey: 15,
  api: 'DescribeGroups',
  validVersions: '0-5',
  flexibleVersions: '5+',
  fields: {
    groups: t.array('0+', 'string'),
    includeAuthorizedOperations: t.bool('3+'),
  },
});
export type DescribeGroupsRequestData = Infer<typeof DescribeGroupsRequest>;
export type DescribeGroupsRequestInput = InferInput<typeof DescribeGroupsRequest>;

export const DescribeGroupsResponse = response({
  apiKey: 15,
  api: 'DescribeGroups',
  validVersions: '0-5',
  flexibleVersions: '5+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    // DescribedGroup
    groups: t.array('0+', {
      errorCode: t.int16('0+'),
      groupId: t.string('0+'),
      groupState: t.string('0+'),
      protocolType: t.string('0+'),
      protocolData: t.string('0+'),
      // DescribedGroupMember
      members: t.array('0+', {
        memberId: t.string('0+'),
        groupInstanceId: t.string('4+', { nullableVersions: '4+', default: null }),
        clientId: t.string('0+'),
        clientHost: t.string('0+'),
        memberMetadata: t.bytes('0+'),
        memberAssignment: t.bytes('0+'),
      }),
      authorizedOperations: t.int32('3+', { default: -2147483648 }),
    }),
  },
});
export type DescribeGroupsResponseData = Infer<typeof DescribeGroupsResponse>;
export type DescribeGroupsResponseInput = InferInput<typeof DescribeGroupsResponse>;
