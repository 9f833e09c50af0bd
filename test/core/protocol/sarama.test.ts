/**
 * Golden bytes from IBM/sarama's tests, mostly flexible versions (compact types, tagged
 * fields): each decodes completely and re-encodes to the same bytes; a few values are checked.
 */
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { decodeResponseFrame } from '../../../core/protocol/frames.js';
import { apis } from '../../../core/protocol/messages/index.js';
import { Reader } from '../../../core/protocol/reader.js';
import {
  decodeMessage,
  encodeMessage,
  getUnknownTaggedFields,
  type MessageSchema,
} from '../../../core/protocol/schema.js';
import { FIXTURES_ROOT, fixture } from './fixtures.js';

type Kind = 'request' | 'response';
const api = (key: number) =>
  (apis as Record<number, { request: MessageSchema; response: MessageSchema }>)[key]!;

/** name, API key, kind, version. */
const CASES: [string, number, Kind, number][] = [
  ['metadataRequestNoTopicsV9', ApiKey.Metadata, 'request', 9],
  ['metadataRequestOneTopicV9', ApiKey.Metadata, 'request', 9],
  ['metadataRequestOneTopicAutoCreateTopicV9', ApiKey.Metadata, 'request', 9],
  ['metadataRequestTwoTopicsV10', ApiKey.Metadata, 'request', 10],
  ['metadataRequestAutoCreateClusterAuthTopicAuthV10', ApiKey.Metadata, 'request', 10],
  ['metadataRequestNoTopicsV11', ApiKey.Metadata, 'request', 11],
  ['metadataRequestTwoTopicsV11', ApiKey.Metadata, 'request', 11],
  ['metadataRequestAutoCreateTopicAuthV11', ApiKey.Metadata, 'request', 11],
  ['noBrokersNoTopicsWithThrottleTimeAndClusterIDV3', ApiKey.Metadata, 'response', 3],
  ['noBrokersOneTopicWithOfflineReplicasV5', ApiKey.Metadata, 'response', 5],
  ['OneTopicV6', ApiKey.Metadata, 'response', 6],
  ['OneTopicV7', ApiKey.Metadata, 'response', 7],
  ['OneTopicV8', ApiKey.Metadata, 'response', 8],
  ['OneTopicV9', ApiKey.Metadata, 'response', 9],
  ['OneTopicV10', ApiKey.Metadata, 'response', 10],
  ['OneTopicV11', ApiKey.Metadata, 'response', 11],
  ['fetchRequestOneBlockV11', ApiKey.Fetch, 'request', 11],
  ['fetchRequestOneBlockV12', ApiKey.Fetch, 'request', 12],
  ['emptyRecordsFetchResponsev11', ApiKey.Fetch, 'response', 11],
  ['preferredReplicaFetchResponseV11', ApiKey.Fetch, 'response', 11],
  ['abortedTxnFetchResponseV12', ApiKey.Fetch, 'response', 12],
  ['produceRequestOneRecordV9', ApiKey.Produce, 'request', 9],
  ['produceResponseKIP951V10', ApiKey.Produce, 'response', 10],
  ['apiVersionRequestV3', ApiKey.ApiVersions, 'request', 3],
  ['apiVersionResponseV3', ApiKey.ApiVersions, 'response', 3],
  ['apiVersionResponseV3Features', ApiKey.ApiVersions, 'response', 3],
  ['joinGroupRequestV6', ApiKey.JoinGroup, 'request', 6],
  ['joinGroupRequestV8', ApiKey.JoinGroup, 'request', 8],
  ['joinGroupResponseV6', ApiKey.JoinGroup, 'response', 6],
  ['joinGroupResponseV6MemberIDRequired', ApiKey.JoinGroup, 'response', 6],
  ['joinGroupResponseV7', ApiKey.JoinGroup, 'response', 7],
  ['joinGroupResponseV8', ApiKey.JoinGroup, 'response', 8],
  ['populatedSyncGroupRequestV4', ApiKey.SyncGroup, 'request', 4],
  ['populatedSyncGroupRequestV5', ApiKey.SyncGroup, 'request', 5],
  ['offsetCommitRequestOneBlockV8', ApiKey.OffsetCommit, 'request', 8],
  ['emptyOffsetFetchResponseV8', ApiKey.OffsetFetch, 'response', 8],
  ['offsetFetchResponseTwoGroupsV8', ApiKey.OffsetFetch, 'response', 8],
  ['offsetFetchResponseOnePartitionV8', ApiKey.OffsetFetch, 'response', 8],
  ['offsetRequestV6', ApiKey.ListOffsets, 'request', 6],
  ['createTopicsRequestV5', ApiKey.CreateTopics, 'request', 5],
  ['initProducerIdResponseWithTaggedFields', ApiKey.InitProducerId, 'response', 3],
  ['describeConfigsResponseWithDocumentationv4', ApiKey.DescribeConfigs, 'response', 4],
];

const decode = (name: string, key: number, kind: Kind, version: number) =>
  decodeMessage(api(key)[kind], version, fixture('sarama', name)) as Record<string, unknown>;

describe.skipIf(!FIXTURES_ROOT)('sarama golden bytes', () => {
  it.each(CASES)('%s decodes completely and re-encodes to the same bytes', (name, key, kind, version) => {
    const bytes = fixture('sarama', name);
    const schema = api(key)[kind];
    const r = new Reader(bytes);
    const data = decodeMessage(schema, version, r);
    expect(r.remaining).toBe(0);
    expect(encodeMessage(schema, version, data).toBuffer().toString('hex')).toBe(bytes.toString('hex'));
  });

  it('int64 values beyond 2^53 decode correctly rounded (preferredReplicaFetchResponseV12)', () => {
    const data = decode('preferredReplicaFetchResponseV12', ApiKey.Fetch, 'response', 12) as {
      responses: {
        partitions: { divergingEpoch: { epoch: number; endOffset: number }; preferredReadReplica: number }[];
      }[];
    };
    const p = data.responses[0]!.partitions[0]!;
    expect(p.divergingEpoch).toEqual({ epoch: 119, endOffset: Number(0x0102030405060708n) });
    expect(p.preferredReadReplica).toBe(3);
  });

  it('Produce v10 response: tagged currentLeader and nodeEndpoints (KIP-951)', () => {
    expect(decode('produceResponseKIP951V10', ApiKey.Produce, 'response', 10)).toEqual({
      responses: [
        {
          name: 'foo',
          partitionResponses: [
            {
              index: 1,
              errorCode: 6,
              baseOffset: 255,
              logAppendTimeMs: -1,
              logStartOffset: 50,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: 5, leaderEpoch: 7 },
            },
          ],
        },
      ],
      throttleTimeMs: 100,
      nodeEndpoints: [{ nodeId: 5, host: 'h', port: 9092, rack: null }],
    });
  });

  it('ApiVersions v3: request software names, response tagged features', () => {
    expect(decode('apiVersionRequestV3', ApiKey.ApiVersions, 'request', 3)).toEqual({
      clientSoftwareName: 'sarama',
      clientSoftwareVersion: '0.10.0',
    });
    expect(decode('apiVersionResponseV3Features', ApiKey.ApiVersions, 'response', 3)).toEqual({
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
      throttleTimeMs: 128,
      supportedFeatures: [{ name: 'share.version', minVersion: 0, maxVersion: 1 }],
      finalizedFeaturesEpoch: 39,
      finalizedFeatures: [{ name: 'share.version', maxVersionLevel: 1, minVersionLevel: 0 }],
      zkMigrationReady: false,
    });
  });

  it('ApiVersions UNSUPPORTED_VERSION answers in v0 shape are read as v0 by a v3 client', () => {
    for (const [name, max] of [
      ['apiVersionsResponseUnsupportedVersionV3', 3],
      ['apiVersionsResponseUnsupportedVersionV4', 4],
    ] as const) {
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 1]), fixture('sarama', name)]);
      const { apiVersion, body } = decodeResponseFrame(ApiKey.ApiVersions, 3, frame);
      expect(apiVersion).toBe(0);
      expect(body.errorCode).toBe(35);
      expect(body.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: max }]);
    }
  });

  it('Fetch v12 request: tagged rackId-era fields and replicaState defaults', () => {
    expect(decode('fetchRequestOneBlockV12', ApiKey.Fetch, 'request', 12)).toMatchObject({
      clusterId: null,
      replicaId: -1,
      maxBytes: 255,
      isolationLevel: 1,
      sessionId: 170,
      sessionEpoch: 238,
      topics: [
        {
          topic: 'topic',
          partitions: [
            {
              partition: 18,
              currentLeaderEpoch: 102,
              fetchOffset: 52,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 86,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: 'rack01',
    });
  });

  it('Metadata v11 response with topic id', () => {
    expect(decode('OneTopicV11', ApiKey.Metadata, 'response', 11)).toMatchObject({
      brokers: [{ nodeId: 0, host: 'host', port: 9092, rack: null }],
      clusterId: 'clusterId',
      controllerId: 1,
      topics: [{ name: 'tony', topicId: 'hM2nVX6ES_m33PwRggdySg', topicAuthorizedOperations: 345 }],
    });
  });

  it('JoinGroup v6 MEMBER_ID_REQUIRED and OffsetFetch v8 groups', () => {
    expect(decode('joinGroupResponseV6MemberIDRequired', ApiKey.JoinGroup, 'response', 6)).toMatchObject({
      errorCode: 79,
      memberId: 'foo',
      members: [],
    });
    expect(decode('offsetFetchResponseTwoGroupsV8', ApiKey.OffsetFetch, 'response', 8)).toMatchObject({
      throttleTimeMs: 9,
      groups: [
        { groupId: 'blah', topics: [], errorCode: 0 },
        { groupId: 'qux', topics: [], errorCode: 42 },
      ],
    });
  });

  it('InitProducerId v3 response', () => {
    const data = decode('initProducerIdResponseWithTaggedFields', ApiKey.InitProducerId, 'response', 3);
    expect(data).toEqual({ throttleTimeMs: 100, errorCode: 51, producerId: -1, producerEpoch: 0 });
    expect(getUnknownTaggedFields(data)).toBeUndefined();
  });
});
