/**
 * OffsetForLeaderEpoch (API key 23), written from Kafka's OffsetForLeaderEpochRequest.json and OffsetForLeaderEpochResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const OffsetForLeaderEpochRequest = request({
  apiKey: 23,
  api: 'OffsetForLeaderEpoch',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: {
    replicaId: t.int32('3+', { default: -2 }),
    // OffsetForLeaderTopic
    topics: t.array('0+', {
      topic: t.string('0+'),
      // OffsetForLeaderPartition
      partitions: t.array('0+', {
        partition: t.int32('0+'),
        currentLeaderEpoch: t.int32('2+', { default: -1 }),
        leaderEpoch: t.int32('0+'),
      }),
    }),
  },
});
export type OffsetForLeaderEpochRequestData = Infer<typeof OffsetForLeaderEpochRequest>;
export type OffsetForLeaderEpochRequestInput = InferInput<typeof OffsetForLeaderEpochRequest>;

export const OffsetForLeaderEpochResponse = response({
  apiKey: 23,
  api: 'OffsetForLeaderEpoch',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: {
    throttleTimeMs: t.int32('2+'),
    // OffsetForLeaderTopicResult
    topics: t.array('0+', {
      topic: t.string('0+'),
      // EpochEndOffset
      partitions: t.array('0+', {
        errorCode: t.int16('0+'),
        partition: t.int32('0+'),
        leaderEpoch: t.int32('1+', { default: -1 }),
        endOffset: t.int64('0+', { default: -1 }),
      }),
    }),
  },
});
export type OffsetForLeaderEpochResponseData = Infer<typeof OffsetForLeaderEpochResponse>;
export type OffsetForLeaderEpochResponseInput = InferInput<typeof OffsetForLeaderEpochResponse>;
