/**
 * TimeIndex: a sparse map from timestamp to offset in one segment (Kafka's `TimeIndex`).
 *
 * On disk (`<20-digit base offset>.timeindex`): 12-byte entries, big-endian, no header:
 *
 *   timestamp      int64   the largest record timestamp of the segment so far
 *   relativeOffset int32   offset - baseOffset of the (last offset of the) batch that holds it
 *
 * An entry is considered whenever the offset index gets one, and added only when the largest
 * timestamp grew since the last entry, so timestamps strictly increase and offsets never
 * decrease. When a segment stops being active it gets a final entry for its largest timestamp,
 * so a closed segment's largest timestamp is its time index's last entry. lookup(ts) answers the
 * greatest entry whose timestamp <= ts: every batch before that entry's offset has only smaller
 * timestamps, so a search for the first record >= ts starts there.
 *
 * Memory, pending entries and their writes, crash consistency and concurrency: sparse-index.ts.
 * On load the file is checked (size a multiple of 12, timestamps strictly increasing, offsets
 * never decreasing and within the segment).
 */
import type { FileHandle } from '../env/fs.js';
import { readInt64, writeInt64 } from '../records/index.js';
import { SparseIndex } from './sparse-index.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends SparseIndex {
  private ts: Float64Array;
  private rel: Int32Array;

  constructor(baseOffset: number, maxIndexBytes: number, file: FileHandle | null) {
    super(
      baseOffset,
      TIME_INDEX_ENTRY_SIZE,
      Math.max(2, Math.floor(maxIndexBytes / TIME_INDEX_ENTRY_SIZE)),
      file,
    );
    this.ts = new Float64Array(this.capacity);
    this.rel = new Int32Array(this.capacity);
  }

  /**
   * Reads the entries of a file; describes the first problem instead when it is corrupt: size
   * not a multiple of 12, timestamps not strictly increasing, offsets decreasing or beyond
   * maxOffset (the segment's last offset).
   */
  static load(
    file: FileHandle,
    baseOffset: number,
    maxIndexBytes: number,
    maxOffset: number,
  ): { index: TimeIndex; problem: null } | { index: null; problem: string } {
    const read = SparseIndex.readFile(file, TIME_INDEX_ENTRY_SIZE);
    if ('problem' in read) return { index: null, problem: read.problem };
    const { buf } = read;
    const n = buf.length / TIME_INDEX_ENTRY_SIZE;
    const index = new TimeIndex(
      baseOffset,
      Math.max(maxIndexBytes, buf.length + TIME_INDEX_ENTRY_SIZE),
      file,
    );
    index.ensureCapacity(n);
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevRel = 0;
    for (let i = 0; i < n; i++) {
      const t = readInt64(buf, i * 12);
      const r = buf.readInt32BE(i * 12 + 8);
      if (t <= prevTs || r < prevRel || t < 0) {
        return { index: null, problem: `entry ${i} (${t}, ${r}) does not follow (${prevTs}, ${prevRel})` };
      }
      if (baseOffset + r > maxOffset) {
        return {
          index: null,
          problem: `entry ${i} names offset ${baseOffset + r}, beyond the segment's ${maxOffset}`,
        };
      }
      index.ts[i] = t;
      index.rel[i] = r;
      prevTs = t;
      prevRel = r;
    }
    index.loaded(n);
    return { index, problem: null };
  }

  /** Full when fewer than extraEntries + 1 slots remain (one is kept for the final entry at roll). */
  isFull(extraEntries = 0): boolean {
    return this.count + extraEntries >= this.maxEntries - 1;
  }

  /** The last entry, or (-1, baseOffset) when empty. */
  lastEntry(): TimestampOffset {
    if (this.count === 0) return { timestamp: -1, offset: this.baseOffset };
    return { timestamp: this.ts[this.count - 1]!, offset: this.baseOffset + this.rel[this.count - 1]! };
  }

  /**
   * Adds (timestamp, offset) in memory (see writePending) when timestamp is larger than the last
   * entry's. skipFullCheck is for the final entry of a segment, which uses the slot isFull keeps
   * free.
   */
  maybeAppend(timestamp: number, offset: number, skipFullCheck = false): void {
    if (timestamp < 0) return;
    const last = this.lastEntry();
    if (this.count > 0 && timestamp <= last.timestamp) return;
    const r = offset - this.baseOffset;
    if (r < 0 || r > 0x7fffffff)
      throw new RangeError(`offset ${offset} is out of range for segment ${this.baseOffset}`);
    if (this.count > 0 && offset < last.offset) {
      throw new Error(`time index entry (${timestamp}, ${offset}) goes back from offset ${last.offset}`);
    }
    if (this.count >= this.maxEntries || (!skipFullCheck && this.isFull())) {
      throw new Error(`time index of segment ${this.baseOffset} is full`);
    }
    this.ensureCapacity(this.count + 1);
    this.ts[this.count] = timestamp;
    this.rel[this.count] = r;
    this.count++;
  }

  /** Greatest entry whose timestamp <= ts; (-1, baseOffset) when there is none. */
  lookup(timestamp: number): TimestampOffset {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! <= timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return { timestamp: -1, offset: this.baseOffset };
    return { timestamp: this.ts[found]!, offset: this.baseOffset + this.rel[found]! };
  }

  /** Removes the entries whose offset >= offset. */
  truncateToOffset(offset: number): void {
    const r = offset - this.baseOffset;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    this.truncateEntries(lo);
  }

  protected encode(i: number, buf: Buffer, at: number): void {
    writeInt64(buf, at, this.ts[i]!);
    buf.writeInt32BE(this.rel[i]!, at + 8);
  }

  protected resize(capacity: number): void {
    const ts = new Float64Array(capacity);
    const rel = new Int32Array(capacity);
    ts.set(this.ts.subarray(0, this.count));
    rel.set(this.rel.subarray(0, this.count));
    this.ts = ts;
    this.rel = rel;
  }
}
