/**
 * IncrementalAlterConfigs (API key 44), written from Kafka's IncrementalAlterConfigsRequest.json and IncrementalAlterConfigsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const IncrementalAlterConfigsRequest = request({
  apiKey: 44,
  api: 'IncrementalAlterConfigs',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: {
    // AlterConfigsResource
    resources: t.array('0+', {
      resourceType: t.int8('0+'),
      resourceName: t.string('0+'),
      // AlterableConfig
      configs: t.array('0+', {
        name: t.string('0+'),
        configOperation: t.int8('0+'),
        value: t.string('0+', { nullableVersions: '0+' }),
      }),
    }),
    validateOnly: t.bool('0+'),
  },
});
export type IncrementalAlterConfigsRequestData = Infer<typeof IncrementalAlterConfigsRequest>;
export type IncrementalAlterConfigsRequestInput = InferInput<typeof IncrementalAlterConfigsRequest>;

export const IncrementalAlterConfigsResponse = response({
  apiKey: 44,
  api: 'IncrementalAlterConfigs',
  validVersions: '0-1',
  flexibleVersions: '1+',
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
export type IncrementalAlterConfigsResponseData = Infer<typeof IncrementalAlterConfigsResponse>;
export type IncrementalAlterConfigsResponseInput = InferInput<typeof IncrementalAlterConfigsResponse>;
