/**
 * OffsetIndex: a sparse map from offset to byte position in one segment's .log file
 * (Kafka's `OffsetIndex`).
 *
 * On disk (`<20-digit base offset>.index`): 8-byte entries, big-endian, no header:
 *
 *   relativeOffset int32   offset - baseOffset of the segment
 *   position       int32   byte position in the .log of the batch holding that offset
 *
 * An entry is added for a batch (its last offset, its start position) when more than
 * `index.interval.bytes` of log were written since the previous entry, so entries are strictly
 * increasing in both fields. lookup(target) answers the greatest entry whose offset is <= target
 * (binary search); the batch holding target starts at or after that position, and the caller
 * walks batch headers from there. At most maxEntries entries (`segment.index.bytes` / 8): the
 * segment rolls when the index is full.
 *
 * Memory, pending entries and their writes, crash consistency and concurrency: sparse-index.ts.
 * On load the file is checked (size a multiple of 8, entries strictly increasing, positions
 * inside the log); the segment rebuilds it from the log when anything is off.
 */
import type { FileHandle } from '../env/fs.js';
import { SparseIndex } from './sparse-index.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends SparseIndex {
  private rel: Int32Array;
  private pos: Int32Array;

  constructor(baseOffset: number, maxIndexBytes: number, file: FileHandle | null) {
    super(
      baseOffset,
      OFFSET_INDEX_ENTRY_SIZE,
      Math.max(1, Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_SIZE)),
      file,
    );
    this.rel = new Int32Array(this.capacity);
    this.pos = new Int32Array(this.capacity);
  }

  /**
   * Reads the entries of a file. Returns a description of the first problem instead of an index
   * when the file is corrupt (the caller rebuilds it): size not a multiple of 8, entries not
   * strictly increasing, a negative entry, or a position at or beyond logSizeBytes.
   */
  static load(
    file: FileHandle,
    baseOffset: number,
    maxIndexBytes: number,
    logSizeBytes: number,
  ): { index: OffsetIndex; problem: null } | { index: null; problem: string } {
    const read = SparseIndex.readFile(file, OFFSET_INDEX_ENTRY_SIZE);
    if ('problem' in read) return { index: null, problem: read.problem };
    const { buf } = read;
    const n = buf.length / OFFSET_INDEX_ENTRY_SIZE;
    const index = new OffsetIndex(baseOffset, Math.max(maxIndexBytes, buf.length), file);
    index.ensureCapacity(n);
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const r = buf.readInt32BE(i * 8);
      const p = buf.readInt32BE(i * 8 + 4);
      if (r <= prevRel || p <= prevPos) {
        return { index: null, problem: `entry ${i} (${r}, ${p}) does not follow (${prevRel}, ${prevPos})` };
      }
      if (p >= logSizeBytes) {
        return {
          index: null,
          problem: `entry ${i} points at byte ${p}, beyond the log's ${logSizeBytes} bytes`,
        };
      }
      index.rel[i] = r;
      index.pos[i] = p;
      prevRel = r;
      prevPos = p;
    }
    index.loaded(n);
    return { index, problem: null };
  }

  isFull(extraEntries = 0): boolean {
    return this.count + extraEntries >= this.maxEntries;
  }

  /** The last entry, or (baseOffset, 0) when empty. */
  lastEntry(): OffsetPosition {
    if (this.count === 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.rel[this.count - 1]!, position: this.pos[this.count - 1]! };
  }

  entry(i: number): OffsetPosition {
    if (i < 0 || i >= this.count) throw new RangeError(`index entry ${i} of ${this.count}`);
    return { offset: this.baseOffset + this.rel[i]!, position: this.pos[i]! };
  }

  /** Adds an entry in memory (see writePending); offset and position must exceed the last entry's. */
  append(offset: number, position: number): void {
    const r = offset - this.baseOffset;
    if (this.count >= this.maxEntries) throw new Error(`offset index of segment ${this.baseOffset} is full`);
    if (r < 0 || r > 0x7fffffff)
      throw new RangeError(`offset ${offset} is out of range for segment ${this.baseOffset}`);
    if (this.count > 0 && (r <= this.rel[this.count - 1]! || position <= this.pos[this.count - 1]!)) {
      throw new Error(
        `offset index entry (${offset}, ${position}) does not follow (${this.lastEntry().offset}, ${this.lastEntry().position})`,
      );
    }
    this.ensureCapacity(this.count + 1);
    this.rel[this.count] = r;
    this.pos[this.count] = position;
    this.count++;
  }

  /** Greatest entry whose offset <= target; (baseOffset, 0) when there is none. */
  lookup(targetOffset: number): OffsetPosition {
    const i = this.floorIndex(targetOffset - this.baseOffset);
    if (i < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.rel[i]!, position: this.pos[i]! };
  }

  /** Removes the entries whose offset >= offset. */
  truncateToOffset(offset: number): void {
    const r = offset - this.baseOffset;
    let n = this.floorIndex(r) + 1;
    if (n > 0 && this.rel[n - 1] === r) n--;
    this.truncateEntries(n);
  }

  /** Removes the entries whose position >= position. */
  truncateToPosition(position: number): void {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pos[mid]! < position) lo = mid + 1;
      else hi = mid;
    }
    this.truncateEntries(lo);
  }

  protected encode(i: number, buf: Buffer, at: number): void {
    buf.writeInt32BE(this.rel[i]!, at);
    buf.writeInt32BE(this.pos[i]!, at + 4);
  }

  protected resize(capacity: number): void {
    const rel = new Int32Array(capacity);
    const pos = new Int32Array(capacity);
    rel.set(this.rel.subarray(0, this.count));
    pos.set(this.pos.subarray(0, this.count));
    this.rel = rel;
    this.pos = pos;
  }

  private floorIndex(rel: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
