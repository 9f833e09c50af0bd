/**
 * Decoding of record batch v2 (layout in batch-header.ts, records in record.ts).
 * Keys, values and header values are zero-copy views of the input buffer (uncompressed
 * batches) or of the decompressed records. Control batches decode like any other: see
 * control.ts for their record keys.
 */
import { type BatchHeader, readBatchHeader, TIMESTAMP_TYPE_FLAG } from './batch-header.js';
import { CorruptRecordError } from './errors.js';
import {
  type DecodedRecord,
  type RecordContext,
  type RecordHeader,
  readRecordFields,
  readRecords,
} from './record.js';
import { indexRecords, type RecordIndex } from './record-index.js';
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

/**
 * The records of a record set (a fetch response's concatenated batches) decoded on demand. The
 * complete batches are checked (framing, CRC unless verifyCrc is false) when the reader is made,
 * a partial trailing batch is ignored, as decodeBatches does; records are decoded only as they are
 * read, so a consumer holds the bytes, not an object per record, of what it has not handed out.
 * A malformed record throws CorruptRecordError from read().
 *
 * With `crcWhenRead`, a batch's CRC is checked when the reader first reaches it (the framing of
 * all is still checked up front), as Kafka's consumer does: the records of the batches before a
 * corrupt one are read, and reading on throws. Batches without records to read (control batches
 * skipped, empty ones) are reached too: the reader is not `done` before every batch was checked.
 * `checkCrcs()` checks the rest at once. A consumer sends its next Fetch sooner that way.
 */
export class RecordSetReader {
  /** The complete batches' headers, in order. */
  readonly batches: BatchHeader[] = [];
  private readonly positions: number[] = [];
  private readonly buf: Buffer;
  private next = 0;
  /** With crcWhenRead: batches before this one had their CRC checked. */
  private checked = 0;
  private current: BatchHeader | null = null;
  private data: Buffer;
  private pos = 0;
  private end = 0;
  private left = 0;
  private ctx: RecordContext = { baseOffset: 0, baseTimestamp: 0, logAppendTime: null };

  constructor(
    buf: Buffer,
    start = 0,
    end = buf.length,
    private readonly options?: DecodeOptions & {
      /** Skip the records of control batches (transaction markers). */
      skipControl?: boolean;
      /** Check each batch's CRC when it is reached, not when the reader is made (see above). */
      crcWhenRead?: boolean;
    },
  ) {
    const view = end === buf.length ? buf : buf.subarray(0, end);
    this.buf = view;
    this.data = view;
    const result = scanBatches(
      view,
      start,
      end,
      (pos) => {
        this.positions.push(pos);
        this.batches.push(readBatchHeader(view, pos));
        return true;
      },
      (options?.verifyCrc ?? true) && options?.crcWhenRead !== true,
    );
    if (result.error && result.error.code !== 'TRUNCATED') throw CorruptRecordError.from(result.error);
  }

  /** How many records are left to read (control batches' included unless skipped), at most. */
  get remaining(): number {
    const skip = this.options?.skipControl ?? false;
    let n = this.left;
    for (let i = this.next; i < this.batches.length; i++) {
      const b = this.batches[i]!;
      if (b.recordCount > 0 && !(skip && b.isControl)) n += b.recordCount;
    }
    return n;
  }

  /** Whether every record was read. */
  get done(): boolean {
    return this.left === 0 && !this.hasMoreBatches();
  }

  /**
   * Decodes up to `max` more records, handing each to `emit` with its batch's header (records
   * are emitted in order); returns how many were emitted.
   */
  read(max: number, emit: (rec: DecodedRecord, batch: BatchHeader) => void): number {
    return this.readFields(max, (offset, timestamp, key, value, headers, batch) =>
      emit({ offset, timestamp, key, value, headers }, batch),
    );
  }

  /** read(), handing out each record's fields (the caller makes its own object per record). */
  readFields(
    max: number,
    emit: (
      offset: number,
      timestamp: number,
      key: Buffer | null,
      value: Buffer | null,
      headers: RecordHeader[],
      batch: BatchHeader,
    ) => void,
  ): number {
    let n = 0;
    while (n < max) {
      if (this.left === 0) {
        if (!this.openNext()) break;
        continue;
      }
      const take = Math.min(max - n, this.left);
      const batch = this.current!;
      this.pos = readRecordFields(this.data, this.pos, this.end, take, this.ctx, (o, t, k, v, h) =>
        emit(o, t, k, v, h, batch),
      );
      this.left -= take;
      n += take;
    }
    return n;
  }

  /**
   * read() into a record index (no object per record): reads up to `max` more records and indexes
   * those at or past `minOffset`, in runs tagged `tag`; returns how many were read. On a malformed
   * record it throws CorruptRecordError, the records before it indexed.
   */
  readIndex<T>(max: number, index: RecordIndex<T>, tag: T, minOffset: number): number {
    let n = 0;
    while (n < max) {
      if (this.left === 0) {
        if (!this.openNext()) break;
        continue;
      }
      const take = Math.min(max - n, this.left);
      index.beginRun(this.data, this.current!, tag);
      this.pos = indexRecords(this.data, this.pos, this.end, take, this.ctx, index, minOffset);
      this.left -= take;
      n += take;
    }
    return n;
  }

  /**
   * Checks the CRCs of the batches not reached yet (with crcWhenRead; otherwise they were checked
   * when the reader was made). Throws CorruptRecordError for the first corrupt one; reading on
   * still reads the records before it, then throws there.
   */
  checkCrcs(): void {
    if (!this.lazyCrc()) return;
    for (let i = Math.max(this.checked, this.next); i < this.batches.length; i++) this.checkCrc(i);
  }

  private lazyCrc(): boolean {
    return this.options?.crcWhenRead === true && (this.options.verifyCrc ?? true);
  }

  private checkCrc(i: number): void {
    if (i < this.checked) return;
    const error = validateBatch(this.buf, this.positions[i]!, this.buf.length, true);
    // Reading stops before a corrupt batch: reaching it throws again.
    if (error) throw CorruptRecordError.from(error);
    this.checked = i + 1;
  }

  private hasMoreBatches(): boolean {
    // Unchecked batches are still to be reached, records or not (a corrupt one must throw).
    if (this.lazyCrc() && this.checked < this.batches.length) return this.next < this.batches.length;
    const skip = this.options?.skipControl ?? false;
    for (let i = this.next; i < this.batches.length; i++) {
      const b = this.batches[i]!;
      if (b.recordCount > 0 && !(skip && b.isControl)) return true;
    }
    return false;
  }

  private openNext(): boolean {
    const skip = this.options?.skipControl ?? false;
    const lazyCrc = this.lazyCrc();
    while (this.next < this.batches.length) {
      const i = this.next;
      if (lazyCrc) this.checkCrc(i);
      this.next = i + 1;
      const header = this.batches[i]!;
      if (header.recordCount <= 0 || (skip && header.isControl)) continue;
      const [data, start, end] = batchRecordsData(this.buf, this.positions[i]!, this.options);
      this.current = header;
      this.data = data;
      this.pos = start;
      this.end = end;
      this.left = header.recordCount;
      this.ctx = {
        baseOffset: header.baseOffset,
        baseTimestamp: header.baseTimestamp,
        logAppendTime: header.attributes & TIMESTAMP_TYPE_FLAG ? header.maxTimestamp : null,
      };
      return true;
    }
    return false;
  }
}
