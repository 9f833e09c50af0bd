/**
 * Encoding of record batch v2 (layout in batch-header.ts, records in record.ts).
 * Uncompressed: record sizes first, then one exactly sized Buffer written in place.
 * Compressed: records into a reused scratch buffer, compressed, then copied once behind
 * the header.
 */
import {
  CONTROL_FLAG,
  HEADER_SIZE,
  TIMESTAMP_TYPE_FLAG,
  TRANSACTIONAL_FLAG,
  writeBatchHeader,
} from './batch-header.js';
import { compressWithHeadroom, isCompression } from './compression.js';
import { type RecordInput, recordBodySize, writeRecord } from './record.js';
import { varintSize } from './varint.js';

export interface BatchOptions {
  /** Offset of the first record (the broker rewrites it on append). Default 0. */
  baseOffset?: number;
  /** Default -1 (the broker stamps it). */
  partitionLeaderEpoch?: number;
  /** Codec id, see Compression. Default 0 (none). */
  compression?: number;
  /** 0 CreateTime (default), 1 LogAppendTime. */
  timestampType?: 0 | 1;
  /** Idempotent/transactional producer id; default -1. */
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  /** Timestamp for records without one; default Date.now() at encoding. */
  now?: number;
  /** gzip or zstd level; the codec's default when absent. */
  compressionLevel?: number;
}

/** attributes int16 for the options. */
export function batchAttributesFor(opts: BatchOptions): number {
  const codec = opts.compression ?? 0;
  if (!isCompression(codec)) throw new RangeError(`unknown compression codec id ${codec}`);
  return (
    codec |
    (opts.timestampType === 1 ? TIMESTAMP_TYPE_FLAG : 0) |
    (opts.transactional ? TRANSACTIONAL_FLAG : 0) |
    (opts.control ? CONTROL_FLAG : 0)
  );
}

/** Writes header and CRC around records already at buf[HEADER_SIZE, buf.length). */
export function finishBatch(
  buf: Buffer,
  opts: BatchOptions,
  attributes: number,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
): Buffer {
  writeBatchHeader(buf, 0, buf.length, {
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
    attributes,
    lastOffsetDelta: count > 0 ? count - 1 : 0,
    baseTimestamp,
    maxTimestamp,
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.producerEpoch ?? -1,
    baseSequence: opts.baseSequence ?? -1,
    recordCount: count,
  });
  return buf;
}

/** Compresses records in `data` and lays them out behind a (not yet written) header. */
export function compressedBody(codec: number, data: Buffer, level: number | undefined): Buffer {
  return compressWithHeadroom(codec, data, level, HEADER_SIZE);
}

let sizes = new Int32Array(1024);
let scratch = Buffer.allocUnsafe(64 * 1024);
/** Scratch kept between calls up to this size; larger batches get a one-off buffer. */
const MAX_RETAINED_SCRATCH = 4 * 1024 * 1024;

function scratchOf(size: number): Buffer {
  if (size <= scratch.length) return scratch;
  const buf = Buffer.allocUnsafe(Math.max(size, scratch.length * 2));
  if (buf.length <= MAX_RETAINED_SCRATCH) scratch = buf;
  return buf;
}

/**
 * Encodes records as one batch. Offset deltas are 0..n-1; baseTimestamp is the first
 * record's timestamp (later deltas may be negative), maxTimestamp the largest. An empty
 * list gives a batch of 0 records with timestamps -1.
 */
export function encodeBatch(records: readonly RecordInput[], opts: BatchOptions = {}): Buffer {
  const attributes = batchAttributesFor(opts);
  const codec = attributes & 7;
  const n = records.length;
  const now = opts.now ?? Date.now();
  if (sizes.length < n) sizes = new Int32Array(Math.max(n, sizes.length * 2));

  const baseTimestamp = n === 0 ? -1 : (records[0]!.timestamp ?? now);
  let maxTimestamp = baseTimestamp;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const rec = records[i]!;
    const timestamp = rec.timestamp ?? now;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const body = recordBodySize(rec, timestamp - baseTimestamp, i);
    sizes[i] = body;
    total += varintSize(body) + body;
  }

  const start = codec === 0 ? HEADER_SIZE : 0;
  const target = codec === 0 ? Buffer.allocUnsafe(HEADER_SIZE + total) : scratchOf(total);
  let pos = start;
  for (let i = 0; i < n; i++) {
    const rec = records[i]!;
    const timestamp = rec.timestamp ?? now;
    pos = writeRecord(target, pos, rec, timestamp - baseTimestamp, i, sizes[i]!);
  }
  const buf = codec === 0 ? target : compressedBody(codec, target.subarray(0, total), opts.compressionLevel);
  return finishBatch(buf, opts, attributes, n, baseTimestamp, maxTimestamp);
}
