/**
 * The JSON format's writer (connectors/s3-sink/json-writer.ts) against jsonText, the JSON.stringify
 * it stands in for: the same bytes for every kind of value, NO_ROOM exactly when the line does
 * not fit, NOT_PLAIN for what it leaves to the general path.
 */
import { describe, expect, it } from 'vitest';
import { DataException, type SinkRecord } from '../../../connect/sdk.js';
import { parseS3SinkConfig } from '../../../connectors/s3-sink/config.js';
import { createFormat, jsonText } from '../../../connectors/s3-sink/format.js';
import { NO_ROOM, NOT_PLAIN, writeJson } from '../../../connectors/s3-sink/json-writer.js';
import { prng } from '../../helpers/prng.js';

const PIECES = [
  'a',
  'Z',
  ' ',
  '~',
  '\x7f',
  '"',
  '\\',
  '\n',
  '\t',
  '\x00',
  '\x1f',
  'é',
  '€',
  '😀',
  '\ud800',
  '\udfff',
  '中',
];
const NUMBERS = [
  0,
  -0,
  1,
  9,
  10,
  99,
  100,
  999,
  1000,
  9999,
  10_000,
  99_999,
  100_000,
  999_999,
  1e6,
  9_999_999,
  1e7,
  99_999_999,
  1e8,
  123_456_789,
  1e9 - 1,
  1e9,
  -1,
  0.5,
  -2.25,
  1e21,
  1e-7,
  2 ** 31,
  2 ** 53,
  Number.NaN,
  Infinity,
  -Infinity,
];

function randomString(r: () => number): string {
  const long = r() < 0.2;
  const n = Math.floor(r() * (long ? 300 : 20));
  const plain = r() < 0.6;
  let s = '';
  for (let i = 0; i < n; i++)
    s += plain ? String.fromCharCode(0x20 + Math.floor(r() * 95)) : PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 12));
  switch (k) {
    case 0:
      return randomString(r);
    case 1:
      return r() < 0.5
        ? NUMBERS[Math.floor(r() * NUMBERS.length)]
        : Math.floor(r() * 1e12) / (r() < 0.5 ? 1 : 7);
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return [undefined, () => 1, Symbol('s')][Math.floor(r() * 3)];
    case 5:
    case 6:
      return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    case 7:
      return new Date(Math.floor(r() * 2e12));
    case 8:
      return Buffer.from(randomString(r));
    case 9:
      return BigInt(Math.floor(r() * 1e15));
    default: {
      const o: Record<string, unknown> = r() < 0.1 ? Object.create(null) : {};
      const n = Math.floor(r() * 6);
      for (let i = 0; i < n; i++) o[r() < 0.2 ? String(i * 3) : randomString(r)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** What writeJson writes for `v` with exactly `room` bytes, as text; or its negative answer. */
function written(v: unknown, room: number): string | number {
  const buf = Buffer.alloc(room + 8, 0xee);
  const at = writeJson(v, buf, 3, 3 + room);
  if (at < 0) return at;
  expect(buf[3 + room]).toBe(0xee); // nothing past end
  return buf.toString('utf8', 3, at);
}

describe('S3 sink JSON writer', () => {
  it('writes what jsonText writes, for random values of every kind', () => {
    const r = prng(9);
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(r, 0);
      const want = jsonText(v);
      const got = written(v, Buffer.byteLength(want) + 10);
      expect(got, `value #${i}: ${want}`).toBe(want);
    }
  });

  it('escapes one special character anywhere in short and long ASCII strings', () => {
    const r = prng(5);
    for (const special of ['"', '\\', '\n', '\x00', '\x1f', '\x7f', 'é', '😀', '\ud800', '\udc00'])
      for (const length of [1, 47, 48, 49, 100, 1000]) {
        const at = Math.floor(r() * length);
        const s = `${'a'.repeat(at)}${special}${'b'.repeat(length - at)}`;
        expect(written({ s }, 4 * length + 20)).toBe(JSON.stringify({ s }));
      }
  });

  it('answers NO_ROOM exactly when the value does not fit', () => {
    const r = prng(11);
    for (let i = 0; i < 500; i++) {
      const v = randomValue(r, 0);
      const want = jsonText(v);
      const bytes = Buffer.byteLength(want);
      expect(written(v, bytes)).toBe(want);
      if (bytes > 0) expect(written(v, bytes - 1)).toBe(NO_ROOM);
    }
  });

  it('leaves Maps, class instances, toJSON methods and cycles to the general path', () => {
    class Point {
      x = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const v of [new Map([['a', 1]]), new Point(), { toJSON: () => 'x' }, { a: [new Set()] }, cyclic])
      expect(written(v, 1000)).toBe(NOT_PLAIN);
    expect(() => jsonText(cyclic)).toThrow(/circular/);
  });

  it('writes a top-level undefined, function or symbol as null, and Uint8Array views as base64', () => {
    for (const v of [undefined, () => 1, Symbol('s')]) expect(written(v, 10)).toBe('null');
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253]).subarray(2, 6);
    expect(written({ b: bytes }, 100)).toBe(jsonText({ b: bytes }));
  });

  it('JsonFormat lines: plain values written directly, the rest through jsonText, NO_ROOM when the line does not fit', () => {
    const cfg = parseS3SinkConfig({
      's3.bucket.name': 'b',
      's3.region': 'us-east-1',
      'flush.size': '10',
      'format.class': 'JsonFormat',
    });
    const values: unknown[] = [
      { id: 1, s: 'text', when: new Date(5), raw: Buffer.from('hi') },
      {
        m: new Map<unknown, unknown>([
          ['k', 1],
          [2, new Date(7)],
        ]),
      },
      { big: 12n, nested: [{ a: null }] },
    ];
    for (const value of values) {
      const record = { topic: 't', kafkaPartition: 0, kafkaOffset: 0, value } as SinkRecord;
      const lines = createFormat(cfg).open('k', record).lines!;
      const want = `${jsonText(value)}\n`;
      const bytes = Buffer.byteLength(want);
      const buf = Buffer.alloc(bytes + 4);
      expect(lines.encodeInto(record, buf, 2, 2 + bytes)).toBe(2 + bytes);
      expect(buf.toString('utf8', 2, 2 + bytes)).toBe(want);
      expect(lines.encodeInto(record, buf, 2, 1 + bytes)).toBe(NO_ROOM);
      expect(lines.line(record)).toBe(jsonText(value));
    }
  });

  it('JsonFormat: a value with a cycle fails with a DataException naming the record', () => {
    const cfg = parseS3SinkConfig({
      's3.bucket.name': 'b',
      's3.region': 'us-east-1',
      'flush.size': '10',
      'format.class': 'JsonFormat',
    });
    const value: Record<string, unknown> = { a: 1 };
    value.self = value;
    const record = { topic: 't', kafkaPartition: 3, kafkaOffset: 42, value } as SinkRecord;
    const lines = createFormat(cfg).open('k', record).lines!;
    expect(() => lines.encodeInto(record, Buffer.alloc(1000), 0, 1000)).toThrow(DataException);
    expect(() => lines.encodeInto(record, Buffer.alloc(1000), 0, 1000)).toThrow(/t-3@42.*circular/);
    expect(() => lines.line(record)).toThrow(/t-3@42.*circular/);
  });
});
