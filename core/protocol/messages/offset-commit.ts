/**
 * OffsetCommit (API key 8), written from Kafka's OffsetCommitRequest.json and OffsetCommitResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const OffsetCommitRequest = request({
  apiKey: 8,
  api: 'OffsetCommit',
  validVersions: '0-9',
  flexibleVersions: '8+',
  fields: {
    groupId: t.string('0+'),
    generationIdOrMemberEpoch: t.int32('1+', { default: -1 }),
    memberId: t.string('1+'),
    groupInstanceId: t.string('7+', { nullableVersions: '7+', default: null }),
    retentionTimeMs: t.int64('2-4', { default: -1 }),
    // OffsetCommitRequestTopic
    topics: t.array('0+', {
      name: t.string('0+'),
      // OffsetCommitRequestPartition
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        committedOffset: t.int64('0+'),
        committedLeaderEpoch: t.int32('6+', { default: -1 }),
        commitTimestamp: t.int64('1', { default: -1 }),
        committedMetadata: t.string('0+', { nullableVersions: '0+' }),
      }),
    }),
  },
});
export type OffsetCommitRequestData = Infer<typeof OffsetCommitRequest>;
export type OffsetCommitRequestInput = InferInput<typeof OffsetCommitRequest>;

export const OffsetCommitResponse = response({
  apiKey: 8,
  api: 'OffsetCommit',
  validVersions: '0-9',
  flexibleVersions: '8+',
  fields: {
    throttleTimeMs: t.int32('3+'),
    // OffsetCommitResponseTopic
    topics: t.array('0+', {
      name: t.string('0+'),
      // OffsetCommitResponsePartition
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        errorCode: t.int16('0+'),
      }),
    }),
  },
});
export type OffsetCommitResponseData = Infer<typeof OffsetCommitResponse>;
export type OffsetCommitResponseInput = InferInput<typeof OffsetCommitResponse>;
