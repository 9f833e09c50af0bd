/**
 * Decoding of record batch v2 (layout in batch-header.ts, records in record.ts).
 * Keys, values and header values are zero-copy views of the input buffer (uncompressed
 * batches) or of the decompressed records. Control batches decode like any other: see
 * control.ts for their record keys.
 */
import { type BatchHeader, readBatchHeader, TIMESTAMP_TYPE_FLAG } from './batch-header.js';
import { CorruptRecordError } from './errors.js';
import { type DecodedRecord, type RecordContext, readRecords } from './record.js';
import { batchRecordsData, type DecodeOptions, scanBatches, validateBatch } from './validate.js';

export interface DecodedBatch extends BatchHeader {
  records: DecodedRecord[];
}

function check(buf: Buffer, pos: number, options: DecodeOptions | undefined): BatchHeader {
  const error = validateBatch(buf, pos, buf.length, options?.verifyCrc ?? true);
  if (error) throw CorruptRecordError.from(error);
  return readBatchHeader(buf, pos);
}

function walk(
  buf: Buffer,
  pos: number,
  header: BatchHeader,
  options: DecodeOptions | undefined,
  emit: (rec: DecodedRecord) => void,
): void {
  const [data, start, end] = batchRecordsData(buf, pos, options);
  const ctx: RecordContext = {
    baseOffset: header.baseOffset,
    baseTimestamp: header.baseTimestamp,
    logAppendTime: header.attributes & TIMESTAMP_TYPE_FLAG ? header.maxTimestamp : null,
  };
  readRecords(data, start, end, header.recordCount, ctx, emit);
}

/**
 * Decodes the batch at `pos`: header fields and every record. Throws CorruptRecordError
 * when the batch is truncated, fails its CRC (unless verifyCrc is false) or is malformed.
 */
export function decodeBatch(buf: Buffer, pos = 0, options?: DecodeOptions): DecodedBatch {
  return decodeChecked(buf, pos, check(buf, pos, options), options);
}

function decodeChecked(
  buf: Buffer,
  pos: number,
  header: BatchHeader,
  options: DecodeOptions | undefined,
): DecodedBatch {
  const records: DecodedRecord[] = [];
  walk(buf, pos, header, options, (rec) => {
    records.push(rec);
  });
  return { ...header, records };
}

/**
 * Calls `onRecord` for each record of the batch at `pos`, without building an array.
 * Returns the batch header.
 */
export function forEachRecord(
  buf: Buffer,
  pos: number,
  onRecord: (rec: DecodedRecord) => void,
  options?: DecodeOptions,
): BatchHeader {
  const header = check(buf, pos, options);
  walk(buf, pos, header, options, onRecord);
  return header;
}

/**
 * Decodes every complete batch in buf[start, end), e.g. a fetch response's record set.
 * A partial trailing batch is ignored (brokers cut fetch responses at a byte limit);
 * any other problem throws CorruptRecordError.
 */
export function decodeBatches(
  buf: Buffer,
  start = 0,
  end = buf.length,
  options?: DecodeOptions,
): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  const view = end === buf.length ? buf : buf.subarray(0, end);
  const verifyCrc = options?.verifyCrc ?? true;
  const result = scanBatches(
    view,
    start,
    end,
    (pos) => {
      batches.push(decodeChecked(view, pos, readBatchHeader(view, pos), options));
      return true;
    },
    verifyCrc,
  );
  if (result.error && result.error.code !== 'TRUNCATED') throw CorruptRecordError.from(result.error);
  return batches;
}
