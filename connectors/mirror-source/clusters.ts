/**
 * The two clusters a mirror talks to directly, and the topic work its connector does on the
 * target: remote topics with the source's partition count (grown when the source grows) and,
 * with `sync.topic.configs.enabled`, the source's topic configs (minus MM2's excluded ones).
 */
import { ConfigException } from '../../connect/sdk.js';
import { connect } from '../../core/client/index.js';
import type { Admin, KafkaClient } from '../../core/client/types.js';

/** MM2's DefaultConfigPropertyFilter: configs that belong to each cluster and are never copied. */
const CONFIGS_EXCLUDED = [
  /^follower\.replication\.throttled\.replicas$/,
  /^leader\.replication\.throttled\.replicas$/,
  /^message\.timestamp\.difference\.max\.ms$/,
  /^message\.timestamp\.type$/,
  /^unclean\.leader\.election\.enable$/,
  /^min\.insync\.replicas$/,
];

export async function openCluster(bootstrap: readonly string[], clientId: string): Promise<KafkaClient> {
  return connect({ 'bootstrap.servers': bootstrap, 'client.id': clientId });
}

/** A client of the target cluster, and whether it is ours to close. */
export interface TargetCluster {
  client: KafkaClient;
  owned: boolean;
}

/**
 * The target: a client of `target.cluster.bootstrap.servers` when given, else the worker's own
 * cluster (which may be an embedded log: it cannot be reached over the network, and its data
 * directory is locked by the worker, so the worker's client is the only way in).
 */
export async function openTarget(
  bootstrap: readonly string[],
  clientId: string,
  workerCluster: KafkaClient | undefined,
): Promise<TargetCluster> {
  if (bootstrap.length > 0) return { client: await openCluster(bootstrap, clientId), owned: true };
  if (workerCluster) return { client: workerCluster, owned: false };
  throw new ConfigException(
    'target.cluster.bootstrap.servers',
    '',
    "no target cluster: set target.cluster.bootstrap.servers, or run the connector in a Connect worker (the worker's cluster is the target)",
  );
}

/** Topic → partition count of the source topics that pass `filter`. */
export async function sourcePartitions(
  admin: Admin,
  accept: (topic: string) => boolean,
): Promise<Map<string, number>> {
  const topics = (await admin.listTopics()).filter(accept).sort();
  const out = new Map<string, number>();
  if (topics.length === 0) return out;
  for (const d of await admin.describeTopics(topics)) out.set(d.name, d.partitions.length);
  return out;
}

/** The configs of a source topic worth copying: set on the topic itself and not excluded. */
export async function copyableConfigs(admin: Admin, topic: string): Promise<Record<string, string>> {
  const [d] = await admin.describeConfigs([{ type: 'topic', name: topic }]);
  const out: Record<string, string> = {};
  for (const e of d?.entries ?? []) {
    if (e.isDefault || e.source !== 'topic' || e.value === null || e.isSensitive || e.readOnly) continue;
    if (CONFIGS_EXCLUDED.some((r) => r.test(e.name))) continue;
    out[e.name] = e.value;
  }
  return out;
}

/** Creates the remote topic, or grows its partitions to `partitions`. */
export async function ensureRemoteTopic(
  target: Admin,
  topic: string,
  partitions: number,
  replicationFactor: number,
  configs: Record<string, string>,
): Promise<void> {
  const existing = await target.listTopics({ includeInternal: true });
  if (!existing.includes(topic)) {
    let rf: number | undefined;
    if (replicationFactor > 0) {
      const cluster = await target.describeCluster();
      rf = Math.max(1, Math.min(replicationFactor, cluster.brokers.length));
    }
    try {
      await target.createTopics([
        { topic, numPartitions: partitions, ...(rf ? { replicationFactor: rf } : {}), configs },
      ]);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  }
  const [d] = await target.describeTopics([topic]);
  if (d && d.partitions.length < partitions) await target.createPartitions([{ topic, count: partitions }]);
}

/** Sets the copied configs on the remote topic (only the keys the source sets). */
export async function syncTopicConfigs(
  target: Admin,
  topic: string,
  configs: Record<string, string>,
): Promise<void> {
  const changes = Object.entries(configs).map(([name, value]) => ({ name, value }));
  if (changes.length > 0) await target.alterConfigs({ type: 'topic', name: topic }, changes);
}

/** A compacted one-partition internal topic (offset syncs, checkpoints). */
export async function ensureInternalTopic(
  target: Admin,
  topic: string,
  replicationFactor: number,
): Promise<void> {
  await ensureRemoteTopic(target, topic, 1, replicationFactor, { 'cleanup.policy': 'compact' });
}
