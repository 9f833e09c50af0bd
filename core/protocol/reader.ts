/**
 * Bounds-checked, big-endian reader of Kafka protocol primitives over one Buffer.
 *
 * Every read checks the bytes left before touching the buffer and throws a ProtocolError
 * ('TRUNCATED' or 'CORRUPT_MESSAGE'), never a RangeError. Lengths (strings, bytes, arrays,
 * tagged fields) are checked against the bytes left before anything is allocated, so a
 * hostile length costs nothing. Bytes and records are zero-copy `subarray`s of the input.
 *
 * Representations: int64/varlong are JS numbers (read as hi * 2^32 + lo, no BigInt; exact up
 * to 2^53, correctly rounded beyond). A UUID is the 22-character base64url string Kafka's
 * `Uuid.toString()` prints; the all-zero UUID (Kafka's ZERO_UUID) is `AAAAAAAAAAAAAAAAAAAAAA`.
 */
import { ProtocolError } from './errors.js';

/** Kafka's Uuid.ZERO_UUID in our string form. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

const TWO_POW_32 = 4294967296;

/** A tagged field the schema did not know: kept raw so it can be re-emitted. */
export interface RawTaggedField {
  readonly tag: number;
  readonly data: Buffer;
}

export class Reader {
  readonly buf: Buffer;
  pos: number;
  /** One past the last readable byte. */
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new ProtocolError(
        'INVALID_VALUE',
        `reader window [${offset}, ${end}) outside a ${buf.length}-byte buffer`,
      );
    }
    this.buf = buf;
    this.pos = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws TRUNCATED unless `n` more bytes can be read. */
  need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new ProtocolError('TRUNCATED', `${what} needs ${n} bytes, ${this.end - this.pos} remaining`);
    }
  }

  skip(n: number): this {
    this.need(n, 'skip');
    this.pos += n;
    return this;
  }

  /** A reader over the next `n` bytes; this reader moves past them. */
  sub(n: number, what = 'section'): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  int8(): number {
    this.need(1, 'int8');
    const v = this.buf[this.pos++]!;
    return (v << 24) >> 24;
  }

  uint8(): number {
    this.need(1, 'uint8');
    return this.buf[this.pos++]!;
  }

  bool(): boolean {
    return this.uint8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16;
  }

  uint16(): number {
    this.need(2, 'uint16');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  int32(): number {
    this.need(4, 'int32');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  int64(): number {
    this.need(8, 'int64');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 8;
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    return hi * TWO_POW_32 + lo;
  }

  float64(): number {
    this.need(8, 'float64');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned LEB128 of at most 5 bytes, as Kafka's ByteUtils.readUnsignedVarint (0 .. 2^32-1). */
  uvarint(): number {
    const b = this.buf;
    let p = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= this.end) throw new ProtocolError('TRUNCATED', 'varint runs past the end of the input');
      const byte = b[p++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.pos = p;
        return result >>> 0;
      }
    }
    throw new ProtocolError('CORRUPT_MESSAGE', 'varint is longer than 5 bytes');
  }

  /** Zigzag varint (int32). */
  varint(): number {
    const v = this.uvarint();
    return (v >>> 1) ^ -(v & 1);
  }

  /** Reads an unsigned LEB128 of at most 10 bytes into `this.hi`/`this.lo` (two uint32 words). */
  private varlong64(): void {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw new ProtocolError('TRUNCATED', 'varlong runs past the end of the input');
      const byte = b[p++]!;
      const bits = byte & 0x7f;
      const shift = i * 7;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if ((byte & 0x80) === 0) {
        this.pos = p;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new ProtocolError('CORRUPT_MESSAGE', 'varlong is longer than 10 bytes');
  }

  private hi = 0;
  private lo = 0;

  /** Unsigned LEB128 (up to 64 bits) as a JS number: exact up to 2^53, correctly rounded beyond. */
  uvarlong(): number {
    this.varlong64();
    return this.hi * TWO_POW_32 + this.lo;
  }

  /** Zigzag varlong (int64) as a JS number, computed on 32-bit words (no BigInt). */
  varlong(): number {
    this.varlong64();
    const { hi, lo } = this;
    const negative = lo & 1;
    let nlo = ((lo >>> 1) | (hi << 31)) >>> 0;
    let nhi = hi >>> 1;
    if (negative) {
      nlo = ~nlo >>> 0;
      nhi = ~nhi;
    }
    return (nhi | 0) * TWO_POW_32 + nlo;
  }

  /** 16 bytes as a 22-character base64url string. */
  uuid(): string {
    this.need(16, 'uuid');
    const s = this.buf.toString('base64url', this.pos, this.pos + 16);
    this.pos += 16;
    return s;
  }

  private utf8(len: number): string {
    if (len > this.end - this.pos) {
      throw new ProtocolError('TRUNCATED', `length ${len} exceeds remaining ${this.end - this.pos} bytes`);
    }
    const start = this.pos;
    this.pos = start + len;
    return len === 0 ? '' : this.buf.toString('utf8', start, start + len);
  }

  private slice(len: number): Buffer {
    if (len > this.end - this.pos) {
      throw new ProtocolError('TRUNCATED', `length ${len} exceeds remaining ${this.end - this.pos} bytes`);
    }
    const start = this.pos;
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** int16 length + UTF-8; null (-1) rejected. */
  string(): string {
    const len = this.int16();
    if (len < 0) throw new ProtocolError('CORRUPT_MESSAGE', `non-nullable string has length ${len}`);
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError('CORRUPT_MESSAGE', `string has length ${len}`);
    return this.utf8(len);
  }

  /** uvarint (length + 1) + UTF-8; null (0) rejected. */
  compactString(): string {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError('CORRUPT_MESSAGE', 'non-nullable compact string is null');
    return this.utf8(n - 1);
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1);
  }

  /** int32 length + bytes (zero-copy); null (-1) rejected. */
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new ProtocolError('CORRUPT_MESSAGE', `non-nullable bytes have length ${len}`);
    return this.slice(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new ProtocolError('CORRUPT_MESSAGE', `bytes have length ${len}`);
    return this.slice(len);
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError('CORRUPT_MESSAGE', 'non-nullable compact bytes are null');
    return this.slice(n - 1);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.slice(n - 1);
  }

  /**
   * Checks an element count against the bytes left (each element takes at least
   * `minElementBytes`, 1 unless the caller knows better) before any allocation.
   */
  checkCount(count: number, minElementBytes: number, what: string): void {
    const min = Math.max(minElementBytes, 1);
    if (count * min > this.end - this.pos) {
      const each = min > 1 ? ` (at least ${min} bytes each)` : '';
      throw new ProtocolError(
        'TRUNCATED',
        `${what} length ${count}${each} exceeds remaining ${this.end - this.pos} bytes`,
      );
    }
  }

  /** int32 element count; -1 (null) is returned as -1 and rejected unless `nullable`. */
  arrayLength(minElementBytes = 1, nullable = false): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new ProtocolError('CORRUPT_MESSAGE', `array has length ${n}`);
    }
    this.checkCount(n, minElementBytes, 'array');
    return n;
  }

  /** uvarint (count + 1); 0 (null) is returned as -1 and rejected unless `nullable`. */
  compactArrayLength(minElementBytes = 1, nullable = false): number {
    const n = this.uvarint();
    if (n === 0) {
      if (nullable) return -1;
      throw new ProtocolError('CORRUPT_MESSAGE', 'non-nullable compact array is null');
    }
    this.checkCount(n - 1, minElementBytes, 'array');
    return n - 1;
  }

  /** An int32-counted array. */
  array<T>(read: (r: Reader) => T, minElementBytes = 1): T[] {
    const n = this.arrayLength(minElementBytes);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }

  nullableArray<T>(read: (r: Reader) => T, minElementBytes = 1): T[] | null {
    const n = this.arrayLength(minElementBytes, true);
    if (n < 0) return null;
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }

  compactArray<T>(read: (r: Reader) => T, minElementBytes = 1): T[] {
    const n = this.compactArrayLength(minElementBytes);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }

  compactNullableArray<T>(read: (r: Reader) => T, minElementBytes = 1): T[] | null {
    const n = this.compactArrayLength(minElementBytes, true);
    if (n < 0) return null;
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }

  /**
   * A tagged-field section (KIP-482): uvarint count, then (uvarint tag, uvarint size, data).
   * `known(tag, r)` is handed a reader bounded to the field and returns true if it consumed
   * the tag; other tags are skipped and returned raw (undefined when there are none).
   */
  taggedFields(known?: (tag: number, r: Reader) => boolean): RawTaggedField[] | undefined {
    const count = this.uvarint();
    this.checkCount(count, 2, 'tagged fields');
    const unknown: RawTaggedField[] = [];
    let last = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= last) {
        throw new ProtocolError(
          'CORRUPT_MESSAGE',
          `tagged field ${tag} follows tag ${last}; tags must ascend`,
        );
      }
      last = tag;
      const size = this.uvarint();
      const r = this.sub(size, `tagged field ${tag}`);
      // Bytes a known field leaves unread are ignored: the section's size is authoritative.
      if (!known?.(tag, r)) unknown.push({ tag, data: r.buf.subarray(r.pos, r.end) });
    }
    return unknown.length > 0 ? unknown : undefined;
  }
}
