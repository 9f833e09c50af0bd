/**
 * Topics the runtime creates: source connectors' destination topics (Kafka's topic.creation,
 * with `topic.creation.default.partitions` / `.replication.factor` when the connector sets them)
 * and dead letter queues.
 */
import type { Admin } from '../../core/client/types.js';

/** Creates `topic` unless it exists; -1 means the broker's default; replication is capped at the broker count. */
export async function ensureTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  replicationFactor: number,
): Promise<boolean> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return false;
  let rf: number | undefined;
  if (replicationFactor > 0) {
    const cluster = await admin.describeCluster();
    rf = Math.max(1, Math.min(replicationFactor, cluster.brokers.length));
  }
  try {
    await admin.createTopics([
      {
        topic,
        ...(partitions > 0 ? { numPartitions: partitions } : {}),
        ...(rf ? { replicationFactor: rf } : {}),
      },
    ]);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'TOPIC_ALREADY_EXISTS') return false;
    throw err;
  }
}
