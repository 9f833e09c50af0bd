/**
 * LeaderEpochFileCache: for each leader epoch, the first offset written in it (Kafka's
 * `LeaderEpochFileCache`), used to answer OffsetForLeaderEpoch so that a follower can find where
 * its log diverged from the leader's.
 *
 * On disk (`leader-epoch-checkpoint` in the partition directory), Kafka's text format:
 *
 *   0              <- format version
 *   2              <- number of entries
 *   0 0            <- epoch, start offset
 *   3 1200
 *
 * rewritten whole and atomically (temp file, fsync, rename, fsync of the directory) whenever an
 * entry changes. Epochs and start offsets both strictly increase from entry to entry.
 *
 * Concurrency: none; one PartitionLog owns it. Writes happen on leader changes and truncation,
 * never per record.
 */
import * as path from 'node:path';
import type { FileSystem } from '../env/fs.js';
import { LogError } from './errors.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from './files.js';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;
const FORMAT_VERSION = 0;
/** A checkpoint with more entries than this is refused (a limit on everything). */
export const MAX_EPOCH_ENTRIES = 1_000_000;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export class LeaderEpochFileCache {
  private entries: EpochEntry[] = [];
  readonly file: string;

  private constructor(
    private readonly fs: FileSystem,
    dir: string,
  ) {
    this.file = path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
  }

  /**
   * Reads the checkpoint of a partition directory. `intact` is false when the file was missing
   * or corrupt (the cache then starts empty and the caller may rebuild it from the log).
   */
  static load(
    fs: FileSystem,
    dir: string,
  ): { cache: LeaderEpochFileCache; intact: boolean; problem: string | null } {
    const cache = new LeaderEpochFileCache(fs, dir);
    if (!fs.exists(cache.file)) return { cache, intact: false, problem: null };
    try {
      const buf = fs.readFile(cache.file);
      if (buf.length > MAX_FILE_BYTES) throw new Error(`${buf.length} bytes`);
      cache.entries = parseCheckpoint(buf.toString('utf8'));
      return { cache, intact: true, problem: null };
    } catch (err) {
      return {
        cache,
        intact: false,
        problem: `${cache.file} is corrupt (${(err as Error).message}); rebuilding it`,
      };
    }
  }

  /** A copy of the entries, oldest first. */
  epochEntries(): EpochEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The latest epoch, -1 when none. */
  get latestEpoch(): number {
    return this.entries.length === 0 ? UNDEFINED_EPOCH : this.entries[this.entries.length - 1]!.epoch;
  }

  latestEntry(): EpochEntry | null {
    const e = this.entries[this.entries.length - 1];
    return e === undefined ? null : { ...e };
  }

  /**
   * Records that epoch starts at startOffset (Kafka's assign). Nothing changes when epoch is the
   * latest and starts no later; otherwise entries that would break monotonicity (an epoch >= this
   * one, or a start offset >= this one) are removed first. Persists when anything changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new LogError('INVALID_RECORD', `cannot assign leader epoch ${epoch} at offset ${startOffset}`);
    }
    const latest = this.entries[this.entries.length - 1];
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    while (this.entries.length > 0) {
      const last = this.entries[this.entries.length - 1]!;
      if (last.epoch >= epoch || last.startOffset >= startOffset) this.entries.pop();
      else break;
    }
    if (this.entries.length >= MAX_EPOCH_ENTRIES) this.entries.shift();
    this.entries.push({ epoch, startOffset });
    this.persist();
    return true;
  }

  /**
   * Kafka's endOffsetFor: for the latest epoch, (epoch, logEndOffset); for an older known epoch,
   * (epoch, start offset of the next higher epoch); for an epoch between two known ones, (the
   * largest known epoch below it, start of the next higher); for one below every known epoch,
   * (requested, start of the first); (-1, -1) when the epoch is undefined or above all.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    if (requestedEpoch === UNDEFINED_EPOCH || this.entries.length === 0) {
      return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    }
    if (this.latestEpoch === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    // higher entry: first with epoch > requested
    let hi = 0;
    while (hi < this.entries.length && this.entries[hi]!.epoch <= requestedEpoch) hi++;
    if (hi === this.entries.length) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const higher = this.entries[hi]!;
    if (hi === 0) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: this.entries[hi - 1]!.epoch, endOffset: higher.startOffset };
  }

  /** Epoch in force at offset (the entry with the greatest start offset <= offset); -1 when none. */
  epochForOffset(offset: number): number {
    let found = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset <= offset) found = e.epoch;
      else break;
    }
    return found;
  }

  /** Removes the entries starting at or after endOffset (the log was truncated to endOffset). */
  truncateFromEnd(endOffset: number): void {
    const latest = this.entries[this.entries.length - 1];
    if (endOffset < 0 || latest === undefined || latest.startOffset < endOffset) return;
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.startOffset >= endOffset)
      this.entries.pop();
    this.persist();
  }

  /**
   * The log now starts at startOffset: entries starting at or before it are removed, and the
   * last of them is kept with its start moved up to startOffset.
   */
  truncateFromStart(startOffset: number): void {
    let n = 0;
    while (n < this.entries.length && this.entries[n]!.startOffset <= startOffset) n++;
    if (n === 0) return;
    const keep = this.entries[n - 1]!;
    if (n === 1 && keep.startOffset === startOffset) return;
    this.entries.splice(0, n, { epoch: keep.epoch, startOffset });
    this.persist();
  }

  /** Replaces every entry (a rebuild from the log's batch headers) and persists once. */
  replaceAll(entries: readonly EpochEntry[]): void {
    const out: EpochEntry[] = [];
    for (const e of entries) {
      const prev = out[out.length - 1];
      if (e.epoch < 0 || (prev !== undefined && (e.epoch <= prev.epoch || e.startOffset <= prev.startOffset)))
        continue;
      out.push({ epoch: e.epoch, startOffset: e.startOffset });
    }
    this.entries = out.slice(-MAX_EPOCH_ENTRIES);
    this.persist();
  }

  clear(): void {
    if (this.entries.length === 0 && !this.fs.exists(this.file)) return;
    this.entries = [];
    this.persist();
  }

  private persist(): void {
    const lines = this.entries.map((e) => `${e.epoch} ${e.startOffset}`);
    const text = `${FORMAT_VERSION}\n${lines.length}\n${lines.length > 0 ? `${lines.join('\n')}\n` : ''}`;
    this.fs.writeFileAtomic(this.file, Buffer.from(text, 'utf8'));
  }
}

function parseCheckpoint(text: string): EpochEntry[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new Error('expected a version line and a count line');
  if (lines[0] !== String(FORMAT_VERSION)) throw new Error(`unsupported version ${JSON.stringify(lines[0])}`);
  if (!/^\d{1,9}$/.test(lines[1]!)) throw new Error(`bad count ${JSON.stringify(lines[1])}`);
  const count = Number(lines[1]);
  if (count > MAX_EPOCH_ENTRIES || lines.length - 2 !== count) {
    throw new Error(`expected ${count} entries, found ${lines.length - 2}`);
  }
  const out: EpochEntry[] = [];
  for (let i = 2; i < lines.length; i++) {
    const m = /^(\d{1,10}) (\d{1,16})$/.exec(lines[i]!);
    if (m === null) throw new Error(`line ${i + 1} is not "epoch offset": ${JSON.stringify(lines[i])}`);
    const epoch = Number(m[1]);
    const startOffset = Number(m[2]);
    const prev = out[out.length - 1];
    if (epoch > 0x7fffffff || !Number.isSafeInteger(startOffset))
      throw new Error(`line ${i + 1} is out of range`);
    if (prev !== undefined && (epoch <= prev.epoch || startOffset <= prev.startOffset)) {
      throw new Error(`line ${i + 1} does not follow the previous entry`);
    }
    out.push({ epoch, startOffset });
  }
  return out;
}
