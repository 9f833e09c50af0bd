/**
 * What the parts of a Raft node share. RaftNode owns one RaftContext and hands it to the parts
 * (election, replication, follower, snapshot transfer, applier, reads); role transitions go
 * back through `host`, so that only RaftNode changes roles.
 */
import type { Clock } from '../../env/clock.js';
import type { Random } from '../../env/random.js';
import type { RaftConfig } from './config.js';
import type { Durability } from './durability.js';
import type { HardState } from './hard-state.js';
import type { Membership } from './membership.js';
import type { RaftMessage } from './messages.js';
import type { RaftLog } from './raft-log.js';
import type { NodeId, RaftRole } from './types.js';

/** Volatile state (lost on restart). */
export interface VolatileState {
  role: RaftRole;
  leaderId: NodeId | null;
  /** Highest index known committed. Never decreases within an incarnation. */
  commitIndex: number;
  /** Monotonic ms of the last message from the current leader (or, on a leader, of its election). */
  lastLeaderContactMs: number;
  /** On a leader: the last index its own log has fsynced in its current term. */
  leaderDurableIndex: number;
  stopped: boolean;
}

export interface RaftHost {
  /** Sends once everything written so far is durable. */
  send(to: NodeId, msg: RaftMessage): void;
  /**
   * Sends at once. Only for the leader's AppendEntries and InstallSnapshot: a leader may send
   * entries before its own fsync (Raft thesis §10.2.1), since it counts itself towards commit
   * only for what it has fsynced, and its term and vote were made durable before it was elected.
   */
  sendNow(to: NodeId, msg: RaftMessage): void;
  /** Steps down to follower (or stays learner) in term, adopting it if higher. */
  becomeFollower(term: number, leaderId: NodeId | null): void;
  becomeLeader(): void;
  /** The commit index moved: apply, resolve proposals and reads. */
  committed(): void;
  /** A broken invariant or an I/O error: the node stops. */
  fail(err: unknown): void;
}

export interface RaftContext {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: RaftLog;
  readonly hardState: HardState;
  readonly durability: Durability;
  readonly membership: Membership;
  readonly state: VolatileState;
  readonly host: RaftHost;
}
