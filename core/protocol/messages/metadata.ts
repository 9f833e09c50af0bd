/**
 * Metadata (API key 3), written from Kafka's MetadataRequest.json and MetadataResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const MetadataRequest = request({
  apiKey: 3,
  api: 'Metadata',
  validVersions: '0-12',
  flexibleVersions: '9+',
  fields: {
    // MetadataRequestTopic
    topics: t.array(
      '0+',
      {
        topicId: t.uuid('10+'),
        name: t.string('0+', { nullableVersions: '10+' }),
      },
      { nullableVersions: '1+' },
    ),
    allowAutoTopicCreation: t.bool('4+', { default: true }),
    includeClusterAuthorizedOperations: t.bool('8-10'),
    includeTopicAuthorizedOperations: t.bool('8+'),
  },
});
export type MetadataRequestData = Infer<typeof MetadataRequest>;
export type MetadataRequestInput = InferInput<typeof MetadataRequest>;

export const MetadataResponse = response({
  apiKey: 3,
  api: 'Metadata',
  validVersions: '0-12',
  flexibleVersions: '9+',
  fields: {
    throttleTimeMs: t.int32('3+'),
    // MetadataResponseBroker
    brokers: t.array('0+', {
      nodeId: t.int32('0+'),
      host: t.string('0+'),
      port: t.int32('0+'),
      rack: t.string('1+', { nullableVersions: '1+', default: null }),
    }),
    clusterId: t.string('2+', { nullableVersions: '2+', default: null }),
    controllerId: t.int32('1+', { default: -1 }),
    // MetadataResponseTopic
    topics: t.array('0+', {
      errorCode: t.int16('0+'),
      name: t.string('0+', { nullableVersions: '12+' }),
      topicId: t.uuid('10+'),
      isInternal: t.bool('1+', { default: false }),
      // MetadataResponsePartition
      partitions: t.array('0+', {
        errorCode: t.int16('0+'),
        partitionIndex: t.int32('0+'),
        leaderId: t.int32('0+'),
        leaderEpoch: t.int32('7+', { default: -1 }),
        replicaNodes: t.array('0+', 'int32'),
        isrNodes: t.array('0+', 'int32'),
        offlineReplicas: t.array('5+', 'int32'),
      }),
      topicAuthorizedOperations: t.int32('8+', { default: -2147483648 }),
    }),
    clusterAuthorizedOperations: t.int32('8-10', { default: -2147483648 }),
  },
});
export type MetadataResponseData = Infer<typeof MetadataResponse>;
export type MetadataResponseInput = InferInput<typeof MetadataResponse>;
