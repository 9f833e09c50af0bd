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

export interface BundleEntry {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: readonly RecordHeader[];
  /** `topic\0partition` of the input record this entry came from ('' for none). */
  origin: string;
  offset: number;
  index: number;
}

export class BundleBuilder {
  private readonly origins = new Map<string, number>();
  private readonly entries: BundleEntry[] = [];
  sizeBytes = 8;

  get count(): number {
    return this.entries.length;
  }

  add(e: BundleEntry): void {
    if (!this.origins.has(e.origin)) {
      if (this.origins.size >= MAX_ORIGINS)
        throw new StreamsError('STORE_LIMIT', 'too many origins in one bundle');
      this.origins.set(e.origin, this.origins.size);
      this.sizeBytes += 2 + Buffer.byteLength(e.origin);
    }
    let size = 2 + 8 + 4 + 8 + 4 + (e.key?.length ?? 0) + 4 + (e.value?.length ?? 0) + 2;
    for (const h of e.headers) size += 2 + Buffer.byteLength(h.key) + 4 + (h.value?.length ?? 0);
    this.sizeBytes += size;
    this.entries.push(e);
  }

  encode(): Buffer {
    const buf = Buffer.allocUnsafe(this.sizeBytes);
    let o = buf.writeUInt32BE(this.origins.size, 0);
    for (const origin of this.origins.keys()) {
      const len = buf.write(origin, o + 2, 'utf8');
      buf.writeUInt16BE(len, o);
      o += 2 + len;
    }
    o = buf.writeUInt32BE(this.entries.length, o);
    for (const e of this.entries) {
      o = buf.writeUInt16BE(this.origins.get(e.origin)!, o);
      o = buf.writeDoubleBE(e.offset, o);
      o = buf.writeUInt32BE(e.index, o);
      o = buf.writeDoubleBE(e.timestamp, o);
      o = writeBytes(buf, o, e.key);
      o = writeBytes(buf, o, e.value);
      o = buf.writeUInt16BE(e.headers.length, o);
      for (const h of e.headers) {
        const len = buf.write(h.key, o + 2, 'utf8');
        buf.writeUInt16BE(len, o);
        o = writeBytes(buf, o + 2 + len, h.value);
      }
    }
    return buf.subarray(0, o);
  }
}

function writeBytes(buf: Buffer, o: number, b: Buffer | null): number {
  if (b === null) return buf.writeInt32BE(-1, o);
  o = buf.writeInt32BE(b.length, o);
  b.copy(buf, o);
  return o + b.length;
}

/** Calls `fn` for each entry of a bundle, in order. */
export function forEachEntry(buf: Buffer, fn: (e: BundleEntry) => void): void {
  let o = 0;
  const bytes = (): Buffer | null => {
    const len = buf.readInt32BE(o);
    o += 4;
    if (len < 0) return null;
    const b = buf.subarray(o, o + len);
    o += len;
    return b;
  };
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
    const key = bytes();
    const value = bytes();
    const headerCount = buf.readUInt16BE(o);
    o += 2;
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const len = buf.readUInt16BE(o);
      const hk = buf.toString('utf8', o + 2, o + 2 + len);
      o += 2 + len;
      headers.push({ key: hk, value: bytes() });
    }
    fn({ key, value, timestamp, headers, origin, offset, index });
  }
}
