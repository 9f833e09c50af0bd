/**
 * Golden bytes: request and response bodies captured by kafkajs from real brokers and from
 * its own encoders (src/protocol/requests/<api>/fixtures/*.json in tulios/kafkajs, stored here
 * as hex). Expected values are those of kafkajs's specs, in our field names.
 *
 * kafkajs writes request header v1 and response bodies after the correlation id, so for
 * flexible versions its "body" starts with the header's empty tagged-field section (one 0
 * byte), which these tests step over.
 */
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { decodeResponseFrame } from '../../../core/protocol/frames.js';
import { type ApiDefinition, apis } from '../../../core/protocol/messages/index.js';
import { Reader } from '../../../core/protocol/reader.js';
import {
  decodeMessage,
  encodeMessage,
  type Fields,
  type Input,
  isFlexible,
  type MessageSchema,
} from '../../../core/protocol/schema.js';
import { FIXTURES_ROOT, fixture as kafkajsFixture, listFixtures } from './fixtures.js';

const fixture = (path: string) => kafkajsFixture('kafkajs', path);

const byDir = new Map<string, ApiDefinition>(
  Object.values(apis).map((a) => [a.name[0]!.toLowerCase() + a.name.slice(1), a as ApiDefinition]),
);

/** Fixture name → (kind, version); names that are not whole messages are skipped. */
function parseName(name: string): { kind: 'request' | 'response'; version: number } | null {
  const m = /^v(\d+)_(?:.*_)?(request|response)(?:_.*)?$/.exec(name);
  return m ? { kind: m[2] as 'request' | 'response', version: Number(m[1]) } : null;
}

/** The body without kafkajs's header tagged-field byte (flexible versions). */
function body(schema: MessageSchema, version: number, bytes: Buffer): Buffer {
  if (!isFlexible(schema, version)) return bytes;
  expect(bytes[0]).toBe(0);
  return bytes.subarray(1);
}

function decodeFixture(path: string): Record<string, unknown> {
  const [dir, name] = path.split('/') as [string, string];
  const api = byDir.get(dir)!;
  const { kind, version } = parseName(name)!;
  const schema = api[kind];
  return decodeMessage(schema, version, body(schema, version, fixture(path))) as Record<string, unknown>;
}

function encode<F extends Fields>(schema: MessageSchema<F>, version: number, data: Input<F>): Buffer {
  const bytes = encodeMessage(schema, version, data).toBuffer();
  return isFlexible(schema, version) ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** A broker quirk handled at the frame level (see the ApiVersions test below). */
const QUIRKS = new Set(['apiVersions/v1_response_missing_throttle_time']);

describe.skipIf(!FIXTURES_ROOT)(
  'every kafkajs fixture decodes completely and re-encodes to the same bytes',
  () => {
    const cases: string[] = [];
    for (const dir of listFixtures('kafkajs')) {
      for (const name of listFixtures('kafkajs', dir)) {
        if (parseName(name) && byDir.has(dir) && !QUIRKS.has(`${dir}/${name}`)) cases.push(`${dir}/${name}`);
      }
    }

    it('covers the fixtures', () => {
      expect(cases.length).toBeGreaterThan(150);
    });

    it.each(cases)('%s', (path) => {
      const [dir, name] = path.split('/') as [string, string];
      const api = byDir.get(dir)!;
      const { kind, version } = parseName(name)!;
      const schema = api[kind];
      const bytes = body(schema, version, fixture(path));
      const r = new Reader(bytes);
      const data = decodeMessage(schema, version, r);
      expect(r.remaining).toBe(0);
      expect(encodeMessage(schema, version, data).toBuffer().equals(bytes)).toBe(true);
    });
  },
);

describe.skipIf(!FIXTURES_ROOT)('decoded values match kafkajs expectations', () => {
  it('ApiVersions v0 response', () => {
    const data = decodeFixture('apiVersions/v0_response');
    expect(data.errorCode).toBe(0);
    const keys = data.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[];
    expect(keys).toHaveLength(21);
    expect(keys.slice(0, 4)).toEqual([
      { apiKey: 0, minVersion: 0, maxVersion: 2 },
      { apiKey: 1, minVersion: 0, maxVersion: 3 },
      { apiKey: 2, minVersion: 0, maxVersion: 1 },
      { apiKey: 3, minVersion: 0, maxVersion: 2 },
    ]);
    expect(keys[7]).toEqual({ apiKey: 7, minVersion: 1, maxVersion: 1 });
  });

  it('ApiVersions v1 response', () => {
    const data = decodeFixture('apiVersions/v1_response');
    expect(data.errorCode).toBe(0);
    expect(data.throttleTimeMs).toBe(0);
    const keys = data.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[];
    expect(keys).toHaveLength(34);
    expect(keys[1]).toEqual({ apiKey: 1, minVersion: 0, maxVersion: 5 });
    expect(keys[33]).toEqual({ apiKey: 33, minVersion: 0, maxVersion: 0 });
  });

  it('ApiVersions v1 response without throttleTimeMs falls back to v0 (as Kafka and kafkajs do)', () => {
    const bytes = fixture('apiVersions/v1_response_missing_throttle_time');
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 9]), bytes]);
    const { correlationId, apiVersion, body } = decodeResponseFrame(ApiKey.ApiVersions, 1, frame);
    expect(correlationId).toBe(9);
    expect(apiVersion).toBe(0);
    expect(body.errorCode).toBe(0);
    expect(body.throttleTimeMs).toBe(0);
    expect(body.apiKeys).toHaveLength(34);
    expect(body.apiKeys[1]).toEqual({ apiKey: 1, minVersion: 0, maxVersion: 5 });
  });

  it('Metadata v5 response', () => {
    expect(decodeFixture('metadata/v5_response')).toEqual({
      throttleTimeMs: 0,
      brokers: [
        { nodeId: 2, host: '10.3.220.89', port: 9098, rack: null },
        { nodeId: 1, host: '10.3.220.89', port: 9095, rack: null },
        { nodeId: 0, host: '10.3.220.89', port: 9092, rack: null },
      ],
      clusterId: 'wyOEk0m7Tn-08oGZjtVgEg',
      controllerId: 2,
      topics: [
        {
          errorCode: 0,
          name: 'test-topic-f5e17a86896ebfdeb429-80829-a37b6dde-1adc-4687-813d-52d75a0a0f78',
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 0,
              leaderEpoch: -1,
              replicaNodes: [0],
              isrNodes: [0],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: -2147483648,
        },
      ],
      clusterAuthorizedOperations: -2147483648,
    });
  });

  it('Metadata v5 response with offline replicas', () => {
    const data = decodeFixture('metadata/v5_offline_replicas_response') as {
      clusterId: string;
      controllerId: number;
      topics: { name: string; partitions: Record<string, unknown>[] }[];
    };
    expect(data.clusterId).toBe('tDr4DgFsS96sOEZu6e-N-Q');
    expect(data.controllerId).toBe(1);
    expect(data.topics[0]!.name).toBe('topic-test');
    expect(data.topics[0]!.partitions[0]).toEqual({
      errorCode: 5,
      partitionIndex: 2,
      leaderId: -1,
      leaderEpoch: -1,
      replicaNodes: [2],
      isrNodes: [],
      offlineReplicas: [2],
    });
    expect(data.topics[0]!.partitions.map((p) => p.partitionIndex)).toEqual([2, 5, 4, 1, 3, 0]);
  });

  it('Produce v3 request decodes, and encodes back from the same inputs', () => {
    const data = decodeFixture('produce/v3_request') as {
      topicData: { partitionData: { records: Buffer }[] }[];
    };
    const records = data.topicData[0]!.partitionData[0]!.records;
    expect(data).toEqual({
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'test-topic-ebba68879c6f5081d8c2', partitionData: [{ index: 0, records }] }],
    });
    // A record batch v2 of 3 records with firstSequence 10 (kafkajs's input).
    expect(records.length).toBe(270);
    expect(records[16]).toBe(2);
    expect(records.readInt32BE(53)).toBe(10);
    expect(records.readInt32BE(57)).toBe(3);
    const encoded = encode(apis[ApiKey.Produce].request, 3, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'test-topic-ebba68879c6f5081d8c2', partitionData: [{ index: 0, records }] }],
    });
    expect(encoded.equals(fixture('produce/v3_request'))).toBe(true);
  });

  it('Produce v3 and v7 responses', () => {
    const v3 = decodeFixture('produce/v3_response') as { responses: unknown[]; throttleTimeMs: number };
    expect(v3.throttleTimeMs).toBe(0);
    expect(v3.responses).toEqual([
      {
        name: 'test-topic-ebba68879c6f5081d8c2',
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 0,
            logAppendTimeMs: -1,
            logStartOffset: -1,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
          },
        ],
      },
    ]);
    const v7 = decodeFixture('produce/v7_response') as {
      responses: { partitionResponses: Record<string, unknown>[] }[];
    };
    expect(v7.responses[0]!.partitionResponses[0]).toMatchObject({
      index: 0,
      errorCode: 0,
      baseOffset: 0,
      logAppendTimeMs: -1,
      logStartOffset: 0,
    });
  });

  it('Fetch v4 response with records', () => {
    const data = decodeFixture('fetch/v4_response') as {
      responses: { topic: string; partitions: Record<string, unknown>[] }[];
    };
    expect(data.responses).toHaveLength(1);
    expect(data.responses[0]!.topic).toBe('test-topic-ab4d54774dcadc395a7f');
    const p = data.responses[0]!.partitions[0]!;
    expect(p).toMatchObject({
      partitionIndex: 0,
      errorCode: 0,
      highWatermark: 3,
      lastStableOffset: 3,
      abortedTransactions: [],
    });
    const records = p.records as Buffer;
    // One record batch v2: base offset 0, magic 2, 3 records, "key-0" inside.
    expect(records.readInt32BE(4)).toBe(0);
    expect(records[16]).toBe(2);
    expect(records.readInt32BE(57)).toBe(3);
    expect(records.includes('key-0')).toBe(true);
    // Zero-copy: the records are a view of the input.
    const input = body(apis[ApiKey.Fetch].response, 4, fixture('fetch/v4_response'));
    const decoded = decodeMessage(apis[ApiKey.Fetch].response, 4, input);
    expect(decoded.responses[0]!.partitions[0]!.records!.buffer).toBe(input.buffer);
  });

  it('ListOffsets v2 request and response', () => {
    const encoded = encode(apis[ApiKey.ListOffsets].request, 2, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'test-topic-727705ce68c29fedddf4',
          partitions: [{ partitionIndex: 0, timestamp: 1509285569484 }],
        },
      ],
    });
    expect(encoded.equals(fixture('listOffsets/v2_request'))).toBe(true);
    expect(decodeFixture('listOffsets/v2_response')).toEqual({
      throttleTimeMs: 0,
      topics: [
        {
          name: 'test-topic-84efe7aaafc3844b00c1-36211-2ee431b4-d40b-4df8-b2c8-fc9e33ab5c77',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              oldStyleOffsets: [],
              timestamp: -1,
              offset: 1,
              leaderEpoch: -1,
            },
          ],
        },
      ],
    });
  });

  it('FindCoordinator v1 request and responses', () => {
    const encoded = encode(apis[ApiKey.FindCoordinator].request, 1, { key: 'group-id', keyType: 0 });
    expect(encoded.equals(fixture('findCoordinator/v1_request'))).toBe(true);
    expect(decodeFixture('findCoordinator/v1_response')).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 2,
      host: '192.168.50.211',
      port: 9098,
      coordinators: [],
    });
    expect(decodeFixture('findCoordinator/v1_response_version_error')).toMatchObject({ errorCode: 35 });
  });

  it('JoinGroup v5 request and response', () => {
    const metadata = fixture('joinGroup/v2_assignerMetadata');
    const encoded = encode(apis[ApiKey.JoinGroup].request, 5, {
      groupId: 'consumer-group-id-b522188a3a12a1f04cfb-23702-e1ff35c7-fde9-4d58-960a-2cef8af77eef',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: '',
      groupInstanceId: 'group-instance-id',
      protocolType: 'consumer',
      protocols: [{ name: 'AssignerName', metadata }],
    });
    expect(encoded.equals(fixture('joinGroup/v5_request'))).toBe(true);
    const member =
      'test-b773bdb220aa2b862440-23702-2b1581f6-55ea-4af0-97f0-931d4f071111-68a2051d-7b30-4161-b920-89346d7b672b';
    expect(decodeFixture('joinGroup/v5_response')).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 1,
      protocolType: null,
      protocolName: 'AssignerName',
      leader: member,
      skipAssignment: false,
      memberId: member,
      members: [{ memberId: member, groupInstanceId: 'group-instance-id', metadata }],
    });
  });

  it('SyncGroup v3 request and response', () => {
    const member =
      'test-d44f97e7d1a0622387a1-24495-d057a55d-fb7c-446d-98b7-3a3a8dff7944-1f460f6f-bf82-4448-9c18-09b0d7eaceb6';
    const assignment = fixture('syncGroup/v1_memberAssignment');
    const encoded = encode(apis[ApiKey.SyncGroup].request, 3, {
      groupId: 'consumer-group-id-e15bd537f491e89484f1-24495-5c083268-3a66-4366-8afc-2c429edeb6af',
      generationId: 1,
      memberId: member,
      groupInstanceId: member,
      assignments: [{ memberId: member, assignment }],
    });
    expect(encoded.equals(fixture('syncGroup/v3_request'))).toBe(true);
    expect(decodeFixture('syncGroup/v3_response')).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      protocolType: null,
      protocolName: null,
      assignment,
    });
  });

  it('Heartbeat v3 request and response', () => {
    const member =
      'test-14da1b41ac688a6dcb78-26762-4dac8e12-dc28-4db2-8456-95bc6c1589bb-7bad1e84-c2de-4cc6-8071-badb27c86166';
    const encoded = encode(apis[ApiKey.Heartbeat].request, 3, {
      groupId: 'consumer-group-id-4c456000151f094b600d-26762-fd6a6ae7-3f66-408e-802e-d261d6983d0d',
      generationId: 1,
      memberId: member,
      groupInstanceId: member,
    });
    expect(encoded.equals(fixture('heartbeat/v3_request'))).toBe(true);
    expect(decodeFixture('heartbeat/v3_response')).toEqual({ throttleTimeMs: 0, errorCode: 0 });
  });

  it('OffsetCommit v5 requests and response', () => {
    const base = {
      groupId: 'consumer-group-id-ca28067439d6194a9625-9985-cbb81a97-5151-4658-a055-c479147b107d',
      generationIdOrMemberEpoch: 1,
      memberId:
        'test-f5e359ffa7b2578aca4b-9985-60dcd0da-1130-4eaa-99aa-9bd80f39eceb-4426ce19-8149-4d64-b8c3-841d3bb7ca26',
    };
    const topic = 'test-topic-5c24efe0ac41b91bee85-9985-841d6145-c897-4471-bd09-acd8b4c905f2';
    const schema = apis[ApiKey.OffsetCommit].request;
    const plain = encode(schema, 5, {
      ...base,
      topics: [
        { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: null }] },
      ],
    });
    expect(plain.equals(fixture('offsetCommit/v5_request'))).toBe(true);
    const withMetadata = encode(schema, 5, {
      ...base,
      topics: [
        { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: 'test' }] },
      ],
    });
    expect(withMetadata.equals(fixture('offsetCommit/v5_request_metadata'))).toBe(true);
    expect(decodeFixture('offsetCommit/v5_response')).toEqual({
      throttleTimeMs: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    });
  });

  it('OffsetFetch v3 request and response', () => {
    const topic = 'test-topic-df48241c4bf2fca9d16b-20117-aff9b64c-69a2-4456-be7b-de5bcd78984e';
    const encoded = encode(apis[ApiKey.OffsetFetch].request, 3, {
      groupId: 'consumer-group-id-d1492d7a3c14a838a28f-20117-ae82781b-863d-4f23-9377-d165ca585f31',
      topics: [{ name: topic, partitionIndexes: [0] }],
    });
    expect(encoded.equals(fixture('offsetFetch/v3_request'))).toBe(true);
    expect(decodeFixture('offsetFetch/v3_response')).toEqual({
      throttleTimeMs: 0,
      topics: [
        {
          name: topic,
          partitions: [
            { partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ],
      errorCode: 0,
      groups: [],
    });
  });

  it('CreateTopics v2 request and response', () => {
    const a = 'test-topic-fde67b5a797984ac0837-55492-1bf2f30a-cce8-403d-8897-6902a0b86fb0';
    const b = 'test-topic-3d6c53af2e0f9b1d1757-55492-cbde2344-d9d3-4ad7-b408-996cda13e6e5';
    const encoded = encode(apis[ApiKey.CreateTopics].request, 2, {
      topics: [
        { name: a, numPartitions: -1, replicationFactor: -1 },
        { name: b, numPartitions: -1, replicationFactor: -1 },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(encoded.equals(fixture('createTopics/v2_request'))).toBe(true);
    const data = decodeFixture('createTopics/v2_response') as { throttleTimeMs: number; topics: unknown[] };
    expect(data.throttleTimeMs).toBe(0);
    expect(data.topics).toEqual(
      [a, b].map((name) => expect.objectContaining({ name, errorCode: 0, errorMessage: null })),
    );
  });

  it('InitProducerId v0 request and response', () => {
    const encoded = encode(apis[ApiKey.InitProducerId].request, 0, {
      transactionalId: 'initproduceridtransaction',
      transactionTimeoutMs: 30000,
    });
    expect(encoded.equals(fixture('initProducerId/v0_request'))).toBe(true);
    expect(decodeFixture('initProducerId/v0_response')).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 1006,
      producerEpoch: 0,
    });
  });

  it('DescribeConfigs v1 request and response', () => {
    const encoded = encode(apis[ApiKey.DescribeConfigs].request, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'topic-test1',
          configurationKeys: ['compression.type', 'retention.ms'],
        },
      ],
      includeSynonyms: true,
    });
    expect(encoded.equals(fixture('describeConfigs/v1_request'))).toBe(true);
    // kafkajs derives isDefault from configSource for v1+; on the wire IsDefault is v0 only.
    const entry = (name: string, value: string) => ({
      name,
      value,
      readOnly: false,
      isDefault: false,
      configSource: 5,
      isSensitive: false,
      configType: 0,
      documentation: '',
    });
    expect(decodeFixture('describeConfigs/v1_response')).toEqual({
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'topic-test1',
          configs: [
            {
              ...entry('compression.type', 'producer'),
              synonyms: [{ name: 'compression.type', value: 'producer', source: 5 }],
            },
            { ...entry('retention.ms', '604800000'), synonyms: [] },
          ],
        },
      ],
    });
  });

  it('ApiVersions v0 request is empty', () => {
    expect(fixture('apiVersions/v0_request').length).toBe(0);
    expect(encode(apis[ApiKey.ApiVersions].request, 0, {}).length).toBe(0);
  });

  it('AlterPartitionReassignments v0 (flexible) request', () => {
    const encoded = encode(apis[ApiKey.AlterPartitionReassignments].request, 0, {
      timeoutMs: 30000,
      topics: [
        {
          name: 'test-topic-1',
          partitions: [
            { partitionIndex: 0, replicas: [0, 1] },
            { partitionIndex: 1, replicas: [1, 2] },
          ],
        },
        { name: 'test-topic-2', partitions: [{ partitionIndex: 0, replicas: [0, 2] }] },
      ],
    });
    expect(encoded.equals(fixture('alterPartitionReassignments/v0_request'))).toBe(true);
  });
});
