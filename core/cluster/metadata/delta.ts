/** Per-broker deltas between two images: which partitions a broker leads, follows, or lost. */
import { type ApplyResult, type MetadataImage, type PartitionImage, partitionKey } from './image.js';
import type { BrokerMetadataDelta, PartitionRole, RemovedPartition } from './listener.js';

/** Every partition key of both images (for a snapshot restore or a first subscription). */
export function allPartitionKeys(a: MetadataImage, b: MetadataImage): Set<string> {
  const keys = new Set<string>();
  for (const img of [a, b]) for (const p of img.partitions()) keys.add(partitionKey(p.topicId, p.partition));
  return keys;
}

export function fullChange(previous: MetadataImage, image: MetadataImage): ApplyResult {
  const configsChanged = new Set<string>();
  for (const t of image.topics.values())
    if (t.configs !== previous.topics.get(t.topicId)?.configs) configsChanged.add(t.name);
  return {
    image,
    touched: allPartitionKeys(previous, image),
    brokersChanged: previous.brokers !== image.brokers || previous.brokerConfigs !== image.brokerConfigs,
    configsChanged,
    skipped: 0,
  };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Equal registrations (images rebuilt from a snapshot hold equal but distinct objects). */
export function samePartition(a: PartitionImage, b: PartitionImage): boolean {
  return (
    a === b ||
    (a.leader === b.leader &&
      a.leaderEpoch === b.leaderEpoch &&
      a.partitionEpoch === b.partitionEpoch &&
      a.topic === b.topic &&
      sameIds(a.replicas, b.replicas) &&
      sameIds(a.isr, b.isr) &&
      sameIds(a.addingReplicas, b.addingReplicas) &&
      sameIds(a.removingReplicas, b.removingReplicas))
  );
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

/** The delta for one broker, or null when nothing concerns it. */
export function brokerDelta(
  brokerId: number,
  previous: MetadataImage,
  change: ApplyResult,
): BrokerMetadataDelta | null {
  const { image } = change;
  const leaders: PartitionRole[] = [];
  const followers: PartitionRole[] = [];
  const removed: RemovedPartition[] = [];
  for (const key of change.touched) {
    const [topicId, partition] = splitKey(key);
    const before = previous.topics.get(topicId)?.partitions.get(partition);
    const after = image.topics.get(topicId)?.partitions.get(partition);
    const wasReplica = before?.replicas.includes(brokerId) === true;
    if (after === undefined || !after.replicas.includes(brokerId)) {
      if (before !== undefined && wasReplica) {
        removed.push({ topicId, topic: before.topic, partition, deleted: after === undefined });
      }
      continue;
    }
    if (before !== undefined && samePartition(before, after)) continue;
    const role: PartitionRole = {
      ...after,
      isNew: !wasReplica,
      previousLeaderEpoch: before !== undefined && wasReplica ? before.leaderEpoch : -1,
    };
    if (after.leader === brokerId) leaders.push(role);
    else followers.push(role);
  }
  const configsChanged = [...change.configsChanged];
  if (
    leaders.length === 0 &&
    followers.length === 0 &&
    removed.length === 0 &&
    !change.brokersChanged &&
    configsChanged.length === 0
  ) {
    return null;
  }
  return {
    brokerId,
    previous,
    image,
    leaders,
    followers,
    removed,
    brokersChanged: change.brokersChanged,
    configsChanged,
    self: image.brokers.get(brokerId),
  };
}
