/**
 * The state machine driver: applies committed entries in index order (commands to the state
 * machine, learner changes to the membership), and settles proposals. A proposal resolves when
 * its index is applied with the term it was appended in; an entry of another term at that
 * index means another leader overwrote it (NOT_LEADER: it did not commit).
 */
import type { RaftContext } from './context.js';
import { notLeader, RaftError } from './errors.js';
import type { Snapshot } from './snapshot-store.js';
import { EntryType, type ProposeResult, type StateMachine } from './types.js';

interface Pending {
  readonly term: number;
  readonly resolve: (r: ProposeResult) => void;
  readonly reject: (err: RaftError) => void;
  readonly cancelTimer: () => void;
}

export class Applier {
  lastApplied = 0;
  /** Bytes of entries applied since the last snapshot (snapshot trigger). */
  bytesSinceSnapshot = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly ctx: RaftContext,
    private readonly sm: StateMachine,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resets the state machine to a snapshot (at startup, or installed from the leader). */
  restore(snap: Snapshot): void {
    this.sm.restore(snap.data);
    this.ctx.membership.restore(snap.learners);
    this.lastApplied = snap.index;
    this.bytesSinceSnapshot = 0;
    for (const [index, p] of this.pending) {
      if (index > snap.index) continue;
      this.settle(index, p);
      p.reject(
        new RaftError(
          'OUTCOME_UNKNOWN',
          `entry ${index} was covered by a snapshot before it was applied here`,
        ),
      );
    }
    this.ctx.membership.recompute(this.ctx.log, this.lastApplied);
  }

  /** Resolves with {index, term} once index is applied in term; rejects on overwrite or timeout. */
  track(index: number, term: number): Promise<ProposeResult> {
    return new Promise<ProposeResult>((resolve, reject) => {
      const timer = this.ctx.clock.setTimeout(() => {
        const p = this.pending.get(index);
        if (p === undefined) return;
        this.pending.delete(index);
        p.reject(
          new RaftError('REQUEST_TIMED_OUT', `entry ${index} not committed within the propose timeout`),
        );
      }, this.ctx.config.proposeTimeoutMs);
      this.pending.set(index, { term, resolve, reject, cancelTimer: () => timer.cancel() });
    });
  }

  /** Applies entries up to the commit index. */
  applyCommitted(): void {
    const { state, log, membership } = this.ctx;
    while (this.lastApplied < state.commitIndex && !state.stopped) {
      const index = this.lastApplied + 1;
      const e = log.entryAt(index);
      if (e === null)
        throw new RaftError('CORRUPT_STATE', `committed entry ${index} is missing from the log`);
      if (e.type === EntryType.command) this.sm.apply(e.data, e.index, e.term);
      else membership.onApplied(e);
      this.lastApplied = index;
      this.bytesSinceSnapshot += e.data.length + 32;
      const p = this.pending.get(index);
      if (p !== undefined) {
        this.settle(index, p);
        if (p.term === e.term) p.resolve({ index, term: e.term });
        else p.reject(notLeader(state.leaderId, `entry ${index} was replaced by a newer leader's`));
      }
    }
  }

  private settle(index: number, p: Pending): void {
    this.pending.delete(index);
    p.cancelTimer();
  }

  rejectAll(err: RaftError): void {
    for (const [index, p] of [...this.pending]) {
      this.settle(index, p);
      p.reject(err);
    }
  }
}
