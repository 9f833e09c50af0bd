/**
 * ListGroups (API key 16), written from Kafka's ListGroupsRequest.json and ListGroupsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const ListGroupsRequest = request({
  apiKey: 16,
  api: 'ListGroups',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: {
    statesFilter: t.array('4+', 'string'),
    typesFilter: t.array('5+', 'string'),
  },
});
export type ListGroupsRequestData = Infer<typeof ListGroupsRequest>;
export type ListGroupsRequestInput = InferInput<typeof ListGroupsRequest>;

export const ListGroupsResponse = response({
  apiKey: 16,
  api: 'ListGroups',
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    errorCode: t.int16('0+'),
    // ListedGroup
    groups: t.array('0+', {
      groupId: t.string('0+'),
      protocolType: t.string('0+'),
      groupState: t.string('4+'),
      groupType: t.string('5+'),
    }),
  },
});
export type ListGroupsResponseData = Infer<typeof ListGroupsResponse>;
export type ListGroupsResponseInput = InferInput<typeof ListGroupsResponse>;
