/**
 * File names of the log, in one place (Kafka's `LogFileUtils`).
 *
 * A partition lives in the directory `<topic>-<partition>` (topic names never hold a character
 * that would make this ambiguous: the partition is what follows the last '-'). In it, each
 * segment is a group of files named by the segment's base offset, zero-padded to 20 digits so
 * that names sort as offsets do:
 *
 *   00000000000000368769.log         record batches (RecordBatch v2 bytes, back to back)
 *   00000000000000368769.index       offset index (8-byte entries)
 *   00000000000000368769.timeindex   time index (12-byte entries)
 *   00000000000000368769.snapshot    producer state as of that offset
 *   leader-epoch-checkpoint          leader epoch → start offset
 *   log-start-offset                 the log start offset, when DeleteRecords moved it
 *
 * Transient suffixes appended to a whole name (`….log.cleaned`):
 *   .cleaned   a segment the cleaner is writing; deleted on recovery
 *   .swap      a finished replacement segment about to replace old ones; completed on recovery
 *   .deleted   a segment scheduled for deletion; deleted on recovery
 *   .tmp       a file being written atomically; deleted on recovery
 */

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const PRODUCER_SNAPSHOT_FILE_SUFFIX = '.snapshot';
export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';
export const DELETED_FILE_SUFFIX = '.deleted';
export const TMP_FILE_SUFFIX = '.tmp';
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const PARTITION_LOG_START_OFFSET_FILE = 'log-start-offset';

/** Offsets are int64 in Kafka; ours are JavaScript numbers, exact up to 2^53 - 1. */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
const OFFSET_DIGITS = 20;

export type SegmentFileKind = 'log' | 'index' | 'timeindex' | 'snapshot';
export type TransientSuffix = '' | '.cleaned' | '.swap' | '.deleted';

const KIND_SUFFIX: Readonly<Record<SegmentFileKind, string>> = {
  log: LOG_FILE_SUFFIX,
  index: INDEX_FILE_SUFFIX,
  timeindex: TIME_INDEX_FILE_SUFFIX,
  snapshot: PRODUCER_SNAPSHOT_FILE_SUFFIX,
};

/** 368769 → "00000000000000368769". */
export function filenamePrefixFromOffset(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
  return String(offset).padStart(OFFSET_DIGITS, '0');
}

/** The name (not the path) of a segment file. */
export function segmentFileName(
  baseOffset: number,
  kind: SegmentFileKind,
  suffix: TransientSuffix = '',
): string {
  return `${filenamePrefixFromOffset(baseOffset)}${KIND_SUFFIX[kind]}${suffix}`;
}

export function logFileName(baseOffset: number, suffix: TransientSuffix = ''): string {
  return segmentFileName(baseOffset, 'log', suffix);
}
export function indexFileName(baseOffset: number, suffix: TransientSuffix = ''): string {
  return segmentFileName(baseOffset, 'index', suffix);
}
export function timeIndexFileName(baseOffset: number, suffix: TransientSuffix = ''): string {
  return segmentFileName(baseOffset, 'timeindex', suffix);
}
export function producerSnapshotFileName(offset: number): string {
  return segmentFileName(offset, 'snapshot');
}

export interface ParsedSegmentFileName {
  baseOffset: number;
  kind: SegmentFileKind;
  suffix: TransientSuffix;
}

const SEGMENT_FILE_RE = /^(\d{20})\.(log|index|timeindex|snapshot)(\.cleaned|\.swap|\.deleted)?$/;

/** Parses "00000000000000000042.index.swap"; null for any other name. */
export function parseSegmentFileName(name: string): ParsedSegmentFileName | null {
  const m = SEGMENT_FILE_RE.exec(name);
  if (m === null) return null;
  const baseOffset = Number(m[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, kind: m[2] as SegmentFileKind, suffix: (m[3] ?? '') as TransientSuffix };
}

/** "orders", 3 → "orders-3". */
export function partitionDirName(topic: string, partition: number): string {
  if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`invalid partition ${partition}`);
  return `${topic}-${partition}`;
}

/** "orders-3" → { topic: "orders", partition: 3 }; null when the name is not a partition directory. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0 || dash === name.length - 1) return null;
  const digits = name.slice(dash + 1);
  if (!/^\d{1,10}$/.test(digits)) return null;
  const partition = Number(digits);
  if (partition > 0x7fffffff) return null;
  const topic = name.slice(0, dash);
  if (!/^[a-zA-Z0-9._-]+$/.test(topic)) return null;
  return { topic, partition };
}
