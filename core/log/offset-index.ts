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
 * The entries live in memory (growable typed arrays) and are written through to the file:
 * append() only buffers, writeThrough() writes the pending entries with one pwrite. The file
 * is never fsynced on the hot path: after a crash an index is checked on open (size a multiple
 * of 8, entries strictly increasing, positions inside the log) and rebuilt from the log when
 * anything is off. No preallocation: the file size is always entries * 8.
 *
 * Concurrency: none. One PartitionLog owns it and calls it from the event loop only.
 */
import type { FileHandle } from '../env/fs.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;
const INITIAL_CAPACITY = 64;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex {
  readonly maxEntries: number;
  private rel: Int32Array;
  private pos: Int32Array;
  private count = 0;
  /** Entries [0, persisted) are in the file. */
  private persisted = 0;

  constructor(
    readonly baseOffset: number,
    maxIndexBytes: number,
    private file: FileHandle | null,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_SIZE));
    const cap = Math.min(INITIAL_CAPACITY, this.maxEntries);
    this.rel = new Int32Array(cap);
    this.pos = new Int32Array(cap);
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
    const size = file.size();
    if (size % OFFSET_INDEX_ENTRY_SIZE !== 0) {
      return { index: null, problem: `size ${size} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}` };
    }
    const n = size / OFFSET_INDEX_ENTRY_SIZE;
    const index = new OffsetIndex(baseOffset, Math.max(maxIndexBytes, size), file);
    if (n === 0) return { index, problem: null };
    const buf = Buffer.allocUnsafe(size);
    if (file.read(buf, 0, size, 0) !== size) return { index: null, problem: 'short read' };
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
    index.count = n;
    index.persisted = n;
    return { index, problem: null };
  }

  get entries(): number {
    return this.count;
  }

  get sizeBytes(): number {
    return this.count * OFFSET_INDEX_ENTRY_SIZE;
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

  /** Buffers an entry; offset and position must exceed the last entry's. */
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

  /** Removes everything (memory and file). */
  reset(): void {
    this.truncateEntries(0);
  }

  /** Writes the entries appended since the last call with one pwrite. */
  writeThrough(): void {
    if (this.file === null || this.persisted === this.count) return;
    const n = this.count - this.persisted;
    const buf = Buffer.allocUnsafe(n * OFFSET_INDEX_ENTRY_SIZE);
    for (let i = 0; i < n; i++) {
      buf.writeInt32BE(this.rel[this.persisted + i]!, i * 8);
      buf.writeInt32BE(this.pos[this.persisted + i]!, i * 8 + 4);
    }
    this.file.write(buf, 0, buf.length, this.persisted * OFFSET_INDEX_ENTRY_SIZE);
    this.persisted = this.count;
  }

  sync(): Promise<void> {
    return this.file === null ? Promise.resolve() : this.file.sync();
  }

  close(): void {
    this.file?.close();
    this.file = null;
  }

  private truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.persisted > n) {
      this.persisted = n;
      this.file?.truncate(n * OFFSET_INDEX_ENTRY_SIZE);
    }
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

  private ensureCapacity(n: number): void {
    if (n <= this.rel.length) return;
    const cap = Math.min(Math.max(n, this.rel.length * 2), Math.max(n, this.maxEntries));
    const rel = new Int32Array(cap);
    const pos = new Int32Array(cap);
    rel.set(this.rel.subarray(0, this.count));
    pos.set(this.pos.subarray(0, this.count));
    this.rel = rel;
    this.pos = pos;
  }
}
