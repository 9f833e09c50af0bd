/**
 * Malformed input: truncation at every position, hostile lengths, random corruption. The
 * decoders must throw ProtocolError, never another exception, and never allocate for a length
 * the input cannot back.
 */
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { ProtocolError } from '../../../core/protocol/errors.js';
import { decodeRequestFrame } from '../../../core/protocol/frames.js';
import { apis } from '../../../core/protocol/messages/index.js';
import {
  decodeMessage,
  encodeMessage,
  type Input,
  type MessageSchema,
} from '../../../core/protocol/schema.js';
import { Writer } from '../../../core/protocol/writer.js';
import { FIXTURES_ROOT, fixture as kafkajsFixture } from './fixtures.js';
import { sample } from './sample-data.js';

const fixture = (path: string) => (FIXTURES_ROOT ? kafkajsFixture('kafkajs', path) : Buffer.alloc(0));

function decodeError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw new Error(`not a ProtocolError: ${String(e)}`, { cause: e });
    return e;
  }
  throw new Error('decoded without error');
}

const sampled = (schema: MessageSchema, version: number) =>
  encodeMessage(schema, version, sample(schema, version, 'full') as Input<typeof schema.fields>).toBuffer();

const allMessages: [string, MessageSchema, number, Buffer][] = [
  ['Produce v3 request (kafkajs)', apis[ApiKey.Produce].request, 3, fixture('produce/v3_request')],
  ['Fetch v4 response (kafkajs)', apis[ApiKey.Fetch].response, 4, fixture('fetch/v4_response')],
  ['Metadata v5 response (kafkajs)', apis[ApiKey.Metadata].response, 5, fixture('metadata/v5_response')],
  ['JoinGroup v5 response (kafkajs)', apis[ApiKey.JoinGroup].response, 5, fixture('joinGroup/v5_response')],
  ['Produce v9 request', apis[ApiKey.Produce].request, 9, sampled(apis[ApiKey.Produce].request, 9)],
  ['Fetch v12 response', apis[ApiKey.Fetch].response, 12, sampled(apis[ApiKey.Fetch].response, 12)],
  ['Metadata v12 response', apis[ApiKey.Metadata].response, 12, sampled(apis[ApiKey.Metadata].response, 12)],
  [
    'ApiVersions v3 response',
    apis[ApiKey.ApiVersions].response,
    3,
    sampled(apis[ApiKey.ApiVersions].response, 3),
  ],
];
const messages = allMessages.filter(([, , , bytes]) => bytes.length > 0);

describe('truncated at every position', () => {
  it.each(messages)('%s', (_name, schema, version, bytes) => {
    const corrupt = schema.type === 'request' ? 'CORRUPT_REQUEST' : 'CORRUPT_RESPONSE';
    for (let n = 0; n < bytes.length; n++) {
      const err = decodeError(() => decodeMessage(schema, version, bytes.subarray(0, n)));
      expect(['TRUNCATED', corrupt]).toContain(err.code);
      expect(err.message.startsWith(`${schema.api} v${version} ${schema.type}: `)).toBe(true);
    }
  });
});

describe('random corruption never escapes as another exception', () => {
  it.each(messages)('%s', (_name, schema, version, bytes) => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 500; i++) {
      const copy = Buffer.from(bytes);
      const flips = 1 + (rand() % 4);
      for (let f = 0; f < flips; f++) copy[rand() % copy.length] = rand() & 0xff;
      try {
        decodeMessage(schema, version, copy);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }
  });
});

describe('hostile lengths', () => {
  const produce = apis[ApiKey.Produce].request;

  /** A Produce v7 request with three partitions whose third declares `recordsLength`. */
  function produceV7(recordsLength: number, actual: Buffer): Buffer {
    const w = new Writer();
    w.nullableString(null).int16(-1).int32(1000);
    w.int32(1).string('t');
    w.int32(3);
    w.int32(0)
      .int32(1)
      .raw(Buffer.from([1]));
    w.int32(1)
      .int32(1)
      .raw(Buffer.from([2]));
    w.int32(2).int32(recordsLength).raw(actual);
    return w.toBuffer();
  }

  it('names the field path of the length that overruns', () => {
    const err = decodeError(() => decodeMessage(produce, 7, produceV7(5000, Buffer.alloc(12))));
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toBe(
      'Produce v7 request: topicData[0].partitionData[2].records: length 5000 exceeds remaining 12 bytes',
    );
    expect(err.fieldPath).toBe('topicData[0].partitionData[2].records');
  });

  it('negative lengths are corrupt', () => {
    const err = decodeError(() => decodeMessage(produce, 7, produceV7(-7, Buffer.alloc(12))));
    expect(err.code).toBe('CORRUPT_REQUEST');
    expect(err.message).toMatch(/records: bytes have length -7/);
  });

  it('huge array counts fail before allocating', () => {
    const w = new Writer();
    w.nullableString(null).int16(-1).int32(1000).int32(0x7fffffff).int32(0);
    const before = process.memoryUsage().arrayBuffers;
    const err = decodeError(() => decodeMessage(produce, 7, w.toBuffer()));
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toMatch(
      /topicData: array length 2147483647 \(at least 6 bytes each\) exceeds remaining 4 bytes/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it('negative and null counts for non-nullable arrays are corrupt', () => {
    for (const count of [-1, -2, -0x80000000]) {
      const w = new Writer();
      w.nullableString(null).int16(-1).int32(1000).int32(count);
      const err = decodeError(() => decodeMessage(produce, 7, w.toBuffer()));
      expect(err.code).toBe('CORRUPT_REQUEST');
    }
  });

  it('huge compact counts in flexible versions fail before allocating', () => {
    const w = new Writer();
    w.compactNullableString(null).int16(-1).int32(1000).uvarint(0xffffffff);
    const err = decodeError(() => decodeMessage(produce, 9, w.toBuffer()));
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toMatch(/topicData: array length 4294967294/);
  });

  it('a huge tagged-field count or size is refused', () => {
    const hb = apis[ApiKey.Heartbeat].response;
    const w = new Writer();
    w.int32(0).int16(0).uvarint(0xfffffff0);
    expect(decodeError(() => decodeMessage(hb, 4, w.toBuffer())).code).toBe('TRUNCATED');
    const w2 = new Writer();
    w2.int32(0).int16(0).uvarint(1).uvarint(9).uvarint(0x7ffffff0);
    expect(decodeError(() => decodeMessage(hb, 4, w2.toBuffer())).code).toBe('TRUNCATED');
  });

  it('request frames: garbage and empty frames are ProtocolErrors', () => {
    expect(decodeError(() => decodeRequestFrame(Buffer.alloc(0))).code).toBe('TRUNCATED');
    expect(decodeError(() => decodeRequestFrame(Buffer.from('00000007', 'hex'))).code).toBe('TRUNCATED');
    const unknownApi = Buffer.from('7fff0000000000010000', 'hex');
    const err = decodeError(() => decodeRequestFrame(unknownApi));
    expect(err.code).toBe('UNKNOWN_API_KEY');
    expect(err.requestHeader).toMatchObject({ apiKey: 0x7fff, correlationId: 1 });
  });
});
