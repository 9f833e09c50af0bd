/**
 * The leader's side of log replication (Raft §5.3): per-follower progress, AppendEntries with
 * the consistency check (prevLogIndex/prevLogTerm), fast backup on rejection, pipelining within
 * maxInflightAppends, heartbeats, InstallSnapshot chunks for followers behind the compacted
 * prefix, the commit rule (a quorum holds it and it is of the current term, §5.4.2) and
 * check-quorum (step down after an election timeout without hearing from a quorum).
 *
 * Learners get the same replication but count neither for commit nor for check-quorum.
 */
import type { RaftContext } from './context.js';
import type { AppendResponse, SnapshotResponse } from './messages.js';
import { Progress, type ProgressState } from './progress.js';
import type { Snapshot } from './snapshot-store.js';
import { Deadline } from './timer.js';
import type { LogEntry, NodeId } from './types.js';

export interface FollowerInfo {
  readonly id: NodeId;
  readonly voter: boolean;
  readonly state: ProgressState;
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly inflight: number;
  /** Monotonic ms of its last answer. */
  readonly lastResponseMs: number;
}

export class Replicator {
  private readonly peers = new Map<NodeId, Progress>();
  private heartbeatSeq = 0;
  private readonly heartbeat: Deadline;
  private readonly quorumCheck: Deadline;

  constructor(
    private readonly ctx: RaftContext,
    private readonly latestSnapshot: () => Snapshot | null,
    /** A follower answered: pending reads may be confirmed. */
    private readonly onAnswer: () => void,
  ) {
    this.heartbeat = new Deadline(ctx.clock, () => this.onHeartbeat());
    this.quorumCheck = new Deadline(ctx.clock, () => this.onQuorumCheck());
  }

  /** Becoming leader: every follower starts in probe at our last index + 1. */
  start(): void {
    this.peers.clear();
    this.heartbeatSeq = 0;
    this.syncPeers();
    this.heartbeat.after(this.ctx.config.heartbeatIntervalMs);
    this.quorumCheck.after(this.ctx.config.electionTimeoutMs);
  }

  stop(): void {
    this.peers.clear();
    this.heartbeat.cancel();
    this.quorumCheck.cancel();
  }

  get seq(): number {
    return this.heartbeatSeq;
  }

  /** Per-follower replication state, as Kafka's DescribeQuorum reports it. */
  describe(): FollowerInfo[] {
    return [...this.peers.values()].map((p) => ({
      id: p.id,
      voter: p.voter,
      state: p.state,
      matchIndex: p.matchIndex,
      nextIndex: p.nextIndex,
      inflight: p.inflight.length,
      lastResponseMs: p.lastResponseMs,
    }));
  }

  /** Adds progress for new learners, drops removed ones. */
  syncPeers(): void {
    const { id, membership, log, clock } = this.ctx;
    const now = clock.monotonic();
    const wanted = [...membership.voters.filter((v) => v !== id), ...membership.learners];
    for (const peer of wanted) {
      if (!this.peers.has(peer)) {
        this.peers.set(peer, new Progress(peer, membership.isVoter(peer), log.lastIndex + 1, now));
      }
    }
    for (const peer of [...this.peers.keys()]) {
      if (!membership.isMember(peer)) this.peers.delete(peer);
    }
  }

  /** Sends new entries to every follower that can take them. */
  broadcast(): void {
    for (const p of this.peers.values()) this.sendTo(p, false);
  }

  /** Starts a heartbeat round now; returns its seq (readIndex waits for a quorum to answer it). */
  newRound(): number {
    this.heartbeatSeq++;
    for (const p of this.peers.values()) this.sendTo(p, true);
    return this.heartbeatSeq;
  }

  /** A learner asked to be replicated to: answer at once. */
  poke(peer: NodeId): void {
    const p = this.peers.get(peer);
    if (p) this.sendTo(p, true);
  }

  /** The highest heartbeat round a quorum of voters (us included) has answered. */
  quorumAckedSeq(): number {
    const acked = [Number.POSITIVE_INFINITY];
    for (const p of this.peers.values()) if (p.voter) acked.push(p.ackedSeq);
    acked.sort((a, b) => b - a);
    return acked[this.ctx.membership.quorum - 1] ?? 0;
  }

  /** Moves the commit index to the highest current-term index a quorum of voters holds. */
  maybeCommit(): void {
    const { state, log, hardState, membership, config, host } = this.ctx;
    const matches = [state.leaderDurableIndex];
    for (const p of this.peers.values()) if (p.voter) matches.push(p.matchIndex);
    matches.sort((a, b) => b - a);
    const n = matches[membership.quorum - 1] ?? 0;
    if (n <= state.commitIndex) return;
    if (log.termAt(n) !== hardState.term && !config.unsafe.commitPreviousTermEntries) return;
    state.commitIndex = n;
    host.committed();
  }

  private onHeartbeat(): void {
    if (this.ctx.state.role !== 'leader') return;
    this.newRound();
    this.heartbeat.after(this.ctx.config.heartbeatIntervalMs);
  }

  private onQuorumCheck(): void {
    const { state, config, clock, membership, host, hardState } = this.ctx;
    if (state.role !== 'leader') return;
    if (config.checkQuorum) {
      const now = clock.monotonic();
      let active = 1;
      for (const p of this.peers.values()) {
        if (p.voter && now - p.lastResponseMs < config.electionTimeoutMs) active++;
      }
      if (active < membership.quorum) {
        host.becomeFollower(hardState.term, null);
        return;
      }
    }
    this.quorumCheck.after(config.electionTimeoutMs);
  }

  private sendTo(p: Progress, heartbeat: boolean): void {
    const { log, clock, config } = this.ctx;
    const now = clock.monotonic();
    if (p.state === 'snapshot') {
      if (!heartbeat) return;
      const send = p.snapshot!;
      if (now - send.sentMs >= config.snapshotChunkTimeoutMs) {
        if (send.rewindToBytes !== null) send.offsetBytes = Math.min(send.offsetBytes, send.rewindToBytes);
        send.rewindToBytes = null;
        this.sendChunk(p);
      }
      this.sendHeartbeat(p);
      return;
    }
    if (p.state === 'probe') {
      if (!heartbeat && p.inflight.length > 0) return; // one probe at a time, repeated each heartbeat
      const prev = p.nextIndex - 1;
      const prevTerm = log.termAt(prev);
      if (prevTerm === null || p.nextIndex < log.firstIndex) {
        this.startSnapshot(p);
        return;
      }
      const entries = p.nextIndex <= log.lastIndex ? this.slice(p.nextIndex) : [];
      this.sendAppend(p.id, prev, prevTerm, entries);
      p.inflight = [prev + entries.length];
      return;
    }
    if (heartbeat) {
      if (p.inflight.length > 0 && now - p.lastProgressMs >= config.appendTimeoutMs) {
        p.toProbe(p.matchIndex + 1, now); // answers were lost: find the match again
        this.sendTo(p, true);
        return;
      }
      this.sendHeartbeat(p);
    }
    while (p.inflight.length < config.maxInflightAppends && p.nextIndex <= log.lastIndex) {
      const prev = p.nextIndex - 1;
      const prevTerm = log.termAt(prev);
      if (prevTerm === null || p.nextIndex < log.firstIndex) {
        this.startSnapshot(p);
        return;
      }
      const entries = this.slice(p.nextIndex);
      this.sendAppend(p.id, prev, prevTerm, entries);
      const last = entries[entries.length - 1]!.index;
      p.inflight.push(last);
      p.nextIndex = last + 1;
    }
  }

  private slice(from: number): LogEntry[] {
    const { log, config } = this.ctx;
    return log.slice(from, config.maxEntriesPerAppend, config.maxAppendBytes);
  }

  /** An empty AppendEntries at the known match point: keeps the follower's commit index current. */
  private sendHeartbeat(p: Progress): void {
    const term = this.ctx.log.termAt(p.matchIndex);
    if (term === null) this.sendAppend(p.id, 0, 0, []);
    else this.sendAppend(p.id, p.matchIndex, term, []);
  }

  private sendAppend(to: NodeId, prevLogIndex: number, prevLogTerm: number, entries: LogEntry[]): void {
    const { id, hardState, state, host } = this.ctx;
    host.sendNow(to, {
      type: 'append',
      from: id,
      term: hardState.term,
      prevLogIndex,
      prevLogTerm,
      entries,
      leaderCommit: state.commitIndex,
      seq: this.heartbeatSeq,
    });
  }

  private startSnapshot(p: Progress): void {
    const snap = this.latestSnapshot();
    if (snap === null) {
      this.ctx.host.fail(new Error(`entry ${p.nextIndex - 1} was compacted but no snapshot exists`));
      return;
    }
    p.toSnapshot(snap, this.ctx.clock.monotonic());
    this.sendChunk(p);
  }

  private sendChunk(p: Progress): void {
    const { id, hardState, host, clock, config } = this.ctx;
    const send = p.snapshot!;
    const { snap } = send;
    const end = Math.min(send.offsetBytes + config.snapshotChunkBytes, snap.fileBytes.length);
    host.sendNow(p.id, {
      type: 'snapshot',
      from: id,
      term: hardState.term,
      snapshotIndex: snap.index,
      snapshotTerm: snap.term,
      totalBytes: snap.fileBytes.length,
      offsetBytes: send.offsetBytes,
      chunk: snap.fileBytes.subarray(send.offsetBytes, end),
      seq: this.heartbeatSeq,
    });
    send.sentMs = clock.monotonic();
  }

  private answered(p: Progress, seq: number): void {
    p.lastResponseMs = this.ctx.clock.monotonic();
    if (seq > p.ackedSeq) p.ackedSeq = seq;
  }

  onAppendResponse(m: AppendResponse): void {
    const p = this.peers.get(m.from);
    if (!p || this.ctx.state.role !== 'leader' || m.term !== this.ctx.hardState.term) return;
    const now = this.ctx.clock.monotonic();
    this.answered(p, m.seq);
    if (m.success) {
      const advanced = p.matched(m.matchIndex, now);
      if (p.state === 'probe') p.toReplicate(now);
      if (advanced && p.voter) this.maybeCommit();
      if (this.ctx.state.role === 'leader') this.sendTo(p, false);
    } else if (this.isCurrentRejection(p, m)) {
      p.toProbe(this.backup(p, m), now);
      this.sendTo(p, true);
    }
    this.onAnswer();
  }

  private isCurrentRejection(p: Progress, m: AppendResponse): boolean {
    if (m.rejectedIndex <= p.matchIndex || p.state === 'snapshot') return false; // stale
    return p.state === 'replicate' || m.rejectedIndex === p.nextIndex - 1;
  }

  /** Where to probe next after a rejection (the conflict-term optimisation of §5.3). */
  private backup(p: Progress, m: AppendResponse): number {
    let next = m.conflictIndex;
    if (m.conflictTerm > 0) {
      const last = this.ctx.log.lastIndexOfTerm(m.conflictTerm);
      if (last !== null) next = last + 1;
    }
    next = Math.min(next, m.rejectedIndex);
    return Math.max(next, p.matchIndex + 1, 1);
  }

  onSnapshotResponse(m: SnapshotResponse): void {
    const p = this.peers.get(m.from);
    if (!p || this.ctx.state.role !== 'leader' || m.term !== this.ctx.hardState.term) return;
    const now = this.ctx.clock.monotonic();
    this.answered(p, m.seq);
    const send = p.snapshot;
    if (m.done) {
      // installed (or it already had everything up to there): it matches up to snapshotIndex
      if (p.matched(m.snapshotIndex, now) && p.voter) this.maybeCommit();
      if (send !== null && m.snapshotIndex >= send.snap.index && this.ctx.state.role === 'leader') {
        p.toProbe(p.matchIndex + 1, now);
        this.sendTo(p, true);
      }
    } else if (send !== null && m.snapshotIndex === send.snap.index) {
      if (m.nextOffsetBytes > send.offsetBytes && m.nextOffsetBytes < send.snap.fileBytes.length) {
        send.offsetBytes = m.nextOffsetBytes;
        p.lastProgressMs = now;
        this.sendChunk(p);
      } else if (m.nextOffsetBytes < send.offsetBytes) {
        send.rewindToBytes = m.nextOffsetBytes; // it lost what it had (restarted), or a stale answer
      }
    }
    this.onAnswer();
  }
}
