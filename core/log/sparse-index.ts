/**
 * SparseIndex: what the offset index and the time index share (offset-index.ts,
 * time-index.ts): fixed-size big-endian entries with no header, kept in memory (growable typed
 * arrays, one per field, in the subclass) with the file lagging behind.
 *
 * Memory first, file later: append only records an entry in memory; every lookup answers from
 * memory, so it sees entries that are not in the file yet ("pending"). writePending() writes the
 * pending entries with one pwrite. The segment calls it when it flushes, rolls or closes, and
 * when pendingEntries reaches PENDING_WRITE_ENTRIES, so an append that adds index entries costs
 * no syscall (Kafka gets the same from memory-mapped index files; Node has no mmap).
 *
 * Crash consistency: the file is always a prefix of the in-memory entries (entries are only
 * appended at the end, truncation cuts both), so after a crash it is a shorter but valid index.
 * Opening a segment completes it from the log (segment.ts: ensureLoaded, recover). Index files
 * are not fsynced on the hot path either: after a power loss they are checked on open (size a
 * multiple of the entry size, order, bounds) and rebuilt when anything is off. No
 * preallocation: the file size is always persisted entries * entry size.
 *
 * Concurrency: none. One PartitionLog owns it and calls it from the event loop only.
 */
import type { FileHandle } from '../env/fs.js';

/** Pending entries that make the segment write them at once (bounds the memory a crash can lose). */
export const PENDING_WRITE_ENTRIES = 512;
const INITIAL_CAPACITY = 64;

export abstract class SparseIndex {
  readonly maxEntries: number;
  protected count = 0;
  /** Entries [0, persisted) are in the file. */
  protected persisted = 0;
  /** Slots of the typed arrays. */
  protected capacity: number;

  protected constructor(
    readonly baseOffset: number,
    readonly entrySize: number,
    maxEntries: number,
    protected file: FileHandle | null,
  ) {
    this.maxEntries = maxEntries;
    this.capacity = Math.min(INITIAL_CAPACITY, maxEntries);
  }

  /** Copies the first `count` entries into arrays of `capacity` slots (subclass storage). */
  protected abstract resize(capacity: number): void;

  /** Writes entry i at buf[at, at + entrySize). */
  protected abstract encode(i: number, buf: Buffer, at: number): void;

  get entries(): number {
    return this.count;
  }

  get sizeBytes(): number {
    return this.count * this.entrySize;
  }

  /** Entries appended in memory and not yet written to the file. */
  get pendingEntries(): number {
    return this.count - this.persisted;
  }

  /** Entries in the file. */
  get persistedEntries(): number {
    return this.persisted;
  }

  /** Removes everything (memory and file). */
  reset(): void {
    this.truncateEntries(0);
  }

  /** Writes the pending entries with one pwrite at the end of the file. */
  writePending(): void {
    if (this.file === null || this.persisted === this.count) return;
    const n = this.count - this.persisted;
    const size = this.entrySize;
    const buf = Buffer.allocUnsafe(n * size);
    for (let i = 0; i < n; i++) this.encode(this.persisted + i, buf, i * size);
    this.file.write(buf, 0, buf.length, this.persisted * size);
    this.persisted = this.count;
  }

  sync(): Promise<void> {
    return this.file === null ? Promise.resolve() : this.file.sync();
  }

  /** Closes the file; pending entries are dropped (callers writePending() first). */
  close(): void {
    this.file?.close();
    this.file = null;
  }

  /** Keeps the first n entries (memory and file). */
  protected truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.persisted > n) {
      this.persisted = n;
      this.file?.truncate(n * this.entrySize);
    }
  }

  protected ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.min(Math.max(n, this.capacity * 2), Math.max(n, this.maxEntries));
    this.resize(cap);
    this.capacity = cap;
  }

  /**
   * The whole file of an index being loaded, or the problem that makes it unusable (size not a
   * multiple of entrySize, short read).
   */
  protected static readFile(file: FileHandle, entrySize: number): { buf: Buffer } | { problem: string } {
    const size = file.size();
    if (size % entrySize !== 0) return { problem: `size ${size} is not a multiple of ${entrySize}` };
    const buf = Buffer.allocUnsafe(size);
    if (size > 0 && file.read(buf, 0, size, 0) !== size) return { problem: 'short read' };
    return { buf };
  }

  /** Marks n loaded entries as being in the file. */
  protected loaded(n: number): void {
    this.count = n;
    this.persisted = n;
  }
}
