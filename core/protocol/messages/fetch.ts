/**
 * Fetch (API key 1), written from Kafka's FetchRequest.json and FetchResponse.json.
 */
import { type Infer, type InferInput, request, response, t } from '../schema.js';

export const FetchRequest = request({
  apiKey: 1,
  api: 'Fetch',
  validVersions: '0-17',
  flexibleVersions: '12+',
  fields: {
    clusterId: t.string('12+', { nullableVersions: '12+', taggedVersions: '12+', tag: 0, default: null }),
    replicaId: t.int32('0-14', { default: -1 }),
    // ReplicaState
    replicaState: t.struct(
      '15+',
      {
        replicaId: t.int32('15+', { default: -1 }),
        replicaEpoch: t.int64('15+', { default: -1 }),
      },
      { taggedVersions: '15+', tag: 1 },
    ),
    maxWaitMs: t.int32('0+'),
    minBytes: t.int32('0+'),
    maxBytes: t.int32('3+', { default: 2147483647 }),
    isolationLevel: t.int8('4+', { default: 0 }),
    sessionId: t.int32('7+', { default: 0 }),
    sessionEpoch: t.int32('7+', { default: -1 }),
    // FetchTopic
    topics: t.array('0+', {
      topic: t.string('0-12'),
      topicId: t.uuid('13+'),
      // FetchPartition
      partitions: t.array('0+', {
        partition: t.int32('0+'),
        currentLeaderEpoch: t.int32('9+', { default: -1 }),
        fetchOffset: t.int64('0+'),
        lastFetchedEpoch: t.int32('12+', { default: -1 }),
        logStartOffset: t.int64('5+', { default: -1 }),
        partitionMaxBytes: t.int32('0+'),
        replicaDirectoryId: t.uuid('17+', { taggedVersions: '17+', tag: 0 }),
      }),
    }),
    // ForgottenTopic
    forgottenTopicsData: t.array('7+', {
      topic: t.string('7-12'),
      topicId: t.uuid('13+'),
      partitions: t.array('7+', 'int32'),
    }),
    rackId: t.string('11+', { default: '' }),
  },
});
export type FetchRequestData = Infer<typeof FetchRequest>;
export type FetchRequestInput = InferInput<typeof FetchRequest>;

export const FetchResponse = response({
  apiKey: 1,
  api: 'Fetch',
  validVersions: '0-17',
  flexibleVersions: '12+',
  fields: {
    throttleTimeMs: t.int32('1+'),
    errorCode: t.int16('7+'),
    sessionId: t.int32('7+', { default: 0 }),
    // FetchableTopicResponse
    responses: t.array('0+', {
      topic: t.string('0-12'),
      topicId: t.uuid('13+'),
      // PartitionData
      partitions: t.array('0+', {
        partitionIndex: t.int32('0+'),
        errorCode: t.int16('0+'),
        highWatermark: t.int64('0+'),
        lastStableOffset: t.int64('4+', { default: -1 }),
        logStartOffset: t.int64('5+', { default: -1 }),
        // EpochEndOffset
        divergingEpoch: t.struct(
          '12+',
          {
            epoch: t.int32('12+', { default: -1 }),
            endOffset: t.int64('12+', { default: -1 }),
          },
          { taggedVersions: '12+', tag: 0 },
        ),
        // LeaderIdAndEpoch
        currentLeader: t.struct(
          '12+',
          {
            leaderId: t.int32('12+', { default: -1 }),
            leaderEpoch: t.int32('12+', { default: -1 }),
          },
          { taggedVersions: '12+', tag: 1 },
        ),
        // SnapshotId
        snapshotId: t.struct(
          '12+',
          {
            endOffset: t.int64('0+', { default: -1 }),
            epoch: t.int32('0+', { default: -1 }),
          },
          { taggedVersions: '12+', tag: 2 },
        ),
        // AbortedTransaction
        abortedTransactions: t.array(
          '4+',
          {
            producerId: t.int64('4+'),
            firstOffset: t.int64('4+'),
          },
          { nullableVersions: '4+' },
        ),
        preferredReadReplica: t.int32('11+', { default: -1 }),
        records: t.records('0+', { nullableVersions: '0+' }),
      }),
    }),
    // NodeEndpoint
    nodeEndpoints: t.array(
      '16+',
      {
        nodeId: t.int32('16+'),
        host: t.string('16+'),
        port: t.int32('16+'),
        rack: t.string('16+', { nullableVersions: '16+', default: null }),
      },
      { taggedVersions: '16+', tag: 0 },
    ),
  },
});
export type FetchResponseData = Infer<typeof FetchResponse>;
export type FetchResponseInput = InferInput<typeof FetchResponse>;
