/**
 * DescribeCluster (API key 60), written from Kafka's DescribeClusterRequest.json and DescribeClusterResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const DescribeClusterRequest = request({
  apiKey: 60,
  api: 'DescribeCluster',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: {
    includeClusterAuthorizedOperations: t.bool('0+'),
    endpointType: t.int8('1+', { default: 1 }),
  },
});
export type DescribeClusterRequestData = Infer<typeof DescribeClusterRequest>;
export type DescribeClusterRequestInput = InferInput<typeof DescribeClusterRequest>;

export const DescribeClusterResponse = response({
  apiKey: 60,
  api: 'DescribeCluster',
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    errorCode: t.int16('0+'),
    errorMessage: t.string('0+', { nullableVersions: '0+', default: null }),
    endpointType: t.int8('1+', { default: 1 }),
    clusterId: t.string('0+'),
    controllerId: t.int32('0+', { default: -1 }),
    // DescribeClusterBroker
    brokers: t.array('0+', {
      brokerId: t.int32('0+'),
      host: t.string('0+'),
      port: t.int32('0+'),
      rack: t.string('0+', { nullableVersions: '0+', default: null }),
    }),
    clusterAuthorizedOperations: t.int32('0+', { default: -2147483648 }),
  },
});
export type DescribeClusterResponseData = Infer<typeof DescribeClusterResponse>;
export type DescribeClusterResponseInput = InferInput<typeof DescribeClusterResponse>;
