/**
 * ListOffsets (API key 2), written from Kafka's ListOffsetsRequest.json and ListOffsetsResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const ListOffsetsRequest = request({
  apiKey: 2,
  api: 'ListOffsets',
  validVersions: '0-10',
  flexibleVersions: '6+',
  fields: {
    replicaId: t.int32('0+'),
    isolationLevel: t.int8('2+'),
    // ListOffsetsTopic
    topics: t.array('0+', {
      name: t.string('0+'),
      // ListOffsetsPartition
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        currentLeaderEpoch: t.int32('4+', { default: -1 }),
        timestamp: t.int64('0+'),
        maxNumOffsets: t.int32('0', { default: 1 }),
      }),
    }),
    timeoutMs: t.int32('10+'),
  },
});
export type ListOffsetsRequestData = Infer<typeof ListOffsetsRequest>;
export type ListOffsetsRequestInput = InferInput<typeof ListOffsetsRequest>;

export const ListOffsetsResponse = response({
  apiKey: 2,
  api: 'ListOffsets',
  validVersions: '0-10',
  flexibleVersions: '6+',
  fields: {
    throttleTimeMs: t.int32('2+'),
    // ListOffsetsTopicResponse
    topics: t.array('0+', {
      name: t.string('0+'),
      // ListOffsetsPartitionResponse
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        errorCode: t.int16('0+'),
        oldStyleOffsets: t.array('0', 'int64'),
        timestamp: t.int64('1+', { default: -1 }),
        offset: t.int64('1+', { default: -1 }),
        leaderEpoch: t.int32('4+', { default: -1 }),
      }),
    }),
  },
});
export type ListOffsetsResponseData = Infer<typeof ListOffsetsResponse>;
export type ListOffsetsResponseInput = InferInput<typeof ListOffsetsResponse>;
