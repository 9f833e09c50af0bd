/**
 * One partition's replication state on this broker (Kafka's `Partition`): its role from the
 * cluster view, and on the leader each follower's fetch position and last caught-up time, the
 * high watermark (the smallest log end offset of the ISR) and the acks=all produces waiting for
 * it. ISR changes are proposed here and committed by the controller (ClusterView.alterPartition);
 * until one is committed the high watermark counts the larger of the old and proposed ISR.
 *
 * Concurrency: single-threaded (the event loop); every method runs to completion.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';
import type { PartitionLog } from '../../log/log.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { PartitionAssignment } from '../cluster-view.js';

export type Role = 'leader' | 'follower' | 'none';

/** What apply() did, so the manager can start or stop fetching. */
export type RoleChange = 'leader' | 'follower' | 'none' | 'unchanged';

/** acks=all produces waiting on one partition, at most. */
export const MAX_HW_WAITERS = 10_000;

interface FollowerState {
  /** The follower's log end offset: its last fetch offset (-1 until it fetches). */
  logEndOffset: number;
  lastCaughtUpMs: number;
  lastFetchMs: number;
  leaderEndAtLastFetch: number;
}

interface HwWaiter {
  offset: number;
  resolve: (errorCode: number) => void;
  timer: TimerHandle;
}

export interface PartitionHooks {
  /** The high watermark moved: consumers waiting on this log may read more. */
  onHighWatermark(log: PartitionLog): void;
  /** Propose an ISR (the manager calls the controller and applies the committed result). */
  proposeIsr(partition: Partition, newIsr: number[]): void;
}

export class Partition {
  role: Role = 'none';
  leader = -1;
  leaderEpoch = -1;
  partitionEpoch = -1;
  replicas: number[] = [];
  isr: number[] = [];
  /** An ISR proposed to the controller and not yet committed. */
  pendingIsr: number[] | null = null;
  /**
   * Members of earlier proposals whose outcome is unknown: refused because the partition epoch had
   * moved on — maybe through an earlier copy of the same proposal, whose answer was lost. The
   * controller may have committed them, and would then elect them; so the high watermark keeps
   * counting them until metadata with a newer partition epoch shows the committed ISR.
   */
  private uncertainIsr: number[] = [];
  /** Where the current leader epoch started in this log (leader only). */
  private epochStartOffset = 0;
  private readonly followers = new Map<number, FollowerState>();
  private waiters: HwWaiter[] = [];

  constructor(
    readonly log: PartitionLog,
    private readonly selfId: number,
    private readonly clock: Clock,
    private readonly hooks: PartitionHooks,
  ) {}

  get topic(): string {
    return this.log.topic;
  }
  get partition(): number {
    return this.log.partition;
  }

  /** Applies the view's state for this partition. */
  apply(a: PartitionAssignment): RoleChange {
    if (a.partitionEpoch < this.partitionEpoch && a.leaderEpoch <= this.leaderEpoch) return 'unchanged';
    // Older than what the log has seen (a restarted broker's stale metadata): following or leading
    // at that epoch would write batches of an old epoch after newer ones. Wait for newer metadata.
    if (a.leaderEpoch < this.log.latestEpoch) return 'unchanged';
    const wasRole = this.role;
    const newEpoch = a.leaderEpoch !== this.leaderEpoch || a.leader !== this.leader;
    if (a.partitionEpoch > this.partitionEpoch) {
      this.pendingIsr = null;
      this.uncertainIsr = [];
    }
    this.replicas = [...a.replicas];
    this.isr = [...a.isr];
    this.leader = a.leader;
    this.leaderEpoch = a.leaderEpoch;
    this.partitionEpoch = a.partitionEpoch;
    if (!a.replicas.includes(this.selfId)) {
      this.role = 'none';
      this.failWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      return wasRole === 'none' ? 'unchanged' : 'none';
    }
    if (a.leader === this.selfId) {
      if (wasRole === 'leader' && !newEpoch) {
        const wasAlone = this.aloneInIsr;
        this.trackFollowers();
        if (!wasAlone && this.aloneInIsr) {
          // The ISR shrank to this broker: records acknowledged while others held them are now
          // only here. Make them durable (acks=all stays durable with one in-sync replica).
          this.log.flush().catch(() => {}); // a failed fsync takes the log offline by itself
        }
        this.maybeAdvanceHighWatermark();
        return 'unchanged';
      }
      this.becomeLeader();
      return 'leader';
    }
    this.role = 'follower';
    this.followers.clear();
    this.failWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return wasRole === 'follower' && !newEpoch ? 'unchanged' : 'follower';
  }

  private becomeLeader(): void {
    this.role = 'leader';
    if (this.leaderEpoch > this.log.latestEpoch)
      this.log.assignEpochStartOffset(this.leaderEpoch, this.log.logEndOffset);
    this.epochStartOffset = this.log.logEndOffset;
    this.followers.clear();
    this.trackFollowers();
    // Alone in the ISR: whatever this log holds may be needed by acks=all; make it durable.
    if (this.aloneInIsr) this.log.flush().catch(() => {});
    this.maybeAdvanceHighWatermark();
  }

  /** Fetch state for every follower replica (new ones after a reassignment too). */
  private trackFollowers(): void {
    const now = this.clock.monotonic();
    for (const id of this.replicas) {
      if (id === this.selfId || this.followers.has(id)) continue;
      this.followers.set(id, {
        logEndOffset: -1,
        lastCaughtUpMs: this.isr.includes(id) ? now : 0,
        lastFetchMs: 0,
        leaderEndAtLastFetch: -1,
      });
    }
    for (const id of this.followers.keys()) if (!this.replicas.includes(id)) this.followers.delete(id);
  }

  /** 0, FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH for a request's currentLeaderEpoch (-1: not given). */
  checkEpoch(currentLeaderEpoch: number): number {
    if (currentLeaderEpoch < 0 || currentLeaderEpoch === this.leaderEpoch) return 0;
    return currentLeaderEpoch < this.leaderEpoch
      ? ErrorCode.FENCED_LEADER_EPOCH
      : ErrorCode.UNKNOWN_LEADER_EPOCH;
  }

  /** A follower fetched from fetchOffset: it holds everything below (Kafka's updateFetchState). */
  updateFollower(replicaId: number, fetchOffset: number): void {
    const f = this.followers.get(replicaId);
    if (this.role !== 'leader' || !f) return;
    const now = this.clock.monotonic();
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, now);
    else if (fetchOffset >= f.leaderEndAtLastFetch)
      f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
    f.leaderEndAtLastFetch = leaderEnd;
    f.lastFetchMs = now;
    f.logEndOffset = fetchOffset;
    if (
      this.pendingIsr === null &&
      !this.isr.includes(replicaId) &&
      fetchOffset >= this.log.highWatermark &&
      fetchOffset >= this.epochStartOffset
    ) {
      this.propose([...this.isr, replicaId]);
    }
    this.maybeAdvanceHighWatermark();
  }

  /** Drops from the ISR the followers not caught up within lagMs. */
  maybeShrinkIsr(lagMs: number): void {
    if (this.role !== 'leader' || this.pendingIsr !== null) return;
    const now = this.clock.monotonic();
    const out = this.isr.filter((id) => {
      if (id === this.selfId) return false;
      const f = this.followers.get(id);
      return !f || now - f.lastCaughtUpMs > lagMs;
    });
    if (out.length > 0) this.propose(this.isr.filter((id) => !out.includes(id)));
  }

  private propose(newIsr: number[]): void {
    this.pendingIsr = newIsr;
    this.hooks.proposeIsr(this, newIsr);
  }

  /**
   * The proposal newIsr was refused for a stale epoch: another may be proposed, but its members
   * stay in the maximal ISR until newer metadata tells whether (a copy of) it was committed.
   */
  proposalFailed(newIsr: number[]): void {
    if (this.pendingIsr === newIsr) this.pendingIsr = null;
    this.uncertainIsr = [...new Set([...this.uncertainIsr, ...newIsr])];
  }

  /**
   * The ISR the high watermark must respect: the committed one plus any proposed additions (and
   * those of proposals whose outcome is unknown).
   */
  private maximalIsr(): number[] {
    if (this.pendingIsr === null && this.uncertainIsr.length === 0) return this.isr;
    return [...new Set([...this.isr, ...(this.pendingIsr ?? []), ...this.uncertainIsr])];
  }

  /**
   * Whether acks=all produces need an fsync: the committed ISR is this broker alone, so no other
   * replica could be elected with the data should this one lose it (a follower being added may
   * hold it, but the controller would not elect it).
   */
  get aloneInIsr(): boolean {
    return this.role === 'leader' && this.isr.length === 1 && this.isr[0] === this.selfId;
  }

  maybeAdvanceHighWatermark(): void {
    if (this.role !== 'leader') return;
    let hw = this.log.logEndOffset;
    for (const id of this.maximalIsr()) {
      if (id === this.selfId) continue;
      const f = this.followers.get(id);
      hw = Math.min(hw, f ? f.logEndOffset : -1);
    }
    if (hw <= this.log.highWatermark) return;
    this.log.setHighWatermark(hw);
    this.completeWaiters();
    this.hooks.onHighWatermark(this.log);
  }

  /**
   * Resolves with 0 once the high watermark reaches offset, REQUEST_TIMED_OUT after timeoutMs,
   * NOT_LEADER_OR_FOLLOWER if leadership is lost, NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR
   * shrank below minIsr meanwhile.
   */
  waitForHighWatermark(offset: number, timeoutMs: number, minIsr: number): Promise<number> {
    const check = (): number => (this.isr.length < minIsr ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : 0);
    if (this.log.highWatermark >= offset) return Promise.resolve(check());
    if (this.waiters.length >= MAX_HW_WAITERS) return Promise.resolve(ErrorCode.REQUEST_TIMED_OUT);
    return new Promise((resolve) => {
      const waiter: HwWaiter = {
        offset,
        resolve: (code) => resolve(code === 0 ? check() : code),
        timer: this.clock.setTimeout(
          () => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            resolve(ErrorCode.REQUEST_TIMED_OUT);
          },
          Math.max(0, timeoutMs),
        ),
      };
      this.waiters.push(waiter);
    });
  }

  private completeWaiters(): void {
    if (this.waiters.length === 0) return;
    const hw = this.log.highWatermark;
    const keep: HwWaiter[] = [];
    for (const w of this.waiters) {
      if (w.offset <= hw) {
        w.timer.cancel();
        w.resolve(0);
      } else keep.push(w);
    }
    this.waiters = keep;
  }

  failWaiters(code: number): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      w.timer.cancel();
      w.resolve(code);
    }
  }
}
