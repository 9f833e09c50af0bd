/**
 * Variable-length integers of the Kafka protocol: little-endian groups of 7 bits, the high
 * bit of each byte set when more bytes follow (protobuf encoding).
 *
 *   unsigned varint  uint32, 1–5 bytes (compact lengths, tagged fields)
 *   varint           zigzag int32 ((n << 1) ^ (n >> 31)), 1–5 bytes (record lengths, deltas)
 *   varlong          zigzag int64, 1–10 bytes; a JS number here, exact within ±2^53
 *
 * Readers take a Cursor, read at cursor.pos and advance it (no allocation per read);
 * writers take a position and return the position after the value. Writers do not check
 * capacity: size the buffer with the *Size functions first.
 */
import { CorruptRecordError } from './errors.js';

/** A read position, advanced by the readers. Reuse one per decode loop. */
export interface Cursor {
  pos: number;
}

const TWO_POW_28 = 0x10000000;
const TWO_POW_32 = 4294967296;

function pastEnd(pos: number): CorruptRecordError {
  return new CorruptRecordError('TRUNCATED', `varint runs past the end of the buffer at position ${pos}`);
}

function tooLong(pos: number, max: number): CorruptRecordError {
  return new CorruptRecordError('INVALID_RECORD', `varint at position ${pos} is longer than ${max} bytes`);
}

export function unsignedVarintSize(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < TWO_POW_28) return 4;
  return 5;
}

export function writeUnsignedVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function readUnsignedVarint(buf: Uint8Array, cursor: Cursor): number {
  let pos = cursor.pos;
  const start = pos;
  const len = buf.length;
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= len) throw pastEnd(start);
    const b = buf[pos++]!;
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.pos = pos;
      return result >>> 0;
    }
  }
  throw tooLong(start, 5);
}

export function varintSize(value: number): number {
  return unsignedVarintSize((value << 1) ^ (value >> 31));
}

export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  return writeUnsignedVarint(buf, pos, (value << 1) ^ (value >> 31));
}

export function readVarint(buf: Uint8Array, cursor: Cursor): number {
  const pos = cursor.pos;
  if (pos < buf.length) {
    const b = buf[pos]!;
    if (b < 0x80) {
      cursor.pos = pos + 1;
      return (b >>> 1) ^ -(b & 1);
    }
  }
  const u = readUnsignedVarint(buf, cursor);
  return (u >>> 1) ^ -(u & 1);
}

/**
 * Zigzag of a safe integer as two uint32 halves (zigzagHi, zigzagLo), exact where doubles are
 * not: zigzag(-2^53) = 2^54 - 1.
 */
let zigzagHi = 0;
let zigzagLo = 0;
function zigzag64(value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  const lo = value - hi * TWO_POW_32;
  const sign = hi >> 31;
  zigzagHi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  zigzagLo = ((lo << 1) ^ sign) >>> 0;
}

export function varlongSize(value: number): number {
  if ((value | 0) === value) return varintSize(value);
  zigzag64(value);
  if (zigzagHi === 0) return unsignedVarintSize(zigzagLo);
  return Math.ceil((64 - Math.clz32(zigzagHi)) / 7);
}

export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if ((value | 0) === value) return writeVarint(buf, pos, value);
  zigzag64(value);
  let hi = zigzagHi;
  let lo = zigzagLo;
  while (hi !== 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

export function readVarlong(buf: Uint8Array, cursor: Cursor): number {
  let pos = cursor.pos;
  const start = pos;
  const len = buf.length;
  // Up to 4 bytes (28 bits) in int32 arithmetic: timestamp and offset deltas live here.
  let lo = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) throw pastEnd(start);
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.pos = pos;
      return (lo >>> 1) ^ -(lo & 1);
    }
  }
  // Bytes 5-10 into 64 bits as (hi, lo): byte 5 straddles the halves.
  if (pos >= len) throw pastEnd(start);
  b = buf[pos++]!;
  lo = (lo | ((b & 0x7f) << 28)) >>> 0;
  let hi = (b & 0x7f) >>> 4;
  for (let shift = 3; b >= 0x80; shift += 7) {
    if (shift > 31) throw tooLong(start, 10);
    if (pos >= len) throw pastEnd(start);
    b = buf[pos++]!;
    hi |= (b & 0x7f) << shift;
  }
  cursor.pos = pos;
  const negative = lo & 1;
  const valueLo = ((lo >>> 1) | (hi << 31)) >>> 0;
  const valueHi = hi >>> 1;
  return negative ? ~valueHi * TWO_POW_32 + (~valueLo >>> 0) : valueHi * TWO_POW_32 + valueLo;
}
