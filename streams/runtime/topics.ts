/**
 * Internal topics: repartition topics `<app>-<name>-repartition` and changelogs
 * `<app>-<store>-changelog` (compacted), created with the inputs' partition count.
 */
import type { Admin } from '../../core/client/types.js';
import { StreamsError } from '../errors.js';

export function changelogTopicName(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

export function repartitionTopicName(applicationId: string, name: string): string {
  return `${applicationId}-${name}-repartition`;
}

/** The error's Kafka error name (client errors carry it as `code`; protocol errors as `name`). */
function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, name } = err as { code?: unknown; name?: unknown };
  if (typeof code === 'string') return code;
  return typeof name === 'string' ? name : undefined;
}

/** Partition counts of the input topics; fails naming the ones that do not exist. */
export async function inputPartitionCounts(
  admin: Admin,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics({ includeInternal: false }));
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new StreamsError(
      'TOPOLOGY_MISMATCH',
      `input topic${missing.length > 1 ? 's' : ''} ${missing.map((t) => `'${t}'`).join(', ')} do${missing.length > 1 ? '' : 'es'} not exist; create ${missing.length > 1 ? 'them' : 'it'} first (trib topics create)`,
      { retriable: true },
    );
  }
  const described = topics.length > 0 ? await admin.describeTopics(topics) : [];
  return new Map(described.map((d) => [d.name, d.partitions.length]));
}

/**
 * Creates the topics that are missing. A cluster without CreateTopics (e.g. librdkafka's mock)
 * gets them auto-created through Metadata instead; a partition count that differs from the inputs'
 * is then an error (tasks would not be co-partitioned).
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly { topic: string; partitions: number; compact: boolean }[],
  log: (message: string) => void,
): Promise<void> {
  if (topics.length === 0) return;
  const existing = new Set(await admin.listTopics({ includeInternal: true }));
  for (const t of topics) {
    if (existing.has(t.topic)) continue;
    try {
      await admin.createTopics([
        {
          topic: t.topic,
          numPartitions: t.partitions,
          ...(t.compact ? { configs: { 'cleanup.policy': 'compact' } } : {}),
        },
      ]);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'TOPIC_ALREADY_EXISTS') continue;
      if (code !== 'UNSUPPORTED_VERSION') throw err;
      const [d] = await admin.describeTopics([t.topic]);
      const got = d?.partitions.length ?? 0;
      if (got !== t.partitions) {
        throw new StreamsError(
          'TOPOLOGY_MISMATCH',
          `the cluster cannot create topics and auto-created ${t.topic} with ${got} partitions (${t.partitions} needed); create it yourself`,
          { cause: err },
        );
      }
      log(
        `the cluster cannot create topics: ${t.topic} was auto-created${t.compact ? ' (without cleanup.policy=compact)' : ''}`,
      );
    }
  }
}
