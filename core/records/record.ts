/**
 * One record inside a v2 batch (after decompression):
 *
 *   length          varint   bytes that follow
 *   attributes      int8     unused, 0
 *   timestampDelta  varlong  relative to the batch's baseTimestamp
 *   offsetDelta     varint   relative to the batch's baseOffset
 *   keyLength       varint   -1 = null key
 *   key             bytes
 *   valueLength     varint   -1 = null value
 *   value           bytes
 *   headerCount     varint
 *   headers         headerKeyLength varint, headerKey utf8 (never null),
 *                   headerValueLength varint (-1 = null), headerValue bytes
 *
 * Encoding writes into a buffer sized beforehand with recordBodySize; decoding returns
 * keys and values as zero-copy views of the (decompressed) batch buffer.
 */
import { CorruptRecordError } from './errors.js';
import {
  type Cursor,
  readVarint,
  readVarlong,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from './varint.js';

/** A record header: Kafka header keys are strings, values nullable bytes. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A header as given to the encoder (any byte array will do). */
export interface RecordHeaderInput {
  key: string;
  value: Uint8Array | null;
}

/** A record to encode; timestamp defaults to the batch's `now`. */
export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: readonly RecordHeaderInput[];
  timestamp?: number;
}

/**
 * What the encoders accept: a {@link RecordInput} whose key and value may also be strings, written
 * as their UTF-8 bytes straight into the batch (no intermediate Buffer).
 */
export interface TextRecordInput extends Omit<RecordInput, 'key' | 'value'> {
  key?: Uint8Array | string | null;
  value: Uint8Array | string | null;
}

/** A decoded record. `key` and `value` share memory with the batch they came from. */
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** attributes + timestampDelta + offsetDelta + keyLength + valueLength + headerCount, all minimal. */
export const MIN_RECORD_BODY_SIZE = 6;

/** UTF-8 byte length of a string, as Buffer.byteLength counts it (lone surrogates: 3 bytes). */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // the pair takes 4 bytes for 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

function writeUtf8(buf: Buffer, pos: number, s: string, byteLength: number): number {
  if (byteLength === s.length && byteLength <= SHORT_STRING) {
    for (let i = 0; i < byteLength; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + byteLength;
  }
  return pos + buf.write(s, pos, byteLength, 'utf8');
}

/** Strings up to this many UTF-16 units are measured and copied in JS; longer ones natively. */
const SHORT_STRING = 32;

function textLength(s: string): number {
  return s.length <= SHORT_STRING ? utf8Length(s) : Buffer.byteLength(s, 'utf8');
}

function bytesSize(b: Uint8Array | string | null | undefined): number {
  if (b == null) return 1;
  const length = typeof b === 'string' ? textLength(b) : b.length;
  return varintSize(length) + length;
}

/** Size of the record after its length prefix. */
export function recordBodySize(rec: TextRecordInput, timestampDelta: number, offsetDelta: number): number {
  let size =
    1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + bytesSize(rec.key) + bytesSize(rec.value);
  const headers = rec.headers;
  if (headers === undefined || headers.length === 0) return size + 1;
  size += varintSize(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const keyLength = utf8Length(h.key);
    size += varintSize(keyLength) + keyLength + bytesSize(h.value);
  }
  return size;
}

function writeBytes(buf: Buffer, pos: number, b: Uint8Array | string | null | undefined): number {
  if (b == null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  if (typeof b === 'string') {
    const n = b.length;
    if (n <= 21) {
      // At most 63 bytes: a one-byte length, written after the text (so it is measured once).
      let i = 0;
      for (; i < n; i++) {
        const c = b.charCodeAt(i);
        if (c >= 0x80) break;
        buf[pos + 1 + i] = c;
      }
      const length = i === n ? n : buf.write(b, pos + 1, 'utf8');
      buf[pos] = length << 1; // zigzag
      return pos + 1 + length;
    }
    const length = textLength(b);
    return writeUtf8(buf, writeVarint(buf, pos, length), b, length);
  }
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

/** Writes length prefix and body (bodySize from recordBodySize); returns the end position. */
export function writeRecord(
  buf: Buffer,
  pos: number,
  rec: TextRecordInput,
  timestampDelta: number,
  offsetDelta: number,
  bodySize: number,
): number {
  return writeRecordBody(buf, writeVarint(buf, pos, bodySize), rec, timestampDelta, offsetDelta);
}

/** A record's body (attributes to headers) at `pos`; returns the end position. */
function writeRecordBody(
  buf: Buffer,
  pos: number,
  rec: TextRecordInput,
  timestampDelta: number,
  offsetDelta: number,
): number {
  buf[pos++] = 0;
  pos = writeVarlong(buf, pos, timestampDelta);
  pos = writeVarint(buf, pos, offsetDelta);
  pos = writeBytes(buf, pos, rec.key);
  pos = writeBytes(buf, pos, rec.value);
  const headers = rec.headers;
  if (headers === undefined || headers.length === 0) {
    buf[pos] = 0;
    return pos + 1;
  }
  pos = writeVarint(buf, pos, headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const keyLength = utf8Length(h.key);
    pos = writeVarint(buf, pos, keyLength);
    pos = writeUtf8(buf, pos, h.key, keyLength);
    pos = writeBytes(buf, pos, h.value);
  }
  return pos;
}

/** Most bytes writeBytes() may take for `b` (a string: 3 per UTF-16 unit, the UTF-8 worst case). */
function maxBytesSize(b: Uint8Array | string | null | undefined): number {
  if (b == null) return 1;
  return 5 + (typeof b === 'string' ? 3 * b.length : b.length);
}

/** Most bytes writeRecordUnsized() may take from its position for `rec` (length prefix included). */
export function maxRecordSize(rec: TextRecordInput): number {
  // length 5, attributes 1, timestampDelta 10, offsetDelta 5, headerCount 5
  let size = 26 + maxBytesSize(rec.key) + maxBytesSize(rec.value);
  const headers = rec.headers;
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++)
      size += 5 + 3 * headers[i]!.key.length + maxBytesSize(headers[i]!.value);
  }
  return size;
}

/**
 * writeRecord() without measuring the record first: the body is written one byte after `pos` (the
 * room a length under 64 takes), measured as it is written, then its length goes in front (a
 * longer body is moved up to make room for a longer length). Strings are measured and written in
 * one pass this way. `buf` must have maxRecordSize(rec) bytes from `pos`. Returns the end position.
 */
export function writeRecordUnsized(
  buf: Buffer,
  pos: number,
  rec: TextRecordInput,
  timestampDelta: number,
  offsetDelta: number,
): number {
  const start = pos + 1;
  const end = writeRecordBody(buf, start, rec, timestampDelta, offsetDelta);
  const body = end - start;
  if (body < 64) {
    buf[pos] = body << 1; // zigzag, one byte
    return end;
  }
  const lengthSize = varintSize(body);
  buf.copyWithin(pos + lengthSize, start, end);
  writeVarint(buf, pos, body);
  return end + lengthSize - 1;
}

function invalid(message: string): CorruptRecordError {
  return new CorruptRecordError('INVALID_RECORD', message);
}

function readBytes(buf: Buffer, c: Cursor, limit: number, what: string): Buffer | null {
  const length = readVarint(buf, c);
  if (length === -1) return null;
  const start = c.pos;
  if (length < -1 || length > limit - start) {
    throw invalid(`${what} length ${length} at byte ${start} does not fit in its record`);
  }
  c.pos = start + length;
  return buf.subarray(start, start + length);
}

function readHeaders(buf: Buffer, c: Cursor, count: number, limit: number): RecordHeader[] {
  const headers: RecordHeader[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const keyLength = readVarint(buf, c);
    const keyStart = c.pos;
    if (keyLength < 0 || keyLength > limit - keyStart) {
      throw invalid(`header key length ${keyLength} at byte ${keyStart} does not fit in its record`);
    }
    c.pos = keyStart + keyLength;
    const key = buf.toString('utf8', keyStart, keyStart + keyLength);
    headers[i] = { key, value: readBytes(buf, c, limit, 'header value') };
  }
  return headers;
}

/** Where decoded records go; the shared loop behind decodeBatch, forEachRecord and validateRecords. */
export interface RecordContext {
  baseOffset: number;
  baseTimestamp: number;
  /** LogAppendTime batches: every record's timestamp is the batch's maxTimestamp. */
  logAppendTime: number | null;
}

/** Receives a decoded record's fields (one call per record; the receiver makes its own object). */
export type RecordFieldsFn = (
  offset: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: RecordHeader[],
  offsetDelta: number,
) => void;

/**
 * Decodes `count` records from buf[pos, end), handing each to `emit` with its offset delta.
 * Throws CorruptRecordError('INVALID_RECORD') on any framing error; returns the end position
 * of the last record.
 */
export function readRecords(
  buf: Buffer,
  pos: number,
  end: number,
  count: number,
  ctx: RecordContext,
  emit: (rec: DecodedRecord, offsetDelta: number) => void,
): number {
  return readRecordFields(buf, pos, end, count, ctx, (offset, timestamp, key, value, headers, offsetDelta) =>
    emit({ offset, timestamp, key, value, headers }, offsetDelta),
  );
}

/** The varint at `pos`: its value, and its end in `at.pos` (the checked reader: throws past the end). */
const at: Cursor = { pos: 0 };
function varintAt(buf: Buffer, pos: number): number {
  at.pos = pos;
  return readVarint(buf, at);
}

/** readRecords, handing out the fields of each record instead of a DecodedRecord. */
export function readRecordFields(
  buf: Buffer,
  pos: number,
  end: number,
  count: number,
  ctx: RecordContext,
  emit: RecordFieldsFn,
): number {
  const { baseOffset, baseTimestamp } = ctx;
  const appendTime = ctx.logAppendTime !== null;
  const logAppendTime = ctx.logAppendTime ?? 0;
  // Varints of one or two bytes (nearly all of a record's: lengths, deltas) are read inline, longer
  // ones by the checked readers (which throw past the end of the buffer); as in record-index.ts.
  let b0 = 0;
  let u = 0;
  let p = 0;
  let length = 0;
  let timestampDelta = 0;
  let offsetDelta = 0;
  let keyLength = 0;
  let valueLength = 0;
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
      p = at.pos;
    }
    const bodyStart = p;
    const recordEnd = bodyStart + length;
    if (length < MIN_RECORD_BODY_SIZE || recordEnd > end) {
      throw invalid(`record ${i} at byte ${pos} has length ${length}, outside 6..${end - bodyStart}`);
    }
    p = bodyStart + 1; // attributes: unused
    b0 = buf[p]!;
    if (b0 < 0x80) {
      timestampDelta = (b0 >>> 1) ^ -(b0 & 1);
      p += 1;
    } else if (buf[p + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[p + 1]! << 7);
      timestampDelta = (u >>> 1) ^ -(u & 1);
      p += 2;
    } else {
      at.pos = p;
      timestampDelta = readVarlong(buf, at);
      p = at.pos;
    }
    b0 = buf[p]!;
    if (b0 < 0x80) {
      offsetDelta = (b0 >>> 1) ^ -(b0 & 1);
      p += 1;
    } else if (buf[p + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[p + 1]! << 7);
      offsetDelta = (u >>> 1) ^ -(u & 1);
      p += 2;
    } else {
      offsetDelta = varintAt(buf, p);
      p = at.pos;
    }
    b0 = buf[p]!;
    if (b0 < 0x80) {
      keyLength = (b0 >>> 1) ^ -(b0 & 1);
      p += 1;
    } else if (buf[p + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[p + 1]! << 7);
      keyLength = (u >>> 1) ^ -(u & 1);
      p += 2;
    } else {
      keyLength = varintAt(buf, p);
      p = at.pos;
    }
    let key: Buffer | null = null;
    if (keyLength !== -1) {
      if (keyLength < -1 || keyLength > recordEnd - p) {
        throw invalid(`key length ${keyLength} at byte ${p} does not fit in its record`);
      }
      key = buf.subarray(p, p + keyLength);
      p += keyLength;
    }
    b0 = buf[p]!;
    if (b0 < 0x80) {
      valueLength = (b0 >>> 1) ^ -(b0 & 1);
      p += 1;
    } else if (buf[p + 1]! < 0x80) {
      u = (b0 & 0x7f) | (buf[p + 1]! << 7);
      valueLength = (u >>> 1) ^ -(u & 1);
      p += 2;
    } else {
      valueLength = varintAt(buf, p);
      p = at.pos;
    }
    let value: Buffer | null = null;
    if (valueLength !== -1) {
      if (valueLength < -1 || valueLength > recordEnd - p) {
        throw invalid(`value length ${valueLength} at byte ${p} does not fit in its record`);
      }
      value = buf.subarray(p, p + valueLength);
      p += valueLength;
    }
    let headerCount: number;
    b0 = buf[p]!;
    if (b0 < 0x80) {
      headerCount = (b0 >>> 1) ^ -(b0 & 1);
      p += 1;
    } else {
      headerCount = varintAt(buf, p);
      p = at.pos;
    }
    if (headerCount < 0 || headerCount > (recordEnd - p) >> 1) {
      throw invalid(`record ${i} at byte ${pos} declares ${headerCount} headers`);
    }
    let headers: RecordHeader[];
    if (headerCount === 0) headers = [];
    else {
      at.pos = p;
      headers = readHeaders(buf, at, headerCount, recordEnd);
      p = at.pos;
    }
    if (p !== recordEnd) {
      throw invalid(
        `record ${i} at byte ${pos} declares ${length} bytes but its fields take ${p - bodyStart}`,
      );
    }
    pos = recordEnd;
    emit(
      baseOffset + offsetDelta,
      appendTime ? logAppendTime : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      offsetDelta,
    );
  }
  return pos;
}
