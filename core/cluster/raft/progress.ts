/**
 * What a leader knows about one follower or learner (etcd's Progress, simplified):
 *
 * - probe: where the follower's log matches is unknown; one AppendEntries at nextIndex - 1 at a
 *   time, repeated every heartbeat until answered.
 * - replicate: the follower matches up to matchIndex; entries are pipelined optimistically
 *   (nextIndex runs ahead), at most maxInflightAppends messages in flight.
 * - snapshot: the entries it needs were compacted; a snapshot is being sent, one chunk in flight.
 */
import type { Snapshot } from './snapshot-store.js';
import type { NodeId } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface SnapshotSend {
  readonly snap: Snapshot;
  /** Offset of the chunk in flight. */
  offsetBytes: number;
  sentMs: number;
  /** The follower asked for an earlier offset (it restarted): resend from there on timeout. */
  rewindToBytes: number | null;
}

export class Progress {
  state: ProgressState = 'probe';
  matchIndex = 0;
  /** Last index of each AppendEntries in flight, oldest first. */
  inflight: number[] = [];
  /** Monotonic ms of the last answer of any kind (check-quorum). */
  lastResponseMs: number;
  /** Monotonic ms of the last answer that showed progress, or of entering this state. */
  lastProgressMs: number;
  /** Highest heartbeat round answered in the current term (readIndex). */
  ackedSeq = 0;
  snapshot: SnapshotSend | null = null;

  constructor(
    readonly id: NodeId,
    readonly voter: boolean,
    public nextIndex: number,
    nowMs: number,
  ) {
    this.lastResponseMs = nowMs;
    this.lastProgressMs = nowMs;
  }

  toProbe(nextIndex: number, nowMs: number): void {
    this.state = 'probe';
    this.nextIndex = Math.max(nextIndex, this.matchIndex + 1);
    this.inflight = [];
    this.snapshot = null;
    this.lastProgressMs = nowMs;
  }

  toReplicate(nowMs: number): void {
    this.state = 'replicate';
    this.nextIndex = this.matchIndex + 1;
    this.inflight = [];
    this.snapshot = null;
    this.lastProgressMs = nowMs;
  }

  toSnapshot(snap: Snapshot, nowMs: number): void {
    this.state = 'snapshot';
    this.inflight = [];
    this.snapshot = { snap, offsetBytes: 0, sentMs: nowMs, rewindToBytes: null };
    this.lastProgressMs = nowMs;
  }

  /** A success answer showed the follower matches up to matchIndex. Returns whether it advanced. */
  matched(matchIndex: number, nowMs: number): boolean {
    const before = this.inflight.length;
    while (this.inflight.length > 0 && this.inflight[0]! <= matchIndex) this.inflight.shift();
    if (this.inflight.length < before) this.lastProgressMs = nowMs;
    if (matchIndex <= this.matchIndex) return false;
    this.lastProgressMs = nowMs;
    this.matchIndex = matchIndex;
    if (this.nextIndex <= matchIndex) this.nextIndex = matchIndex + 1;
    return true;
  }
}
