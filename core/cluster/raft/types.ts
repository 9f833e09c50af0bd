/**
 * The vocabulary of the metadata quorum. Indexes and terms are JavaScript numbers (safe
 * integers, 2^53 is far beyond what a metadata log reaches); node ids are Kafka's int32 node ids.
 * Index 0 / term 0 mean "before the first entry".
 */

export type NodeId = number;

/** What an entry carries. Only `command` entries reach the state machine. */
export const EntryType = {
  /** Appended by a new leader so that entries of earlier terms commit (Raft §5.4.2). */
  noop: 0,
  /** A state-machine command (a metadata record batch, for the controller). */
  command: 1,
  /** data = int32 node id: a non-voting learner (observer) joins; effective once appended. */
  addLearner: 2,
  /** data = int32 node id: a learner leaves. */
  removeLearner: 3,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** `preCandidate`: asking for pre-votes without bumping its term (Raft thesis §9.6). */
export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader' | 'learner';

/** The replicated state machine a Raft node drives. Calls happen on the node's event loop turn. */
export interface StateMachine {
  /**
   * Applies a committed command. Called exactly once per command per incarnation, in index order,
   * starting after the snapshot it was restored from. Must be deterministic; a throw is fatal.
   */
  apply(command: Uint8Array, index: number, term: number): void;
  /** The state after the last applied command, serialized. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot's (at startup and on InstallSnapshot). */
  restore(snapshot: Uint8Array): void;
}

export interface ProposeResult {
  readonly index: number;
  readonly term: number;
}

/** A point-in-time view of a node, for metrics, tests and the simulator's checkers. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly role: RaftRole;
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly learners: readonly NodeId[];
  readonly stopped: boolean;
}
