/**
 * AlterConfigs (API key 33), written from Kafka's AlterConfigsRequest.json and AlterConfigsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const AlterConfigsRequest = request({
  apiKey: 33,
  api: 'AlterConfigs',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    // AlterConfigsResource
    resources: t.array('0+', {
      resourceType: t.int8('0+'),
      resourceName: t.string('0+'),
      // AlterableConfig
      configs: t.array('0+', {
        name: t.string('0+'),
        value: t.string('0+', { nullableVersions: '0+' }),
      }),
    }),
    validateOnly: t.bool('0+'),
  },
});
export type AlterConfigsRequestData = Infer<typeof AlterConfigsRequest>;
export type AlterConfigsRequestInput = InferInput<typeof AlterConfigsRequest>;

export const AlterConfigsResponse = response({
  apiKey: 33,
  api: 'AlterConfigs',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    // AlterConfigsResourceResponse
    responses: t.array('0+', {
      errorCode: t.int16('0+'),
      errorMessage: t.string('0+', { nullableVersions: '0+' }),
      resourceType: t.int8('0+'),
      resourceName: t.string('0+'),
    }),
  },
});
export type AlterConfigsResponseData = Infer<typeof AlterConfigsResponse>;
export type AlterConfigsResponseInput = InferInput<typeof AlterConfigsResponse>;
