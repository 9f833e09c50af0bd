/**
 * Group commit. Writes to the log and the hard state go to the files at once (synchronously);
 * fsyncs are batched: everything written before a sync starts is durable when it finishes, and
 * writes made meanwhile wait for the next one. after(fn) runs fn once every write made so far is
 * durable: the node sends every message through it, so nothing it says (a vote, an acknowledged
 * entry, a new term) can be forgotten by a crash ("persist before you speak").
 */
import type { FileHandle } from '../../env/fs.js';

export class Durability {
  private writeSeq = 0;
  private durableSeq = 0;
  private syncing = false;
  private closed = false;
  private readonly dirty = new Set<FileHandle>();
  private waiters: { seq: number; fn: () => void }[] = [];

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Records a write to handle that is not durable yet. */
  dirtied(handle: FileHandle): void {
    this.dirty.add(handle);
    this.writeSeq++;
  }

  /** The handle is closed (deleted, or its contents were made durable another way). */
  forget(handle: FileHandle): void {
    this.dirty.delete(handle);
  }

  get clean(): boolean {
    return this.durableSeq === this.writeSeq;
  }

  /** Runs fn now if everything written is durable, else after the fsync that covers it. */
  after(fn: () => void): void {
    if (this.closed) return;
    if (this.durableSeq === this.writeSeq) {
      fn();
      return;
    }
    this.waiters.push({ seq: this.writeSeq, fn });
    this.kick();
  }

  /** Starts an fsync of what was written, if none is running. */
  kick(): void {
    if (this.syncing || this.closed || this.durableSeq === this.writeSeq) return;
    this.syncing = true;
    const target = this.writeSeq;
    const handles = [...this.dirty];
    this.dirty.clear();
    Promise.all(handles.map((h) => h.sync())).then(
      () => {
        this.syncing = false;
        if (this.closed) return;
        this.durableSeq = target;
        const ready = this.waiters.filter((w) => w.seq <= target);
        this.waiters = this.waiters.filter((w) => w.seq > target);
        for (const w of ready) {
          if (this.closed) return;
          w.fn();
        }
        this.kick();
      },
      (err: unknown) => {
        this.syncing = false;
        if (!this.closed) this.onError(err);
      },
    );
  }

  close(): void {
    this.closed = true;
    this.waiters = [];
    this.dirty.clear();
  }
}
