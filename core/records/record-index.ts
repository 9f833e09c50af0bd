/**
 * A record index: where each record of some decoded batches lies, kept in typed arrays
 * (structure of arrays) instead of an object per record — what a high-throughput consumer
 * needs to walk a fetch response with a reused cursor.
 *
 * Per record: offset and timestamp (Float64Array), and five int32 fields (Int32Array):
 *
 *   keyStart, keyLength (-1 = null), valueStart, valueLength (-1 = null), headersStart
 *
 * positions into the record's run buffer; headersStart is the position of the header count,
 * so headers are decoded only when asked for. Records are grouped in runs: consecutive records
 * sharing a buffer (a batch's bytes, or its decompressed records), a batch header and a tag
 * (whatever the caller uses to tell where they came from, e.g. a topic-partition).
 *
 * Indexing checks the framing of every record exactly as readRecordFields does (same errors):
 * an indexed record can always be read back.
 */
import type { BatchHeader } from './batch-header.js';
import { CorruptRecordError } from './errors.js';
import { MIN_RECORD_BODY_SIZE, type RecordContext, type RecordHeader } from './record.js';
import { type Cursor, readVarint, readVarlong } from './varint.js';

/** int32 fields per record in `RecordIndex.fields`. */
export const INDEX_FIELDS = 5;
export const KEY_START = 0;
export const KEY_LENGTH = 1;
export const VALUE_START = 2;
export const VALUE_LENGTH = 3;
export const HEADERS_START = 4;

/** Consecutive records of one buffer, batch and tag. */
export interface IndexRun<T> {
  readonly data: Buffer;
  readonly batch: BatchHeader;
  readonly tag: T;
  /** Index of its first record. */
  readonly first: number;
}

/**
 * The arrays for `n` records in one uninitialized allocation (no zero-filling: only the first
 * `count` records, which were written, are ever read).
 */
function allocate(n: number): { offsets: Float64Array; timestamps: Float64Array; fields: Int32Array } {
  const bytes = Buffer.allocUnsafeSlow(n * (16 + 4 * INDEX_FIELDS)).buffer;
  return {
    offsets: new Float64Array(bytes, 0, n),
    timestamps: new Float64Array(bytes, 8 * n, n),
    fields: new Int32Array(bytes, 16 * n, n * INDEX_FIELDS),
  };
}

export class RecordIndex<T> {
  /** Records indexed. */
  count = 0;
  offsets: Float64Array;
  timestamps: Float64Array;
  /** INDEX_FIELDS int32s per record (see the file's header). */
  fields: Int32Array;
  readonly runs: IndexRun<T>[] = [];

  constructor(capacity = 64) {
    const n = Math.max(1, capacity);
    const { offsets, timestamps, fields } = allocate(n);
    this.offsets = offsets;
    this.timestamps = timestamps;
    this.fields = fields;
  }

  /** Starts a run; records indexed next belong to it (an empty previous run is replaced). */
  beginRun(data: Buffer, batch: BatchHeader, tag: T): void {
    const last = this.runs[this.runs.length - 1];
    if (last !== undefined && last.first === this.count) this.runs.pop();
    this.runs.push({ data, batch, tag, first: this.count });
  }

  /** Empties it for reuse: its arrays stay, to be overwritten. */
  clear(): void {
    this.count = 0;
    this.runs.length = 0;
  }

  /** Makes room for `more` records. */
  reserve(more: number): void {
    const need = this.count + more;
    if (need <= this.offsets.length) return;
    const { offsets, timestamps, fields } = allocate(Math.max(need, this.offsets.length * 2));
    offsets.set(this.offsets.subarray(0, this.count));
    timestamps.set(this.timestamps.subarray(0, this.count));
    fields.set(this.fields.subarray(0, this.count * INDEX_FIELDS));
    this.offsets = offsets;
    this.timestamps = timestamps;
    this.fields = fields;
  }
}

function invalid(message: string): CorruptRecordError {
  return new CorruptRecordError('INVALID_RECORD', message);
}

const slow: Cursor = { pos: 0 };

/** The varlong at `pos`: its value, and its end in `slow.pos`. */
function varlongAt(buf: Buffer, pos: number): number {
  slow.pos = pos;
  return readVarlong(buf, slow);
}

/** The varint at `pos`: its value, and its end in `slow.pos`. */
function varintAt(buf: Buffer, pos: number): number {
  slow.pos = pos;
  return readVarint(buf, slow);
}

/**
 * Indexes `count` records of buf[pos, end) into `index` (in its current run), leaving out those
 * with an offset below `minOffset`. Throws CorruptRecordError('INVALID_RECORD') on any framing
 * error, as readRecordFields does; returns the end position of the last record.
 */
export function indexRecords<T>(
  buf: Buffer,
  pos: number,
  end: number,
  count: number,
  ctx: RecordContext,
  index: RecordIndex<T>,
  minOffset: number,
): number {
  index.reserve(count);
  const { offsets, timestamps, fields } = index;
  let n = index.count;
  const { baseOffset, baseTimestamp } = ctx;
  // Every timestamp is stored without a heap number: see the stores below.
  const appendTime = ctx.logAppendTime !== null;
  const logAppendTime = ctx.logAppendTime ?? 0;
  // The varints of a record are read inline when they take one or two bytes (nearly all do:
  // lengths, deltas), by the checked readers otherwise (they throw past the end of the buffer).
  let b0 = 0;
  let u = 0;
  let p = 0;
  let length = 0;
  let timestampDelta = 0;
  let offsetDelta = 0;
  let keyLength = 0;
  let keyStart = 0;
  let valueLength = 0;
  let valueStart = 0;
  for (let i = 0; i < count; i++) {
    if (pos >= end) throw invalid(`batch declares ${count} records but holds ${i}`);
    b0 = buf[pos]!;
    if (b0 < 0x80) {
      length = (b0 >>> 1) ^ -(b0 & 1);
      p = pos + 1;
    } else if (buf[pos + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[pos + 1]! << 7);
      length = (u >>> 1) ^ -(u & 1);
      p = pos + 2;
    } else {
      length = varintAt(buf, pos);
      p = slow.pos;
    }
    const bodyStart = p;
    const recordEnd = bodyStart + length;
    if (length < MIN_RECORD_BODY_SIZE || recordEnd > end) {
      throw invalid(`record ${i} at byte ${pos} has length ${length}, outside 6..${end - bodyStart}`);
    }
    // attributes (unused), then the deltas
    b0 = buf[bodyStart + 1]!;
    if (b0 < 0x80) {
      timestampDelta = (b0 >>> 1) ^ -(b0 & 1);
      p = bodyStart + 1 + 1;
    } else if (buf[bodyStart + 1 + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[bodyStart + 1 + 1]! << 7);
      timestampDelta = (u >>> 1) ^ -(u & 1);
      p = bodyStart + 1 + 2;
    } else {
      timestampDelta = varlongAt(buf, bodyStart + 1);
      p = slow.pos;
    }
    b0 = buf[p]!;
    if (b0 < 0x80) {
      offsetDelta = (b0 >>> 1) ^ -(b0 & 1);
      p = p + 1;
    } else if (buf[p + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[p + 1]! << 7);
      offsetDelta = (u >>> 1) ^ -(u & 1);
      p = p + 2;
    } else {
      offsetDelta = varintAt(buf, p);
      p = slow.pos;
    }
    b0 = buf[p]!;
    if (b0 < 0x80) {
      keyLength = (b0 >>> 1) ^ -(b0 & 1);
      keyStart = p + 1;
    } else if (buf[p + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[p + 1]! << 7);
      keyLength = (u >>> 1) ^ -(u & 1);
      keyStart = p + 2;
    } else {
      keyLength = varintAt(buf, p);
      keyStart = slow.pos;
    }
    if (keyLength < -1 || keyLength > recordEnd - keyStart) {
      throw invalid(`key length ${keyLength} at byte ${keyStart} does not fit in its record`);
    }
    const keyEnd = keyLength < 0 ? keyStart : keyStart + keyLength;
    b0 = buf[keyEnd]!;
    if (b0 < 0x80) {
      valueLength = (b0 >>> 1) ^ -(b0 & 1);
      valueStart = keyEnd + 1;
    } else if (buf[keyEnd + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[keyEnd + 1]! << 7);
      valueLength = (u >>> 1) ^ -(u & 1);
      valueStart = keyEnd + 2;
    } else {
      valueLength = varintAt(buf, keyEnd);
      valueStart = slow.pos;
    }
    if (valueLength < -1 || valueLength > recordEnd - valueStart) {
      throw invalid(`value length ${valueLength} at byte ${valueStart} does not fit in its record`);
    }
    const headersStart = valueLength < 0 ? valueStart : valueStart + valueLength;
    let headerCount: number;
    b0 = buf[headersStart]!;
    if (b0 < 0x80) {
      headerCount = (b0 >>> 1) ^ -(b0 & 1);
      p = headersStart + 1;
    } else {
      headerCount = varintAt(buf, headersStart);
      p = slow.pos;
    }
    if (headerCount < 0 || headerCount > (recordEnd - p) >> 1) {
      throw invalid(`record ${i} at byte ${pos} declares ${headerCount} headers`);
    }
    for (let h = 0; h < headerCount; h++) {
      const headerKeyLength = varintAt(buf, p);
      p = slow.pos;
      if (headerKeyLength < 0 || headerKeyLength > recordEnd - p) {
        throw invalid(`header key length ${headerKeyLength} at byte ${p} does not fit in its record`);
      }
      p += headerKeyLength;
      const headerValueLength = varintAt(buf, p);
      p = slow.pos;
      if (headerValueLength < -1 || headerValueLength > recordEnd - p) {
        throw invalid(`header value length ${headerValueLength} at byte ${p} does not fit in its record`);
      }
      if (headerValueLength > 0) p += headerValueLength;
    }
    if (p !== recordEnd) {
      throw invalid(
        `record ${i} at byte ${pos} declares ${length} bytes but its fields take ${p - bodyStart}`,
      );
    }
    pos = recordEnd;
    const offset = baseOffset + offsetDelta;
    if (offset < minOffset) continue;
    offsets[n] = offset;
    // Two stores, not one of `a ? b : c`: a phi of a double and a tagged number boxes the double.
    if (appendTime) timestamps[n] = logAppendTime;
    else timestamps[n] = baseTimestamp + timestampDelta;
    const f = n * INDEX_FIELDS;
    fields[f + KEY_START] = keyStart;
    fields[f + KEY_LENGTH] = keyLength;
    fields[f + VALUE_START] = valueStart;
    fields[f + VALUE_LENGTH] = valueLength;
    fields[f + HEADERS_START] = headersStart;
    // Counted record by record: on an error, the records before the malformed one stay indexed.
    index.count = ++n;
  }
  return pos;
}

/** The headers of an indexed record (`headersStart` from its fields), decoded. */
export function readIndexedHeaders(buf: Buffer, headersStart: number): RecordHeader[] {
  const c: Cursor = { pos: headersStart };
  const count = readVarint(buf, c);
  if (count === 0) return [];
  const headers: RecordHeader[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const keyLength = readVarint(buf, c);
    const key = buf.toString('utf8', c.pos, c.pos + keyLength);
    c.pos += keyLength;
    const valueLength = readVarint(buf, c);
    if (valueLength < 0) headers[i] = { key, value: null };
    else {
      headers[i] = { key, value: buf.subarray(c.pos, c.pos + valueLength) };
      c.pos += valueLength;
    }
  }
  return headers;
}
