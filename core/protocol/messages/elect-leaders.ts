/**
 * ElectLeaders (API key 43), written from Kafka's ElectLeadersRequest.json and ElectLeadersResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const ElectLeadersRequest = request({
  apiKey: 43,
  api: 'ElectLeaders',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    electionType: t.int8('1+'),
    // TopicPartitions
    topicPartitions: t.array(
      '0+',
      {
        topic: t.string('0+'),
        partitions: t.array('0+', 'int32'),
      },
      { nullableVersions: '0+' },
    ),
    timeoutMs: t.int32('0+', { default: 60000 }),
  },
});
export type ElectLeadersRequestData = Infer<typeof ElectLeadersRequest>;
export type ElectLeadersRequestInput = InferInput<typeof ElectLeadersRequest>;

export const ElectLeadersResponse = response({
  apiKey: 43,
  api: 'ElectLeaders',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: {
    throttleTimeMs: t.int32('0+'),
    errorCode: t.int16('1+'),
    // ReplicaElectionResult
    replicaElectionResults: t.array('0+', {
      topic: t.string('0+'),
      // PartitionResult
      partitionResult: t.array('0+', {
        partitionId: t.int32('0+'),
        errorCode: t.int16('0+'),
        errorMessage: t.string('0+', { nullableVersions: '0+' }),
      }),
    }),
  },
});
export type ElectLeadersResponseData = Infer<typeof ElectLeadersResponse>;
export type ElectLeadersResponseInput = InferInput<typeof ElectLeadersResponse>;
