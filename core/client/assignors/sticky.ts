/**
 * The sticky assignment algorithm behind 'cooperative-sticky': as balanced as the subscriptions
 * allow, moving as few owned partitions as that takes. Our own design, aiming at the guarantees
 * of Java's AbstractStickyAssignor rather than copying its steps:
 *
 * 1. Ownership. Each member claims the partitions it owns (subscription ownedPartitions). A
 *    claim counts if the partition exists and the member still subscribes to its topic; among
 *    several claimants the one with the highest generation keeps it, and a tie at the highest
 *    generation (two members owning it in the same generation: a bug or a zombie) means nobody
 *    keeps it.
 * 2. Fill. Every partition nobody keeps goes to the least loaded member subscribed to its topic
 *    (member id breaks ties), partitions of topics with the fewest subscribers first.
 * 3. Balance. While some member holds at least two more partitions than a member it can reach,
 *    partitions shift along the shortest chain of members: A gives a partition of topic t to B
 *    (subscribed to t), B gives one of topic u to C, and so on; only the ends change in size.
 *    The giver parts with a partition it did not own before this rebalance when it can, then
 *    with its highest partition. No such chain left means the load is as even as the
 *    subscriptions allow (no cost-reducing path: optimal for semi-matchings, Harvey et al. 2003);
 *    with identical subscriptions max - min ≤ 1.
 *
 * Stickiness follows: a partition moves only to fill a member that is short, so a joining
 * member takes about total/members partitions from the fullest members, and a leaving member's
 * partitions are spread over the least loaded ones while the others stay put.
 *
 * Partitions are numbered 0..P-1 over the topics in name order; every loop runs over sorted
 * members, topics and partitions, so the result depends on nothing but the input's content.
 */
import { compareStrings } from '../consumer-protocol.js';
import type { TopicPartition } from '../types.js';
import { type AssignorMember, partitionCount } from './assignor.js';

export interface StickyPlan {
  /** The balanced assignment per member id, each list sorted by (topic, partition). */
  target: Map<string, TopicPartition[]>;
  /**
   * Per member id, the part of its target another member still claims: under the COOPERATIVE
   * protocol those are handed out only after the claimant revoked them (one rebalance later).
   */
  pendingRevocation: Map<string, TopicPartition[]>;
  /** The target without the pending partitions: what a COOPERATIVE leader hands out now. */
  assignment: Map<string, TopicPartition[]>;
}

/** Computes the sticky target; `generationOf` says in which generation a member owned its partitions. */
export function planStickyAssignment(
  members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  generationOf: (member: AssignorMember) => number,
): StickyPlan {
  const group = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
  const state = new StickyState(group, partitionsPerTopic);
  state.claim(group.map(generationOf));
  state.fill();
  state.balance();
  return state.plan();
}

class StickyState {
  private readonly topics: string[];
  private readonly topicIndex = new Map<string, number>();
  /** First partition number of each topic. */
  private readonly base: number[] = [];
  private readonly topicOf: Int32Array;
  /** Member indices subscribed to each topic, ascending. */
  private readonly subscribers: number[][];
  private readonly subscribed: Set<number>[];

  /** Every member that listed the partition as owned (even if it may not keep it). */
  private readonly claimants: (number[] | undefined)[];
  /** The member that keeps the partition from before, or -1. */
  private readonly keeper: Int32Array;
  private readonly owner: Int32Array;
  private readonly count: Int32Array;
  /** Per member: topic index → the partitions of that topic it holds. */
  private readonly held: Map<number, Set<number>>[];

  constructor(
    private readonly group: readonly AssignorMember[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ) {
    const names = new Set<string>();
    for (const m of group) {
      for (const t of m.subscription.topics) if (partitionCount(partitionsPerTopic, t) > 0) names.add(t);
    }
    this.topics = [...names].sort(compareStrings);
    let total = 0;
    this.topics.forEach((t, i) => {
      this.topicIndex.set(t, i);
      this.base.push(total);
      total += partitionCount(partitionsPerTopic, t);
    });
    this.base.push(total);
    this.topicOf = new Int32Array(total);
    for (let i = 0; i < this.topics.length; i++) this.topicOf.fill(i, this.base[i], this.base[i + 1]);

    this.subscribers = this.topics.map(() => []);
    this.subscribed = group.map((m, mi) => {
      const set = new Set<number>();
      for (const t of m.subscription.topics) {
        const ti = this.topicIndex.get(t);
        if (ti === undefined || set.has(ti)) continue;
        set.add(ti);
        this.subscribers[ti]!.push(mi);
      }
      return set;
    });

    this.claimants = new Array<number[] | undefined>(total);
    this.keeper = new Int32Array(total).fill(-1);
    this.owner = new Int32Array(total).fill(-1);
    this.count = new Int32Array(group.length);
    this.held = group.map(() => new Map<number, Set<number>>());
  }

  private partitionId(tp: TopicPartition): number {
    const ti = this.topicIndex.get(tp.topic);
    if (ti === undefined || !Number.isInteger(tp.partition) || tp.partition < 0) return -1;
    const pid = this.base[ti]! + tp.partition;
    return pid < this.base[ti + 1]! ? pid : -1;
  }

  /** Step 1: who keeps what they owned. */
  claim(generations: readonly number[]): void {
    const P = this.owner.length;
    const bestGeneration = new Float64Array(P).fill(Number.NEGATIVE_INFINITY);
    const tied = new Uint8Array(P);
    this.group.forEach((m, mi) => {
      const generation = generations[mi]!;
      const seen = new Set<number>();
      for (const tp of m.subscription.ownedPartitions) {
        const pid = this.partitionId(tp);
        if (pid < 0 || seen.has(pid)) continue;
        seen.add(pid);
        const list = this.claimants[pid];
        if (list === undefined) this.claimants[pid] = [mi];
        else list.push(mi);
        if (!this.subscribed[mi]!.has(this.topicOf[pid]!)) continue;
        if (generation > bestGeneration[pid]!) {
          bestGeneration[pid] = generation;
          this.keeper[pid] = mi;
          tied[pid] = 0;
        } else if (generation === bestGeneration[pid]) {
          tied[pid] = 1;
        }
      }
    });
    for (let pid = 0; pid < P; pid++) {
      if (tied[pid] === 1) this.keeper[pid] = -1;
      const k = this.keeper[pid]!;
      if (k >= 0) this.give(pid, k);
    }
  }

  /** Step 2: partitions nobody kept go to the least loaded subscriber. */
  fill(): void {
    const order = this.topics.map((_, ti) => ti);
    order.sort((a, b) => this.subscribers[a]!.length - this.subscribers[b]!.length || a - b);
    for (const ti of order) {
      const subs = this.subscribers[ti]!;
      for (let pid = this.base[ti]!; pid < this.base[ti + 1]!; pid++) {
        if (this.owner[pid] !== -1) continue;
        let best = subs[0]!;
        for (const mi of subs) if (this.count[mi]! < this.count[best]!) best = mi;
        this.give(pid, best);
      }
    }
  }

  /** Step 3: shift partitions along chains until no member is 2 above one it can reach. */
  balance(): void {
    const M = this.group.length;
    const order = Array.from({ length: M }, (_, i) => i);
    for (;;) {
      let min = Number.POSITIVE_INFINITY;
      for (let mi = 0; mi < M; mi++) min = Math.min(min, this.count[mi]!);
      order.sort((a, b) => this.count[b]! - this.count[a]! || a - b);
      let moved = false;
      for (const source of order) {
        if (this.count[source]! - min < 2) break;
        const path = this.findChain(source);
        if (path !== null) {
          this.shift(path);
          moved = true;
          break;
        }
      }
      if (!moved) return;
    }
  }

  /**
   * Breadth-first from `source` over "X holds a partition of a topic Y subscribes to"; returns
   * [source, …, sink] to the nearest member with at least two partitions fewer (the least loaded
   * such member at that distance), each step labelled by the topic it moves.
   */
  private findChain(source: number): { members: number[]; topics: number[] } | null {
    const M = this.group.length;
    const from = new Int32Array(M).fill(-1);
    const via = new Int32Array(M).fill(-1);
    from[source] = source;
    const limit = this.count[source]! - 2;
    let frontier = [source];
    while (frontier.length > 0) {
      const next: number[] = [];
      let sink = -1;
      for (const x of frontier) {
        for (const [ti, pids] of this.held[x]!) {
          if (pids.size === 0) continue;
          for (const y of this.subscribers[ti]!) {
            if (from[y] !== -1) continue;
            from[y] = x;
            via[y] = ti;
            next.push(y);
            const c = this.count[y]!;
            if (
              c <= limit &&
              (sink === -1 || c < this.count[sink]! || (c === this.count[sink]! && y < sink))
            ) {
              sink = y;
            }
          }
        }
      }
      if (sink !== -1) {
        const members = [sink];
        const topics: number[] = [];
        for (let y = sink; y !== source; y = from[y]!) {
          topics.unshift(via[y]!);
          members.unshift(from[y]!);
        }
        return { members, topics };
      }
      frontier = next;
    }
    return null;
  }

  /** Applies a chain, last step first, so that every giver gives from what it held before. */
  private shift(chain: { members: number[]; topics: number[] }): void {
    for (let i = chain.topics.length - 1; i >= 0; i--) {
      const giver = chain.members[i]!;
      const taker = chain.members[i + 1]!;
      const pid = this.pickToGive(giver, taker, chain.topics[i]!);
      this.take(pid, giver);
      this.give(pid, taker);
    }
  }

  /** Back to its previous owner first, then one the giver did not own before, then the highest. */
  private pickToGive(giver: number, taker: number, ti: number): number {
    let best = -1;
    let bestRank = 3;
    for (const pid of this.held[giver]!.get(ti)!) {
      const k = this.keeper[pid]!;
      const rank = k === taker ? 0 : k !== giver ? 1 : 2;
      if (rank < bestRank || (rank === bestRank && pid > best)) {
        best = pid;
        bestRank = rank;
      }
    }
    return best;
  }

  private give(pid: number, mi: number): void {
    this.owner[pid] = mi;
    this.count[mi]!++;
    const ti = this.topicOf[pid]!;
    const byTopic = this.held[mi]!;
    const set = byTopic.get(ti);
    if (set === undefined) byTopic.set(ti, new Set([pid]));
    else set.add(pid);
  }

  private take(pid: number, mi: number): void {
    this.owner[pid] = -1;
    this.count[mi]!--;
    this.held[mi]!.get(this.topicOf[pid]!)!.delete(pid);
  }

  plan(): StickyPlan {
    const target = new Map<string, TopicPartition[]>();
    const pendingRevocation = new Map<string, TopicPartition[]>();
    const assignment = new Map<string, TopicPartition[]>();
    const lists = this.group.map(() => [] as number[]);
    for (let pid = 0; pid < this.owner.length; pid++) lists[this.owner[pid]!]!.push(pid);
    this.group.forEach((m, mi) => {
      const mine: TopicPartition[] = [];
      const pending: TopicPartition[] = [];
      const now: TopicPartition[] = [];
      for (const pid of lists[mi]!) {
        const tp = this.topicPartition(pid);
        mine.push(tp);
        const claimedElsewhere = this.claimants[pid]?.some((c) => c !== mi) ?? false;
        if (claimedElsewhere && this.keeper[pid] !== mi) pending.push(tp);
        else now.push(tp);
      }
      target.set(m.memberId, mine);
      pendingRevocation.set(m.memberId, pending);
      assignment.set(m.memberId, now);
    });
    return { target, pendingRevocation, assignment };
  }

  private topicPartition(pid: number): TopicPartition {
    const ti = this.topicOf[pid]!;
    return { topic: this.topics[ti]!, partition: pid - this.base[ti]! };
  }
}
