/**
 * Golden bytes: every request and response captured between real Kafka clients (kcat on
 * librdkafka 2.0.2 and 2.12.0, kafkajs 2.2.4, kafka-python 2.0.2) and librdkafka's mock
 * cluster (tools/capture/, test/fixtures/protocol/). Each frame decodes completely with our
 * schemas and encodes back to the same bytes; decoded values are checked against what the
 * capture steps did (topics, records, groups, offsets).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiKey, apiName } from '../../../core/protocol/api-keys.js';
import { decodeMessage, encodeMessage, isFlexible } from '../../../core/protocol/codec.js';
import { ErrorCode } from '../../../core/protocol/errors.js';
import { decodeRequestFrame, decodeResponseFrame } from '../../../core/protocol/frames.js';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
  type ResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../core/protocol/headers.js';
import { getApi, isSupportedVersion, type SupportedApiKey } from '../../../core/protocol/messages/index.js';
import { Reader } from '../../../core/protocol/reader.js';
import type { Fields, Input, MessageSchema } from '../../../core/protocol/schema.js';
import { Writer } from '../../../core/protocol/writer.js';
import { type DecodedRecord, decodeBatches } from '../../../core/records/index.js';
import { type CapturedPair, loadAllCaptures, loadScenario, SCENARIOS, stepPairs } from './fixtures.js';

const ALL = loadAllCaptures();

const label = (p: CapturedPair, i: number) =>
  `${p.scenario} ${p.step} #${i} ${apiName(p.apiKey)} v${p.apiVersion}`;

/** Decodes a request frame completely: header, body, nothing left over. */
function decodeRequest(p: CapturedPair) {
  const r = new Reader(p.request);
  const header = decodeRequestHeader(r);
  const api = getApi(p.apiKey)!;
  const body = decodeMessage(api.request, p.apiVersion, r) as Record<string, unknown>;
  return { header, body, remaining: r.remaining };
}

/** Decodes a response frame completely (see isMockApiVersionsRefusal for the one exception). */
function decodeResponse(p: CapturedPair) {
  const r = new Reader(p.response!);
  const header = decodeResponseHeader(r, responseHeaderVersion(p.apiKey, p.apiVersion));
  const body = decodeMessage(getApi(p.apiKey)!.response, p.apiVersion, r) as Record<string, unknown>;
  return { header, body, version: p.apiVersion, remaining: r.remaining };
}

function encodeRequestFrame(p: CapturedPair, header: RequestHeader, body: Record<string, unknown>): Buffer {
  const w = new Writer();
  encodeRequestHeader(w, header, requestHeaderVersion(p.apiKey, p.apiVersion));
  encodeMessage(getApi(p.apiKey)!.request as MessageSchema, p.apiVersion, body as Input<Fields>, w);
  return w.toBuffer();
}

function encodeResponseFrame(
  p: CapturedPair,
  version: number,
  header: ResponseHeader,
  body: Record<string, unknown>,
): Buffer {
  const w = new Writer();
  encodeResponseHeader(w, header, responseHeaderVersion(p.apiKey, p.apiVersion));
  encodeMessage(getApi(p.apiKey)!.response as MessageSchema, version, body as Input<Fields>, w);
  return w.toBuffer();
}

// ------------------------------------------------------------------------- known deviations

/**
 * Bytes the real programs send that are not canonical Kafka encodings; each is asserted
 * exactly, and everything before it must still decode and re-encode:
 *
 * - librdkafka 2.12.0 asks for all topics in Metadata v9+ with a 4-byte placeholder where the
 *   1-byte uvarint "null" belongs (confluentinc/librdkafka#5049): a decoder reads topics=null,
 *   allowAutoTopicCreation=false, includeTopicAuthorizedOperations=false, no tagged fields,
 *   and 3 bytes are left over (the real allowAutoTopicCreation=true and the rest). Kafka's
 *   brokers ignore the excess, as Tributary's decodeRequestFrame does.
 * - librdkafka 2.12.0's mock ends flexible Metadata responses with a second empty tagged-field
 *   section (one extra 0 byte).
 */
function trailingBytes(p: CapturedPair, kind: 'request' | 'response'): string {
  const mock212 = p.scenario === 'kcat-librdkafka-2.12.0';
  if (mock212 && p.apiKey === ApiKey.Metadata && p.apiVersion >= 9) {
    if (kind === 'response') return '00';
    if (decodeRequest(p).body.topics === null) return '010000';
  }
  return '';
}

/**
 * librdkafka's mock answers an ApiVersions request at a version it does not support (v3)
 * with neither the v0 shape Kafka uses nor the v3 one: error 35, an int8 count, the
 * ApiVersions entry, an int32 throttle time (rdkafka_mock_handlers.c writes the count as one
 * byte for flexible requests, without the +1, and no tagged fields). librdkafka reads the
 * error code only and retries at v0.
 */
const isMockApiVersionsRefusal = (p: CapturedPair) =>
  p.apiKey === ApiKey.ApiVersions &&
  p.response !== null &&
  p.apiVersion >= 3 &&
  p.response.readInt16BE(4) === ErrorCode.UNSUPPORTED_VERSION;

// ------------------------------------------------------------------------- every frame

const named = ALL.map((p, i) => [label(p, i), p] as const);
const withSchema = named.filter(([, p]) => getApi(p.apiKey));
const withoutSchema = named.filter(([, p]) => !getApi(p.apiKey));

describe('every captured request decodes completely and re-encodes to the same bytes', () => {
  it.each(withSchema)('%s', (_name, p) => {
    const { header, body, remaining } = decodeRequest(p);
    expect(header).toMatchObject({
      apiKey: p.apiKey,
      apiVersion: p.apiVersion,
      correlationId: p.correlationId,
    });
    const trailing = trailingBytes(p, 'request');
    expect(remaining).toBe(trailing.length / 2);
    const canonical = p.request.subarray(0, p.request.length - remaining);
    expect(p.request.subarray(canonical.length).toString('hex')).toBe(trailing);
    expect(encodeRequestFrame(p, header, body).equals(canonical)).toBe(true);
  });
});

describe('every captured response decodes completely and re-encodes to the same bytes', () => {
  it.each(withSchema.filter(([, p]) => p.response && !isMockApiVersionsRefusal(p)))('%s', (_name, p) => {
    const { header, body, version, remaining } = decodeResponse(p);
    expect(header.correlationId).toBe(p.correlationId);
    const trailing = trailingBytes(p, 'response');
    expect(remaining).toBe(trailing.length / 2);
    const canonical = p.response!.subarray(0, p.response!.length - remaining);
    expect(p.response!.subarray(canonical.length).toString('hex')).toBe(trailing);
    expect(encodeResponseFrame(p, version, header, body).equals(canonical)).toBe(true);
  });
});

describe('the broker and client entry points read the same frames', () => {
  const supported = withSchema.filter(([, p]) => isSupportedVersion(p.apiKey, p.apiVersion));

  it('leaves out only versions above what we advertise', () => {
    const above = withSchema.filter(([, p]) => !isSupportedVersion(p.apiKey, p.apiVersion));
    expect(new Set(above.map(([, p]) => `${apiName(p.apiKey)} v${p.apiVersion}`))).toEqual(
      // librdkafka 2.12.0 against its mock; the schemas decode them all the same (above).
      new Set(['Produce v10', 'Fetch v16', 'OffsetCommit v9']),
    );
  });

  it.each(supported)('%s', (_name, p) => {
    const request = decodeRequestFrame(p.request);
    expect(request).toMatchObject({
      apiKey: p.apiKey,
      apiVersion: p.apiVersion,
      correlationId: p.correlationId,
    });
    expect(request.body).toEqual(decodeRequest(p).body);
    if (p.response && !isMockApiVersionsRefusal(p)) {
      const response = decodeResponseFrame(p.apiKey as SupportedApiKey, p.apiVersion, p.response);
      expect(response.correlationId).toBe(p.correlationId);
      expect(response.body).toEqual(decodeResponse(p).body);
    }
  });
});

describe('frames of APIs we have no schema for still have readable headers', () => {
  // AddPartitionsToTxn (24) and EndTxn (26) from transactional producers; GetTelemetrySubscriptions
  // (71) from librdkafka 2.12. When a schema is added they move to the tests above.
  it.each(withoutSchema)('%s', (_name, p) => {
    expect([ApiKey.AddPartitionsToTxn, ApiKey.EndTxn, 71]).toContain(p.apiKey);
    const header = decodeRequestHeader(new Reader(p.request), 1);
    expect(header).toMatchObject({
      apiKey: p.apiKey,
      apiVersion: p.apiVersion,
      correlationId: p.correlationId,
    });
    expect(header.clientId).toMatch(/^(rdkafka|kafkajs-capture)$/);
    if (p.response) expect(p.response.readInt32BE(0)).toBe(p.correlationId);
  });
});

describe("librdkafka's mock refuses ApiVersions v3 with its own layout", () => {
  const refusals = ALL.filter(isMockApiVersionsRefusal);

  it('is what every ApiVersions v3 request got', () => {
    const v3 = ALL.filter((p) => p.apiKey === ApiKey.ApiVersions && p.apiVersion === 3);
    expect(v3.length).toBeGreaterThan(0);
    expect(refusals).toEqual(v3);
  });

  it.each(refusals.map((p, i) => [label(p, i), p] as const))('%s', (_name, p) => {
    const r = new Reader(p.response!);
    expect(r.int32()).toBe(p.correlationId); // response header v0
    expect(r.int16()).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(r.int8()).toBe(1); // one entry, written as a plain byte
    expect([r.int16(), r.int16(), r.int16()]).toEqual([ApiKey.ApiVersions, 0, 2]);
    expect(r.int32()).toBe(0); // throttleTimeMs
    expect(r.remaining).toBe(0);
  });
});

// ------------------------------------------------------------------------- coverage

it('covers these APIs and versions', () => {
  const seen: Record<string, string[]> = {};
  for (const p of ALL) {
    const list = seen[p.scenario] ?? [];
    seen[p.scenario] = list;
    const name = `${apiName(p.apiKey)} v${p.apiVersion}`;
    if (!list.includes(name)) list.push(name);
  }
  for (const list of Object.values(seen)) list.sort();
  const group = ['FindCoordinator v2', 'JoinGroup v5', 'SyncGroup v3', 'Heartbeat v3', 'LeaveGroup v1'];
  const txn = ['AddPartitionsToTxn v0', 'EndTxn v1', 'InitProducerId v4'];
  expect(seen).toEqual({
    'kcat-librdkafka-2.0.2': [
      ...['ApiVersions v0', 'ApiVersions v3', 'Metadata v2', 'Produce v7', 'Fetch v11', 'ListOffsets v2'],
      ...['OffsetCommit v7', 'OffsetFetch v5', ...group, ...txn],
    ].sort(),
    'kcat-librdkafka-2.12.0': [
      ...['ApiVersions v0', 'ApiVersions v3', 'Metadata v12', 'Produce v10', 'Fetch v16', 'ListOffsets v7'],
      ...['OffsetCommit v9', 'OffsetFetch v6', ...group, ...txn, 'GetTelemetrySubscriptions v0'],
    ].sort(),
    'kafkajs-2.2.4': [
      ...['ApiVersions v2', 'Metadata v2', 'Produce v7', 'Fetch v11', 'ListOffsets v3', 'OffsetCommit v5'],
      ...['OffsetFetch v4', ...group, 'AddPartitionsToTxn v1', 'EndTxn v1', 'InitProducerId v1'],
    ].sort(),
    'kafka-python-2.0.2': [
      ...['Metadata v1', 'Produce v7', 'Fetch v4', 'ListOffsets v1', 'OffsetCommit v2', 'OffsetFetch v1'],
      ...['FindCoordinator v0', 'JoinGroup v2', 'SyncGroup v1', 'LeaveGroup v1'],
    ].sort(),
  });
  // Flexible versions (compact types, tagged fields, request header v2 / response header v1).
  const flexible = ALL.filter((p) => getApi(p.apiKey) && isFlexible(getApi(p.apiKey)!.request, p.apiVersion));
  expect(new Set(flexible.map((p) => `${apiName(p.apiKey)} v${p.apiVersion}`))).toEqual(
    new Set([
      'ApiVersions v3',
      'Metadata v12',
      'Produce v10',
      'Fetch v16',
      'ListOffsets v7',
      'OffsetCommit v9',
      'OffsetFetch v6',
      'InitProducerId v4',
    ]),
  );
});

// ------------------------------------------------------------------------- decoded values

const req = (p: CapturedPair) => decodeRequest(p).body;
const res = (p: CapturedPair) => decodeResponse(p).body;

/** The records fixture a capture step wrote (test/fixtures/records/<scenario>.<step>). */
function recordsFixture(scenario: string, step: string) {
  const base = new URL(`../../fixtures/records/${scenario}.${step}`, import.meta.url);
  return {
    bytes: readFileSync(new URL(`${base.href}.bin`)),
    input: JSON.parse(readFileSync(new URL(`${base.href}.json`), 'utf8')).input as
      | { key: string | null; value: string | null }[]
      | { count: number; first: { key: string | null; value: string | null }[] },
  };
}

const KCAT = [
  ['kcat-librdkafka-2.0.2', 'kcat', '2.0.2'],
  ['kcat-librdkafka-2.12.0', 'kcat212', '2.12.0'],
] as const;
/** The transactional.id of each scenario's transactional Produce step. */
const TXN_IDS: Record<string, string> = {
  'kcat-librdkafka-2.0.2': 'kcat-txn',
  'kcat-librdkafka-2.12.0': 'kcat212-txn',
};
const PRODUCE_STEPS: Record<string, string[]> = {
  'kcat-librdkafka-2.0.2': [],
  'kcat-librdkafka-2.12.0': [],
  'kafkajs-2.2.4': [],
  'kafka-python-2.0.2': [],
};
for (const scenario of Object.keys(PRODUCE_STEPS)) {
  PRODUCE_STEPS[scenario] = Object.keys(SCENARIOS[scenario]!.steps).filter((s) =>
    /^produce-(none|gzip|snappy|lz4|zstd|many-.*|idempotent-.*|transactional-.*)$/.test(s),
  );
}

describe('decoded values match what the capture steps did', () => {
  it.each(KCAT)('%s: ApiVersions v3 requests name librdkafka %s', (scenario, _tag, version) => {
    for (const p of loadScenario(scenario).filter(
      (q) => q.apiKey === ApiKey.ApiVersions && q.apiVersion === 3,
    )) {
      expect(req(p)).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: version });
    }
  });

  it.each(KCAT)('%s: the mock advertises its versions in ApiVersions v0', (scenario) => {
    const p = loadScenario(scenario).find((q) => q.apiKey === ApiKey.ApiVersions && q.apiVersion === 0)!;
    const body = res(p) as unknown as {
      errorCode: number;
      apiKeys: { apiKey: number; maxVersion: number }[];
    };
    expect(body.errorCode).toBe(0);
    const max = Object.fromEntries(body.apiKeys.map((k) => [k.apiKey, k.maxVersion]));
    const v212 = scenario.endsWith('2.12.0');
    expect(max[ApiKey.Produce]).toBe(v212 ? 10 : 7);
    expect(max[ApiKey.Fetch]).toBe(v212 ? 16 : 11);
    expect(max[ApiKey.Metadata]).toBe(v212 ? 12 : 2);
    expect(max[ApiKey.ApiVersions]).toBe(2);
  });

  it.each(Object.keys(PRODUCE_STEPS))(
    '%s: Produce requests carry the captured batches to partition 0 and are acknowledged',
    (scenario) => {
      expect(PRODUCE_STEPS[scenario]!.length).toBeGreaterThanOrEqual(4);
      for (const step of PRODUCE_STEPS[scenario]!) {
        const pairs = stepPairs(scenario, step, ApiKey.Produce);
        expect(pairs.length).toBeGreaterThan(0);
        const sets: Buffer[] = [];
        for (const p of pairs) {
          const body = req(p) as unknown as {
            acks: number;
            transactionalId: string | null;
            topicData: { name: string; partitionData: { index: number; records: Buffer }[] }[];
          };
          expect(body.acks).toBe(-1);
          expect(body.transactionalId).toBe(
            step.startsWith('produce-transactional') ? TXN_IDS[scenario] : null,
          );
          expect(body.topicData).toHaveLength(1);
          expect(body.topicData[0]!.partitionData.map((d) => d.index)).toEqual([0]);
          sets.push(body.topicData[0]!.partitionData[0]!.records);
          const answer = res(p) as unknown as {
            responses: { partitionResponses: { index: number; errorCode: number; baseOffset: number }[] }[];
          };
          expect(answer.responses[0]!.partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0 });
        }
        expect(Buffer.concat(sets).equals(recordsFixture(scenario, step).bytes)).toBe(true);
        // The first batch of a new topic lands at offset 0.
        const first = res(pairs[0]!) as unknown as {
          responses: { partitionResponses: { baseOffset: number }[] }[];
        };
        expect(first.responses[0]!.partitionResponses[0]!.baseOffset).toBe(0);
      }
    },
  );

  it.each(KCAT)('%s: Fetch responses return what was produced, CRCs intact', (scenario) => {
    const steps: [string, string][] = [
      ...['none', 'gzip', 'snappy', 'lz4', 'zstd'].map((c): [string, string] => [
        `fetch-${c}`,
        `produce-${c}`,
      ]),
      ['fetch-many', 'produce-many-lz4'],
      ['fetch-idempotent', 'produce-idempotent-snappy'],
      ['fetch-transactional', 'produce-transactional-zstd'],
    ];
    for (const [fetchStep, produceStep] of steps) {
      const produced = decodeBatches(recordsFixture(scenario, produceStep).bytes).flatMap((b) => b.records);
      const fetched: DecodedRecord[] = [];
      for (const p of stepPairs(scenario, fetchStep, ApiKey.Fetch).filter((q) => q.response)) {
        const body = res(p) as unknown as {
          errorCode: number;
          responses: {
            partitions: { partitionIndex: number; highWatermark: number; records: Buffer | null }[];
          }[];
        };
        expect(body.errorCode).toBe(0);
        for (const part of body.responses.flatMap((t) => t.partitions)) {
          expect(part.partitionIndex).toBe(0);
          expect(part.highWatermark).toBe(produced.length);
          if (part.records) fetched.push(...decodeBatches(part.records).flatMap((b) => b.records));
        }
      }
      expect(fetched.length).toBe(produced.length);
      expect(fetched).toEqual(produced);
      expect(fetched.map((r) => r.offset)).toEqual(produced.map((_, i) => i));
    }
  });

  it.each([...KCAT, ['kafkajs-2.2.4', 'kafkajs', ''], ['kafka-python-2.0.2', 'kafka-python', '']] as const)(
    '%s: Metadata names the single mock broker; auto-created topics have 4 partitions',
    (scenario, tag) => {
      const pairs = loadScenario(scenario).filter((p) => p.apiKey === ApiKey.Metadata && p.response);
      expect(pairs.length).toBeGreaterThan(0);
      const ports = new Set<number>();
      for (const p of pairs) {
        const body = res(p) as unknown as {
          brokers: { nodeId: number; host: string; port: number }[];
          topics: { name: string; errorCode: number; partitions: { leaderId: number }[] }[];
        };
        expect(body.brokers).toHaveLength(1);
        expect(body.brokers[0]).toMatchObject({ nodeId: 1, host: '127.0.0.1' });
        ports.add(body.brokers[0]!.port);
        // The proxy pointed the client at itself; the recorded bytes are the broker's.
        expect(p.rewritten).toBe(true);
        for (const t of body.topics.filter((x) => x.name.startsWith(`${tag}-`))) {
          expect(t.errorCode).toBe(0);
          expect(t.partitions).toHaveLength(4);
          expect(t.partitions.every((x) => x.leaderId === 1)).toBe(true);
        }
      }
      expect(ports.size).toBe(1);
    },
  );

  it.each(KCAT)('%s: a consumer group joins, commits offset 20 and finds it again', (scenario, tag) => {
    const group = `${tag}-group`;
    const topics = [`${tag}-gzip`, `${tag}-none`];
    const find = stepPairs(scenario, 'group', ApiKey.FindCoordinator)[0]!;
    expect(req(find)).toMatchObject({ key: group, keyType: 0 });
    expect(res(find)).toMatchObject({ errorCode: 0, nodeId: 1, host: '127.0.0.1' });
    expect(find.rewritten).toBe(true);

    const join = stepPairs(scenario, 'group', ApiKey.JoinGroup)[0]!;
    const joinReq = req(join) as unknown as {
      groupId: string;
      protocolType: string;
      protocols: { name: string }[];
    };
    expect(joinReq).toMatchObject({ groupId: group, protocolType: 'consumer', memberId: '' });
    expect(joinReq.protocols.map((x) => x.name)).toEqual(['range', 'roundrobin']);
    const joined = res(join) as unknown as { errorCode: number; memberId: string; leader: string };
    expect(joined.errorCode).toBe(0);
    expect(joined.leader).toBe(joined.memberId);

    const commit = stepPairs(scenario, 'group', ApiKey.OffsetCommit)[0]!;
    const committed = req(commit) as unknown as {
      groupId: string;
      memberId: string;
      topics: { name: string; partitions: { partitionIndex: number; committedOffset: number }[] }[];
    };
    expect(committed).toMatchObject({ groupId: group, memberId: joined.memberId });
    expect(
      committed.topics.map((t) => [t.name, t.partitions.map((x) => [x.partitionIndex, x.committedOffset])]),
    ).toEqual(topics.map((t) => [t, [[0, 20]]]));

    const leave = stepPairs(scenario, 'group', ApiKey.LeaveGroup)[0]!;
    expect(req(leave)).toMatchObject({ groupId: group, memberId: joined.memberId });
    expect(res(leave)).toMatchObject({ errorCode: 0 });

    const fetched = res(stepPairs(scenario, 'group-rejoin', ApiKey.OffsetFetch)[0]!) as unknown as {
      topics: { name: string; partitions: { partitionIndex: number; committedOffset: number }[] }[];
    };
    expect(fetched.topics.map((t) => [t.name, t.partitions.map((x) => x.committedOffset)])).toEqual(
      topics.map((t) => [t, [20, -1, -1, -1]]),
    );
  });

  it.each(KCAT)('%s: idempotent and transactional producers get producer ids', (scenario, tag) => {
    const idempotent = stepPairs(scenario, 'produce-idempotent-snappy', ApiKey.InitProducerId)[0]!;
    expect(req(idempotent)).toMatchObject({ transactionalId: null, producerId: -1, producerEpoch: -1 });
    const pid = res(idempotent) as unknown as {
      errorCode: number;
      producerId: number;
      producerEpoch: number;
    };
    expect(pid).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    const [batch] = decodeBatches(recordsFixture(scenario, 'produce-idempotent-snappy').bytes);
    expect([batch!.producerId, batch!.producerEpoch, batch!.baseSequence]).toEqual([pid.producerId, 0, 0]);

    const coordinator = stepPairs(scenario, 'produce-transactional-zstd', ApiKey.FindCoordinator)[0]!;
    expect(req(coordinator)).toMatchObject({ key: `${tag}-txn`, keyType: 1 });
    const txn = stepPairs(scenario, 'produce-transactional-zstd', ApiKey.InitProducerId)[0]!;
    expect(req(txn)).toMatchObject({ transactionalId: `${tag}-txn`, transactionTimeoutMs: 60000 });
    const txnPid = res(txn) as unknown as { producerId: number };
    const [txnBatch] = decodeBatches(recordsFixture(scenario, 'produce-transactional-zstd').bytes);
    expect(txnBatch!.isTransactional).toBe(true);
    expect(txnBatch!.producerId).toBe(txnPid.producerId);
  });

  it.each(KCAT)('%s: kcat -Q asks ListOffsets by timestamp', (scenario, tag) => {
    const p = stepPairs(scenario, 'list-offsets', ApiKey.ListOffsets).at(-1)!;
    const asked = req(p) as unknown as { topics: { name: string; partitions: { timestamp: number }[] }[] };
    expect(asked.topics.map((t) => [t.name, t.partitions[0]!.timestamp])).toEqual([
      [`${tag}-gzip`, -1],
      [`${tag}-none`, 0],
    ]);
    const answer = res(p) as unknown as { topics: { name: string; partitions: { offset: number }[] }[] };
    // Latest is 20; the mock keeps no time index and answers -1 for a timestamp.
    expect(answer.topics.map((t) => [t.name, t.partitions[0]!.offset])).toEqual([
      [`${tag}-gzip`, 20],
      [`${tag}-none`, -1],
    ]);
  });

  it('kafkajs and kafka-python groups commit offset 20 on partition 0 of what they read', () => {
    for (const [scenario, tag] of [
      ['kafkajs-2.2.4', 'kafkajs'],
      ['kafka-python-2.0.2', 'kafka-python'],
    ] as const) {
      const commits = stepPairs(scenario, 'group', ApiKey.OffsetCommit).flatMap(
        (p) =>
          (
            req(p) as unknown as {
              groupId: string;
              topics: { name: string; partitions: { partitionIndex: number; committedOffset: number }[] }[];
            }
          ).topics,
      );
      const p0 = new Map<string, number>();
      for (const t of commits) {
        for (const x of t.partitions) if (x.partitionIndex === 0) p0.set(t.name, x.committedOffset);
      }
      expect(Object.fromEntries(p0)).toEqual({ [`${tag}-gzip`]: 20, [`${tag}-none`]: 20 });
    }
  });
});
