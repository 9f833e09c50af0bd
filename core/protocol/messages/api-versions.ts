/**
 * ApiVersions (API key 18), written from Kafka's ApiVersionsRequest.json and ApiVersionsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const ApiVersionsRequest = request({
  apiKey: 18,
  api: 'ApiVersions',
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: {
    clientSoftwareName: t.string('3+'),
    clientSoftwareVersion: t.string('3+'),
  },
});
export type ApiVersionsRequestData = Infer<typeof ApiVersionsRequest>;
export type ApiVersionsRequestInput = InferInput<typeof ApiVersionsRequest>;

export const ApiVersionsResponse = response({
  apiKey: 18,
  api: 'ApiVersions',
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: {
    errorCode: t.int16('0+'),
    // ApiVersion
    apiKeys: t.array('0+', {
      apiKey: t.int16('0+'),
      minVersion: t.int16('0+'),
      maxVersion: t.int16('0+'),
    }),
    throttleTimeMs: t.int32('1+'),
    // SupportedFeatureKey
    supportedFeatures: t.array(
      '3+',
      {
        name: t.string('3+'),
        minVersion: t.int16('3+'),
        maxVersion: t.int16('3+'),
      },
      { taggedVersions: '3+', tag: 0 },
    ),
    finalizedFeaturesEpoch: t.int64('3+', { taggedVersions: '3+', tag: 1, default: -1 }),
    // FinalizedFeatureKey
    finalizedFeatures: t.array(
      '3+',
      {
        name: t.string('3+'),
        maxVersionLevel: t.int16('3+'),
        minVersionLevel: t.int16('3+'),
      },
      { taggedVersions: '3+', tag: 2 },
    ),
    zkMigrationReady: t.bool('3+', { taggedVersions: '3+', tag: 3, default: false }),
  },
});
export type ApiVersionsResponseData = Infer<typeof ApiVersionsResponse>;
export type ApiVersionsResponseInput = InferInput<typeof ApiVersionsResponse>;
