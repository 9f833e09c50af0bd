/**
 * Who is in the quorum. Voters are fixed from `controller.quorum.voters`; learners (brokers that
 * follow the metadata log without voting) are added and removed by log entries, which take
 * effect as soon as they are appended (Raft's rule for configuration entries) and are undone if
 * the entry is truncated. Snapshots record the learners as of their index.
 *
 * How a broker joins a running cluster: it starts a RaftNode whose id is not among the voters
 * (so it runs as a learner, never votes nor campaigns), with the same voter list. While it hears
 * from no leader it sends LearnerJoin to a random voter every election timeout; the leader
 * answers by appending an addLearner entry and starts replicating to it (InstallSnapshot first
 * when the log was compacted). An operator can also call addLearner() on the leader.
 */
import type { RaftLog } from './raft-log.js';
import { EntryType, type LogEntry, type NodeId } from './types.js';

export function learnerEntryData(id: NodeId): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeInt32BE(id);
  return b;
}

function learnerOf(e: LogEntry): NodeId | null {
  if (e.type !== EntryType.addLearner && e.type !== EntryType.removeLearner) return null;
  if (e.data.length !== 4) return null;
  return new DataView(e.data.buffer, e.data.byteOffset, 4).getInt32(0);
}

function applyTo(set: Set<NodeId>, e: LogEntry, voters: ReadonlySet<NodeId>): void {
  const id = learnerOf(e);
  if (id === null || voters.has(id)) return;
  if (e.type === EntryType.addLearner) set.add(id);
  else set.delete(id);
}

export class Membership {
  private readonly voterSet: ReadonlySet<NodeId>;
  /** Learners as of the last applied entry (what a snapshot records). */
  private applied = new Set<NodeId>();
  /** Learners as of the last log entry (what the leader replicates to). */
  private effective = new Set<NodeId>();

  constructor(readonly voters: readonly NodeId[]) {
    this.voterSet = new Set(voters);
  }

  get quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  isVoter(id: NodeId): boolean {
    return this.voterSet.has(id);
  }

  isLearner(id: NodeId): boolean {
    return this.effective.has(id);
  }

  isMember(id: NodeId): boolean {
    return this.voterSet.has(id) || this.effective.has(id);
  }

  get learners(): NodeId[] {
    return [...this.effective].sort((a, b) => a - b);
  }

  get appliedLearners(): NodeId[] {
    return [...this.applied].sort((a, b) => a - b);
  }

  get learnerCount(): number {
    return this.effective.size;
  }

  /** Restores the applied set (from a snapshot); call recompute() after. */
  restore(learners: readonly NodeId[]): void {
    this.applied = new Set(learners.filter((l) => !this.voterSet.has(l)));
    this.effective = new Set(this.applied);
  }

  onApplied(e: LogEntry): void {
    applyTo(this.applied, e, this.voterSet);
  }

  /** Entries were appended to the log. Returns whether the learner set changed. */
  onAppended(entries: readonly LogEntry[]): boolean {
    let changed = false;
    for (const e of entries) {
      if (learnerOf(e) === null) continue;
      applyTo(this.effective, e, this.voterSet);
      changed = true;
    }
    return changed;
  }

  /** After a truncation: applied learners plus the entries after lastApplied. */
  recompute(log: RaftLog, lastApplied: number): void {
    this.effective = new Set(this.applied);
    for (let i = Math.max(lastApplied + 1, log.firstIndex); i <= log.lastIndex; i++) {
      applyTo(this.effective, log.entryAt(i)!, this.voterSet);
    }
  }
}
