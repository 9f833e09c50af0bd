/**
 * Partition operations: AlterPartition (ISR changes proposed by partition leaders, checked
 * against leader and partition epochs), leader elections, reassignments, and what fencing or
 * unfencing a broker does to the partitions it hosts.
 */
import type { MetadataImage, PartitionImage } from '../metadata/image.js';
import { type MetadataRecord, NO_LEADER, type PartitionChangeRecord } from '../metadata/records.js';
import { fail, type ItemError, OK } from './errors.js';
import {
  brokerReturned,
  changeRecord,
  current,
  electionOrder,
  electLeader,
  type IsLive,
  maybeCompleteReassignment,
  type ProposedPartition,
  removeBroker,
  sameSet,
  targetReplicas,
} from './partition-change.js';
import type {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  AlterPartitionRequest,
  AlterPartitionResult,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  TopicPartitionRef,
} from './requests.js';
import { uncleanAllowed } from './topic-configs.js';
import type { OpResult } from './topic-ops.js';

function liveIn(image: MetadataImage): IsLive {
  return (b) => image.isLive(b);
}

function unclean(image: MetadataImage, p: PartitionImage): boolean {
  return uncleanAllowed(image, image.topics.get(p.topicId));
}

/** The state a partition will have after a change record (for responses). */
function after(p: PartitionImage, rec: PartitionChangeRecord | null): PartitionImage {
  if (rec === null) return p;
  const leaderChanged = rec.leader !== undefined && rec.leader !== p.leader;
  return {
    ...p,
    leader: rec.leader ?? p.leader,
    isr: rec.isr ?? p.isr,
    replicas: rec.replicas ?? p.replicas,
    addingReplicas: rec.addingReplicas ?? p.addingReplicas,
    removingReplicas: rec.removingReplicas ?? p.removingReplicas,
    leaderEpoch: leaderChanged ? p.leaderEpoch + 1 : p.leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1,
  };
}

export function alterPartition(
  image: MetadataImage,
  req: AlterPartitionRequest,
): OpResult<{ partitions: AlterPartitionResult[] }> {
  const records: MetadataRecord[] = [];
  const broker = image.brokers.get(req.brokerId);
  const brokerError =
    broker === undefined
      ? fail('BROKER_ID_NOT_REGISTERED', `broker ${req.brokerId} is not registered`)
      : broker.epoch !== req.brokerEpoch
        ? fail('STALE_BROKER_EPOCH', `broker epoch ${req.brokerEpoch} is not the current ${broker.epoch}`)
        : null;
  const partitions = req.partitions.map((item): AlterPartitionResult => {
    const p = image.topics.get(item.topicId)?.partitions.get(item.partition);
    const head = { topicId: item.topicId, partition: item.partition };
    if (p === undefined) {
      return {
        ...head,
        leader: -1,
        leaderEpoch: -1,
        partitionEpoch: -1,
        isr: [],
        ...fail('UNKNOWN_TOPIC_ID', 'no such partition'),
      };
    }
    const state = {
      ...head,
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: p.partitionEpoch,
      isr: p.isr,
    };
    if (brokerError !== null) return { ...state, ...brokerError };
    if (p.leader !== req.brokerId)
      return {
        ...state,
        ...fail('NOT_LEADER_OR_FOLLOWER', `broker ${req.brokerId} does not lead this partition`),
      };
    if (item.leaderEpoch !== p.leaderEpoch)
      return {
        ...state,
        ...fail('FENCED_LEADER_EPOCH', `leader epoch ${item.leaderEpoch} is not ${p.leaderEpoch}`),
      };
    if (item.partitionEpoch !== p.partitionEpoch)
      return {
        ...state,
        ...fail(
          'INVALID_UPDATE_VERSION',
          `partition epoch ${item.partitionEpoch} is not ${p.partitionEpoch}`,
        ),
      };
    const isr = item.newIsr;
    if (
      new Set(isr).size !== isr.length ||
      !isr.includes(p.leader) ||
      !isr.every((r) => p.replicas.includes(r))
    )
      return {
        ...state,
        ...fail('INVALID_REQUEST', 'the ISR must be distinct replicas including the leader'),
      };
    const added = isr.filter((r) => !p.isr.includes(r));
    const ineligible = added.filter((r) => !image.isLive(r));
    if (ineligible.length > 0)
      return {
        ...state,
        ...fail('INELIGIBLE_REPLICA', `replicas ${ineligible.join(',')} are fenced or not registered`),
      };
    if (sameSet(isr, p.isr)) return { ...state, ...OK };
    const next = maybeCompleteReassignment({ ...current(p), isr }, liveIn(image), unclean(image, p));
    const rec = changeRecord(p, next);
    if (rec !== null) records.push(rec);
    const a = after(p, rec);
    return {
      ...head,
      leader: a.leader,
      leaderEpoch: a.leaderEpoch,
      partitionEpoch: a.partitionEpoch,
      isr: a.isr,
      ...OK,
    };
  });
  return { records, response: { partitions } };
}

function resolveRefs(
  image: MetadataImage,
  refs: readonly TopicPartitionRef[] | null,
): (TopicPartitionRef & { p: PartitionImage | undefined })[] {
  if (refs !== null) return refs.map((r) => ({ ...r, p: image.partition(r.topic, r.partition) }));
  return [...image.partitions()].map((p) => ({ topic: p.topic, partition: p.partition, p }));
}

export function electLeaders(image: MetadataImage, req: ElectLeadersRequest): OpResult<ElectLeadersResponse> {
  const records: MetadataRecord[] = [];
  const isLive = liveIn(image);
  const partitions = resolveRefs(image, req.partitions).map(
    ({ topic, partition, p }): ItemError & TopicPartitionRef => {
      const head = { topic, partition };
      if (p === undefined) return { ...head, ...fail('UNKNOWN_TOPIC_OR_PARTITION', 'no such partition') };
      if (req.electionType === 'preferred') {
        const preferred = targetReplicas(p)[0]!;
        if (p.leader === preferred)
          return { ...head, ...fail('ELECTION_NOT_NEEDED', 'the preferred replica leads') };
        if (!p.isr.includes(preferred) || !isLive(preferred))
          return {
            ...head,
            ...fail('PREFERRED_LEADER_NOT_AVAILABLE', `replica ${preferred} is not live and in the ISR`),
          };
        const rec = changeRecord(p, { ...current(p), leader: preferred });
        if (rec !== null) records.push(rec);
        return { ...head, ...OK };
      }
      if (p.leader !== NO_LEADER)
        return { ...head, ...fail('ELECTION_NOT_NEEDED', 'the partition has a leader') };
      const e = electLeader(electionOrder(p), NO_LEADER, p.isr, isLive, true);
      if (e.leader === NO_LEADER)
        return { ...head, ...fail('ELIGIBLE_LEADERS_NOT_AVAILABLE', 'no replica is live') };
      const rec = changeRecord(p, { ...current(p), leader: e.leader, isr: e.isr });
      if (rec !== null) records.push(rec);
      return { ...head, ...OK };
    },
  );
  return { records, response: { partitions } };
}

export function alterReassignments(
  image: MetadataImage,
  req: AlterPartitionReassignmentsRequest,
): OpResult<AlterPartitionReassignmentsResponse> {
  const records: MetadataRecord[] = [];
  const isLive = liveIn(image);
  const partitions = req.reassignments.map((r): ItemError & TopicPartitionRef => {
    const head = { topic: r.topic, partition: r.partition };
    const p = image.partition(r.topic, r.partition);
    if (p === undefined) return { ...head, ...fail('UNKNOWN_TOPIC_OR_PARTITION', 'no such partition') };
    const allowUnclean = unclean(image, p);
    if (r.replicas === null) {
      if (p.addingReplicas.length === 0 && p.removingReplicas.length === 0)
        return { ...head, ...fail('NO_REASSIGNMENT_IN_PROGRESS', 'nothing to cancel') };
      // back to the original replicas: those not being added
      const original = p.replicas.filter((x) => !p.addingReplicas.includes(x));
      const isr = p.isr.filter((x) => original.includes(x));
      if (isr.length === 0)
        return {
          ...head,
          ...fail('INVALID_REPLICA_ASSIGNMENT', 'no original replica is in sync; cannot cancel now'),
        };
      const leader = original.includes(p.leader) ? p.leader : NO_LEADER;
      const e = electLeader(original, leader, isr, isLive, allowUnclean);
      const rec = changeRecord(p, {
        leader: e.leader,
        isr: e.isr,
        replicas: original,
        addingReplicas: [],
        removingReplicas: [],
      });
      if (rec !== null) records.push(rec);
      return { ...head, ...OK };
    }
    const target = r.replicas;
    if (target.length === 0 || new Set(target).size !== target.length)
      return { ...head, ...fail('INVALID_REPLICA_ASSIGNMENT', 'the target must be distinct brokers') };
    const unknown = target.filter((b) => !image.brokers.has(b));
    if (unknown.length > 0)
      return {
        ...head,
        ...fail('INVALID_REPLICA_ASSIGNMENT', `brokers ${unknown.join(',')} are not registered`),
      };
    // a new reassignment replaces an ongoing one, starting from the original replicas
    const original = p.replicas.filter((x) => !p.addingReplicas.includes(x));
    const adding = target.filter((x) => !original.includes(x));
    const removing = original.filter((x) => !target.includes(x));
    const replicas = [...target, ...removing];
    const isr = p.isr.filter((x) => replicas.includes(x));
    if (isr.length === 0) {
      return {
        ...head,
        ...fail(
          'INVALID_REPLICA_ASSIGNMENT',
          'it would drop every in-sync replica; let the ongoing reassignment finish',
        ),
      };
    }
    const order = [...target, ...removing];
    const e = electLeader(
      order,
      replicas.includes(p.leader) ? p.leader : NO_LEADER,
      isr,
      isLive,
      allowUnclean,
    );
    let next: ProposedPartition = {
      leader: e.leader,
      isr: e.isr,
      replicas: adding.length === 0 && removing.length === 0 ? [...target] : replicas,
      addingReplicas: adding,
      removingReplicas: removing,
    };
    next = maybeCompleteReassignment(next, isLive, allowUnclean);
    const rec = changeRecord(p, next);
    if (rec !== null) records.push(rec);
    return { ...head, ...OK };
  });
  return { records, response: { partitions } };
}

export function listReassignments(
  image: MetadataImage,
  req: ListPartitionReassignmentsRequest,
): ListPartitionReassignmentsResponse {
  const partitions = resolveRefs(image, req.partitions)
    .filter(({ p }) => p !== undefined && (p.addingReplicas.length > 0 || p.removingReplicas.length > 0))
    .map(({ p }) => ({
      topic: p!.topic,
      partition: p!.partition,
      replicas: p!.replicas,
      addingReplicas: p!.addingReplicas,
      removingReplicas: p!.removingReplicas,
    }));
  return { partitions };
}

/** Records that fence a broker: leader elections and ISR shrinks, then FenceBroker. */
export function fenceBroker(image: MetadataImage, brokerId: number): MetadataRecord[] {
  const b = image.brokers.get(brokerId);
  if (b === undefined || b.fenced) return [];
  // partition changes first, the fence last: if the records are split over several batches,
  // every intermediate image is still consistent (a fenced broker never leads)
  const out: MetadataRecord[] = [];
  const isLive: IsLive = (x) => x !== brokerId && image.isLive(x);
  for (const p of image.partitions()) {
    if (!p.replicas.includes(brokerId)) continue;
    const rec = removeBroker(p, brokerId, isLive, unclean(image, p));
    if (rec !== null) out.push(rec);
  }
  out.push({ type: 'fenceBroker', brokerId, brokerEpoch: b.epoch });
  return out;
}

/** Records that unfence a broker: UnfenceBroker, then elections where partitions had no leader. */
export function unfenceBroker(image: MetadataImage, brokerId: number): MetadataRecord[] {
  const b = image.brokers.get(brokerId);
  if (b === undefined || !b.fenced) return [];
  const out: MetadataRecord[] = [{ type: 'unfenceBroker', brokerId, brokerEpoch: b.epoch }];
  const isLive: IsLive = (x) => x === brokerId || image.isLive(x);
  for (const p of image.partitions()) {
    const rec = brokerReturned(p, brokerId, isLive, unclean(image, p));
    if (rec !== null) out.push(rec);
  }
  return out;
}
