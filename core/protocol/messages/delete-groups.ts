/**
 * DeleteGroups (API key 42), written from Kafka's DeleteGroupsRequest.json and DeleteGroupsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const DeleteGroupsRequest = request({
  apiKey: 42,
  api: 'DeleteGroups',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    groupsNames: t.array('0+', 'string'),
  },
});
export type DeleteGroupsRequestData = Infer<typeof DeleteGroupsRequest>;
export type DeleteGroupsRequestInput = InferInput<typeof DeleteGroupsRequest>;

export const DeleteGroupsResponse = response({
  apiKey: 42,
  api: 'DeleteGroups',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    // DeletableGroupResult
    results: t.array('0+', {
      groupId: t.string('0+'),
      errorCode: t.int16('0+'),
    }),
  },
});
export type DeleteGroupsResponseData = Infer<typeof DeleteGroupsResponse>;
export type DeleteGroupsResponseInput = InferInput<typeof DeleteGroupsResponse>;
