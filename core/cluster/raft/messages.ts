/**
 * Raft messages as plain typed objects. Every message carries its sender and the sender's term.
 * codec.ts gives them a compact binary frame for a TCP transport.
 */
import type { LogEntry, NodeId } from './types.js';

/** RequestVote; with preVote set, a pre-vote (term = candidate's term + 1, nothing persisted). */
export interface VoteRequest {
  readonly type: 'vote';
  readonly from: NodeId;
  readonly term: number;
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

export interface VoteResponse {
  readonly type: 'voteResponse';
  readonly from: NodeId;
  /** The responder's term; for a granted pre-vote, the term that was asked for. */
  readonly term: number;
  readonly preVote: boolean;
  readonly granted: boolean;
}

export interface AppendRequest {
  readonly type: 'append';
  readonly from: NodeId;
  readonly term: number;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly LogEntry[];
  readonly leaderCommit: number;
  /** Heartbeat round, echoed back; confirms leadership for readIndex. */
  readonly seq: number;
}

export interface AppendResponse {
  readonly type: 'appendResponse';
  readonly from: NodeId;
  readonly term: number;
  readonly success: boolean;
  /** On success: the last index known to match the leader's log. */
  readonly matchIndex: number;
  /** The request's prevLogIndex (stale rejections are recognised by it). */
  readonly rejectedIndex: number;
  /** On failure: where the leader should look next (Raft §5.3 fast backup). 0 = none. */
  readonly conflictIndex: number;
  readonly conflictTerm: number;
  readonly seq: number;
}

/** One chunk of a snapshot file (InstallSnapshot, Raft §7). */
export interface SnapshotRequest {
  readonly type: 'snapshot';
  readonly from: NodeId;
  readonly term: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly totalBytes: number;
  readonly offsetBytes: number;
  readonly chunk: Uint8Array;
  readonly seq: number;
}

export interface SnapshotResponse {
  readonly type: 'snapshotResponse';
  readonly from: NodeId;
  readonly term: number;
  readonly snapshotIndex: number;
  /** The offset the follower expects next; totalBytes once installed. */
  readonly nextOffsetBytes: number;
  readonly done: boolean;
  readonly seq: number;
}

/** Sent by a learner that hears from no leader: "replicate to me". Non-leaders ignore it. */
export interface LearnerJoin {
  readonly type: 'learnerJoin';
  readonly from: NodeId;
  readonly term: number;
}

export type RaftMessage =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | SnapshotRequest
  | SnapshotResponse
  | LearnerJoin;

export type RaftMessageType = RaftMessage['type'];
