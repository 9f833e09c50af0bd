/**
 * PartitionLog: the log of one partition (Kafka's `UnifiedLog` + `LocalLog`, kept small): an
 * ordered list of segments of which the last is active, plus the offsets that bound it.
 *
 *   logStartOffset <= highWatermark <= logEndOffset          flushedOffset <= logEndOffset
 *
 * Files: the partition directory (`<topic>-<partition>`, see files.ts) holds the segments, the
 * producer snapshots, `leader-epoch-checkpoint` and `log-start-offset`.
 *
 * Appends validate every batch of the buffer first (framing, magic 2, CRC-32C, size limits,
 * producer sequences); one bad batch refuses the whole append and leaves the log unchanged.
 * They then patch baseOffset, partitionLeaderEpoch and (LogAppendTime) maxTimestamp in place,
 * in the caller's buffer, and write all the bytes with one write to the active segment. Records
 * are never decoded on this path. Reads return whole batches as slices of one read per segment.
 *
 * Durability: appends go to the page cache; flush() fsyncs them (group commit: callers arriving
 * while an fdatasync runs share the next one) and advances flushedOffset, the recovery point the
 * log manager checkpoints. `flush.messages` triggers a flush from append; `flush.ms` is the log
 * manager's timer. close() does not fsync: await flush() first for a clean shutdown.
 *
 * Concurrency: single-threaded. Every method is synchronous and runs to completion on the event
 * loop, so readers always see whole appends; only flush() awaits (fdatasync in the thread pool),
 * and appends, reads and truncations may run meanwhile. A failed fdatasync takes the log offline
 * (KAFKA_STORAGE_ERROR on every later call), as Kafka does with a failed log directory.
 */
import * as path from 'node:path';
import { type Clock, systemClock } from '../env/clock.js';
import { type FileSystem, nodeFileSystem } from '../env/fs.js';
import { type Random, systemRandom } from '../env/random.js';
import { batchBaseOffset, batchLastOffsetDelta, LOG_OVERHEAD, validateBatch } from '../records/index.js';
import { LogError } from './errors.js';
import { logFileName } from './files.js';
import { GroupCommit } from './group-commit.js';
import type { LeaderEpochFileCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import {
  loadLog,
  type RecoveryReport,
  replayProducerState,
  segmentConfigOf,
  writeLogStartOffset,
} from './log-loader.js';
import { assignOffsets, checkTimestamps, validateAppend } from './log-validator.js';
import type { ProducerStateManager } from './producer-state.js';
import type { ReadBufferPool } from './read-buffers.js';
import { LogSegment, MAX_RELATIVE_OFFSET } from './segment.js';

export type { RecoveryReport } from './log-loader.js';

export interface LogAppendResult {
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** -1 unless message.timestamp.type=LogAppendTime. */
  logAppendTime: number;
  recordCount: number;
  batchCount: number;
  logStartOffset: number;
  /** An idempotent retry: nothing was appended; offsets are the original ones. */
  duplicate: boolean;
}

export interface LogReadResult {
  /**
   * Whole batches in offset order. Each Buffer may hold many consecutive batches (one slice per
   * segment read); concatenated, they are the bytes of the log from the first batch whose
   * lastOffset >= fetchOffset.
   */
  records: Buffer[];
  sizeBytes: number;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface SegmentInfo {
  baseOffset: number;
  nextOffset: number;
  sizeBytes: number;
  largestTimestamp: number;
  createdMs: number;
  active: boolean;
}

export interface PartitionLogOptions {
  /** The partition directory itself (`<data dir>/<topic>-<partition>`); created when absent. */
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  fs?: FileSystem;
  clock?: Clock;
  /** Draws segment.jitter.ms per segment (default: the system's; simulations pass a seeded one). */
  random?: Random;
  /**
   * The flushedOffset checkpointed by the log manager: everything below it was fsynced, so
   * recovery validates only from the batch holding it to the end. Absent: validate everything
   * (an unclean shutdown with no checkpoint).
   */
  recoveryPoint?: number;
  /** The log manager's checkpointed log start offset (the larger of it and ours wins). */
  logStartOffset?: number;
  /** Initial high watermark (a replica's checkpoint); default: the log end offset. */
  highWatermark?: number;
}

/** Largest buffer one append may carry (the index positions are int32). */
const MAX_APPEND_BYTES = 0x7fffffff;
/** Kafka's Long.MAX_VALUE ("no bound") in log configs. */
const UNLIMITED_MS = Number.MAX_SAFE_INTEGER;
const noop = (): void => {};

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  /** What recovery found and did when the log was opened. */
  readonly recovery: RecoveryReport;

  private cfg: LogConfig;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly random: Random;
  private segments: LogSegment[];
  private startOffset: number;
  private endOffset: number;
  private hw: number;
  private flushed: number;
  private readonly epochs: LeaderEpochFileCache;
  private readonly producers: ProducerStateManager;
  private offline: LogError | null = null;
  private closed = false;
  /** Bumped by truncations: a flush that raced one must not advance flushedOffset past it. */
  private truncations = 0;
  private readonly commits = new GroupCommit({
    endOffset: () => this.endOffset,
    needsSync: () => this.endOffset > this.flushed || this.segments.some((s) => s.needsFlush),
    sync: (target) => this.syncSegments(target),
    onIdle: () => this.deleteRetired(),
  });
  /** Segments removed from the log whose files wait for the running fdatasync to finish. */
  private retired: LogSegment[] = [];
  /** segment.jitter.ms drawn for the active segment (by its base offset), as Kafka draws one per segment. */
  private jitter = { baseOffset: -1, ms: 0 };

  private constructor(opts: PartitionLogOptions) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.dir = opts.dir;
    this.cfg = opts.config;
    this.fs = opts.fs ?? nodeFileSystem;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
    const loaded = loadLog({
      fs: this.fs,
      dir: this.dir,
      config: this.cfg,
      clock: this.clock,
      ...(opts.recoveryPoint === undefined ? {} : { recoveryPoint: opts.recoveryPoint }),
      ...(opts.logStartOffset === undefined ? {} : { logStartOffset: opts.logStartOffset }),
    });
    this.segments = loaded.segments;
    this.startOffset = loaded.logStartOffset;
    this.endOffset = loaded.logEndOffset;
    this.flushed = loaded.recoveryPoint;
    this.epochs = loaded.epochCache;
    this.producers = loaded.producers;
    this.recovery = loaded.report;
    this.hw = clamp(opts.highWatermark ?? this.endOffset, this.startOffset, this.endOffset);
  }

  /** Opens (creating when absent) and recovers the log of a partition directory. */
  static open(opts: PartitionLogOptions): PartitionLog {
    try {
      return new PartitionLog(opts);
    } catch (err) {
      if (err instanceof LogError) throw err;
      throw new LogError(
        'KAFKA_STORAGE_ERROR',
        `cannot open the log in ${opts.dir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  get config(): LogConfig {
    return this.cfg;
  }

  updateConfig(c: LogConfig): void {
    this.cfg = c;
    const sc = segmentConfigOf(c);
    for (const s of this.segments) s.updateConfig(sc);
  }

  get logStartOffset(): number {
    return this.startOffset;
  }
  get logEndOffset(): number {
    return this.endOffset;
  }
  get highWatermark(): number {
    return this.hw;
  }
  /** Everything below is fsynced (the recovery point). */
  get flushedOffset(): number {
    return this.flushed;
  }
  get sizeBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.sizeBytes;
    return n;
  }
  get numberOfSegments(): number {
    return this.segments.length;
  }
  get isOffline(): boolean {
    return this.offline !== null;
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  // ---- append ------------------------------------------------------------------------------

  /**
   * Appends the record batches in `records` (one produce request's or fetch response's worth).
   * assignOffsets (default true) is the leader path: offsets are assigned from logEndOffset,
   * batches are stamped with leaderEpoch (default: the latest epoch, or 0) and producer
   * sequences are checked. false is the follower path: the batches keep their offsets (which
   * must be >= logEndOffset and increasing) and epochs. The buffer is patched in place.
   */
  append(records: Buffer, opts?: { assignOffsets?: boolean; leaderEpoch?: number }): LogAppendResult {
    this.checkUsable();
    const assign = opts?.assignOffsets ?? true;
    const now = this.clock.now();
    const end = records.length;
    if (end > MAX_APPEND_BYTES) {
      throw new LogError(
        'RECORD_LIST_TOO_LARGE',
        `an append of ${end} bytes is larger than ${MAX_APPEND_BYTES}`,
      );
    }
    // 1. Validate every batch before touching anything.
    const v = validateAppend(records, {
      assignOffsets: assign,
      logEndOffset: this.endOffset,
      maxMessageBytes: this.cfg['max.message.bytes'],
      where: `${this.topic}-${this.partition}`,
    });
    if (v.batchCount === 0) return this.appendResult(this.endOffset, this.endOffset - 1, -1, -1, 0, 0, false);
    if (end > this.cfg['segment.bytes']) {
      throw new LogError(
        'RECORD_LIST_TOO_LARGE',
        `an append of ${end} bytes to ${this.topic}-${this.partition} exceeds segment.bytes (${this.cfg['segment.bytes']})`,
      );
    }
    if (assign && this.cfg['message.timestamp.type'] === 'CreateTime') {
      // Kafka: an explicit before/after bound wins; the deprecated difference fills a side left unset.
      const diff = this.cfg['message.timestamp.difference.max.ms'];
      const before = this.cfg['message.timestamp.before.max.ms'];
      const after = this.cfg['message.timestamp.after.max.ms'];
      const beforeMaxMs = before !== UNLIMITED_MS ? before : diff;
      const afterMaxMs = after !== UNLIMITED_MS ? after : diff;
      if (beforeMaxMs < UNLIMITED_MS || afterMaxMs < UNLIMITED_MS) {
        checkTimestamps(records, { now, beforeMaxMs, afterMaxMs, where: `${this.topic}-${this.partition}` });
      }
    }
    // 2. Producer sequences (leader path): a retry of a recent batch appends nothing.
    if (assign && v.producerBatches !== null) {
      const dup = this.producers.checkAppend(v.producerBatches);
      if (dup !== null) {
        const count = dup.lastOffset - dup.firstOffset + 1;
        return this.appendResult(dup.firstOffset, dup.lastOffset, dup.maxTimestamp, -1, count, 1, true);
      }
    }
    // 3. Patch offsets, epochs, timestamps.
    const logAppendTime = assign && this.cfg['message.timestamp.type'] === 'LogAppendTime' ? now : -1;
    const stamped = assignOffsets(records, v, {
      assign,
      firstOffset: assign ? this.endOffset : batchBaseOffset(records, 0),
      epoch: opts?.leaderEpoch ?? Math.max(this.epochs.latestEpoch, 0),
      logAppendTime,
      latestEpoch: this.epochs.latestEpoch,
    });
    // 4. Roll when needed, record new leader epochs (before the data they describe), one write.
    const seg = this.maybeRoll(end, v.batchCount, stamped.firstOffset, stamped.lastOffset, now);
    if (stamped.newEpochs !== null) for (const [e, o] of stamped.newEpochs) this.epochs.assign(e, o);
    try {
      seg.append(records, 0, end, now);
    } catch (err) {
      this.epochs.truncateFromEnd(this.endOffset);
      throw this.storageError(`append to ${logFileName(seg.baseOffset)}`, err, false);
    }
    this.endOffset = stamped.lastOffset + 1;
    if (v.producerBatches !== null) for (const b of v.producerBatches) this.producers.update(b);
    if (this.endOffset - this.flushed >= this.cfg['flush.messages']) this.flush().catch(noop);
    const { firstOffset, lastOffset, maxTimestamp } = stamped;
    return this.appendResult(
      firstOffset,
      lastOffset,
      maxTimestamp,
      logAppendTime,
      v.recordCount,
      v.batchCount,
      false,
    );
  }

  private appendResult(
    firstOffset: number,
    lastOffset: number,
    maxTimestamp: number,
    logAppendTime: number,
    recordCount: number,
    batchCount: number,
    duplicate: boolean,
  ): LogAppendResult {
    const logStartOffset = this.startOffset;
    return {
      firstOffset,
      lastOffset,
      maxTimestamp,
      logAppendTime,
      recordCount,
      batchCount,
      logStartOffset,
      duplicate,
    };
  }

  /** The segment to append to: rolls first when the append would not fit or the segment is too old. */
  private maybeRoll(
    sizeBytes: number,
    batches: number,
    firstOffset: number,
    lastOffset: number,
    now: number,
  ): LogSegment {
    const seg = this.active;
    const tooOld = seg.sizeBytes > 0 && now - seg.rollBaseMs() > this.cfg['segment.ms'] - this.rollJitterMs();
    const fits = seg.canFit(sizeBytes, batches, lastOffset, this.cfg['segment.bytes']);
    // A follower append that skips offsets may start beyond what int32 relative offsets reach.
    const reachable = firstOffset - seg.baseOffset <= MAX_RELATIVE_OFFSET;
    if (!tooOld && fits && reachable) return seg;
    return this.rollAt(Math.max(firstOffset, this.endOffset));
  }

  /** How much earlier than segment.ms the active segment rolls: random in [0, segment.jitter.ms). */
  private rollJitterMs(): number {
    const max = Math.min(this.cfg['segment.jitter.ms'], this.cfg['segment.ms']);
    if (max <= 0) return 0;
    const base = this.active.baseOffset;
    if (this.jitter.baseOffset !== base) this.jitter = { baseOffset: base, ms: this.random.int(max) };
    return this.jitter.ms;
  }

  /** Closes the active segment and starts a new one at logEndOffset. */
  roll(): void {
    this.checkUsable();
    this.rollAt(this.endOffset);
  }

  private rollAt(baseOffset: number): LogSegment {
    const old = this.active;
    if (old.sizeBytes === 0) {
      if (old.baseOffset === baseOffset) return old;
      // An empty active segment is replaced rather than left behind.
      this.segments.pop();
      this.retire(old, true);
    } else {
      old.onBecomeInactive();
    }
    try {
      this.producers.removeExpired(this.clock.now());
      this.producers.takeSnapshot(baseOffset);
      const seg = LogSegment.create(
        this.fs,
        this.dir,
        baseOffset,
        segmentConfigOf(this.cfg),
        this.clock.now(),
      );
      this.segments.push(seg);
      return seg;
    } catch (err) {
      throw this.storageError(`roll to a new segment at offset ${baseOffset}`, err, true);
    }
  }

  // ---- read --------------------------------------------------------------------------------

  /**
   * Whole batches from the one holding fetchOffset, at most maxBytes in all (minOneBatch: the
   * first batch even when larger, Kafka's KIP-74), only batches wholly below maxOffset (default
   * logEndOffset; the high watermark for consumers). OFFSET_OUT_OF_RANGE when fetchOffset is
   * below logStartOffset or above logEndOffset. With `buffers`, the records are read into
   * memory leased from that pool (read-buffers.ts): the caller releases each Buffer of
   * `records` with releaseReadBuffer() once nothing references its bytes (or drops it).
   */
  read(
    fetchOffset: number,
    maxBytes: number,
    opts?: { maxOffset?: number; minOneBatch?: boolean; buffers?: ReadBufferPool },
  ): LogReadResult {
    this.checkUsable();
    if (
      !Number.isSafeInteger(fetchOffset) ||
      fetchOffset < this.startOffset ||
      fetchOffset > this.endOffset
    ) {
      throw new LogError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${fetchOffset} is out of range for ${this.topic}-${this.partition}: the log holds [${this.startOffset}, ${this.endOffset})`,
      );
    }
    const result: LogReadResult = {
      records: [],
      sizeBytes: 0,
      highWatermark: this.hw,
      logStartOffset: this.startOffset,
      logEndOffset: this.endOffset,
    };
    const maxOffset = Math.min(opts?.maxOffset ?? this.endOffset, this.endOffset);
    if (fetchOffset >= maxOffset) return result;
    let remaining = Math.max(0, maxBytes);
    let minOne = opts?.minOneBatch ?? false;
    for (let i = this.segmentIndexFor(fetchOffset); i < this.segments.length; i++) {
      const r = this.segments[i]!.read(fetchOffset, remaining, maxOffset, minOne, opts?.buffers);
      if (r === null) continue;
      if (r.records.length > 0) {
        result.records.push(r.records);
        result.sizeBytes += r.records.length;
        remaining -= r.records.length;
        minOne = false;
      }
      if (!r.reachedEnd || remaining <= 0) break;
    }
    return result;
  }

  /** The first record with timestamp >= ts (its offset and timestamp); null when there is none. */
  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    this.checkUsable();
    for (const seg of this.segments) {
      if (seg.nextOffset <= this.startOffset || seg.largestTimestamp < ts) continue;
      const r = seg.findOffsetByTimestamp(ts, this.startOffset);
      if (r !== null) return r;
    }
    return null;
  }

  // ---- durability ----------------------------------------------------------------------------

  /**
   * fsyncs everything appended so far. Group commit: a caller arriving while an fdatasync runs
   * waits for it when it covers its appends, else shares the next one with every other such
   * caller. Resolves once flushedOffset >= the logEndOffset at the call.
   */
  flush(): Promise<void> {
    if (this.offline !== null) return Promise.reject(this.offline);
    if (this.closed) return Promise.reject(this.closedError());
    return this.commits.flush();
  }

  /** One sync of every segment holding unsynced bytes (GroupCommitTarget.sync). */
  private async syncSegments(target: number): Promise<void> {
    const truncations = this.truncations;
    const segs = this.segments.filter((s) => s.needsFlush);
    try {
      await Promise.all(segs.map((s) => s.flush()));
    } catch (err) {
      throw this.storageError('fdatasync', err, true);
    }
    if (truncations === this.truncations)
      this.flushed = Math.max(this.flushed, Math.min(target, this.endOffset));
  }

  // ---- high watermark, truncation, deletion ----------------------------------------------

  /** Clamped to [logStartOffset, logEndOffset]. */
  setHighWatermark(offset: number): void {
    this.hw = clamp(offset, this.startOffset, this.endOffset);
  }

  /**
   * Removes everything at and after offset (a batch holding offset goes whole, so the log end
   * becomes the end of the last batch kept, which is offset itself when offset is a batch
   * boundary — always the case for replication).
   */
  truncateTo(offset: number): void {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`cannot truncate to offset ${offset}`);
    if (offset >= this.endOffset) return;
    if (offset < this.segments[0]!.baseOffset) {
      this.truncateFullyAndStartAt(offset);
      return;
    }
    this.truncations++;
    try {
      while (this.segments.length > 1 && this.active.baseOffset > offset) {
        this.retire(this.segments.pop()!, true);
      }
      this.active.truncateTo(offset);
      // An emptied segment holds no offsets: the log ends after the last batch kept (as on reopen).
      if (this.active.sizeBytes === 0 && this.segments.length > 1) this.retire(this.segments.pop()!, true);
      this.active.onBecomeActive();
      this.endOffset = this.active.nextOffset;
    } catch (err) {
      throw this.storageError(`truncate to offset ${offset}`, err, true);
    }
    if (this.startOffset > this.endOffset) {
      this.startOffset = this.endOffset;
      writeLogStartOffset(this.fs, this.dir, this.topic, this.partition, this.startOffset);
    }
    this.hw = clamp(this.hw, this.startOffset, this.endOffset);
    this.flushed = Math.min(this.flushed, this.endOffset);
    this.epochs.truncateFromEnd(this.endOffset);
    this.rebuildProducerState();
  }

  /** Deletes every segment and starts an empty log at offset (a follower far behind the leader's log start). */
  truncateFullyAndStartAt(offset: number): void {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`cannot start the log at offset ${offset}`);
    this.truncations++;
    try {
      for (const seg of this.segments.splice(0)) this.retire(seg, true);
      this.segments.push(
        LogSegment.create(this.fs, this.dir, offset, segmentConfigOf(this.cfg), this.clock.now()),
      );
      this.fs.syncDir(this.dir);
      this.startOffset = offset;
      this.endOffset = offset;
      this.hw = offset;
      this.flushed = offset;
      this.epochs.clear();
      this.producers.clear();
      this.producers.deleteSnapshotsOutside(Number.MAX_SAFE_INTEGER, -1);
      writeLogStartOffset(this.fs, this.dir, this.topic, this.partition, offset);
    } catch (err) {
      throw this.storageError(`truncate fully and start at ${offset}`, err, true);
    }
  }

  /**
   * DeleteRecords: moves logStartOffset up to offset (at most the high watermark) and persists
   * it. Segments wholly below it go at the next deleteOldSegments.
   */
  deleteRecordsBefore(offset: number): void {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset > this.hw) {
      throw new LogError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records of ${this.topic}-${this.partition} before offset ${offset}: it is beyond the high watermark ${this.hw}`,
      );
    }
    if (offset <= this.startOffset) return;
    this.startOffset = offset;
    this.epochs.truncateFromStart(offset);
    try {
      writeLogStartOffset(this.fs, this.dir, this.topic, this.partition, offset);
    } catch (err) {
      throw this.storageError('persist the log start offset', err, true);
    }
  }

  // ---- leader epochs -------------------------------------------------------------------------

  assignEpochStartOffset(epoch: number, startOffset: number): void {
    this.checkUsable();
    this.epochs.assign(epoch, startOffset);
  }

  /** Kafka's OffsetForLeaderEpoch answer; {-1, -1} when the epoch is unknown. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.epochs.endOffsetFor(epoch, this.endOffset);
  }

  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }

  /** The epoch cache entries, oldest first (for tests and diagnostics). */
  epochEntries(): { epoch: number; startOffset: number }[] {
    return this.epochs.epochEntries();
  }

  // ---- retention and cleaning ---------------------------------------------------------------

  segmentInfos(): SegmentInfo[] {
    this.checkUsable();
    return this.segments.map((s) => ({
      baseOffset: s.baseOffset,
      nextOffset: s.nextOffset,
      sizeBytes: s.sizeBytes,
      largestTimestamp: s.largestTimestamp,
      createdMs: s.rollBaseMs(),
      active: s.isActive,
    }));
  }

  /**
   * Deletes old closed segments from the start of the log: those wholly below logStartOffset,
   * and with cleanup.policy delete those older than retention.ms (by largest timestamp) or
   * beyond retention.bytes. Never the active segment, never data at or above the high
   * watermark. Returns the number of segments deleted.
   */
  deleteOldSegments(nowMs: number): number {
    this.checkUsable();
    const retentionMs = this.cfg['retention.ms'];
    const retentionBytes = this.cfg['retention.bytes'];
    const deletePolicy = this.cfg['cleanup.policy'] !== 'compact';
    let excessBytes = retentionBytes >= 0 ? this.sizeBytes - retentionBytes : -1;
    let n = 0;
    while (n < this.segments.length - 1) {
      const seg = this.segments[n]!;
      const upper = this.segments[n + 1]!.baseOffset;
      if (upper > this.hw) break;
      const belowStart = upper <= this.startOffset;
      const ts = seg.largestTimestamp >= 0 ? seg.largestTimestamp : seg.rollBaseMs();
      const expired = deletePolicy && retentionMs >= 0 && nowMs - ts > retentionMs;
      const oversize = deletePolicy && excessBytes >= seg.sizeBytes;
      if (!belowStart && !expired && !oversize) break;
      excessBytes -= seg.sizeBytes;
      n++;
    }
    if (n === 0) return 0;
    for (const seg of this.segments.splice(0, n)) this.retire(seg, true);
    const first = this.segments[0]!.baseOffset;
    if (first > this.startOffset) {
      this.startOffset = first;
      this.epochs.truncateFromStart(first);
    }
    this.producers.deleteSnapshotsOutside(first, Number.MAX_SAFE_INTEGER);
    return n;
  }

  /** All batch bytes of a closed segment. */
  readSegment(baseOffset: number): Buffer {
    this.checkUsable();
    const seg = this.segments.find((s) => s.baseOffset === baseOffset);
    if (seg === undefined)
      throw new LogError('OFFSET_OUT_OF_RANGE', `no segment with base offset ${baseOffset}`);
    return seg.readAll();
  }

  /**
   * Replaces consecutive closed segments by one holding `batches` (the cleaner's output: whole
   * batches, offsets preserved, increasing, within the replaced range), crash-safely: the new
   * segment is written and fsynced as `<base>.log.swap`, the old ones renamed `.deleted`, the
   * swap renamed live. A crash anywhere leaves the old segments or the new one (see log-loader.ts).
   */
  replaceSegments(oldBaseOffsets: number[], batches: Buffer[]): void {
    this.checkUsable();
    if (oldBaseOffsets.length === 0) return;
    const first = this.segments.findIndex((s) => s.baseOffset === oldBaseOffsets[0]);
    if (first < 0)
      throw new LogError('OFFSET_OUT_OF_RANGE', `no segment with base offset ${oldBaseOffsets[0]}`);
    for (let i = 0; i < oldBaseOffsets.length; i++) {
      const s = this.segments[first + i];
      if (s === undefined || s.baseOffset !== oldBaseOffsets[i]) {
        throw new LogError(
          'INVALID_RECORD',
          `segments ${oldBaseOffsets.join(', ')} are not consecutive segments of the log`,
        );
      }
      if (s.isActive) throw new LogError('INVALID_RECORD', 'the active segment cannot be replaced');
    }
    const base = oldBaseOffsets[0]!;
    const limit = this.segments[first + oldBaseOffsets.length]!.baseOffset;
    const data = Buffer.concat(batches);
    if (data.length > Math.min(MAX_APPEND_BYTES, this.cfg['segment.bytes'] * 2)) {
      throw new LogError(
        'RECORD_LIST_TOO_LARGE',
        `a replacement segment of ${data.length} bytes is too large`,
      );
    }
    let pos = 0;
    let next = base;
    while (pos < data.length) {
      const err = validateBatch(data, pos, data.length);
      if (err !== null) throw new LogError('CORRUPT_MESSAGE', `replacement segment: ${err.message}`);
      const b = batchBaseOffset(data, pos);
      const last = b + batchLastOffsetDelta(data, pos);
      if (b < next || last >= limit || last - base > MAX_RELATIVE_OFFSET) {
        throw new LogError(
          'INVALID_RECORD',
          `replacement batch [${b}, ${last}] is outside [${next}, ${limit})`,
        );
      }
      next = last + 1;
      pos += LOG_OVERHEAD + data.readInt32BE(pos + 8);
    }
    try {
      const live = path.join(this.dir, logFileName(base));
      const swap = path.join(this.dir, logFileName(base, '.swap'));
      this.fs.writeFileAtomic(swap, data);
      const old = this.segments.slice(first, first + oldBaseOffsets.length);
      for (const s of old) s.renameFiles('.deleted');
      this.fs.rename(swap, live);
      this.fs.syncDir(this.dir);
      const seg = LogSegment.open(this.fs, this.dir, base, segmentConfigOf(this.cfg), this.clock.now());
      seg.rebuildIndexes();
      this.segments.splice(first, old.length, seg);
      for (const s of old) this.retire(s, false, '.deleted');
    } catch (err) {
      throw this.storageError(`replace segments ${oldBaseOffsets.join(', ')}`, err, true);
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Snapshots producer state and closes the files. Does not fsync: await flush() first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.offline === null) this.producers.takeSnapshot(this.endOffset);
    } catch {
      // a missing snapshot only means a longer rescan at the next open
    }
    for (const s of this.segments) s.close();
    this.deleteRetired(true);
  }

  /** Closes the log and removes its directory. */
  delete(): void {
    this.close();
    this.fs.rmrf(this.dir);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Greatest segment index whose base offset <= offset (0 when offset is below all). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Takes a segment out of the log: renames its files `.deleted` (rename first when asked) and
   * removes them once no fdatasync may be using them.
   */
  private retire(seg: LogSegment, rename: boolean, suffix: '.deleted' = '.deleted'): void {
    if (rename) seg.renameFiles(suffix);
    this.retired.push(seg);
    if (!this.commits.syncing) this.deleteRetired();
  }

  private deleteRetired(force = false): void {
    if (!force && this.commits.syncing) return;
    for (const seg of this.retired.splice(0)) {
      try {
        seg.deleteFiles('.deleted');
      } catch {
        // left for the next open, which deletes *.deleted files
      }
    }
  }

  private rebuildProducerState(): void {
    this.producers.deleteSnapshotsOutside(0, this.endOffset);
    replayProducerState(this.producers, this.segments, this.endOffset);
  }

  private checkUsable(): void {
    if (this.offline !== null) throw this.offline;
    if (this.closed) throw this.closedError();
  }

  private closedError(): LogError {
    return new LogError('KAFKA_STORAGE_ERROR', `the log of ${this.topic}-${this.partition} is closed`);
  }

  /** Wraps an I/O failure; fatal ones take the log offline. */
  private storageError(what: string, err: unknown, fatal: boolean): LogError {
    if (err instanceof LogError && err.code !== 'KAFKA_STORAGE_ERROR') return err;
    const e = new LogError(
      'KAFKA_STORAGE_ERROR',
      `${what} failed for ${this.topic}-${this.partition} in ${this.dir}: ${(err as Error).message}`,
      { cause: err },
    );
    if (fatal && this.offline === null) this.offline = e;
    return e;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
