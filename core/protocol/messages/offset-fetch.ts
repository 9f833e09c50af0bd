/**
 * OffsetFetch (API key 9), written from Kafka's OffsetFetchRequest.json and OffsetFetchResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const OffsetFetchRequest = request({
  apiKey: 9,
  api: 'OffsetFetch',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: {
    groupId: t.string('0-7'),
    // OffsetFetchRequestTopic
    topics: t.array(
      '0-7',
      {
        name: t.string('0-7'),
        partitionIndexes: t.array('0-7', 'int32'),
      },
      { nullableVersions: '2-7' },
    ),
    // OffsetFetchRequestGroup
    groups: t.array('8+', {
      groupId: t.string('8+'),
      memberId: t.string('9+', { nullableVersions: '9+', default: null }),
      memberEpoch: t.int32('9+', { default: -1 }),
      // OffsetFetchRequestTopics
      topics: t.array(
        '8+',
        {
          name: t.string('8+'),
          partitionIndexes: t.array('8+', 'int32'),
        },
        { nullableVersions: '8+' },
      ),
    }),
    requireStable: t.bool('7+', { default: false }),
  },
});
export type OffsetFetchRequestData = Infer<typeof OffsetFetchRequest>;
export type OffsetFetchRequestInput = InferInput<typeof OffsetFetchRequest>;

export const OffsetFetchResponse = response({
  apiKey: 9,
  api: 'OffsetFetch',
  validVersions: '0-9',
  flexibleVersions: '6+',
  fields: {
    throttleTimeMs: t.int32('3+'),
    // OffsetFetchResponseTopic
    topics: t.array('0-7', {
      name: t.string('0-7'),
      // OffsetFetchResponsePartition
      partitions: t.array('0-7', {
        partitionIndex: t.int32('0-7'),
        committedOffset: t.int64('0-7'),
        committedLeaderEpoch: t.int32('5-7', { default: -1 }),
        metadata: t.string('0-7', { nullableVersions: '0-7' }),
        errorCode: t.int16('0-7'),
      }),
    }),
    errorCode: t.int16('2-7', { default: 0 }),
    // OffsetFetchResponseGroup
    groups: t.array('8+', {
      groupId: t.string('8+'),
      // OffsetFetchResponseTopics
      topics: t.array('8+', {
        name: t.string('8+'),
        // OffsetFetchResponsePartitions
        partitions: t.array('8+', {
          partitionIndex: t.int32('8+'),
          committedOffset: t.int64('8+'),
          committedLeaderEpoch: t.int32('8+', { default: -1 }),
          metadata: t.string('8+', { nullableVersions: '8+' }),
          errorCode: t.int16('8+'),
        }),
      }),
      errorCode: t.int16('8+', { default: 0 }),
    }),
  },
});
export type OffsetFetchResponseData = Infer<typeof OffsetFetchResponse>;
export type OffsetFetchResponseInput = InferInput<typeof OffsetFetchResponse>;
