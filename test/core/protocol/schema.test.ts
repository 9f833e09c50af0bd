import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ApiKey } from '../../../core/protocol/api-keys.js';
import { ProtocolError } from '../../../core/protocol/errors.js';
import { ApiVersionsResponse } from '../../../core/protocol/messages/api-versions.js';
import { FetchResponse } from '../../../core/protocol/messages/fetch.js';
import type { RequestData } from '../../../core/protocol/messages/index.js';
import { JoinGroupRequest } from '../../../core/protocol/messages/join-group.js';
import { type MetadataRequest, MetadataResponse } from '../../../core/protocol/messages/metadata.js';
import { ProduceRequest, type ProduceRequestData } from '../../../core/protocol/messages/produce.js';
import {
  decodeMessage,
  defaults,
  encodeMessage,
  getUnknownTaggedFields,
  type Infer,
  parseVersions,
  request,
  t,
} from '../../../core/protocol/schema.js';
import { Writer } from '../../../core/protocol/writer.js';

const enc = (...args: Parameters<typeof encodeMessage>) => encodeMessage(...args).toBuffer();

describe('inferred types', () => {
  it('are precise, with Kafka camelCase names', () => {
    type P = Infer<typeof ProduceRequest>;
    expectTypeOf<P['transactionalId']>().toEqualTypeOf<string | null>();
    expectTypeOf<P['acks']>().toEqualTypeOf<number>();
    expectTypeOf<P['topicData'][number]['partitionData'][number]['records']>().toEqualTypeOf<Buffer | null>();
    expectTypeOf<ProduceRequestData>().toEqualTypeOf<P>();
    expectTypeOf<RequestData<typeof ApiKey.Produce>>().toEqualTypeOf<P>();
    type M = Infer<typeof MetadataRequest>;
    expectTypeOf<M['topics']>().toEqualTypeOf<{ topicId: string; name: string | null }[] | null>();
    expectTypeOf<Infer<typeof MetadataResponse>['brokers'][number]['rack']>().toEqualTypeOf<string | null>();
    type F = Infer<typeof FetchResponse>['responses'][number]['partitions'][number];
    expectTypeOf<F['currentLeader']>().toEqualTypeOf<{ leaderId: number; leaderEpoch: number }>();
  });
});

describe('versions', () => {
  it('parses Kafka version ranges', () => {
    expect(parseVersions('0+')).toEqual({ min: 0, max: Number.POSITIVE_INFINITY });
    expect(parseVersions('3-5')).toEqual({ min: 3, max: 5 });
    expect(parseVersions('2')).toEqual({ min: 2, max: 2 });
    expect(parseVersions('none').max).toBeLessThan(0);
    expect(() => parseVersions('x')).toThrow(ProtocolError);
  });

  it('refuses versions the schema does not declare', () => {
    try {
      decodeMessage(ProduceRequest, 12, Buffer.alloc(10));
      throw new Error('decoded');
    } catch (e) {
      expect(e).toBeInstanceOf(ProtocolError);
      expect((e as ProtocolError).code).toBe('UNSUPPORTED_VERSION');
    }
  });
});

describe('fields absent from a version', () => {
  it('decode to their defaults', () => {
    const w = new Writer();
    w.int16(1).int32(500).int32(0); // Produce v2: acks, timeoutMs, no topics
    expect(decodeMessage(ProduceRequest, 2, w.toBuffer())).toEqual({
      transactionalId: null,
      acks: 1,
      timeoutMs: 500,
      topicData: [],
    });
    const meta = decodeMessage(MetadataResponse, 0, Buffer.from('0000000000000000', 'hex'));
    expect(meta).toMatchObject({
      throttleTimeMs: 0,
      clusterId: null,
      controllerId: -1,
      clusterAuthorizedOperations: -2147483648,
    });
  });

  it('are ignored when encoding', () => {
    const data = { transactionalId: 'tx', acks: 1, timeoutMs: 500, topicData: [] };
    expect(enc(ProduceRequest, 2, data).toString('hex')).toBe(
      '000100 0001f4 00000000'.replace(/ /g, '').padStart(20, '0'),
    );
    expect(enc(ProduceRequest, 3, data).subarray(0, 4).toString('hex')).toBe('00027478');
  });

  it('defaults() builds the all-default message', () => {
    expect(defaults(JoinGroupRequest, 0)).toMatchObject({
      rebalanceTimeoutMs: -1,
      groupInstanceId: null,
      reason: null,
    });
  });
});

describe('flexible versions', () => {
  it('write tagged fields only when they differ from the default, sorted by tag', () => {
    const base = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 0 };
    expect(enc(ApiVersionsResponse, 3, base).toString('hex')).toBe(
      '0000 02 0012 0000 0003 00 00000000 00'.replace(/ /g, ''),
    );
    const tagged = enc(ApiVersionsResponse, 3, {
      ...base,
      zkMigrationReady: true,
      finalizedFeaturesEpoch: 5,
    });
    // ... 02 tags: (1, size 8, int64 5), (3, size 1, true)
    expect(tagged.toString('hex')).toBe(
      '0000 02 0012 0000 0003 00 00000000 02 01 08 0000000000000005 03 01 01'.replace(/ /g, ''),
    );
    expect(decodeMessage(ApiVersionsResponse, 3, tagged)).toMatchObject({
      zkMigrationReady: true,
      finalizedFeaturesEpoch: 5,
    });
  });

  it('skip unknown tags on read, keep them, and write them back', () => {
    // Heartbeat v4 response: throttleTimeMs, errorCode, tagged fields (none known).
    const bytes = Buffer.from('00000000 0000 02 04 02 abcd 09 00'.replace(/ /g, ''), 'hex');
    const data = decodeMessage(apisHeartbeatResponse(), 4, bytes);
    expect(data).toEqual({ throttleTimeMs: 0, errorCode: 0 });
    expect(getUnknownTaggedFields(data)).toEqual([
      { tag: 4, data: Buffer.from([0xab, 0xcd]) },
      { tag: 9, data: Buffer.alloc(0) },
    ]);
    expect(enc(apisHeartbeatResponse(), 4, data).equals(bytes)).toBe(true);
  });

  it('struct-valued tagged fields (FetchResponse currentLeader)', () => {
    const data = {
      responses: [
        { topic: 't', partitions: [{ partitionIndex: 1, currentLeader: { leaderId: 2, leaderEpoch: 3 } }] },
      ],
    };
    const bytes = enc(FetchResponse, 12, data);
    const decoded = decodeMessage(FetchResponse, 12, bytes);
    expect(decoded.responses[0]!.partitions[0]!.currentLeader).toEqual({ leaderId: 2, leaderEpoch: 3 });
    expect(decoded.responses[0]!.partitions[0]!.snapshotId).toEqual({ endOffset: -1, epoch: -1 });
    // The partition's tag section holds tag 1 (currentLeader): size 9 = int32 + int32 + empty tags.
    expect(bytes.includes(Buffer.from('0101090000000200000003 00'.replace(/ /g, ''), 'hex'))).toBe(true);
  });
});

describe('encoding bad values', () => {
  it('throws INVALID_VALUE naming the field path', () => {
    const bad = { acks: -1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 2 ** 31 }] }] };
    expect(() => enc(ProduceRequest, 7, bad)).toThrow(
      'Produce v7 request: topicData[0].partitionData[0].index: expected int32, got number 2147483648',
    );
    expect(() => enc(ProduceRequest, 7, { acks: 'all' } as never)).toThrow(
      /acks: expected int16, got string "all"/,
    );
    expect(() => enc(ProduceRequest, 7, { topicData: [{ name: null }] } as never)).toThrow(
      /topicData\[0\]\.name: expected string, got null/,
    );
  });

  it('leaves the shared slab usable after a failed encode', () => {
    expect(() => enc(ProduceRequest, 7, { acks: 1.5 })).toThrow(ProtocolError);
    expect(enc(ProduceRequest, 7, { acks: 1 }).length).toBeGreaterThan(0);
  });
});

describe('custom schemas', () => {
  it('nullable structs, uint16/uint32/float64, arrays of strings', () => {
    const S = request({
      apiKey: 1000,
      api: 'Test',
      validVersions: '0-1',
      flexibleVersions: '1+',
      fields: {
        port: t.uint16('0+'),
        big: t.uint32('0+'),
        ratio: t.float64('0+'),
        names: t.array('0+', 'string', { nullableVersions: '1+' }),
        inner: t.struct('0+', { a: t.int8('0+') }, { nullableVersions: '0+', default: null }),
      },
    });
    type D = Infer<typeof S>;
    expectTypeOf<D['inner']>().toEqualTypeOf<{ a: number } | null>();
    expectTypeOf<D['names']>().toEqualTypeOf<string[] | null>();
    for (const version of [0, 1]) {
      const full: D = { port: 65535, big: 4294967295, ratio: 0.25, names: ['a', 'b'], inner: { a: -3 } };
      expect(decodeMessage(S, version, enc(S, version, full))).toEqual(full);
      const empty: D = { port: 0, big: 0, ratio: 0, names: version === 1 ? null : [], inner: null };
      expect(decodeMessage(S, version, enc(S, version, empty))).toEqual(empty);
    }
  });
});

import { HeartbeatResponse } from '../../../core/protocol/messages/heartbeat.js';

function apisHeartbeatResponse() {
  return HeartbeatResponse;
}
