/**
 * Opening a partition directory: crash recovery (Kafka's `LogLoader`).
 *
 * 1. Leftovers of interrupted operations: `*.tmp`, `*.cleaned` and `*.deleted` files are
 *    deleted. A `<base>.log.swap` is a finished replacement (written and fsynced before it got
 *    that name), so the swap is completed, as Kafka does: every live segment whose base offset
 *    lies in [base, the swap's next offset) is deleted and the swap is renamed to `<base>.log`
 *    (its indexes are rebuilt). Index files without a log are deleted.
 * 2. Segments below the one holding the recovery point were fsynced before the point was
 *    recorded: they are trusted and opened lazily. From the batch holding the recovery point
 *    (from the first segment when there is none) to the end, every batch is validated
 *    (framing, magic, CRC-32C, increasing offsets, an epoch no newer than the checkpoint's);
 *    the log is truncated at the first bad or incomplete byte and any later segment is deleted.
 *    Corrupt or missing indexes are rebuilt. A corrupt batch is never served.
 * 3. The log end offset is the last good batch's lastOffset + 1; the log start offset the
 *    largest of the first segment's base offset, the caller's checkpoint and our own
 *    `log-start-offset` file, at most the log end offset. The leader epoch cache is truncated to
 *    the log (rebuilt from batch headers when its checkpoint is missing or corrupt), and
 *    producer state is loaded from the latest snapshot at or below the log end and brought up
 *    to date from the batch headers after it.
 *
 * Concurrency: runs once, synchronously, before the PartitionLog is handed out.
 */
import * as path from 'node:path';
import type { Clock } from '../env/clock.js';
import type { FileSystem } from '../env/fs.js';
import {
  batchBaseOffset,
  batchBaseSequence,
  batchLastOffset,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchPartitionLeaderEpoch,
  batchProducerEpoch,
  batchProducerId,
  CURRENT_MAGIC,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
} from '../records/index.js';
import {
  logFileName,
  PARTITION_LOG_START_OFFSET_FILE,
  parseSegmentFileName,
  TMP_FILE_SUFFIX,
} from './files.js';
import { type EpochEntry, LeaderEpochFileCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { ProducerStateManager } from './producer-state.js';
import { LogSegment, type SegmentConfig } from './segment.js';

export interface RecoveryReport {
  /** Bytes cut from the tail (torn or corrupt batches and anything after them). */
  truncatedBytes: number;
  /** Segments deleted because they followed a corrupt one. */
  deletedSegments: number;
  /** Interrupted segment swaps completed. */
  completedSwaps: number;
  /** What was found wrong, for the operator's log. */
  problems: string[];
}

export interface LoadedLog {
  segments: LogSegment[];
  logStartOffset: number;
  logEndOffset: number;
  /** Everything below is known to be fsynced. */
  recoveryPoint: number;
  epochCache: LeaderEpochFileCache;
  producers: ProducerStateManager;
  report: RecoveryReport;
}

export function segmentConfigOf(config: LogConfig): SegmentConfig {
  return { indexIntervalBytes: config['index.interval.bytes'], maxIndexBytes: config['segment.index.bytes'] };
}

export function loadLog(opts: {
  fs: FileSystem;
  dir: string;
  config: LogConfig;
  clock: Clock;
  recoveryPoint?: number;
  logStartOffset?: number;
}): LoadedLog {
  const { fs, dir, clock } = opts;
  const report: RecoveryReport = { truncatedBytes: 0, deletedSegments: 0, completedSwaps: 0, problems: [] };
  fs.mkdirp(dir);
  report.completedSwaps = cleanUpTransientFiles(fs, dir, report.problems);

  const segCfg = segmentConfigOf(opts.config);
  const now = clock.now();
  const bases: number[] = [];
  const indexFiles: { name: string; base: number }[] = [];
  for (const name of fs.readdir(dir)) {
    const parsed = parseSegmentFileName(name);
    if (parsed === null || parsed.suffix !== '') continue;
    if (parsed.kind === 'log') bases.push(parsed.baseOffset);
    else if (parsed.kind === 'index' || parsed.kind === 'timeindex')
      indexFiles.push({ name, base: parsed.baseOffset });
  }
  bases.sort((a, b) => a - b);
  const live = new Set(bases);
  for (const f of indexFiles) if (!live.has(f.base)) fs.unlink(path.join(dir, f.name));

  const segments = bases.map((b) => LogSegment.open(fs, dir, b, segCfg, now));
  const loadedEpochs = LeaderEpochFileCache.load(fs, dir);
  const epochCache = loadedEpochs.cache;
  if (loadedEpochs.problem !== null) report.problems.push(loadedEpochs.problem);
  const checkpointEpoch = loadedEpochs.intact ? epochCache.latestEpoch : Number.POSITIVE_INFINITY;
  const checkEpoch = (buf: Buffer, pos: number): string | null => {
    const epoch = batchPartitionLeaderEpoch(buf, pos);
    return epoch > checkpointEpoch
      ? `batch at offset ${batchBaseOffset(buf, pos)} has leader epoch ${epoch}, newer than any the log assigned (${checkpointEpoch})`
      : null;
  };

  const rp = opts.recoveryPoint;
  /** Base offset of the segment recovery cut, if it did: that truncation is not durable yet. */
  let cutBase = Number.POSITIVE_INFINITY;
  if (segments.length === 0) {
    segments.push(LogSegment.create(fs, dir, Math.max(0, opts.logStartOffset ?? 0), segCfg, now));
  } else {
    let k = 0;
    if (rp !== undefined) {
      while (k + 1 < segments.length && segments[k + 1]!.baseOffset <= rp) k++;
    }
    for (let i = k; i < segments.length; i++) {
      const seg = segments[i]!;
      const from = i === k && rp !== undefined ? rp : seg.baseOffset;
      const r = seg.recover(from, checkEpoch);
      let cut = r.truncatedBytes > 0;
      if (cut) {
        report.truncatedBytes += r.truncatedBytes;
        report.problems.push(
          `${path.join(dir, logFileName(seg.baseOffset))}: ${r.problem ?? 'bad data'}; truncated ${r.truncatedBytes} bytes at offset ${seg.nextOffset}`,
        );
      }
      const next = segments[i + 1];
      if (!cut && next !== undefined && next.baseOffset < seg.nextOffset) {
        report.problems.push(
          `segment ${next.baseOffset} overlaps segment ${seg.baseOffset}, which ends at offset ${seg.nextOffset}`,
        );
        cut = true;
      }
      // Unsynced writes are lost per file: a later segment may have kept its bytes while this one
      // lost its tail (or all of it). The log rolled only after appending up to next's base, so a
      // gap before it, above the recovery point, is lost data; the later segments go too, rather
      // than leave a hole in the log. (Not in a compacted log, and not below the recovery point:
      // cleaned segments may end early.)
      const compacted = opts.config['cleanup.policy'].includes('compact');
      if (
        !cut &&
        !compacted &&
        rp !== undefined &&
        next !== undefined &&
        seg.nextOffset >= rp &&
        next.baseOffset > seg.nextOffset
      ) {
        report.problems.push(
          `segment ${seg.baseOffset} ends at offset ${seg.nextOffset}, before the next segment's base ${next.baseOffset}`,
        );
        cut = true;
      }
      if (cut) {
        cutBase = seg.baseOffset;
        for (const later of segments.splice(i + 1)) {
          report.truncatedBytes += later.sizeBytes;
          report.deletedSegments++;
          later.deleteFiles();
        }
        break;
      }
    }
  }
  // Empty segments after the first (a crash during a roll, or a tail truncated to nothing) hold
  // no offsets: dropping them makes the log end right after the last good batch.
  for (let i = segments.length - 1; i > 0; i--) {
    if (segments[i]!.sizeBytes === 0) {
      segments[i]!.deleteFiles();
      segments.splice(i, 1);
    }
  }
  const active = segments[segments.length - 1]!;
  active.onBecomeActive();
  const logEndOffset = active.nextOffset;

  let logStartOffset = Math.max(
    segments[0]!.baseOffset,
    opts.logStartOffset ?? 0,
    readLogStartOffset(fs, dir),
  );
  if (logStartOffset > logEndOffset) logStartOffset = logEndOffset;

  if (!loadedEpochs.intact && logEndOffset > segments[0]!.baseOffset) {
    epochCache.replaceAll(epochsFromBatches(segments));
  } else {
    epochCache.truncateFromEnd(logEndOffset);
  }
  epochCache.truncateFromStart(logStartOffset);

  const producers = new ProducerStateManager(fs, dir);
  replayProducerState(producers, segments, logEndOffset);

  // A cut (a truncation) reaches the disk with the next fsync of its segment; until then a power
  // loss can bring the cut bytes back, so the recovery point stays at that segment's start (the
  // next recovery validates it again rather than trust it once a later segment exists).
  const recoveryPoint = Math.min(rp ?? segments[0]!.baseOffset, logEndOffset, cutBase);
  return { segments, logStartOffset, logEndOffset, recoveryPoint, epochCache, producers, report };
}

/**
 * Producer state as of endOffset: the latest snapshot at or below it (later ones are deleted),
 * then every batch header after it.
 */
export function replayProducerState(
  producers: ProducerStateManager,
  segments: readonly LogSegment[],
  endOffset: number,
): void {
  const snapshot = producers.loadLatestSnapshot(endOffset);
  const from = snapshot >= 0 ? snapshot : segments[0]!.baseOffset;
  for (let i = 0; i < segments.length; i++) {
    const nextBase = segments[i + 1]?.baseOffset ?? Number.POSITIVE_INFINITY;
    if (nextBase <= from) continue;
    segments[i]!.walkBatches(from, (buf, p) => {
      const producerId = batchProducerId(buf, p);
      if (producerId >= 0) {
        producers.update({
          producerId,
          producerEpoch: batchProducerEpoch(buf, p),
          baseSequence: batchBaseSequence(buf, p),
          lastOffsetDelta: batchLastOffsetDelta(buf, p),
          firstOffset: batchBaseOffset(buf, p),
          lastOffset: batchLastOffset(buf, p),
          maxTimestamp: batchMaxTimestamp(buf, p),
        });
      }
      return true;
    });
  }
}

/** Epoch entries implied by the batches' partitionLeaderEpoch (each newer epoch starts at its first batch). */
function epochsFromBatches(segments: readonly LogSegment[]): EpochEntry[] {
  const out: EpochEntry[] = [];
  let latest = -1;
  for (const seg of segments) {
    seg.walkBatches(seg.baseOffset, (buf, p) => {
      const epoch = batchPartitionLeaderEpoch(buf, p);
      if (epoch > latest) {
        latest = epoch;
        out.push({ epoch, startOffset: batchBaseOffset(buf, p) });
      }
      return true;
    });
  }
  return out;
}

/** Step 1: deletes leftovers, completes swaps. Returns the number of swaps completed. */
function cleanUpTransientFiles(fs: FileSystem, dir: string, problems: string[]): number {
  const swaps: number[] = [];
  for (const name of fs.readdir(dir)) {
    if (name.endsWith(TMP_FILE_SUFFIX)) {
      fs.unlink(path.join(dir, name));
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (parsed === null || parsed.suffix === '') continue;
    if (parsed.suffix === '.swap' && parsed.kind === 'log') swaps.push(parsed.baseOffset);
    else fs.unlink(path.join(dir, name));
  }
  swaps.sort((a, b) => a - b);
  for (const base of swaps) {
    const swapPath = path.join(dir, logFileName(base, '.swap'));
    const end = Math.max(swapNextOffset(fs, swapPath, base), base + 1);
    for (const name of fs.readdir(dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed === null || parsed.suffix !== '' || parsed.kind === 'snapshot') continue;
      if (parsed.baseOffset >= base && parsed.baseOffset < end) fs.unlink(path.join(dir, name));
    }
    fs.rename(swapPath, path.join(dir, logFileName(base)));
    problems.push(`completed an interrupted segment swap at offset ${base}`);
  }
  if (swaps.length > 0) fs.syncDir(dir);
  return swaps.length;
}

/** lastOffset + 1 of the last plausible batch of a swap file (headers only); base when none. */
function swapNextOffset(fs: FileSystem, file: string, base: number): number {
  const fh = fs.open(file, { readOnly: true });
  try {
    const size = fh.size();
    const h = Buffer.allocUnsafe(HEADER_SIZE);
    let pos = 0;
    let next = base;
    while (pos + HEADER_SIZE <= size) {
      if (fh.read(h, 0, HEADER_SIZE, pos) !== HEADER_SIZE) break;
      const length = h.readInt32BE(8);
      if (length < MIN_BATCH_LENGTH || pos + LOG_OVERHEAD + length > size || h.readInt8(16) !== CURRENT_MAGIC)
        break;
      next = batchLastOffset(h, 0) + 1;
      pos += LOG_OVERHEAD + length;
    }
    return next;
  } finally {
    fh.close();
  }
}

/** The log start offset recorded by DeleteRecords in the partition directory; 0 when none. */
export function readLogStartOffset(fs: FileSystem, dir: string): number {
  const file = path.join(dir, PARTITION_LOG_START_OFFSET_FILE);
  if (!fs.exists(file)) return 0;
  try {
    const text = fs.readFile(file).toString('utf8');
    const m = /^0\n1\n\S+ \d+ (\d{1,16})\n$/.exec(text);
    const n = m === null ? Number.NaN : Number(m[1]);
    return Number.isSafeInteger(n) ? n : 0;
  } catch {
    return 0;
  }
}

/** Persists the log start offset (Kafka's checkpoint format with one entry), atomically. */
export function writeLogStartOffset(
  fs: FileSystem,
  dir: string,
  topic: string,
  partition: number,
  offset: number,
): void {
  fs.writeFileAtomic(
    path.join(dir, PARTITION_LOG_START_OFFSET_FILE),
    Buffer.from(`0\n1\n${topic} ${partition} ${offset}\n`, 'utf8'),
  );
}
