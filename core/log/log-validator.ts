/**
 * Validation and stamping of the batches of one append (Kafka's `LogValidator`, for record
 * batch v2 only and without re-compression): header checks only, records are never decoded.
 *
 * validateAppend checks every batch of the buffer before anything is changed: framing, magic 2,
 * `max.message.bytes`, CRC-32C (validateBatch), and per path:
 *   - leader (assignOffsets): recordCount == lastOffsetDelta + 1 >= 1, no control batches;
 *   - follower: offsets at or after the log end and increasing from batch to batch.
 * assignOffsets then patches the buffer in place: baseOffset, partitionLeaderEpoch and, with
 * LogAppendTime, the timestamp type and maxTimestamp (which recomputes the CRC).
 *
 * Concurrency: pure functions over the caller's buffer.
 */
import {
  batchBaseOffset,
  batchBaseSequence,
  batchIsControl,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchPartitionLeaderEpoch,
  batchProducerEpoch,
  batchProducerId,
  batchRecordCount,
  batchSize,
  batchTimestampType,
  CorruptRecordError,
  CURRENT_MAGIC,
  forEachRecord,
  LOG_OVERHEAD,
  MAGIC,
  MIN_BATCH_LENGTH,
  setBatchBaseOffset,
  setBatchMaxTimestampAndCreateTime,
  setBatchMaxTimestampAndLogAppendTime,
  setBatchPartitionLeaderEpoch,
  validateBatch,
} from '../records/index.js';
import { LogError, type LogErrorCode, type RecordError } from './errors.js';
import type { ProducerBatch } from './producer-state.js';

export interface ValidatedAppend {
  batchCount: number;
  recordCount: number;
  /** The batches with a producer id, in order (offsets filled in by assignOffsets); null when none. */
  producerBatches: ProducerBatch[] | null;
}

export interface StampedAppend {
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** [epoch, start offset] of each batch epoch newer than latestEpoch, in order. */
  newEpochs: [number, number][] | null;
}

/** Checks every batch of records; throws LogError naming the first problem. Changes nothing. */
export function validateAppend(
  records: Buffer,
  ctx: { assignOffsets: boolean; logEndOffset: number; maxMessageBytes: number; where: string },
): ValidatedAppend {
  const end = records.length;
  let pos = 0;
  let batchCount = 0;
  let recordCount = 0;
  let expected = ctx.logEndOffset;
  let producerBatches: ProducerBatch[] | null = null;
  while (pos < end) {
    if (end - pos < LOG_OVERHEAD + 5) {
      throw new LogError(
        'CORRUPT_MESSAGE',
        `truncated batch header at byte ${pos} of a ${end}-byte append to ${ctx.where}`,
      );
    }
    const length = records.readInt32BE(pos + 8);
    const magic = records.readInt8(pos + MAGIC);
    if (magic !== CURRENT_MAGIC) {
      throw new LogError(
        'UNSUPPORTED_FOR_MESSAGE_FORMAT',
        `batch at byte ${pos} has magic ${magic}: only record batch v2 (magic 2, Kafka >= 0.11 clients) is supported`,
      );
    }
    if (length < MIN_BATCH_LENGTH) {
      throw new LogError(
        'CORRUPT_MESSAGE',
        `batch at byte ${pos} has batchLength ${length}, below ${MIN_BATCH_LENGTH}`,
      );
    }
    const size = LOG_OVERHEAD + length;
    if (size > ctx.maxMessageBytes) {
      throw new LogError(
        'MESSAGE_TOO_LARGE',
        `a record batch of ${size} bytes is larger than max.message.bytes (${ctx.maxMessageBytes}) of ${ctx.where}; ` +
          'send smaller batches or raise the topic config',
      );
    }
    const err = validateBatch(records, pos, end);
    if (err !== null) {
      const code: LogErrorCode =
        err.code === 'INVALID_RECORD'
          ? 'INVALID_RECORD'
          : err.code === 'UNSUPPORTED_MAGIC'
            ? 'UNSUPPORTED_FOR_MESSAGE_FORMAT'
            : 'CORRUPT_MESSAGE';
      throw new LogError(code, `${err.message} (append to ${ctx.where})`);
    }
    const count = batchRecordCount(records, pos);
    const delta = batchLastOffsetDelta(records, pos);
    if (ctx.assignOffsets) {
      if (count !== delta + 1 || count === 0) {
        throw new LogError(
          'INVALID_RECORD',
          `batch at byte ${pos} declares ${count} records but lastOffsetDelta ${delta}: ` +
            'a producer batch holds exactly lastOffsetDelta + 1 records',
        );
      }
      if (batchIsControl(records, pos)) {
        throw new LogError(
          'INVALID_RECORD',
          `batch at byte ${pos} is a control batch; clients may not write those`,
        );
      }
    } else {
      const base = batchBaseOffset(records, pos);
      if (base < expected) {
        throw new LogError(
          'INVALID_RECORD',
          `batch at byte ${pos} starts at offset ${base}, before ${expected} (the log end or the previous batch's end) of ${ctx.where}`,
        );
      }
      expected = base + delta + 1;
    }
    const producerId = batchProducerId(records, pos);
    if (producerId >= 0) {
      producerBatches ??= [];
      producerBatches.push({
        producerId,
        producerEpoch: batchProducerEpoch(records, pos),
        baseSequence: batchBaseSequence(records, pos),
        lastOffsetDelta: delta,
        firstOffset: -1,
        lastOffset: -1,
        maxTimestamp: -1,
      });
    }
    recordCount += count;
    batchCount++;
    pos += size;
  }
  return { batchCount, recordCount, producerBatches };
}

/**
 * A batch a client sent marked LogAppendTime to a CreateTime topic: made CreateTime with the
 * largest of its records' timestamps, as Kafka's broker sets every batch's timestamp type to the
 * topic's (the records are decoded here only, a client's mistake, not on the usual path).
 */
function createTime(records: Buffer, pos: number): void {
  // CreateTime first, so that the records decode with their own timestamps
  setBatchMaxTimestampAndCreateTime(records, pos, batchMaxTimestamp(records, pos));
  let max = -1;
  forEachRecord(
    records,
    pos,
    ({ timestamp }) => {
      if (timestamp > max) max = timestamp;
    },
    { verifyCrc: false },
  );
  setBatchMaxTimestampAndCreateTime(records, pos, max);
}

/**
 * Patches validated batches in place. assign: offsets from firstOffset, partitionLeaderEpoch
 * set to epoch, LogAppendTime stamped when logAppendTime >= 0; otherwise the batches keep
 * their offsets and epochs. Fills in the offsets of v.producerBatches.
 */
export function assignOffsets(
  records: Buffer,
  v: ValidatedAppend,
  opts: { assign: boolean; firstOffset: number; epoch: number; logAppendTime: number; latestEpoch: number },
): StampedAppend {
  const end = records.length;
  let maxTimestamp = -1;
  let lastOffset = opts.firstOffset - 1;
  let newestEpoch = opts.latestEpoch;
  let newEpochs: [number, number][] | null = null;
  let pos = 0;
  let pb = 0;
  while (pos < end) {
    const size = batchSize(records, pos);
    if (opts.assign) {
      setBatchBaseOffset(records, pos, lastOffset + 1);
      setBatchPartitionLeaderEpoch(records, pos, opts.epoch);
      if (opts.logAppendTime >= 0) setBatchMaxTimestampAndLogAppendTime(records, pos, opts.logAppendTime);
      else if (batchTimestampType(records, pos) === 1) createTime(records, pos);
    }
    const base = batchBaseOffset(records, pos);
    lastOffset = base + batchLastOffsetDelta(records, pos);
    const ts = batchMaxTimestamp(records, pos);
    if (ts > maxTimestamp) maxTimestamp = ts;
    if (v.producerBatches !== null && batchProducerId(records, pos) >= 0) {
      const b = v.producerBatches[pb++]!;
      b.firstOffset = base;
      b.lastOffset = lastOffset;
      b.maxTimestamp = ts;
    }
    const batchEpoch = batchPartitionLeaderEpoch(records, pos);
    if (batchEpoch > newestEpoch) {
      newestEpoch = batchEpoch;
      if (newEpochs === null) newEpochs = [];
      newEpochs.push([batchEpoch, base]);
    }
    pos += size;
  }
  return { firstOffset: opts.firstOffset, lastOffset, maxTimestamp, newEpochs };
}

/**
 * message.timestamp.before.max.ms / after.max.ms (CreateTime only): every record's timestamp
 * must lie in [now - before, now + after]. Decodes the records (decompressing), so the log calls
 * it only when a bound is set; throws LogError INVALID_TIMESTAMP naming the first record outside.
 */
export function checkTimestamps(
  records: Buffer,
  ctx: { now: number; beforeMaxMs: number; afterMaxMs: number; where: string },
): void {
  const low = ctx.now - ctx.beforeMaxMs;
  const high = ctx.now + ctx.afterMaxMs;
  for (let pos = 0; pos + LOG_OVERHEAD <= records.length; pos += batchSize(records, pos)) {
    let index = 0;
    // Every record outside is named, as Kafka's record_errors do; the message names the first.
    const refused: RecordError[] = [];
    let first = '';
    try {
      forEachRecord(
        records,
        pos,
        ({ timestamp }) => {
          // NO_TIMESTAMP (-1) is not checked, as in Kafka
          if (timestamp !== -1 && (timestamp < low || timestamp > high)) {
            const [bound, maxMs, side] =
              timestamp < low
                ? ['before.max.ms', ctx.beforeMaxMs, 'before']
                : ['after.max.ms', ctx.afterMaxMs, 'after'];
            if (refused.length === 0) {
              first =
                `${ctx.where}: record ${index} of a batch has timestamp ${timestamp}${isoDate(timestamp)}, ` +
                `more than message.timestamp.${bound} (${maxMs} ms) ${side} the broker clock ` +
                `(${new Date(ctx.now).toISOString()}); fix the producer's clock or timestamps (milliseconds since the epoch), or raise the topic config`;
            }
            refused.push({
              batchIndex: index,
              message: `timestamp ${timestamp} is more than ${maxMs} ms ${side} the broker clock (${ctx.now}; message.timestamp.${bound})`,
            });
          }
          index++;
        },
        { verifyCrc: false },
      );
    } catch (err) {
      if (err instanceof CorruptRecordError)
        throw new LogError('CORRUPT_MESSAGE', `${ctx.where}: ${err.message}`);
      throw err;
    }
    if (refused.length > 0) throw new LogError('INVALID_TIMESTAMP', first, { recordErrors: refused });
  }
}

/** " (2026-11-24T…Z)" for a timestamp a Date can show; nothing for one it cannot (e.g. nanoseconds). */
function isoDate(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : ` (${d.toISOString()})`;
}
