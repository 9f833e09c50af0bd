/**
 * Building PartitionChangeRecords: leader election from the ISR, ISR edits, and the
 * reassignment state machine. Pure functions over a PartitionImage; the controller validates
 * requests and proposes the records.
 *
 * Rules (Kafka's):
 * - The leader is the current one if it is still in the ISR and live; otherwise the first
 *   replica (in replica order, target replicas first) that is in the ISR and live; otherwise,
 *   only if the topic allows unclean election, the first live replica, whose ISR becomes just
 *   itself; otherwise NO_LEADER (-1) until an ISR member comes back.
 * - A reassignment is complete when every target replica is in the ISR: the replica set becomes
 *   the target, removed replicas leave the ISR, and a leader outside the target is replaced.
 */
import type { PartitionImage } from '../metadata/image.js';
import { NO_LEADER, type PartitionChangeRecord } from '../metadata/records.js';

export type IsLive = (brokerId: number) => boolean;

export interface Election {
  readonly leader: number;
  readonly isr: readonly number[];
  readonly unclean: boolean;
}

export function electLeader(
  replicas: readonly number[],
  currentLeader: number,
  isr: readonly number[],
  isLive: IsLive,
  uncleanAllowed: boolean,
): Election {
  if (currentLeader !== NO_LEADER && isr.includes(currentLeader) && isLive(currentLeader)) {
    return { leader: currentLeader, isr, unclean: false };
  }
  for (const r of replicas) if (isr.includes(r) && isLive(r)) return { leader: r, isr, unclean: false };
  if (uncleanAllowed) {
    for (const r of replicas) if (isLive(r)) return { leader: r, isr: [r], unclean: true };
  }
  return { leader: NO_LEADER, isr, unclean: false };
}

/** Candidates for leadership, in order: the target replicas, then those being removed. */
export function electionOrder(p: Pick<PartitionImage, 'replicas' | 'removingReplicas'>): number[] {
  return [...targetReplicas(p), ...p.removingReplicas.filter((r) => p.replicas.includes(r))];
}

/** The replicas a partition is moving to (all replicas when no reassignment is in progress). */
export function targetReplicas(p: Pick<PartitionImage, 'replicas' | 'removingReplicas'>): number[] {
  return p.replicas.filter((r) => !p.removingReplicas.includes(r));
}

export function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface ProposedPartition {
  leader: number;
  isr: readonly number[];
  replicas: readonly number[];
  addingReplicas: readonly number[];
  removingReplicas: readonly number[];
}

/**
 * Completes a reassignment whose targets are all in the ISR (and re-elects if the leader is
 * leaving). Returns the state unchanged when none is in progress or it cannot complete yet.
 */
export function maybeCompleteReassignment(
  s: ProposedPartition,
  isLive: IsLive,
  uncleanAllowed: boolean,
): ProposedPartition {
  if (s.addingReplicas.length === 0 && s.removingReplicas.length === 0) return s;
  const target = targetReplicas(s);
  if (!target.every((r) => s.isr.includes(r))) return s;
  const isr = s.isr.filter((r) => target.includes(r));
  const leader = target.includes(s.leader) ? s.leader : NO_LEADER;
  const e = electLeader(target, leader, isr, isLive, uncleanAllowed);
  return { leader: e.leader, isr: e.isr, replicas: target, addingReplicas: [], removingReplicas: [] };
}

/** The record taking p to next, or null when nothing changes. */
export function changeRecord(p: PartitionImage, next: ProposedPartition): PartitionChangeRecord | null {
  const rec: { -readonly [K in keyof PartitionChangeRecord]: PartitionChangeRecord[K] } = {
    type: 'partitionChange',
    topicId: p.topicId,
    partition: p.partition,
  };
  let changed = false;
  if (next.leader !== p.leader) {
    rec.leader = next.leader;
    changed = true;
  }
  if (!sameList(next.isr, p.isr)) {
    rec.isr = [...next.isr];
    changed = true;
  }
  if (!sameList(next.replicas, p.replicas)) {
    rec.replicas = [...next.replicas];
    changed = true;
  }
  if (!sameList(next.addingReplicas, p.addingReplicas)) {
    rec.addingReplicas = [...next.addingReplicas];
    changed = true;
  }
  if (!sameList(next.removingReplicas, p.removingReplicas)) {
    rec.removingReplicas = [...next.removingReplicas];
    changed = true;
  }
  return changed ? rec : null;
}

export function current(p: PartitionImage): ProposedPartition {
  return {
    leader: p.leader,
    isr: p.isr,
    replicas: p.replicas,
    addingReplicas: p.addingReplicas,
    removingReplicas: p.removingReplicas,
  };
}

/**
 * A broker is fenced or shutting down: it leaves the ISR (unless it is the last member, which
 * stays to mark whose log is complete) and, if it led, a new leader is elected.
 */
export function removeBroker(
  p: PartitionImage,
  brokerId: number,
  isLive: IsLive,
  uncleanAllowed: boolean,
): PartitionChangeRecord | null {
  if (!p.replicas.includes(brokerId)) return null;
  const shrunk = p.isr.filter((r) => r !== brokerId);
  const isr = shrunk.length > 0 ? shrunk : p.isr;
  const leader = p.leader === brokerId ? NO_LEADER : p.leader;
  const live: IsLive = (b) => b !== brokerId && isLive(b);
  const e = electLeader(electionOrder(p), leader, isr, live, uncleanAllowed);
  return changeRecord(p, { ...current(p), leader: e.leader, isr: e.isr });
}

/** A broker came back: partitions without a leader may elect it. */
export function brokerReturned(
  p: PartitionImage,
  brokerId: number,
  isLive: IsLive,
  uncleanAllowed: boolean,
): PartitionChangeRecord | null {
  if (p.leader !== NO_LEADER || !p.replicas.includes(brokerId)) return null;
  const e = electLeader(electionOrder(p), NO_LEADER, p.isr, isLive, uncleanAllowed);
  if (e.leader === NO_LEADER) return null;
  return changeRecord(p, { ...current(p), leader: e.leader, isr: e.isr });
}
