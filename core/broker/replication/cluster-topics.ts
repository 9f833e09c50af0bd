/**
 * Metadata and CreateTopics on a broker of a multi-node cluster: what the cluster view says
 * (topics, leaders, replicas, ISRs), and topic creation through the controller.
 */
import { parseLogConfig } from '../../log/log-config.js';
import { topicNameProblem } from '../../log/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { CreateTopicsRequestData, CreateTopicsResponse } from '../../protocol/messages/create-topics.js';
import type { MetadataRequestData, MetadataResponse } from '../../protocol/messages/metadata.js';
import type { InferInput } from '../../protocol/schema.js';
import type { ClusterView, PartitionAssignment, TopicDescription } from '../cluster-view.js';
import type { CallContext, NodeParts } from '../handlers/context.js';
import { errorAnswer } from '../kafka-errors.js';

type MetadataTopic = NonNullable<InferInput<typeof MetadataResponse>['topics']>[number];
type CreateTopicsResult = NonNullable<InferInput<typeof CreateTopicsResponse>['topics']>[number];

/**
 * Metadata in a multi-node cluster: topics, leaders, replicas and ISRs as the cluster view has
 * them (topics are created through the controller, so no auto-creation here).
 */
export function clusterMetadata(
  node: NodeParts,
  ctx: CallContext,
  req: MetadataRequestData,
  view: ClusterView,
): InferInput<typeof MetadataResponse> {
  const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
  const described = new Map<string, TopicDescription>();
  for (const t of view.topics()) described.set(t.name, t);
  const byTopic = new Map<string, PartitionAssignment[]>();
  for (const p of view.partitions()) {
    const list = byTopic.get(p.topic);
    if (list) list.push(p);
    else byTopic.set(p.topic, [p]);
  }
  const names = all ? [...described.keys()].sort() : req.topics!.map((t) => t.name ?? '');
  const live = new Set(view.brokers().map((b) => b.nodeId));
  const autoCreate =
    node.config['auto.create.topics.enable'] === true && (req.allowAutoTopicCreation ?? true);
  const topics: MetadataTopic[] = names.map((name) => {
    const desc = described.get(name);
    const parts = byTopic.get(name);
    if (!desc || !parts) {
      if (topicNameProblem(name))
        return { name, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, partitions: [] };
      if (!all && autoCreate && view.createTopic) {
        // Kafka: the controller creates it; clients retry on LEADER_NOT_AVAILABLE meanwhile.
        view
          .createTopic({
            name,
            numPartitions: node.config['num.partitions'] as number,
            replicationFactor: Math.min(node.config['default.replication.factor'] as number, live.size),
            assignments: null,
            configs: {},
          })
          .catch(() => {});
        return { name, errorCode: ErrorCode.LEADER_NOT_AVAILABLE, partitions: [] };
      }
      return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] };
    }
    return {
      errorCode: 0,
      name,
      topicId: desc.topicId,
      isInternal: name.startsWith('__'),
      partitions: parts
        .sort((a, b) => a.partition - b.partition)
        .map((p) => ({
          errorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
          partitionIndex: p.partition,
          leaderId: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: p.replicas,
          isrNodes: p.isr,
          offlineReplicas: p.replicas.filter((id) => !live.has(id)),
        })),
    };
  });
  return {
    brokers: node.brokers().map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    clusterId: node.clusterId(),
    controllerId: node.controllerId(),
    topics,
  };
}

/** CreateTopics through the controller (the view); Kafka's answers per topic. */
export async function clusterCreateTopics(
  node: NodeParts,
  req: CreateTopicsRequestData,
  view: ClusterView,
): Promise<InferInput<typeof CreateTopicsResponse>> {
  const seen = new Set<string>();
  const brokers = view.brokers().length;
  const topics = await Promise.all(
    req.topics.map(async (t): Promise<CreateTopicsResult> => {
      const fail = (errorCode: number, errorMessage: string): CreateTopicsResult => ({
        name: t.name,
        errorCode,
        errorMessage,
      });
      if (seen.has(t.name)) return fail(ErrorCode.INVALID_REQUEST, `topic ${t.name} appears more than once`);
      seen.add(t.name);
      const problem = topicNameProblem(t.name);
      if (problem) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
      if (!view.createTopic) {
        return fail(
          ErrorCode.INVALID_REQUEST,
          'this cluster cannot create topics (no controller connection)',
        );
      }
      try {
        const configs: Record<string, string> = {};
        for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
        parseLogConfig(configs, node.logs.defaultTopicConfig); // INVALID_CONFIG naming the key
        const assignments =
          t.assignments.length > 0
            ? [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds)
            : null;
        const numPartitions =
          assignments?.length ??
          (t.numPartitions === -1 ? (node.config['num.partitions'] as number) : t.numPartitions);
        const rf =
          assignments?.[0]?.length ??
          (t.replicationFactor === -1
            ? (node.config['default.replication.factor'] as number)
            : t.replicationFactor);
        if (numPartitions < 1)
          return fail(
            ErrorCode.INVALID_PARTITIONS,
            `number of partitions must be at least 1, got ${numPartitions}`,
          );
        if (rf < 1 || rf > brokers) {
          return fail(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            `replication factor ${rf} must be between 1 and the number of brokers (${brokers})`,
          );
        }
        if (req.validateOnly) {
          return { name: t.name, errorCode: 0, errorMessage: null, numPartitions, replicationFactor: rf };
        }
        const created = await view.createTopic(
          { name: t.name, numPartitions, replicationFactor: rf, assignments, configs },
          { timeoutMs: req.timeoutMs },
        );
        return {
          name: t.name,
          topicId: created.topicId,
          errorCode: 0,
          errorMessage: null,
          numPartitions,
          replicationFactor: rf,
        };
      } catch (err) {
        const a = errorAnswer(err);
        return fail(a.errorCode, a.errorMessage ?? 'topic creation failed');
      }
    }),
  );
  return { topics };
}
