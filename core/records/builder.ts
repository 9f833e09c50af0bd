/**
 * Incremental batch encoder for producers (linger.ms / batch.size batching). Each append
 * encodes its record at once into a growable scratch buffer laid out as a batch (header
 * space, then records); build() copies it once into an exact Buffer (or compresses it) and
 * writes the header and CRC. Not shared between async tasks: one builder per open batch.
 */
import { HEADER_SIZE } from './batch-header.js';
import { compressAsync } from './compression.js';
import { type BatchOptions, batchAttributesFor, compressedBody, finishBatch } from './encode.js';
import {
  maxRecordSize,
  recordBodySize,
  type TextRecordInput,
  writeRecord,
  writeRecordUnsized,
} from './record.js';
import { varintSize } from './varint.js';

export class BatchBuilder {
  private opts: BatchOptions;
  private attributes: number;
  private buf: Buffer;
  private pos = HEADER_SIZE;
  private count = 0;
  private baseTimestamp = -1;
  private maxTimestamp = -1;
  /** What undoAppend() restores: the end and max timestamp before the last append. */
  private undoPos = -1;
  private undoMaxTimestamp = -1;

  constructor(opts: BatchOptions = {}, initialCapacityBytes = 16 * 1024) {
    this.opts = opts;
    this.attributes = batchAttributesFor(opts);
    this.buf = Buffer.allocUnsafe(Math.max(HEADER_SIZE + 64, initialCapacityBytes));
  }

  /** Records appended so far; the next one gets this offset delta. */
  get recordCount(): number {
    return this.count;
  }

  /** Bytes of scratch memory the builder holds (it grows for records larger than it). */
  get capacityBytes(): number {
    return this.buf.length;
  }

  /** Size of the batch built now, before compression. */
  get sizeInBytes(): number {
    return this.pos;
  }

  /** True when the batch has reached `maxBytes` (before compression). */
  isFull(maxBytes: number): boolean {
    return this.pos >= maxBytes;
  }

  /** Bytes `record` would add to this batch. */
  recordSizeInBytes(record: TextRecordInput): number {
    const body = this.recordBodySizeOf(record);
    return varintSize(body) + body;
  }

  /** Bytes of `record` after its length prefix, appended next: what append() may be given. */
  recordBodySizeOf(record: TextRecordInput): number {
    return recordBodySize(record, this.timestampDelta(this.timestampOf(record)), this.count);
  }

  /** Whether `record` fits within `maxBytes`; the first record always fits, as in Kafka. */
  hasRoomFor(record: TextRecordInput, maxBytes: number): boolean {
    return this.count === 0 || this.pos + this.recordSizeInBytes(record) <= maxBytes;
  }

  /**
   * Encodes `record` into the batch; returns its offset delta. `bodySize`, when given, is
   * recordBodySizeOf(record) measured just before (it saves measuring strings twice).
   */
  append(record: TextRecordInput, bodySize?: number): number {
    const timestamp = this.timestampOf(record);
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    const delta = this.count;
    this.undoPos = -1;
    const body = bodySize ?? recordBodySize(record, timestamp - this.baseTimestamp, delta);
    this.ensure(this.pos + varintSize(body) + body);
    this.pos = writeRecord(this.buf, this.pos, record, timestamp - this.baseTimestamp, delta, body);
    this.count++;
    return delta;
  }

  /**
   * Encodes `record` into the batch without measuring it first (its strings are measured as they
   * are written); returns the bytes it took, length prefix included. undoAppend() takes it back,
   * for a caller that finds it should not have gone into this batch after all.
   */
  appendSized(record: TextRecordInput): number {
    const timestamp = this.timestampOf(record);
    const start = this.pos;
    this.undoPos = start;
    this.undoMaxTimestamp = this.maxTimestamp;
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    this.ensure(start + maxRecordSize(record));
    this.pos = writeRecordUnsized(this.buf, start, record, timestamp - this.baseTimestamp, this.count);
    this.count++;
    return this.pos - start;
  }

  /** Takes back the record the last appendSized() appended (once). */
  undoAppend(): void {
    if (this.undoPos < 0) throw new RangeError('undoAppend() without an appendSized() to take back');
    this.pos = this.undoPos;
    this.maxTimestamp = this.undoMaxTimestamp;
    this.undoPos = -1;
    if (--this.count === 0) {
      this.baseTimestamp = -1;
      this.maxTimestamp = -1;
    }
  }

  /** The finished batch, a new Buffer. The builder keeps its records until reset(). */
  build(): Buffer {
    const codec = this.attributes & 7;
    let out: Buffer;
    if (codec === 0) {
      out = Buffer.allocUnsafe(this.pos);
      this.buf.copy(out, HEADER_SIZE, HEADER_SIZE, this.pos);
    } else {
      out = compressedBody(codec, this.buf.subarray(HEADER_SIZE, this.pos), this.opts.compressionLevel);
    }
    return finishBatch(out, this.opts, this.attributes, this.count, this.baseTimestamp, this.maxTimestamp);
  }

  /**
   * build() with the compression on libuv's threadpool, for codecs that can (lz4), or null (then
   * build()). Nothing may be appended, nor the builder reset, until the promise settles.
   */
  buildAsync(): Promise<Buffer> | null {
    const codec = this.attributes & 7;
    if (codec === 0) return null;
    const compressing = compressAsync(codec, this.buf.subarray(HEADER_SIZE, this.pos), HEADER_SIZE);
    if (!compressing) return null;
    const { opts, attributes, count, baseTimestamp, maxTimestamp } = this;
    return compressing.then((out) => finishBatch(out, opts, attributes, count, baseTimestamp, maxTimestamp));
  }

  /** Empties the builder for a new batch, keeping its scratch memory. */
  reset(opts: BatchOptions = this.opts): void {
    this.opts = opts;
    this.attributes = batchAttributesFor(opts);
    this.pos = HEADER_SIZE;
    this.count = 0;
    this.baseTimestamp = -1;
    this.maxTimestamp = -1;
    this.undoPos = -1;
  }

  private timestampOf(record: TextRecordInput): number {
    return record.timestamp ?? this.opts.now ?? Date.now();
  }

  private timestampDelta(timestamp: number): number {
    return this.count === 0 ? 0 : timestamp - this.baseTimestamp;
  }

  private ensure(size: number): void {
    if (size <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(size, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
