/**
 * Repartition bundles: the records a poll batch sends to one partition of a repartition topic
 * travel as one Kafka record (header `trib.bundle`), so that a repartition costs the client one
 * record per batch and partition instead of one per record. Each entry keeps its key, value,
 * timestamp and headers, and its origin (the input topic-partition, offset and fan-out index of the
 * record that produced it) for duplicate suppression after an upstream crash (Task.applied).
 * The partition is the default partitioner's (murmur2) of the entry's key, as the producer would
 * choose it, so repartitioned records stay co-partitioned with topics keyed the same way.
 *
 * Layout (big-endian): u32 origin count, then per origin u16 length + UTF-8 "topic\0partition";
 * u32 entry count, then per entry: u16 origin index, f64 offset, u32 fan-out index, f64 timestamp,
 * i32 key length (−1: null) + bytes, i32 value length (−1: null) + bytes, u16 header count and per
 * header u16 key length + key, i32 value length (−1: null) + value.
 */
import type { RecordHeader } from '../../core/client/types.js';
import { StreamsError } from '../errors.js';

export const BUNDLE_HEADER = 'trib.bundle';
/** A bundle is sent once it holds this many bytes (well under max.request.size). */
export const MAX_BUNDLE_BYTES = 256 * 1024;
const MAX_ORIGINS = 65_535;

/**
 * Called per entry of a bundle, positionally, so that reading a bundle allocates no entry object
 * nor a Buffer view per key and value: the key is buf[keyAt, keyAt + keyLength) (length −1: null),
 * the value likewise.
 */
export type BundleEntryFn = (
  buf: Buffer,
  keyAt: number,
  keyLength: number,
  valueAt: number,
  valueLength: number,
  timestamp: number,
  headers: RecordHeader[],
  /** `topic\0partition` of the input record this entry came from ('' for none). */
  origin: string,
  offset: number,
  index: number,
) => void;

const EMPTY_BODY = Buffer.alloc(0);

/**
 * Builds one bundle. Entries are encoded into a growing buffer as they are added (their bytes
 * copied at once, so the caller's Buffers and strings are garbage right away instead of living
 * until the bundle is sent); encode() puts the origin table in front.
 */
export class BundleBuilder {
  private readonly origins = new Map<string, number>();
  private body: Buffer = EMPTY_BODY;
  private pos = 0;
  private entries = 0;
  /** The encoded size so far. */
  sizeBytes = 8;

  get count(): number {
    return this.entries;
  }

  add(
    key: Buffer | string | null,
    value: Buffer | string | null,
    timestamp: number,
    headers: readonly RecordHeader[],
    origin: string,
    offset: number,
    index: number,
  ): void {
    let originIndex = this.origins.get(origin);
    if (originIndex === undefined) {
      if (this.origins.size >= MAX_ORIGINS)
        throw new StreamsError('STORE_LIMIT', 'too many origins in one bundle');
      originIndex = this.origins.size;
      this.origins.set(origin, originIndex);
      this.sizeBytes += 2 + Buffer.byteLength(origin);
    }
    let size = 2 + 8 + 4 + 8 + 4 + byteSize(key) + 4 + byteSize(value) + 2;
    for (const h of headers) size += 2 + Buffer.byteLength(h.key) + 4 + (h.value?.length ?? 0);
    this.ensure(size);
    const buf = this.body;
    let o = buf.writeUInt16BE(originIndex, this.pos);
    o = buf.writeDoubleBE(offset, o);
    o = buf.writeUInt32BE(index, o);
    o = buf.writeDoubleBE(timestamp, o);
    o = writeBytes(buf, o, key);
    o = writeBytes(buf, o, value);
    o = buf.writeUInt16BE(headers.length, o);
    for (const h of headers) {
      const len = buf.write(h.key, o + 2, 'utf8');
      buf.writeUInt16BE(len, o);
      o = writeBytes(buf, o + 2 + len, h.value);
    }
    this.pos = o;
    this.sizeBytes += size;
    this.entries++;
  }

  private ensure(more: number): void {
    const need = this.pos + more;
    if (need <= this.body.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.body.length * 2, 16 * 1024));
    this.body.copy(grown, 0, 0, this.pos);
    this.body = grown;
  }

  encode(): Buffer {
    let head = 8;
    for (const origin of this.origins.keys()) head += 2 + Buffer.byteLength(origin);
    const buf = Buffer.allocUnsafe(head + this.pos);
    let o = buf.writeUInt32BE(this.origins.size, 0);
    for (const origin of this.origins.keys()) {
      const len = buf.write(origin, o + 2, 'utf8');
      buf.writeUInt16BE(len, o);
      o += 2 + len;
    }
    o = buf.writeUInt32BE(this.entries, o);
    this.body.copy(buf, o, 0, this.pos);
    return buf.subarray(0, o + this.pos);
  }
}

function byteSize(b: Buffer | string | null): number {
  if (b === null) return 0;
  return typeof b === 'string' ? Buffer.byteLength(b) : b.length;
}

function writeBytes(buf: Buffer, o: number, b: Buffer | string | null): number {
  if (b === null) return buf.writeInt32BE(-1, o);
  if (typeof b === 'string') {
    const len = buf.write(b, o + 4, 'utf8');
    buf.writeInt32BE(len, o);
    return o + 4 + len;
  }
  o = buf.writeInt32BE(b.length, o);
  b.copy(buf, o);
  return o + b.length;
}

/** Calls `fn` for each entry of a bundle, in order. */
export function forEachEntry(buf: Buffer, fn: BundleEntryFn): void {
  let o = 0;
  const originCount = buf.readUInt32BE(o);
  o += 4;
  const origins: string[] = [];
  for (let i = 0; i < originCount; i++) {
    const len = buf.readUInt16BE(o);
    origins.push(buf.toString('utf8', o + 2, o + 2 + len));
    o += 2 + len;
  }
  const count = buf.readUInt32BE(o);
  o += 4;
  for (let i = 0; i < count; i++) {
    const origin = origins[buf.readUInt16BE(o)] ?? '';
    const offset = buf.readDoubleBE(o + 2);
    const index = buf.readUInt32BE(o + 10);
    const timestamp = buf.readDoubleBE(o + 14);
    o += 22;
    const keyLength = buf.readInt32BE(o);
    const keyAt = o + 4;
    o = keyAt + Math.max(0, keyLength);
    const valueLength = buf.readInt32BE(o);
    const valueAt = o + 4;
    o = valueAt + Math.max(0, valueLength);
    const headerCount = buf.readUInt16BE(o);
    o += 2;
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const len = buf.readUInt16BE(o);
      const hk = buf.toString('utf8', o + 2, o + 2 + len);
      o += 2 + len;
      const vl = buf.readInt32BE(o);
      o += 4;
      headers.push({ key: hk, value: vl < 0 ? null : buf.subarray(o, o + vl) });
      o += Math.max(0, vl);
    }
    fn(buf, keyAt, keyLength, valueAt, valueLength, timestamp, headers, origin, offset, index);
  }
}
