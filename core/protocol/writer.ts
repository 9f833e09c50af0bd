/**
 * Big-endian writer of Kafka protocol primitives that produces a list of Buffer chunks.
 *
 * Memory strategy:
 * - Small messages are written into a shared 64 KiB slab (the idea of Node's Buffer pool): a
 *   writer leases the slab's free tail, and on `toChunks()`/`toBuffer()` returns what it did
 *   not use. The slab never rewinds, so finished output is never overwritten; a new slab is
 *   allocated when the old one is nearly full. A writer that finds the slab leased (nested
 *   encoders) allocates its own segment.
 * - Growing never copies: the filled part of the segment becomes a chunk and writing goes on in
 *   a new, larger segment. `raw()` appends large Buffers (records) as chunks of their own,
 *   without copying them. `toChunks()` is zero-copy (for socket.cork()/writev); `toBuffer()`
 *   copies once, and only when there is more than one chunk.
 * - Size prefixes are reserved and patched later (`reserveInt32()` / `patchInt32()`).
 *
 * int64 values are JS numbers: safe integers are written exactly without BigInt; beyond 2^53
 * the value is clamped to the int64 range.
 */
import { ProtocolError } from './errors.js';
import type { RawTaggedField } from './reader.js';

const TWO_POW_32 = 4294967296;
const SLAB_SIZE = 64 * 1024;
/** A writer leases the slab only if at least this much of it is free. */
const SLAB_MIN_FREE = 2 * 1024;
const MIN_SEGMENT = 4 * 1024;
const MAX_SEGMENT = 1024 * 1024;
/** `raw()` buffers at least this large are appended as chunks instead of being copied. */
export const ZERO_COPY_THRESHOLD = 4 * 1024;

let slab = Buffer.allocUnsafe(SLAB_SIZE);
let slabOffset = 0;
let slabLeased = false;

/** A reserved position, to be filled in once the bytes after it are written. */
export interface Reservation {
  readonly buf: Buffer;
  readonly offset: number;
  /** The logical position of the reservation in the writer's output. */
  readonly position: number;
}

export class Writer {
  private chunks: Buffer[] = [];
  private buf: Buffer;
  /** Start of the not-yet-flushed part of `buf`. */
  private start: number;
  private pos: number;
  private flushed = 0;
  private leasedSlab: boolean;
  private finished = false;

  constructor(initialSize = MIN_SEGMENT) {
    if (!slabLeased && SLAB_SIZE - slabOffset >= Math.max(SLAB_MIN_FREE, initialSize)) {
      slabLeased = true;
      this.leasedSlab = true;
      this.buf = slab;
      this.start = slabOffset;
    } else {
      this.leasedSlab = false;
      this.buf = Buffer.allocUnsafe(Math.max(initialSize, 64));
      this.start = 0;
    }
    this.pos = this.start;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushed + (this.pos - this.start);
  }

  private releaseSlab(): void {
    if (!this.leasedSlab) return;
    this.leasedSlab = false;
    slabLeased = false;
    slabOffset = (this.pos + 7) & ~7;
    if (SLAB_SIZE - slabOffset < SLAB_MIN_FREE) {
      slab = Buffer.allocUnsafe(SLAB_SIZE);
      slabOffset = 0;
    }
  }

  private flushSegment(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.buf.subarray(this.start, this.pos));
      this.flushed += this.pos - this.start;
    }
    this.start = this.pos;
  }

  /** Makes room for `n` more contiguous bytes. */
  private ensure(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    if (this.finished) throw new ProtocolError('INVALID_VALUE', 'writer already finished');
    this.flushSegment();
    const size = Math.max(n, Math.min(MAX_SEGMENT, Math.max(MIN_SEGMENT, this.length)));
    if (this.leasedSlab) {
      // The slab keeps what was written; its tail goes back to the pool.
      this.releaseSlab();
    }
    this.buf = Buffer.allocUnsafe(size);
    this.start = 0;
    this.pos = 0;
  }

  /** The output as chunks, without copying. The writer cannot be used afterwards. */
  toChunks(): Buffer[] {
    if (!this.finished) {
      this.flushSegment();
      this.releaseSlab();
      this.finished = true;
      this.buf = Buffer.alloc(0);
      this.start = this.pos = 0;
    }
    return this.chunks;
  }

  /** The output as one Buffer: no copy when it is one chunk, one copy otherwise. */
  toBuffer(): Buffer {
    const chunks = this.toChunks();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, this.flushed);
  }

  /** Gives the slab back after a failed encode. */
  abandon(): void {
    this.releaseSlab();
    this.finished = true;
    this.buf = Buffer.alloc(0);
    this.start = this.pos = 0;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 8) & 0xff;
    b[p + 1] = v & 0xff;
    this.pos = p + 2;
    return this;
  }

  uint16(v: number): this {
    return this.int16(v);
  }

  int32(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
    return this;
  }

  uint32(v: number): this {
    return this.int32(v);
  }

  int64(v: number): this {
    this.ensure(8);
    if (Number.isSafeInteger(v)) {
      const hi = Math.floor(v / TWO_POW_32);
      const lo = v - hi * TWO_POW_32;
      const b = this.buf;
      const p = this.pos;
      b[p] = (hi >>> 24) & 0xff;
      b[p + 1] = (hi >>> 16) & 0xff;
      b[p + 2] = (hi >>> 8) & 0xff;
      b[p + 3] = hi & 0xff;
      b[p + 4] = (lo >>> 24) & 0xff;
      b[p + 5] = (lo >>> 16) & 0xff;
      b[p + 6] = (lo >>> 8) & 0xff;
      b[p + 7] = lo & 0xff;
    } else {
      if (Number.isNaN(v)) throw new ProtocolError('INVALID_VALUE', 'int64 is NaN');
      const big = v >= 2 ** 63 ? 2n ** 63n - 1n : v <= -(2 ** 63) ? -(2n ** 63n) : BigInt(Math.trunc(v));
      this.buf.writeBigInt64BE(big, this.pos);
    }
    this.pos += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** Unsigned LEB128 of a uint32. */
  uvarint(v: number): this {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    let x = v >>> 0;
    while (x >= 0x80) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p++] = x;
    this.pos = p;
    return this;
  }

  /** Zigzag varint (int32). */
  varint(v: number): this {
    return this.uvarint((v << 1) ^ (v >> 31));
  }

  /** Unsigned LEB128 of a 64-bit value given as two uint32 words. */
  private leb128(hi: number, lo: number): this {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    let h = hi >>> 0;
    let l = lo >>> 0;
    while (h !== 0 || l >= 0x80) {
      b[p++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    b[p++] = l;
    this.pos = p;
    return this;
  }

  /** Splits an integral JS number into int64 words (clamped to the int64 range). */
  private static words(v: number): [hi: number, lo: number] {
    if (Number.isSafeInteger(v)) {
      const hi = Math.floor(v / TWO_POW_32);
      return [hi | 0, v - hi * TWO_POW_32];
    }
    if (Number.isNaN(v)) throw new ProtocolError('INVALID_VALUE', 'int64 is NaN');
    const big = v >= 2 ** 63 ? 2n ** 63n - 1n : v <= -(2 ** 63) ? -(2n ** 63n) : BigInt(Math.trunc(v));
    return [Number(BigInt.asIntN(32, big >> 32n)), Number(BigInt.asUintN(32, big))];
  }

  /** Unsigned LEB128 of a non-negative integral JS number (below 2^64). */
  uvarlong(v: number): this {
    if (v < 0) throw new ProtocolError('INVALID_VALUE', `unsigned varlong ${v} is negative`);
    const [hi, lo] = v >= 2 ** 63 ? [Math.floor(v / TWO_POW_32) >>> 0, 0] : Writer.words(v);
    return this.leb128(hi, lo);
  }

  /** Zigzag varlong (int64) of a JS number, computed on 32-bit words (no BigInt). */
  varlong(v: number): this {
    const [hi, lo] = Writer.words(v);
    const sign = hi >> 31;
    const zhi = ((hi << 1) | (lo >>> 31)) ^ sign;
    const zlo = (lo << 1) ^ sign;
    return this.leb128(zhi >>> 0, zlo >>> 0);
  }

  /** A 22-character base64url UUID (see reader.ts). */
  uuid(v: string): this {
    if (v.length !== 22)
      throw new ProtocolError('INVALID_VALUE', `uuid ${JSON.stringify(v)} is not 22 base64url chars`);
    this.ensure(16);
    const n = this.buf.write(v, this.pos, 16, 'base64url');
    if (n !== 16) throw new ProtocolError('INVALID_VALUE', `uuid ${JSON.stringify(v)} is not 16 bytes`);
    this.pos += 16;
    return this;
  }

  /** int16 length + UTF-8. */
  string(v: string): this {
    const max = v.length * 3;
    this.ensure(2 + max);
    const n = max === 0 ? 0 : this.buf.write(v, this.pos + 2, 'utf8');
    if (n > 0x7fff) throw new ProtocolError('INVALID_VALUE', `string of ${n} bytes exceeds 32767`);
    this.int16(n);
    this.pos += n;
    return this;
  }

  nullableString(v: string | null): this {
    return v === null ? this.int16(-1) : this.string(v);
  }

  /** uvarint (length + 1) + UTF-8. */
  compactString(v: string): this {
    const max = v.length * 3;
    if (max < 0x7f) {
      // The length fits one varint byte whatever the encoding turns out to be.
      this.ensure(1 + max);
      const n = max === 0 ? 0 : this.buf.write(v, this.pos + 1, 'utf8');
      this.buf[this.pos] = n + 1;
      this.pos += 1 + n;
      return this;
    }
    const n = Buffer.byteLength(v, 'utf8');
    this.uvarint(n + 1);
    this.ensure(n);
    this.buf.write(v, this.pos, 'utf8');
    this.pos += n;
    return this;
  }

  compactNullableString(v: string | null): this {
    return v === null ? this.uvarint(0) : this.compactString(v);
  }

  /** int32 length + bytes. */
  bytes(v: Buffer): this {
    return this.int32(v.length).raw(v);
  }

  nullableBytes(v: Buffer | null): this {
    return v === null ? this.int32(-1) : this.bytes(v);
  }

  compactBytes(v: Buffer): this {
    return this.uvarint(v.length + 1).raw(v);
  }

  compactNullableBytes(v: Buffer | null): this {
    return v === null ? this.uvarint(0) : this.compactBytes(v);
  }

  /** Appends bytes as they are: copied when small, as a chunk of their own when large. */
  raw(v: Uint8Array): this {
    const n = v.length;
    if (n >= ZERO_COPY_THRESHOLD) {
      if (this.finished) throw new ProtocolError('INVALID_VALUE', 'writer already finished');
      this.flushSegment();
      this.chunks.push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, n));
      this.flushed += n;
      return this;
    }
    this.ensure(n);
    this.buf.set(v, this.pos);
    this.pos += n;
    return this;
  }

  /** Appends another (unfinished) writer's output, finishing it. */
  append(other: Writer): this {
    for (const chunk of other.toChunks()) this.raw(chunk);
    return this;
  }

  arrayLength(n: number): this {
    return this.int32(n);
  }

  compactArrayLength(n: number): this {
    return this.uvarint(n + 1);
  }

  array<T>(items: readonly T[], write: (w: Writer, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null, write: (w: Writer, item: T) => void): this {
    return items === null ? this.int32(-1) : this.array(items, write);
  }

  compactArray<T>(items: readonly T[], write: (w: Writer, item: T) => void): this {
    this.uvarint(items.length + 1);
    for (const item of items) write(this, item);
    return this;
  }

  compactNullableArray<T>(items: readonly T[] | null, write: (w: Writer, item: T) => void): this {
    return items === null ? this.uvarint(0) : this.compactArray(items, write);
  }

  /** A tagged-field section from raw fields (sorted here by tag). Empty: one zero byte. */
  taggedFields(fields: readonly RawTaggedField[] = []): this {
    const sorted = fields.length > 1 ? [...fields].sort((a, b) => a.tag - b.tag) : fields;
    this.uvarint(sorted.length);
    for (const f of sorted) this.uvarint(f.tag).uvarint(f.data.length).raw(f.data);
    return this;
  }

  /** Reserves an int32 (a size prefix) to be patched by `patchInt32`. */
  reserveInt32(): Reservation {
    this.ensure(4);
    const r = { buf: this.buf, offset: this.pos, position: this.length };
    this.pos += 4;
    return r;
  }

  patchInt32(r: Reservation, v: number): this {
    r.buf.writeInt32BE(v | 0, r.offset);
    return this;
  }
}
