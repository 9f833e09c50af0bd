/**
 * The follower's (and learner's) side of AppendEntries (Raft §5.3): the consistency check at
 * prevLogIndex, conflict truncation (never of a committed entry), appending what is new, and
 * the commit index learnt from the leader — capped at the last entry this message proved to
 * match, never at our own last index, which may hold a stale suffix.
 * The answer leaves only after the appended entries are fsynced (RaftHost.send).
 */
import type { RaftContext } from './context.js';
import { RaftError } from './errors.js';
import type { AppendRequest } from './messages.js';
import type { LogEntry } from './types.js';

export class Follower {
  constructor(
    private readonly ctx: RaftContext,
    /** The learner set may have changed (entries appended or truncated). */
    private readonly onMembershipChange: () => void,
    /** lastApplied, for recomputing membership after a truncation. */
    private readonly lastApplied: () => number,
  ) {}

  onAppend(m: AppendRequest): void {
    const { id, hardState, host, log, state } = this.ctx;
    const reject = (conflictIndex: number, conflictTerm: number): void =>
      host.send(m.from, {
        type: 'appendResponse',
        from: id,
        term: hardState.term,
        success: false,
        matchIndex: 0,
        rejectedIndex: m.prevLogIndex,
        conflictIndex,
        conflictTerm,
        seq: m.seq,
      });

    let prevIndex = m.prevLogIndex;
    let prevTerm = m.prevLogTerm;
    let entries: readonly LogEntry[] = m.entries;
    if (prevIndex < log.snapshotIndex) {
      // what the snapshot covers is committed, hence identical in the leader's log: skip it
      const skip = Math.min(entries.length, log.snapshotIndex - prevIndex);
      const atSnapshot = entries[log.snapshotIndex - prevIndex - 1];
      if (atSnapshot !== undefined && atSnapshot.term !== log.snapshotTerm) {
        host.fail(
          this.violation(`leader ${m.from} sent ${atSnapshot.index}@${atSnapshot.term} over our snapshot`),
        );
        return;
      }
      entries = entries.slice(skip);
      prevIndex = log.snapshotIndex;
      prevTerm = log.snapshotTerm;
    }
    const localTerm = log.termAt(prevIndex);
    if (localTerm === null) {
      reject(log.lastIndex + 1, 0);
      return;
    }
    if (localTerm !== prevTerm) {
      reject(log.firstIndexOfTerm(prevIndex, localTerm), localTerm);
      return;
    }
    let membershipChanged = false;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      const existing = log.termAt(e.index);
      if (existing === e.term) continue;
      if (existing !== null) {
        if (e.index <= state.commitIndex) {
          host.fail(
            this.violation(
              `leader ${m.from} overwrites committed entry ${e.index} (commit ${state.commitIndex})`,
            ),
          );
          return;
        }
        log.truncateFrom(e.index);
        this.ctx.membership.recompute(log, this.lastApplied());
        membershipChanged = true;
      }
      const rest = entries.slice(k);
      log.append(rest);
      if (this.ctx.membership.onAppended(rest)) membershipChanged = true;
      break;
    }
    if (membershipChanged) this.onMembershipChange();
    const matchIndex = prevIndex + entries.length;
    const commit = Math.min(m.leaderCommit, matchIndex);
    if (commit > state.commitIndex) {
      state.commitIndex = commit;
      host.committed();
    }
    host.send(m.from, {
      type: 'appendResponse',
      from: id,
      term: hardState.term,
      success: true,
      matchIndex,
      rejectedIndex: 0,
      conflictIndex: 0,
      conflictTerm: 0,
      seq: m.seq,
    });
  }

  private violation(what: string): RaftError {
    return new RaftError('SAFETY_VIOLATION', `node ${this.ctx.id}: ${what}`);
  }
}
