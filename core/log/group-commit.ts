/**
 * Group commit: many callers waiting for durability share few fdatasyncs.
 *
 * flush() resolves once everything appended before the call is on stable storage. While one
 * sync runs, callers whose appends it covers wait for it; the others share the next sync,
 * which starts when the running one ends. So with N concurrent appenders a sync costs one
 * fdatasync per segment, whatever N.
 *
 * Concurrency: event loop only; the sync itself (fdatasync in the thread pool) is the only
 * asynchronous step.
 */

export interface GroupCommitTarget {
  /** The offset after the last appended batch. */
  endOffset(): number;
  /** True when something appended (or truncated) is not yet synced. */
  needsSync(): boolean;
  /** Syncs everything appended so far; `target` is the endOffset when it started. */
  sync(target: number): Promise<void>;
  /** Called when no sync runs any more (e.g. to delete files a sync may have been using). */
  onIdle(): void;
}

const noop = (): void => {};

export class GroupCommit {
  private inFlight: Promise<void> | null = null;
  private inFlightTarget = -1;
  private next: Promise<void> | null = null;

  constructor(private readonly target: GroupCommitTarget) {}

  get syncing(): boolean {
    return this.inFlight !== null;
  }

  flush(): Promise<void> {
    const end = this.target.endOffset();
    if (this.inFlight === null) return this.target.needsSync() ? this.start() : Promise.resolve();
    if (end <= this.inFlightTarget) return this.inFlight;
    if (this.next === null) {
      this.next = this.inFlight.then(noop, noop).then(() => {
        this.next = null;
        return this.flush();
      });
    }
    return this.next;
  }

  private start(): Promise<void> {
    const end = this.target.endOffset();
    const run = this.target.sync(end);
    this.inFlight = run;
    this.inFlightTarget = end;
    const done = (): void => {
      if (this.inFlight !== run) return;
      this.inFlight = null;
      this.inFlightTarget = -1;
      this.target.onIdle();
    };
    run.then(done, done);
    return run;
  }
}
