/**
 * The Raft log: entries [firstIndex, lastIndex] in segment files and in memory, behind a
 * snapshot that covers [1, snapshotIndex]. Entries at or below snapshotIndex may still be held
 * (retainEntriesAfterSnapshot) so that slightly lagging followers catch up without a snapshot.
 *
 * Invariants: segments are contiguous and hold exactly the in-memory entries;
 * firstIndex <= snapshotIndex + 1 <= lastIndex + 1; the last segment is the active one.
 * The metadata log is bounded by snapshotting, so keeping its entries in memory is cheap.
 */
import * as path from 'node:path';
import type { FileSystem } from '../../env/fs.js';
import type { Durability } from './durability.js';
import { RaftError } from './errors.js';
import { entryRecordBytes, LogSegment, parseSegmentFileName, segmentFileName } from './log-segment.js';
import type { LogEntry } from './types.js';

export interface RaftLogOptions {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly segmentBytes: number;
  readonly maxEntryBytes: number;
  readonly durability: Durability;
}

export class RaftLog {
  private entries: LogEntry[] = [];
  private segments: LogSegment[] = [];
  private _snapshotIndex = 0;
  private _snapshotTerm = 0;
  /** First index held in memory/segments. */
  private offset = 1;

  private constructor(private readonly opts: RaftLogOptions) {}

  /** Recovers the log in dir and reconciles it with the snapshot the node restored. */
  static open(opts: RaftLogOptions, snapshot: { index: number; term: number } | null): RaftLog {
    const log = new RaftLog(opts);
    log._snapshotIndex = snapshot?.index ?? 0;
    log._snapshotTerm = snapshot?.term ?? 0;
    const bases = opts.fs
      .readdir(opts.dir)
      .map(parseSegmentFileName)
      .filter((b): b is number => b !== null)
      .sort((a, b) => a - b);
    let broken = false;
    for (const base of bases) {
      if (broken) {
        opts.fs.unlink(path.join(opts.dir, segmentFileName(base))); // beyond a torn tail or a gap
        opts.fs.syncDir(opts.dir);
        continue;
      }
      const expected = log.segments.length === 0 ? base : log.lastIndex + 1;
      // the term the first record must chain to: the previous segment's last, or what the snapshot says
      let prevTerm: number | null = null;
      if (log.segments.length > 0) prevTerm = log.lastTerm;
      else if (base === 1) prevTerm = 0;
      else if (base - 1 === log._snapshotIndex) prevTerm = log._snapshotTerm;
      const { segment, entries, torn } = LogSegment.recover(
        opts.fs,
        opts.dir,
        base,
        prevTerm,
        opts.maxEntryBytes,
        opts.durability,
      );
      if (base !== expected) {
        segment.delete(opts.dir); // a gap: what follows it cannot be used
        broken = true;
        continue;
      }
      if (log.segments.length === 0) log.offset = base;
      log.segments.push(segment);
      log.entries.push(...entries);
      if (torn) broken = true;
    }
    log.reconcile();
    return log;
  }

  private reconcile(): void {
    const s = this._snapshotIndex;
    const keep =
      this.entries.length > 0 &&
      this.offset <= s + 1 &&
      this.lastIndex >= s &&
      (s === 0 || this.offset > s || this.entryAt(s)?.term === this._snapshotTerm);
    if (!keep) {
      if (s === 0 && this.entries.length > 0) {
        throw new RaftError(
          'CORRUPT_STATE',
          `raft log in ${this.opts.dir} starts at ${this.offset} but no snapshot exists`,
        );
      }
      this.resetTo(s + 1);
      return;
    }
    // drop empty segments left behind (a torn tail can empty the last one)
    while (this.segments.length > 1 && this.segments[this.segments.length - 1]!.entryCount === 0) {
      this.segments.pop()!.delete(this.opts.dir);
    }
  }

  get snapshotIndex(): number {
    return this._snapshotIndex;
  }

  get snapshotTerm(): number {
    return this._snapshotTerm;
  }

  get firstIndex(): number {
    return this.offset;
  }

  get lastIndex(): number {
    return this.offset + this.entries.length - 1;
  }

  get lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.term : this._snapshotTerm;
  }

  /** The term of index, or null when it was compacted away (0 for index 0). */
  termAt(index: number): number | null {
    if (index === 0) return 0;
    if (index >= this.offset && index <= this.lastIndex) return this.entries[index - this.offset]!.term;
    if (index === this._snapshotIndex) return this._snapshotTerm;
    return null;
  }

  entryAt(index: number): LogEntry | null {
    if (index < this.offset || index > this.lastIndex) return null;
    return this.entries[index - this.offset]!;
  }

  /** Entries from index on, at most maxEntries and about maxBytes (always at least one when any). */
  slice(from: number, maxEntries: number, maxBytes: number): LogEntry[] {
    if (from < this.offset) throw new RangeError(`slice(${from}) below the first index ${this.offset}`);
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let i = from; i <= this.lastIndex && out.length < maxEntries; i++) {
      const e = this.entries[i - this.offset]!;
      bytes += entryRecordBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** The first index of the run of entries with term t that contains index (for fast backup). */
  firstIndexOfTerm(index: number, t: number): number {
    let i = index;
    while (
      i - 1 >= this.offset &&
      i - 1 > this._snapshotIndex &&
      this.entries[i - 1 - this.offset]!.term === t
    )
      i--;
    return i;
  }

  /** The last index holding term t, or null when the log has no entry of term t. */
  lastIndexOfTerm(t: number): number | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const term = this.entries[i]!.term;
      if (term === t) return this.offset + i;
      if (term < t) break;
    }
    return null;
  }

  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    let active = this.segments[this.segments.length - 1]!;
    let batch: LogEntry[] = [];
    let batchBytes = 0;
    const flush = (): void => {
      active.append(batch, this.lastTerm);
      this.entries.push(...batch);
      batch = [];
      batchBytes = 0;
    };
    for (const e of entries) {
      if (e.index !== this.lastIndex + 1 + batch.length) {
        throw new RangeError(`append: index ${e.index} does not follow ${this.lastIndex + batch.length}`);
      }
      if (active.sizeBytes + batchBytes >= this.opts.segmentBytes && active.entryCount + batch.length > 0) {
        flush();
        active = LogSegment.create(this.opts.fs, this.opts.dir, this.lastIndex + 1, this.opts.durability);
        this.segments.push(active);
      }
      batch.push(e);
      batchBytes += entryRecordBytes(e);
    }
    flush();
  }

  /** Removes entries from index on (conflict truncation). */
  truncateFrom(index: number): void {
    if (index > this.lastIndex) return;
    if (index <= this._snapshotIndex) throw new RangeError(`truncateFrom(${index}) inside the snapshot`);
    while (this.segments.length > 1 && this.segments[this.segments.length - 1]!.baseIndex > index) {
      this.segments.pop()!.delete(this.opts.dir);
    }
    this.segments[this.segments.length - 1]!.truncateFrom(index);
    this.entries.length = index - this.offset;
  }

  /** A snapshot up to index (term) was taken locally; entries stay until compactBefore. */
  setSnapshot(index: number, term: number): void {
    if (index < this._snapshotIndex)
      throw new RangeError(`snapshot ${index} older than ${this._snapshotIndex}`);
    this._snapshotIndex = index;
    this._snapshotTerm = term;
  }

  /** Drops whole segments that end before index (never past the snapshot). */
  compactBefore(index: number): void {
    const limit = Math.min(index, this._snapshotIndex + 1);
    while (this.segments.length > 1 && this.segments[1]!.baseIndex <= limit) {
      const seg = this.segments.shift()!;
      const next = this.segments[0]!.baseIndex;
      this.entries.splice(0, next - this.offset);
      this.offset = next;
      seg.delete(this.opts.dir);
    }
  }

  /**
   * An installed snapshot covers [1, index]: keep the suffix after it when the log holds the same
   * entry at index (Raft §7), else discard the whole log.
   */
  installSnapshot(index: number, term: number): void {
    const matches = this.entryAt(index)?.term === term;
    this._snapshotIndex = index;
    this._snapshotTerm = term;
    if (matches) {
      this.compactBefore(index + 1);
      return;
    }
    this.resetTo(index + 1);
  }

  private resetTo(nextIndex: number): void {
    for (const seg of this.segments) seg.delete(this.opts.dir);
    this.segments = [LogSegment.create(this.opts.fs, this.opts.dir, nextIndex, this.opts.durability)];
    this.entries = [];
    this.offset = nextIndex;
  }

  close(): void {
    for (const seg of this.segments) seg.close();
    this.segments = [];
  }
}
