/**
 * Linearizable reads without writing to the log (Raft thesis §6.4, ReadIndex): the leader
 * notes its commit index (once an entry of its own term has committed, so the index covers
 * every earlier write), confirms it is still leader by a heartbeat round a quorum answers, and
 * answers once its state machine has applied that index. The caller then reads its local state.
 */
import type { Applier } from './applier.js';
import type { RaftContext } from './context.js';
import { notLeader, RaftError } from './errors.js';
import type { Replicator } from './replication.js';

interface PendingRead {
  /** null until an entry of the leader's term has committed. */
  index: number | null;
  seq: number;
  readonly resolve: (index: number) => void;
  readonly reject: (err: RaftError) => void;
  readonly cancelTimer: () => void;
}

export class ReadIndex {
  private reads: PendingRead[] = [];

  constructor(
    private readonly ctx: RaftContext,
    private readonly replicator: Replicator,
    private readonly applier: Applier,
  ) {}

  read(): Promise<number> {
    const { state, config, clock } = this.ctx;
    if (state.stopped) return Promise.reject(new RaftError('SHUT_DOWN', 'the raft node is stopped'));
    if (state.role !== 'leader') return Promise.reject(notLeader(state.leaderId, 'readIndex'));
    if (this.reads.length >= config.maxPendingReads) {
      return Promise.reject(
        new RaftError('TOO_MANY_PENDING', `${this.reads.length} reads are pending; retry later`),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const read: PendingRead = {
        index: null,
        seq: 0,
        resolve,
        reject,
        cancelTimer: () => timer.cancel(),
      };
      const timer = clock.setTimeout(() => {
        this.reads = this.reads.filter((r) => r !== read);
        reject(
          new RaftError('REQUEST_TIMED_OUT', 'readIndex: leadership not confirmed within the read timeout'),
        );
      }, config.readTimeoutMs);
      this.reads.push(read);
      this.onCommit();
    });
  }

  /** Reads waiting for the leader's first commit get their index and a confirmation round. */
  onCommit(): void {
    const { state, log, hardState } = this.ctx;
    if (state.role !== 'leader' || log.termAt(state.commitIndex) !== hardState.term) return;
    const waiting = this.reads.filter((r) => r.index === null);
    if (waiting.length === 0) return;
    const seq = this.replicator.newRound();
    for (const r of waiting) {
      r.index = state.commitIndex;
      r.seq = seq;
    }
    this.check();
  }

  /** Resolves reads whose round a quorum answered and whose index is applied. */
  check(): void {
    if (this.reads.length === 0 || this.ctx.state.role !== 'leader') return;
    const confirmed = this.replicator.quorumAckedSeq();
    const lastApplied = this.applier.lastApplied;
    const done = this.reads.filter((r) => r.index !== null && r.seq <= confirmed && r.index <= lastApplied);
    if (done.length === 0) return;
    this.reads = this.reads.filter((r) => !done.includes(r));
    for (const r of done) {
      r.cancelTimer();
      r.resolve(r.index!);
    }
  }

  rejectAll(err: RaftError): void {
    const all = this.reads;
    this.reads = [];
    for (const r of all) {
      r.cancelTimer();
      r.reject(err);
    }
  }
}
