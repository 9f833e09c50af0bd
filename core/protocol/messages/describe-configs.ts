/**
 * DescribeConfigs (API key 32), written from Kafka's DescribeConfigsRequest.json and DescribeConfigsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const DescribeConfigsRequest = request({
  apiKey: 32,
  api: 'DescribeConfigs',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: {
    // DescribeConfigsResource
    resources: t.array('0+', {
      resourceType: t.int8('0+'),
      resourceName: t.string('0+'),
      configurationKeys: t.array('0+', 'string', { nullableVersions: '0+' }),
    }),
    includeSynonyms: t.bool('1+', { default: false }),
    includeDocumentation: t.bool('3+', { default: false }),
  },
});
export type DescribeConfigsRequestData = Infer<typeof DescribeConfigsRequest>;
export type DescribeConfigsRequestInput = InferInput<typeof DescribeConfigsRequest>;

export const DescribeConfigsResponse = response({
  apiKey: 32,
  api: 'DescribeConfigs',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    // DescribeConfigsResult
    results: t.array('0+', {
      errorCode: t.int16('0+'),
      errorMessage: t.string('0+', { nullableVersions: '0+' }),
      resourceType: t.int8('0+'),
      resourceName: t.string('0+'),
      // DescribeConfigsResourceResult
      configs: t.array('0+', {
        name: t.string('0+'),
        value: t.string('0+', { nullableVersions: '0+' }),
        readOnly: t.bool('0+'),
        isDefault: t.bool('0'),
        configSource: t.int8('1+', { default: -1 }),
        isSensitive: t.bool('0+'),
        // DescribeConfigsSynonym
        synonyms: t.array('1+', {
          name: t.string('1+'),
          value: t.string('1+', { nullableVersions: '0+' }),
          source: t.int8('1+'),
        }),
        configType: t.int8('3+', { default: 0 }),
        documentation: t.string('3+', { nullableVersions: '0+' }),
      }),
    }),
  },
});
export type DescribeConfigsResponseData = Infer<typeof DescribeConfigsResponse>;
export type DescribeConfigsResponseInput = InferInput<typeof DescribeConfigsResponse>;
