/**
 * CreateTopics (API key 19), written from Kafka's CreateTopicsRequest.json and CreateTopicsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const CreateTopicsRequest = request({
  apiKey: 19,
  api: 'CreateTopics',
  validVersions: '0-7',
  flexibleVersions: '5+',
  fields: {
    // CreatableTopic
    topics: t.array('0+', {
      name: t.string('0+'),
      numPartitions: t.int32('0+'),
      replicationFactor: t.int16('0+'),
      // CreatableReplicaAssignment
      assignments: t.array('0+', {
        partitionIndex: t.int32('0+'),
        brokerIds: t.array('0+', 'int32'),
      }),
      // CreatableTopicConfig
      configs: t.array('0+', {
        name: t.string('0+'),
        value: t.string('0+', { nullableVersions: '0+' }),
      }),
    }),
    timeoutMs: t.int32('0+', { default: 60000 }),
    validateOnly: t.bool('1+', { default: false }),
  },
});
export type CreateTopicsRequestData = Infer<typeof CreateTopicsRequest>;
export type CreateTopicsRequestInput = InferInput<typeof CreateTopicsRequest>;

export const CreateTopicsResponse = response({
  apiKey: 19,
  api: 'CreateTopics',
  validVersions: '0-7',
  flexibleVersions: '5+',
  fields: {
    throttleTimeMs: t.int32('2+'),
    // CreatableTopicResult
    topics: t.array('0+', {
      name: t.string('0+'),
      topicId: t.uuid('7+'),
      errorCode: t.int16('0+'),
      errorMessage: t.string('1+', { nullableVersions: '0+' }),
      topicConfigErrorCode: t.int16('5+', { taggedVersions: '5+', tag: 0 }),
      numPartitions: t.int32('5+', { default: -1 }),
      replicationFactor: t.int16('5+', { default: -1 }),
      // CreatableTopicConfigs
      configs: t.array(
        '5+',
        {
          name: t.string('5+'),
          value: t.string('5+', { nullableVersions: '5+' }),
          readOnly: t.bool('5+'),
          configSource: t.int8('5+', { default: -1 }),
          isSensitive: t.bool('5+'),
        },
        { nullableVersions: '5+' },
      ),
    }),
  },
});
export type CreateTopicsResponseData = Infer<typeof CreateTopicsResponse>;
export type CreateTopicsResponseInput = InferInput<typeof CreateTopicsResponse>;
