/**
 * LogSegment: one `.log` file of record batches with its offset and time indexes (Kafka's
 * `LogSegment`).
 *
 * On disk (`<20-digit base offset>.log`): RecordBatch v2 bytes back to back, exactly as
 * producers sent them with the broker's baseOffset and partitionLeaderEpoch patched in; no
 * header, no padding. Offsets increase strictly from batch to batch (gaps are legal: compaction
 * leaves them). Every offset in the segment is in [baseOffset, baseOffset + 2^31 - 1] so that
 * the indexes can store 32-bit relative offsets, and the file stays below 2 GiB so that they
 * can store 32-bit positions. The indexes are described in offset-index.ts and time-index.ts.
 * Their entries live in memory and reach the files at flush, roll and close, and when
 * PENDING_WRITE_ENTRIES are pending (sparse-index.ts): an append makes one write, the log's.
 * Opening completes index files that a crash left short (recover, ensureLoaded).
 *
 * A segment opened from disk is lazy: its indexes are read (and checked, and rebuilt from the
 * log when corrupt) the first time a read, lookup or truncation needs them, so that opening a
 * log with many segments costs one stat per segment. The active segment is always loaded.
 *
 * Trust: batches appended through PartitionLog were validated before they got here, and
 * recover() validates every batch (CRC-32C, framing, offsets) of a range that may be torn after
 * a crash and truncates at the first bad byte. Other paths read batch headers without checking
 * CRCs.
 *
 * Concurrency: none. Everything is synchronous on the event loop except flush(), whose
 * fdatasync runs in the thread pool; appends may continue meanwhile (the flush covers at least
 * the bytes written before it started).
 */
import * as path from 'node:path';
import type { FileHandle, FileSystem } from '../env/fs.js';
import {
  batchBaseOffset,
  batchLastOffset,
  batchMagic,
  batchMaxTimestamp,
  batchSize,
  CURRENT_MAGIC,
  type DecodedBatch,
  decodeBatch,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  validateBatch,
} from '../records/index.js';
import { LogError } from './errors.js';
import { indexFileName, logFileName, type TransientSuffix, timeIndexFileName } from './files.js';
import { OffsetIndex } from './offset-index.js';
import { type ReadBufferPool, releaseReadBuffer } from './read-buffers.js';
import { PENDING_WRITE_ENTRIES } from './sparse-index.js';
import { TimeIndex } from './time-index.js';

export interface SegmentConfig {
  /** `index.interval.bytes` */
  indexIntervalBytes: number;
  /** `segment.index.bytes` */
  maxIndexBytes: number;
}

/** A batch seen by a scan: its header is at buf[pos, pos + 61); whole when the scan validates. */
export type BatchVisitor = (buf: Buffer, pos: number, filePosition: number) => boolean | undefined;

export interface SegmentReadResult {
  /** Whole batches, back to back (one slice of one read). Empty when nothing may be returned. */
  records: Buffer;
  /** True when the read stopped at the end of the segment (the caller may go on with the next). */
  reachedEnd: boolean;
}

/** Relative offsets are int32. */
export const MAX_RELATIVE_OFFSET = 0x7fffffff;
/** Bytes read past maxBytes so that the index lookup, which lands up to an interval early, costs no extra read. */
const READ_SLACK_BYTES = 64 * 1024;
/** Window of header walks (index rebuild, timestamp search, truncation). */
const WALK_WINDOW_BYTES = 64 * 1024;
/** Window of validating scans (recovery). */
const SCAN_WINDOW_BYTES = 4 * 1024 * 1024;

export class LogSegment {
  private offsetIndex: OffsetIndex | null = null;
  private timeIndex: TimeIndex | null = null;
  private size: number;
  /** lastOffset + 1 of the last batch (baseOffset when empty); valid once loaded. */
  private next: number;
  private maxTimestamp = -1;
  private offsetOfMaxTimestamp = -1;
  private bytesSinceLastIndexEntry = 0;
  /** Bytes known to be on stable storage. */
  private flushedSize: number;
  /** Set by truncation: the next flush must sync even when no byte was added. */
  private dirty = false;
  private indexesSynced = false;
  private active: boolean;
  private closed = false;
  /** Wall-clock time of the first append (segment.ms counts from there). */
  private firstAppendMs: number | undefined;
  /** Bumped by every truncation, so that a flush that raced one does not claim too much. */
  private truncations = 0;

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    private log: FileHandle,
    private config: SegmentConfig,
    readonly createdMs: number,
    active: boolean,
  ) {
    this.size = log.size();
    this.flushedSize = this.size;
    this.next = baseOffset;
    this.active = active;
  }

  /** A new, empty, active segment (existing files with its names are truncated). */
  static create(
    fs: FileSystem,
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    nowMs: number,
  ): LogSegment {
    const log = fs.open(path.join(dir, logFileName(baseOffset)), { create: true });
    log.truncate(0);
    const seg = new LogSegment(fs, dir, baseOffset, log, config, nowMs, true);
    seg.offsetIndex = new OffsetIndex(baseOffset, config.maxIndexBytes, seg.openIndexFile('index', true));
    seg.timeIndex = new TimeIndex(baseOffset, config.maxIndexBytes, seg.openIndexFile('timeindex', true));
    seg.flushedSize = 0;
    seg.dirty = true;
    return seg;
  }

  /** An existing segment; its indexes are loaded on first use. */
  static open(
    fs: FileSystem,
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    nowMs: number,
  ): LogSegment {
    const log = fs.open(path.join(dir, logFileName(baseOffset)));
    return new LogSegment(fs, dir, baseOffset, log, config, nowMs, false);
  }

  get sizeBytes(): number {
    return this.size;
  }

  get isActive(): boolean {
    return this.active;
  }

  get isLoaded(): boolean {
    return this.offsetIndex !== null;
  }

  /** lastOffset + 1 of the last batch; baseOffset when the segment is empty. */
  get nextOffset(): number {
    this.ensureLoaded();
    return this.next;
  }

  /** Largest batch maxTimestamp in the segment, -1 when it has none. */
  get largestTimestamp(): number {
    this.ensureLoaded();
    return this.maxTimestamp;
  }

  get offsetIndexEntries(): number {
    this.ensureLoaded();
    return this.offsetIndex!.entries;
  }

  updateConfig(config: SegmentConfig): void {
    this.config = config;
  }

  /**
   * Time the segment.ms timer counts from: the wall-clock time of the first append (so that a
   * producer's skewed timestamps cannot cause a roll per append); for a segment reopened from
   * disk, its first batch's timestamp, at most the time it was opened.
   */
  rollBaseMs(): number {
    if (this.firstAppendMs !== undefined) return this.firstAppendMs;
    if (this.size >= HEADER_SIZE) {
      const h = Buffer.allocUnsafe(HEADER_SIZE);
      if (this.log.read(h, 0, HEADER_SIZE, 0) === HEADER_SIZE) {
        const ts = batchMaxTimestamp(h, 0);
        if (ts >= 0) this.firstAppendMs = Math.min(ts, this.createdMs);
      }
    }
    return this.firstAppendMs ?? this.createdMs;
  }

  /** Would appending these bytes and batches overflow the file, the indexes or the relative offsets? */
  canFit(sizeBytes: number, batches: number, lastOffset: number, maxSegmentBytes: number): boolean {
    this.ensureLoaded();
    if (this.size === 0) return lastOffset - this.baseOffset <= MAX_RELATIVE_OFFSET;
    return (
      this.size + sizeBytes <= maxSegmentBytes &&
      lastOffset - this.baseOffset <= MAX_RELATIVE_OFFSET &&
      !this.offsetIndex!.isFull(batches) &&
      !this.timeIndex!.isFull(batches)
    );
  }

  /**
   * Appends whole, validated batches buf[start, end) with offsets already assigned (the first
   * baseOffset at or beyond nextOffset) with one write, then indexes them.
   */
  append(buf: Buffer, start: number, end: number, nowMs: number): void {
    this.ensureLoaded();
    if (this.closed) throw new Error(`segment ${this.baseOffset} is closed`);
    if (end <= start) return;
    const position = this.size;
    try {
      this.log.write(buf, start, end - start, position);
    } catch (err) {
      try {
        this.log.truncate(position);
      } catch {
        // the log recovers the tail on the next open
      }
      throw err;
    }
    if (this.firstAppendMs === undefined && position === 0) this.firstAppendMs = nowMs;
    let p = start;
    let filePos = position;
    while (p < end) {
      const size = batchSize(buf, p);
      this.indexBatch(batchLastOffset(buf, p), batchMaxTimestamp(buf, p), filePos, size);
      p += size;
      filePos += size;
    }
    this.size = filePos;
    if (
      this.offsetIndex!.pendingEntries >= PENDING_WRITE_ENTRIES ||
      this.timeIndex!.pendingEntries >= PENDING_WRITE_ENTRIES
    ) {
      try {
        this.writeIndexes();
      } catch {
        // The entries stay pending (lookups use memory) and the next flush writes them or fails
        // the log: the append itself succeeded.
      }
    }
  }

  /**
   * Whole batches starting with the first whose lastOffset >= startOffset (which may begin
   * before startOffset: a fetch inside a batch gets the whole batch), up to maxBytes, stopping
   * before the first batch whose lastOffset >= maxOffset. minOneBatch returns the first batch
   * even when it is larger than maxBytes. null when no batch of the segment reaches startOffset.
   * One pread in the common case; the result is a slice of it. With `buffers`, the reads go
   * into memory leased from that pool: the caller owns the result's lease (read-buffers.ts)
   * and every other window read here is given back before returning.
   */
  read(
    startOffset: number,
    maxBytes: number,
    maxOffset: number,
    minOneBatch: boolean,
    buffers?: ReadBufferPool,
  ): SegmentReadResult | null {
    this.ensureLoaded();
    const end = this.size;
    let winStart = this.offsetIndex!.lookup(startOffset).position;
    const want = Math.max(0, maxBytes) + READ_SLACK_BYTES;
    let win = this.readWindow(winStart, Math.min(end - winStart, want), buffers, EMPTY);
    let p = 0;
    try {
      for (;;) {
        if (winStart + p >= end) {
          releaseReadBuffer(win);
          return null;
        }
        if (p + HEADER_SIZE > win.length) {
          winStart += p;
          p = 0;
          win = this.readWindow(winStart, Math.min(end - winStart, want), buffers, win);
          this.checkHeader(win, 0, winStart, end);
        }
        if (batchLastOffset(win, p) >= startOffset) break;
        p += this.checkHeader(win, p, winStart + p, end);
      }
      const firstSize = this.checkHeader(win, p, winStart + p, end);
      const limit = minOneBatch ? Math.max(maxBytes, firstSize) : maxBytes;
      if (batchLastOffset(win, p) >= maxOffset || firstSize > limit) {
        releaseReadBuffer(win);
        return { records: EMPTY, reachedEnd: false };
      }
      const firstPos = winStart + p;
      const avail = Math.min(limit, end - firstPos);
      if (win.length - p < avail) {
        win = this.readWindow(firstPos, avail, buffers, win);
        p = 0;
      }
      return this.sliceBatches(win, p, firstPos, avail, maxOffset, end);
    } catch (err) {
      releaseReadBuffer(win);
      throw err;
    }
  }

  /** Whole batches of win from p (file position firstPos), at most avail bytes, below maxOffset. */
  private sliceBatches(
    win: Buffer,
    p: number,
    firstPos: number,
    avail: number,
    maxOffset: number,
    end: number,
  ): SegmentReadResult {
    const stop = Math.min(win.length, p + avail);
    let q = p;
    let stoppedByOffset = false;
    while (q + HEADER_SIZE <= stop) {
      const size = this.checkHeader(win, q, firstPos + q - p, end);
      if (q + size > stop) break;
      if (batchLastOffset(win, q) >= maxOffset) {
        stoppedByOffset = true;
        break;
      }
      q += size;
    }
    if (q === p) releaseReadBuffer(win);
    return {
      records: q === p ? EMPTY : win.subarray(p, q),
      reachedEnd: !stoppedByOffset && firstPos + (q - p) >= end,
    };
  }

  /** Position and header facts of the first batch whose lastOffset >= offset; null when none. */
  translateOffset(
    offset: number,
  ): { position: number; baseOffset: number; lastOffset: number; size: number } | null {
    this.ensureLoaded();
    let found: { position: number; baseOffset: number; lastOffset: number; size: number } | null = null;
    this.walk(this.offsetIndex!.lookup(offset).position, this.size, (buf, p, filePos) => {
      const last = batchLastOffset(buf, p);
      if (last < offset) return true;
      found = {
        position: filePos,
        baseOffset: batchBaseOffset(buf, p),
        lastOffset: last,
        size: batchSize(buf, p),
      };
      return false;
    });
    return found;
  }

  /**
   * The first record with timestamp >= ts and offset >= startingOffset: the time index gives
   * where to start, batch headers (maxTimestamp) which batch, and that one batch is decoded.
   */
  findOffsetByTimestamp(ts: number, startingOffset: number): { offset: number; timestamp: number } | null {
    this.ensureLoaded();
    if (this.maxTimestamp < ts) return null;
    const entry = this.timeIndex!.lookup(ts);
    const from = this.offsetIndex!.lookup(Math.max(entry.offset, startingOffset)).position;
    let result: { offset: number; timestamp: number } | null = null;
    this.walk(from, this.size, (buf, p, filePos) => {
      if (batchMaxTimestamp(buf, p) < ts || batchLastOffset(buf, p) < startingOffset) return true;
      const batch = this.decodeAt(filePos, batchSize(buf, p));
      for (const rec of batch.records) {
        if (rec.timestamp >= ts && rec.offset >= startingOffset) {
          result = { offset: rec.offset, timestamp: rec.timestamp };
          return false;
        }
      }
      return true;
    });
    return result;
  }

  /**
   * Calls visit for every batch from the first whose lastOffset >= fromOffset to the end
   * (headers only: buf[pos, pos + 61) is the header). Stops when visit returns false.
   */
  walkBatches(fromOffset: number, visit: BatchVisitor): void {
    this.ensureLoaded();
    this.walk(this.offsetIndex!.lookup(fromOffset).position, this.size, (buf, p, filePos) => {
      if (batchLastOffset(buf, p) < fromOffset) return true;
      return visit(buf, p, filePos);
    });
  }

  /**
   * Crash recovery of the segment from the batch holding fromOffset (from the start when
   * fromOffset <= baseOffset or the indexes are not to be trusted) to the end: validates every
   * batch (framing, magic, CRC-32C, increasing offsets within the segment's range), rebuilds
   * the index entries of that range, and truncates the file at the first bad or incomplete
   * batch. check may refuse a batch (it returns why). Returns the number of bytes truncated.
   */
  recover(
    fromOffset: number,
    check?: (buf: Buffer, pos: number) => string | null,
  ): { truncatedBytes: number; problem: string | null } {
    const fileSize = this.log.size();
    this.size = fileSize;
    let from = 0;
    if (
      fromOffset > this.baseOffset &&
      (this.offsetIndex !== null || this.loadIndexFiles(Number.MAX_SAFE_INTEGER))
    ) {
      from = this.translateOffsetTrusted(fromOffset) ?? 0;
    }
    if (from === 0) this.resetState(this.offsetIndex === null);
    else this.restoreStateAt(from);
    const { end, problem } = this.scan(from, fileSize, true, check);
    // Whether the recovered bytes reached the disk is unknown: the next flush syncs them.
    this.dirty = true;
    const truncatedBytes = fileSize - end;
    if (truncatedBytes > 0) this.cutAt(end);
    this.writeIndexes();
    return { truncatedBytes, problem };
  }

  /**
   * Removes every batch whose lastOffset >= offset (a batch holding offset goes whole).
   * Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    this.ensureLoaded();
    const t = this.translateOffset(offset);
    if (t === null) return 0;
    const removed = this.size - t.position;
    this.cutAt(t.position);
    this.restoreStateAt(t.position);
    if (this.size === 0) this.firstAppendMs = undefined;
    return removed;
  }

  /** Rebuilds both indexes from the log (a segment written outside append, e.g. by the cleaner); inactive. */
  rebuildIndexes(): void {
    this.resetState(this.offsetIndex === null);
    const { end, problem } = this.scan(0, this.size, false);
    if (end < this.size) {
      throw new LogError(
        'KAFKA_STORAGE_ERROR',
        `segment ${this.baseOffset} of ${this.dir}: ${problem ?? 'bad batch'}`,
      );
    }
    this.onBecomeInactive();
  }

  /** The segment stops being the active one: its time index gets its final entry. */
  onBecomeInactive(): void {
    this.ensureLoaded();
    this.active = false;
    this.indexesSynced = false;
    this.timeIndex!.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true);
    this.writeIndexes();
  }

  /** The segment becomes active again (after a truncation removed the segments after it). */
  onBecomeActive(): void {
    this.ensureLoaded();
    this.active = true;
  }

  /** True when flush() has something to do. */
  get needsFlush(): boolean {
    return (
      this.size > this.flushedSize || this.dirty || (!this.active && !this.indexesSynced && this.isLoaded)
    );
  }

  /**
   * Writes the pending index entries, then fdatasync of the log (and, once the segment is
   * inactive, of its indexes).
   */
  async flush(): Promise<void> {
    if (this.closed) return;
    this.writeIndexes();
    const size = this.size;
    const truncations = this.truncations;
    const syncIndexes = !this.active && !this.indexesSynced && this.offsetIndex !== null;
    const work: Promise<void>[] = [];
    if (size > this.flushedSize || this.dirty) {
      this.dirty = false;
      work.push(this.log.sync());
    }
    if (syncIndexes) work.push(this.offsetIndex!.sync(), this.timeIndex!.sync());
    try {
      await Promise.all(work);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
    if (this.flushedSize < size && this.truncations === truncations) this.flushedSize = size;
    if (syncIndexes) this.indexesSynced = true;
  }

  /** All batch bytes of the segment. */
  readAll(): Buffer {
    return this.readAt(0, this.size);
  }

  close(): void {
    if (this.closed) return;
    try {
      if (this.active && this.timeIndex !== null) {
        this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true);
      }
      this.writeIndexes();
    } finally {
      this.closed = true;
      this.offsetIndex?.close();
      this.timeIndex?.close();
      this.log.close();
    }
  }

  /** Index entries in memory that are not in the index files yet (offset index, time index). */
  get pendingIndexEntries(): { offsetIndex: number; timeIndex: number } {
    return {
      offsetIndex: this.offsetIndex?.pendingEntries ?? 0,
      timeIndex: this.timeIndex?.pendingEntries ?? 0,
    };
  }

  /**
   * Writes the pending index entries (see sparse-index.ts), time index first: a crash between
   * the two writes leaves the time index ahead of the offset index, which opening cuts back
   * (restoreStateAt), never behind it, which would understate the largest timestamp before an
   * offset index entry and make timestamp searches start too late.
   */
  private writeIndexes(): void {
    this.timeIndex?.writePending();
    this.offsetIndex?.writePending();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Renames the segment's files by appending suffix (e.g. `.deleted`). The open handles stay
   * valid (POSIX rename); deleteFiles(suffix) later closes and removes them.
   */
  renameFiles(suffix: TransientSuffix): void {
    for (const name of this.fileNames()) {
      const from = path.join(this.dir, name);
      if (this.fs.exists(from)) this.fs.rename(from, `${from}${suffix}`);
    }
  }

  /** Closes the segment and removes its files (any transient suffix). */
  deleteFiles(suffix: TransientSuffix = ''): void {
    this.close();
    for (const name of this.fileNames()) {
      const file = path.join(this.dir, `${name}${suffix}`);
      if (this.fs.exists(file)) this.fs.unlink(file);
    }
  }

  fileNames(): string[] {
    return [logFileName(this.baseOffset), indexFileName(this.baseOffset), timeIndexFileName(this.baseOffset)];
  }

  toString(): string {
    return `LogSegment(baseOffset=${this.baseOffset}, size=${this.size})`;
  }

  // ---------------------------------------------------------------------------------------

  /** Loads the indexes of a lazily opened segment: checks them, rebuilds them when corrupt. */
  private ensureLoaded(): void {
    if (this.offsetIndex !== null) return;
    if (this.closed)
      throw new LogError('KAFKA_STORAGE_ERROR', `segment ${this.baseOffset} of ${this.dir} is closed`);
    if (this.loadIndexFiles(Number.MAX_SAFE_INTEGER)) {
      const oi = this.offsetIndex!;
      const ti = this.timeIndex!;
      const tail = this.tailFrom(oi.entries === 0 ? 0 : oi.lastEntry().position);
      if (tail.plausible && ti.lastEntry().offset < Math.max(this.next, this.baseOffset + 1)) {
        if (tail.complete) {
          const tl = ti.lastEntry();
          if (ti.entries > 0 && tl.timestamp >= this.maxTimestamp) {
            this.maxTimestamp = tl.timestamp;
            this.offsetOfMaxTimestamp = tl.offset;
          }
          return;
        }
        // The files are a valid prefix of the index (entries written only at flush, roll and
        // close: a crash lost the rest): add the missing entries from the log.
        this.restoreStateAt(this.size);
        if (!this.active) this.timeIndex!.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true);
        this.writeIndexes();
        return;
      }
    }
    // Rebuild both indexes from the log (headers only: the bytes were validated before).
    this.resetState(true);
    const { end } = this.scan(0, this.size, false);
    // A trusted segment with a bad header inside: never serve past it (recovery truncates it).
    if (end < this.size) this.size = end;
    if (!this.active) this.timeIndex!.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true);
    this.writeIndexes();
  }

  /**
   * Reads both index files and checks them (entry order, positions inside the log, the last
   * offset index entry pointing at the batch it names, time index offsets <= maxTimeOffset).
   * False, with nothing loaded, when either is corrupt.
   */
  private loadIndexFiles(maxTimeOffset: number): boolean {
    const maxBytes = this.config.maxIndexBytes;
    const offsetFile = this.openIndexFile('index', false);
    const loaded = OffsetIndex.load(offsetFile, this.baseOffset, maxBytes, this.size);
    if (loaded.index === null) {
      offsetFile.close();
      return false;
    }
    const oi = loaded.index;
    if (oi.entries > 0 && this.headerAt(oi.lastEntry().position)?.lastOffset !== oi.lastEntry().offset) {
      oi.close();
      return false;
    }
    const timeFile = this.openIndexFile('timeindex', false);
    const t = TimeIndex.load(timeFile, this.baseOffset, maxBytes, maxTimeOffset);
    if (t.index === null) {
      timeFile.close();
      oi.close();
      return false;
    }
    this.offsetIndex = oi;
    this.timeIndex = t.index;
    return true;
  }

  private cutAt(position: number): void {
    this.log.truncate(position);
    this.size = position;
    this.dirty = true;
    this.truncations++;
    if (this.flushedSize > position) this.flushedSize = position;
  }

  /**
   * Sets next/maxTimestamp/bytesSinceLastIndexEntry by walking headers from the last offset
   * index entry's position to the end. plausible: every header made sense. complete: no batch
   * of the tail should have had an index entry (indexBatch's rule), so no entry is missing.
   */
  private tailFrom(position: number): { plausible: boolean; complete: boolean } {
    this.next = this.baseOffset;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
    const interval = this.config.indexIntervalBytes;
    const canAdd = !this.offsetIndex!.isFull();
    let complete = true;
    let prevNext = position === 0 ? this.baseOffset : -1;
    const { end } = this.walk(position, this.size, (buf, p, filePos) => {
      const base = batchBaseOffset(buf, p);
      const last = batchLastOffset(buf, p);
      if ((prevNext >= 0 && base < prevNext) || last < base || last - this.baseOffset > MAX_RELATIVE_OFFSET)
        return false;
      prevNext = last + 1;
      this.next = last + 1;
      const ts = batchMaxTimestamp(buf, p);
      if (ts > this.maxTimestamp) {
        this.maxTimestamp = ts;
        this.offsetOfMaxTimestamp = last;
      }
      if (canAdd && filePos > 0 && this.bytesSinceLastIndexEntry > interval) complete = false;
      this.bytesSinceLastIndexEntry += batchSize(buf, p);
      return true;
    });
    return { plausible: end === this.size, complete };
  }

  /**
   * Position of the batch holding offset, walking from the index with plausibility checks;
   * null when something does not add up (the caller then recovers the whole segment).
   */
  private translateOffsetTrusted(offset: number): number | null {
    let prevNext = -1;
    let found: number | null = null;
    const start = this.offsetIndex!.lookup(offset).position;
    const { end } = this.walk(start, this.size, (buf, p, filePos) => {
      const base = batchBaseOffset(buf, p);
      const last = batchLastOffset(buf, p);
      if ((prevNext >= 0 && base < prevNext) || last < base) return false;
      prevNext = last + 1;
      if (last >= offset) {
        found = filePos;
        return false;
      }
      return true;
    });
    if (found !== null) return found;
    return end === this.size ? this.size : null;
  }

  /**
   * Brings the state to "the file ends at position" (a batch boundary): drops the index entries
   * at or after it, then walks the headers from the last remaining offset index entry to
   * position, indexing them as append did. That recomputes next/maxTimestamp/
   * bytesSinceLastIndexEntry and re-adds entries the files lack (a crash lost the pending ones,
   * sparse-index.ts). The time index is first cut back to the last offset index entry: its
   * later entries (a closed segment's final entry, entries written before their offset index
   * entries) are re-made by the walk. Writes the result.
   */
  private restoreStateAt(position: number): void {
    const oi = this.offsetIndex!;
    const ti = this.timeIndex!;
    oi.truncateToPosition(position);
    const last = oi.lastEntry();
    if (oi.entries === 0) ti.reset();
    else ti.truncateToOffset(last.offset + 1);
    const tl = ti.lastEntry();
    this.next = oi.entries === 0 ? this.baseOffset : last.offset + 1;
    this.maxTimestamp = ti.entries === 0 ? -1 : tl.timestamp;
    this.offsetOfMaxTimestamp = ti.entries === 0 ? -1 : tl.offset;
    this.bytesSinceLastIndexEntry = 0;
    let prevLast = oi.entries === 0 ? this.baseOffset - 1 : last.offset - 1;
    this.walk(oi.entries === 0 ? 0 : last.position, position, (buf, p, filePos) => {
      const lastOffset = batchLastOffset(buf, p);
      // Offsets that go backwards (only in a corrupt file): stop; the callers' checks take over.
      if (lastOffset <= prevLast) return false;
      prevLast = lastOffset;
      this.indexBatch(lastOffset, batchMaxTimestamp(buf, p), filePos, batchSize(buf, p));
      return true;
    });
    this.writeIndexes();
  }

  /** Empties the in-memory state and the indexes (creating them when reopen is set). */
  private resetState(reopen: boolean): void {
    if (reopen) {
      this.offsetIndex?.close();
      this.timeIndex?.close();
      this.offsetIndex = new OffsetIndex(
        this.baseOffset,
        this.config.maxIndexBytes,
        this.openIndexFile('index', true),
      );
      this.timeIndex = new TimeIndex(
        this.baseOffset,
        this.config.maxIndexBytes,
        this.openIndexFile('timeindex', true),
      );
    } else {
      this.offsetIndex!.reset();
      this.timeIndex!.reset();
    }
    this.next = this.baseOffset;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
  }

  /** Index bookkeeping for one batch at filePos (Kafka's rule: an entry once more than an interval was written). */
  private indexBatch(lastOffset: number, maxTimestamp: number, filePos: number, size: number): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      const oi = this.offsetIndex!;
      const ti = this.timeIndex!;
      if (!oi.isFull() && filePos > 0) {
        oi.append(lastOffset, filePos);
        if (!ti.isFull()) ti.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
        this.bytesSinceLastIndexEntry = 0;
      }
    }
    this.bytesSinceLastIndexEntry += size;
    this.next = lastOffset + 1;
  }

  /**
   * Walks batches in [from, end), indexing each. With validate, every batch is checked whole
   * (validateBatch: framing, magic, CRC-32C) plus offset order and range, and check; without,
   * headers only for plausibility. Stops at the first problem; returns where valid data ends.
   */
  private scan(
    from: number,
    end: number,
    validate: boolean,
    check?: (buf: Buffer, pos: number) => string | null,
  ): { end: number; problem: string | null } {
    let pos = from;
    let win: Buffer = Buffer.alloc(0);
    let winStart = from;
    const windowBytes = validate ? SCAN_WINDOW_BYTES : WALK_WINDOW_BYTES;
    while (pos < end) {
      let p = pos - winStart;
      if (p + LOG_OVERHEAD > win.length) {
        winStart = pos;
        p = 0;
        win = this.readAt(pos, Math.min(windowBytes, end - pos));
        if (win.length < LOG_OVERHEAD) return { end: pos, problem: `incomplete batch header at byte ${pos}` };
      }
      const length = win.readInt32BE(p + 8);
      if (length < MIN_BATCH_LENGTH) return { end: pos, problem: `batch length ${length} at byte ${pos}` };
      const size = LOG_OVERHEAD + length;
      if (pos + size > end)
        return { end: pos, problem: `batch at byte ${pos} of ${size} bytes runs past the end (${end})` };
      const need = validate ? size : HEADER_SIZE;
      if (p + need > win.length) {
        winStart = pos;
        p = 0;
        win = this.readAt(pos, Math.min(Math.max(windowBytes, need), end - pos));
      }
      if (validate) {
        const err = validateBatch(win, p, p + size);
        if (err !== null) return { end: pos, problem: err.message };
      } else if (batchMagic(win, p) !== CURRENT_MAGIC) {
        return { end: pos, problem: `magic ${batchMagic(win, p)} at byte ${pos}` };
      }
      const base = batchBaseOffset(win, p);
      const last = batchLastOffset(win, p);
      if (base < this.next || last < base || last - this.baseOffset > MAX_RELATIVE_OFFSET) {
        return {
          end: pos,
          problem: `batch at byte ${pos} has offsets [${base}, ${last}], expected from ${this.next} within segment ${this.baseOffset}`,
        };
      }
      if (check !== undefined) {
        const problem = check(win, p);
        if (problem !== null) return { end: pos, problem };
      }
      this.indexBatch(last, batchMaxTimestamp(win, p), pos, size);
      pos += size;
    }
    return { end: pos, problem: null };
  }

  /**
   * Calls visit for each batch header in [from, end) through a window; stops when visit
   * returns false or at an implausible header. Returns where the walk stopped.
   */
  private walk(from: number, end: number, visit: BatchVisitor): { end: number } {
    let pos = from;
    let win: Buffer = Buffer.alloc(0);
    let winStart = from;
    while (pos < end) {
      let p = pos - winStart;
      if (p + HEADER_SIZE > win.length) {
        winStart = pos;
        p = 0;
        win = this.readAt(pos, Math.min(WALK_WINDOW_BYTES, end - pos));
        if (win.length < HEADER_SIZE) return { end: pos };
      }
      const length = win.readInt32BE(p + 8);
      const size = LOG_OVERHEAD + length;
      if (length < MIN_BATCH_LENGTH || pos + size > end || batchMagic(win, p) !== CURRENT_MAGIC)
        return { end: pos };
      if (visit(win, p, pos) === false) return { end: pos };
      pos += size;
    }
    return { end: pos };
  }

  /** Header facts of the batch at position, null when implausible. */
  private headerAt(position: number): { lastOffset: number; size: number } | null {
    if (position + HEADER_SIZE > this.size) return null;
    const h = this.readAt(position, HEADER_SIZE);
    const length = h.readInt32BE(8);
    if (
      length < MIN_BATCH_LENGTH ||
      position + LOG_OVERHEAD + length > this.size ||
      batchMagic(h, 0) !== CURRENT_MAGIC
    ) {
      return null;
    }
    return { lastOffset: batchLastOffset(h, 0), size: LOG_OVERHEAD + length };
  }

  /** Checks the framing of a header the read path walks over; returns the batch size. */
  private checkHeader(buf: Buffer, p: number, filePos: number, end: number): number {
    if (p + HEADER_SIZE > buf.length) {
      throw new LogError(
        'KAFKA_STORAGE_ERROR',
        `segment ${this.baseOffset} of ${this.dir}: truncated header at byte ${filePos}`,
      );
    }
    const length = buf.readInt32BE(p + 8);
    if (length < MIN_BATCH_LENGTH || filePos + LOG_OVERHEAD + length > end) {
      throw new LogError(
        'KAFKA_STORAGE_ERROR',
        `segment ${this.baseOffset} of ${this.dir}: bad batch length ${length} at byte ${filePos}`,
      );
    }
    return LOG_OVERHEAD + length;
  }

  private decodeAt(position: number, size: number): DecodedBatch {
    const buf = this.readAt(position, size);
    try {
      return decodeBatch(buf, 0);
    } catch (err) {
      throw new LogError(
        'KAFKA_STORAGE_ERROR',
        `segment ${this.baseOffset} of ${this.dir}: cannot decode the batch at byte ${position}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * readAt into memory from `buffers` when given (the previous window `prev` goes back to it
   * first: nothing refers to it any more).
   */
  private readWindow(
    position: number,
    length: number,
    buffers: ReadBufferPool | undefined,
    prev: Buffer,
  ): Buffer {
    if (buffers === undefined) return this.readAt(position, length);
    releaseReadBuffer(prev);
    if (length <= 0) return EMPTY;
    const buf = buffers.take(length);
    let n: number;
    try {
      n = this.log.read(buf, 0, length, position);
    } catch (err) {
      releaseReadBuffer(buf);
      throw err;
    }
    return n === length ? buf : buf.subarray(0, n);
  }

  private readAt(position: number, length: number): Buffer {
    if (length <= 0) return EMPTY;
    const buf = Buffer.allocUnsafe(length);
    const n = this.log.read(buf, 0, length, position);
    return n === length ? buf : buf.subarray(0, n);
  }

  private openIndexFile(kind: 'index' | 'timeindex', truncate: boolean): FileHandle {
    const name = kind === 'index' ? indexFileName(this.baseOffset) : timeIndexFileName(this.baseOffset);
    const file = this.fs.open(path.join(this.dir, name), { create: true });
    if (truncate) file.truncate(0);
    return file;
  }
}

const EMPTY = Buffer.alloc(0);
