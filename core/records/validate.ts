/**
 * Checks on record batch v2 bytes (layout in batch-header.ts).
 *
 * validateBatch is the broker's hot path: header framing and the CRC only, never the records
 * of an uncompressed batch. validateRecords decodes everything for deep checks. scanBatches
 * walks a concatenation of batches (a log segment, a fetch response) and says where the last
 * good batch ends, so recovery can truncate there.
 */
import {
  ATTRIBUTES,
  BATCH_LENGTH,
  batchBaseOffset,
  COMPRESSION_MASK,
  CRC,
  CURRENT_MAGIC,
  HEADER_SIZE,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MIN_BATCH_LENGTH,
  RECORDS_COUNT,
  readBatchHeader,
} from './batch-header.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from './compression.js';
import { crc32c } from './crc32c.js';
import { type BatchError, CorruptRecordError, type RecordErrorCode } from './errors.js';
import { readRecords } from './record.js';

/** An uncompressed record takes at least 7 bytes: its length varint and 6 minimal fields. */
const MIN_RECORD_SIZE = 7;

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

function fail(code: RecordErrorCode, message: string): BatchError {
  return { code, message };
}

/**
 * Checks the batch at buf[pos, end): enough bytes, batchLength, magic, CRC-32C,
 * codec, record count and lastOffsetDelta. Returns null when valid. With verifyCrc false
 * (callers that trust the bytes) it checks the framing only.
 */
export function validateBatch(buf: Buffer, pos = 0, end = buf.length, verifyCrc = true): BatchError | null {
  const available = Math.min(end, buf.length) - pos;
  if (available < LOG_OVERHEAD) {
    return fail(
      'TRUNCATED',
      `batch at byte ${pos} is truncated: ${available} bytes, the header needs ${HEADER_SIZE}`,
    );
  }
  const length = buf.readInt32BE(pos + BATCH_LENGTH);
  if (length < MIN_BATCH_LENGTH) {
    return fail(
      'CORRUPT_MESSAGE',
      `batch at byte ${pos} has batchLength ${length}, below the minimum ${MIN_BATCH_LENGTH}`,
    );
  }
  const size = LOG_OVERHEAD + length;
  if (size > available) {
    return fail('TRUNCATED', `batch at byte ${pos} is truncated: ${available} of its ${size} bytes present`);
  }
  const magic = buf.readInt8(pos + MAGIC);
  if (magic !== CURRENT_MAGIC) {
    return fail(
      'UNSUPPORTED_MAGIC',
      `batch at byte ${pos} has magic ${magic}; only record batch v2 (magic 2) is supported`,
    );
  }
  if (verifyCrc) {
    const stored = buf.readUInt32BE(pos + CRC);
    const computed = crc32c(buf, pos + ATTRIBUTES, pos + size);
    if (stored !== computed) {
      return fail(
        'CORRUPT_MESSAGE',
        `CRC mismatch in batch at byte ${pos} (baseOffset ${batchBaseOffset(buf, pos)}): stored ${hex(stored)}, computed ${hex(computed)}`,
      );
    }
  }
  const codec = buf[pos + ATTRIBUTES + 1]! & COMPRESSION_MASK;
  if (codec > 4) {
    return fail(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `batch at byte ${pos} uses unknown compression codec ${codec}`,
    );
  }
  const count = buf.readInt32BE(pos + RECORDS_COUNT);
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA);
  if (count < 0) return fail('INVALID_RECORD', `batch at byte ${pos} has a negative record count ${count}`);
  if (lastOffsetDelta < 0 || count > lastOffsetDelta + 1) {
    return fail(
      'INVALID_RECORD',
      `batch at byte ${pos} has lastOffsetDelta ${lastOffsetDelta}, impossible for ${count} records`,
    );
  }
  if (codec === 0 && count * MIN_RECORD_SIZE > length - MIN_BATCH_LENGTH) {
    return fail(
      'INVALID_RECORD',
      `batch at byte ${pos} declares ${count} records in ${length - MIN_BATCH_LENGTH} bytes of records`,
    );
  }
  return null;
}

/** Options of the decoding functions. */
export interface DecodeOptions {
  /** Check the CRC-32C before decoding (default true). */
  verifyCrc?: boolean;
  /** Cap on the decompressed size of one batch's records. */
  maxDecompressedBytes?: number;
}

/** Decompressed records section of a validated batch, with its bounds. */
export function batchRecordsData(
  buf: Buffer,
  pos: number,
  options?: DecodeOptions,
): [Buffer, number, number] {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH);
  const codec = buf[pos + ATTRIBUTES + 1]! & COMPRESSION_MASK;
  if (codec === 0) return [buf, pos + HEADER_SIZE, end];
  const data = decompress(
    codec,
    buf.subarray(pos + HEADER_SIZE, end),
    options?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
  );
  return [data, 0, data.length];
}

/**
 * Deep check of the batch at buf[pos, end): validateBatch, then decompresses and decodes
 * every record: record count, record lengths, increasing offset deltas within
 * lastOffsetDelta, no trailing bytes.
 */
export function validateRecords(
  buf: Buffer,
  pos = 0,
  end = buf.length,
  options?: DecodeOptions,
): BatchError | null {
  const error = validateBatch(buf, pos, end, options?.verifyCrc ?? true);
  if (error) return error;
  const header = readBatchHeader(buf, pos);
  try {
    const [data, start, stop] = batchRecordsData(buf, pos, options);
    let previous = -1;
    const ctx = { baseOffset: 0, baseTimestamp: 0, logAppendTime: null };
    const last = readRecords(data, start, stop, header.recordCount, ctx, (_rec, delta) => {
      if (delta <= previous || delta > header.lastOffsetDelta) {
        throw new CorruptRecordError(
          'INVALID_RECORD',
          `offset delta ${delta} follows ${previous} (lastOffsetDelta ${header.lastOffsetDelta})`,
        );
      }
      previous = delta;
    });
    if (last !== stop) {
      return fail(
        'INVALID_RECORD',
        `batch at byte ${pos} has ${stop - last} bytes after its ${header.recordCount} records`,
      );
    }
  } catch (err) {
    if (err instanceof CorruptRecordError) {
      return fail(err.code, `batch at byte ${pos} (baseOffset ${header.baseOffset}): ${err.message}`);
    }
    throw err;
  }
  return null;
}

/** Outcome of scanBatches. */
export interface ScanResult {
  /** Complete batches seen (and accepted by the callback). */
  batches: number;
  /** Position after the last complete, valid batch: truncate a log here. */
  end: number;
  /** Why the scan stopped early; null when it consumed the range or the callback stopped it. */
  error: BatchError | null;
}

/**
 * Walks the batches in buf[start, end), calling `onBatch(pos, size)` for each complete,
 * valid one (return false to stop after it). Stops at the first partial or bad batch; a partial
 * trailing batch (normal in fetch responses) reports code 'TRUNCATED'.
 */
export function scanBatches(
  buf: Buffer,
  start = 0,
  end = buf.length,
  onBatch?: (pos: number, size: number) => boolean | undefined,
  verifyCrc = true,
): ScanResult {
  let pos = start;
  let batches = 0;
  while (pos < end) {
    const error = validateBatch(buf, pos, end, verifyCrc);
    if (error) return { batches, end: pos, error };
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH);
    const more = onBatch?.(pos, size);
    batches++;
    pos += size;
    if (more === false) break;
  }
  return { batches, end: pos, error: null };
}
