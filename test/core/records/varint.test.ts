import { describe, expect, it } from 'vitest';
import {
  CorruptRecordError,
  type Cursor,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  unsignedVarintSize,
  varintSize,
  varlongSize,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from '../../../core/records/index.js';
import { mulberry32 } from './helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

// Zigzag encodings as Kafka's ByteUtils (and protobuf sint32/sint64) produce them.
const VARINTS: [number, string][] = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [-2, '03'],
  [63, '7e'],
  [-64, '7f'],
  [64, '80 01'],
  [-65, '81 01'],
  [300, 'd8 04'],
  [8191, 'fe 7f'],
  [8192, '80 80 01'],
  [2147483647, 'fe ff ff ff 0f'],
  [-2147483648, 'ff ff ff ff 0f'],
];

const VARLONGS: [number, string][] = [
  ...VARINTS,
  [2147483648, '80 80 80 80 10'],
  [-2147483649, '81 80 80 80 10'],
  [1700000000000, '80 a0 ab fe f9 62'],
  [2 ** 53, '80 80 80 80 80 80 80 20'],
  [-(2 ** 53), 'ff ff ff ff ff ff ff 1f'],
  [Number.MAX_SAFE_INTEGER, 'fe ff ff ff ff ff ff 1f'],
  [Number.MIN_SAFE_INTEGER, 'fd ff ff ff ff ff ff 1f'],
];

describe('varint (zigzag int32)', () => {
  it.each(VARINTS)('%d encodes as %s', (value, encoded) => {
    const expected = hex(encoded);
    const buf = Buffer.alloc(8);
    expect(writeVarint(buf, 1, value)).toBe(1 + expected.length);
    expect(buf.subarray(1, 1 + expected.length)).toEqual(expected);
    expect(varintSize(value)).toBe(expected.length);
    const c: Cursor = { pos: 1 };
    expect(readVarint(buf, c)).toBe(value);
    expect(c.pos).toBe(1 + expected.length);
  });

  it('round-trips seeded random int32 values', () => {
    const rand = mulberry32(7);
    const buf = Buffer.alloc(5);
    for (let i = 0; i < 20000; i++) {
      const value = Math.floor(rand() * 2 ** 32) - 2 ** 31;
      const end = writeVarint(buf, 0, value);
      expect(end).toBe(varintSize(value));
      const c = { pos: 0 };
      expect(readVarint(buf, c)).toBe(value);
      expect(c.pos).toBe(end);
    }
  });

  it('rejects a sixth continuation byte and a read past the end', () => {
    expect(() => readVarint(hex('ff ff ff ff ff 01'), { pos: 0 })).toThrow(CorruptRecordError);
    const err = (() => {
      try {
        readVarint(hex('80 80'), { pos: 0 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CorruptRecordError);
    expect((err as CorruptRecordError).code).toBe('TRUNCATED');
    expect(() => readVarint(Buffer.alloc(0), { pos: 0 })).toThrow(CorruptRecordError);
  });
});

/** Zigzag varlong with BigInt arithmetic: the reference. */
function referenceVarlong(value: number): Buffer {
  let z = ((BigInt(value) << 1n) ^ (BigInt(value) >> 63n)) & ((1n << 64n) - 1n);
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

describe('varlong (zigzag int64 as a JS number)', () => {
  it.each(VARLONGS)('%d encodes as %s', (value, encoded) => {
    const expected = hex(encoded);
    const buf = Buffer.alloc(12);
    expect(writeVarlong(buf, 0, value)).toBe(expected.length);
    expect(buf.subarray(0, expected.length)).toEqual(expected);
    expect(varlongSize(value)).toBe(expected.length);
    const c = { pos: 0 };
    expect(readVarlong(buf, c)).toBe(value);
    expect(c.pos).toBe(expected.length);
  });

  it('matches a BigInt reference byte for byte and round-trips, for every magnitude', () => {
    const rand = mulberry32(11);
    const buf = Buffer.alloc(10);
    for (let i = 0; i < 20000; i++) {
      const magnitude = 2 ** Math.floor(rand() * 54);
      const value = Math.floor((rand() * 2 - 1) * magnitude);
      const end = writeVarlong(buf, 0, value);
      expect(buf.subarray(0, end)).toEqual(referenceVarlong(value));
      expect(end).toBe(varlongSize(value));
      const c = { pos: 0 };
      expect(readVarlong(buf, c)).toBe(value);
      expect(c.pos).toBe(end);
    }
  });

  it('reads ten-byte encodings (Java Long.MIN_VALUE) without crashing', () => {
    const c = { pos: 0 };
    expect(readVarlong(hex('ff ff ff ff ff ff ff ff ff 01'), c)).toBe(-(2 ** 63));
    expect(c.pos).toBe(10);
    expect(() => readVarlong(hex('ff ff ff ff ff ff ff ff ff ff 01'), { pos: 0 })).toThrow(
      CorruptRecordError,
    );
  });
});

describe('unsigned varint', () => {
  it.each([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '80 01'],
    [16383, 'ff 7f'],
    [16384, '80 80 01'],
    [2 ** 28 - 1, 'ff ff ff 7f'],
    [2 ** 28, '80 80 80 80 01'],
    [2 ** 32 - 1, 'ff ff ff ff 0f'],
  ])('%d encodes as %s', (value, encoded) => {
    const expected = hex(encoded);
    const buf = Buffer.alloc(5);
    expect(writeUnsignedVarint(buf, 0, value)).toBe(expected.length);
    expect(buf.subarray(0, expected.length)).toEqual(expected);
    expect(unsignedVarintSize(value)).toBe(expected.length);
    expect(readUnsignedVarint(buf, { pos: 0 })).toBe(value);
  });
});
