import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { ErrorCode, ProtocolError } from '../../../core/protocol/errors.js';
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  peekCorrelationId,
} from '../../../core/protocol/frames.js';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../core/protocol/headers.js';
import {
  advertisedApiVersions,
  unsupportedApiVersionsResponse,
} from '../../../core/protocol/messages/index.js';
import { Reader } from '../../../core/protocol/reader.js';
import { Writer, ZERO_COPY_THRESHOLD } from '../../../core/protocol/writer.js';

const hex = (w: Writer) => w.toBuffer().toString('hex');
const header = { apiKey: 3, apiVersion: 9, correlationId: 0x01020304, clientId: 'cli' };

describe('request headers', () => {
  it('v0: apiKey, apiVersion, correlationId', () => {
    const bytes = hex(encodeRequestHeader(new Writer(), header, 0));
    expect(bytes).toBe('0003000901020304');
    expect(decodeRequestHeader(new Reader(Buffer.from(bytes, 'hex')), 0)).toEqual({
      ...header,
      clientId: null,
    });
  });

  it('v1: + clientId as a classic nullable string', () => {
    const bytes = hex(encodeRequestHeader(new Writer(), header, 1));
    expect(bytes).toBe('0003000901020304000363 6c69'.replace(/ /g, ''));
    expect(decodeRequestHeader(new Reader(Buffer.from(bytes, 'hex')), 1)).toEqual(header);
    const nullId = hex(encodeRequestHeader(new Writer(), { ...header, clientId: null }, 1));
    expect(nullId).toBe('0003000901020304ffff');
  });

  it('v2: + tagged fields, clientId still classic; unknown tags skipped', () => {
    const bytes = hex(encodeRequestHeader(new Writer(), header, 2));
    expect(bytes).toBe('00030009010203040003636c6900');
    // Metadata v9 is flexible, so the version is inferred as 2.
    expect(decodeRequestHeader(new Reader(Buffer.from(bytes, 'hex')))).toEqual(header);
    const withTags = Buffer.from('00030009010203040003636c69 02 0001ff 0702aabb 99'.replace(/ /g, ''), 'hex');
    const r = new Reader(withTags);
    const decoded = decodeRequestHeader(r);
    expect(decoded).toMatchObject(header);
    expect(decoded.taggedFields).toEqual([
      { tag: 0, data: Buffer.from([0xff]) },
      { tag: 7, data: Buffer.from([0xaa, 0xbb]) },
    ]);
    expect(r.remaining).toBe(1);
  });

  it('picks the header version from the API version', () => {
    expect(requestHeaderVersion(ApiKey.Metadata, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Metadata, 9)).toBe(2);
    expect(requestHeaderVersion(ApiKey.ApiVersions, 3)).toBe(2);
    // A future ApiVersions version is still framed as flexible.
    expect(requestHeaderVersion(ApiKey.ApiVersions, 9)).toBe(2);
    expect(requestHeaderVersion(ApiKey.Produce, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.DescribeCluster, 0)).toBe(2);
  });
});

describe('response headers', () => {
  it('v0 and v1', () => {
    expect(hex(encodeResponseHeader(new Writer(), { correlationId: 7 }, 0))).toBe('00000007');
    expect(hex(encodeResponseHeader(new Writer(), { correlationId: 7 }, 1))).toBe('0000000700');
    expect(decodeResponseHeader(new Reader(Buffer.from('0000000700', 'hex')), 1)).toEqual({
      correlationId: 7,
    });
    const r = new Reader(Buffer.from('00000007 01 0502abcd'.replace(/ /g, ''), 'hex'));
    expect(decodeResponseHeader(r, 1)).toEqual({
      correlationId: 7,
      taggedFields: [{ tag: 5, data: Buffer.from([0xab, 0xcd]) }],
    });
  });

  it('flexible versions use v1, except ApiVersions which always uses v0', () => {
    expect(responseHeaderVersion(ApiKey.Fetch, 11)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Fetch, 12)).toBe(1);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 3)).toBe(0);
  });
});

describe('frames', () => {
  it('a client request frame decodes on the broker side, discriminated by apiKey', () => {
    const records = Buffer.alloc(ZERO_COPY_THRESHOLD * 2, 0x5a);
    const chunks = encodeRequestFrame(
      { apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 42, clientId: 'me' },
      { acks: -1, timeoutMs: 1500, topicData: [{ name: 'orders', partitionData: [{ index: 3, records }] }] },
    );
    expect(chunks).toContain(records);
    const wire = Buffer.concat(chunks);
    expect(wire.readInt32BE(0)).toBe(wire.length - 4);
    const req = decodeRequestFrame(wire.subarray(4));
    expect(req.apiKey).toBe(ApiKey.Produce);
    if (req.apiKey !== ApiKey.Produce) throw new Error('narrowing');
    expect(req.header).toEqual({ apiKey: 0, apiVersion: 9, correlationId: 42, clientId: 'me' });
    expect(req.body.transactionalId).toBeNull();
    expect(req.body.topicData[0]!.partitionData[0]!.records!.equals(records)).toBe(true);
  });

  it('a broker response frame decodes on the client side; records stay separate chunks', () => {
    const records = Buffer.alloc(64 * 1024, 1);
    const chunks = encodeResponseFrame(ApiKey.Fetch, 12, 77, {
      responses: [
        {
          topic: 'orders',
          partitions: [{ partitionIndex: 0, highWatermark: 10, lastStableOffset: 10, records }],
        },
      ],
    });
    expect(chunks).toContain(records);
    const wire = Buffer.concat(chunks);
    expect(wire.readInt32BE(0)).toBe(wire.length - 4);
    const frame = wire.subarray(4);
    expect(peekCorrelationId(frame)).toBe(77);
    const { correlationId, body } = decodeResponseFrame(ApiKey.Fetch, 12, frame);
    expect(correlationId).toBe(77);
    const p = body.responses[0]!.partitions[0]!;
    expect(p.highWatermark).toBe(10);
    expect(p.records!.equals(records)).toBe(true);
    expect(p.currentLeader).toEqual({ leaderId: -1, leaderEpoch: -1 });
  });

  it('records may be given as a list of chunks', () => {
    const parts = [Buffer.alloc(ZERO_COPY_THRESHOLD, 1), Buffer.from([2, 3])];
    const chunks = encodeResponseFrame(ApiKey.Fetch, 4, 1, {
      responses: [{ topic: 't', partitions: [{ records: parts }] }],
    });
    const { body } = decodeResponseFrame(ApiKey.Fetch, 4, Buffer.concat(chunks).subarray(4));
    expect(body.responses[0]!.partitions[0]!.records!.equals(Buffer.concat(parts))).toBe(true);
  });

  it('an unsupported ApiVersions version: the error carries the header, the answer is v0 with error 35', () => {
    const req = Buffer.concat(
      encodeRequestFrame({ apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 5, clientId: 'x' }, {}),
    );
    // Pretend the client asked for v7.
    req.writeInt16BE(7, 6);
    let err: ProtocolError | undefined;
    try {
      decodeRequestFrame(req.subarray(4));
    } catch (e) {
      err = e as ProtocolError;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err!.code).toBe('UNSUPPORTED_VERSION');
    expect(err!.requestHeader).toMatchObject({ apiKey: ApiKey.ApiVersions, apiVersion: 7, correlationId: 5 });

    const answer = Buffer.concat(
      encodeResponseFrame(ApiKey.ApiVersions, 0, 5, unsupportedApiVersionsResponse()),
    );
    // v0 body: errorCode, then the classic array of (apiKey, min, max).
    expect(answer.readInt16BE(8)).toBe(35);
    expect(answer.readInt32BE(10)).toBe(advertisedApiVersions().length);
    // A client that asked for v3 reads it as v0.
    const decoded = decodeResponseFrame(ApiKey.ApiVersions, 3, answer.subarray(4));
    expect(decoded.apiVersion).toBe(0);
    expect(decoded.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(decoded.body.apiKeys).toEqual(advertisedApiVersions());
  });

  it('versions outside our range are refused with the header attached', () => {
    const req = Buffer.concat(
      encodeRequestFrame({ apiKey: ApiKey.Fetch, apiVersion: 12, correlationId: 1 }, {}),
    );
    req.writeInt16BE(13, 6);
    try {
      decodeRequestFrame(req.subarray(4));
      throw new Error('decoded');
    } catch (e) {
      expect((e as ProtocolError).code).toBe('UNSUPPORTED_VERSION');
      expect((e as ProtocolError).message).toMatch(/Fetch v13 request: we support v0-12/);
    }
  });

  it('advertises the versions librdkafka needs (pitfall 1)', () => {
    const ranges = new Map(advertisedApiVersions().map((a) => [a.apiKey, a]));
    const covers = (key: number, v: number) =>
      ranges.get(key)!.minVersion <= v && ranges.get(key)!.maxVersion >= v;
    expect(covers(ApiKey.Produce, 3)).toBe(true);
    expect(covers(ApiKey.Fetch, 4)).toBe(true);
    for (const key of [
      ApiKey.FindCoordinator,
      ApiKey.JoinGroup,
      ApiKey.SyncGroup,
      ApiKey.Heartbeat,
      ApiKey.LeaveGroup,
    ]) {
      expect(covers(key, 0)).toBe(true);
    }
    expect(covers(ApiKey.OffsetCommit, 1) && covers(ApiKey.OffsetCommit, 2)).toBe(true);
    expect(covers(ApiKey.OffsetFetch, 1)).toBe(true);
    expect(ranges.has(ApiKey.SaslHandshake)).toBe(false);
  });
});
