/**
 * Metadata, CreateTopics, DeleteTopics, CreatePartitions. In a multi-node cluster they act on the
 * cluster through the controller (replication/cluster-topics.ts, cluster-admin.ts).
 */
import { LogError } from '../../log/errors.js';
import { topicNameProblem } from '../../log/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import type {
  CreatePartitionsRequestData,
  CreatePartitionsResponse,
} from '../../protocol/messages/create-partitions.js';
import type { CreateTopicsRequestData, CreateTopicsResponse } from '../../protocol/messages/create-topics.js';
import type { DeleteTopicsRequestData, DeleteTopicsResponse } from '../../protocol/messages/delete-topics.js';
import type { MetadataRequestData, MetadataResponse } from '../../protocol/messages/metadata.js';
import type { InferInput } from '../../protocol/schema.js';
import { errorAnswer } from '../kafka-errors.js';
import { clusterCreateTopics, clusterMetadata } from '../replication/cluster-topics.js';
import { clusterCreatePartitions, clusterDeleteTopics, planTopicDeletions } from './cluster-admin.js';
import type { CallContext, NodeParts } from './context.js';

type MetadataTopic = NonNullable<InferInput<typeof MetadataResponse>['topics']>[number];

export function handleMetadata(
  node: NodeParts,
  ctx: CallContext,
  req: MetadataRequestData,
): InferInput<typeof MetadataResponse> {
  if (node.replicas.replication !== null)
    return clusterMetadata(node, ctx, req, node.replicas.replication.view);
  const { logs } = node;
  // v0: an empty list means all topics; v1+: null means all, [] means none.
  const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
  const names = all ? logs.topics().map((t) => t.name) : req.topics!.map((t) => t.name ?? '');
  const autoCreate =
    node.config['auto.create.topics.enable'] === true && (req.allowAutoTopicCreation ?? true);
  const self = node.endpoint();
  const topics: MetadataTopic[] = [];
  for (const name of names) {
    let info = logs.topic(name);
    if (!info && !all) {
      const problem = topicNameProblem(name);
      if (problem) {
        topics.push({ name, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, partitions: [] });
        continue;
      }
      if (autoCreate) {
        try {
          info = logs.createTopic(name, {});
        } catch (err) {
          if (!(err instanceof LogError && err.code === 'TOPIC_ALREADY_EXISTS')) {
            topics.push({ name, errorCode: errorAnswer(err).errorCode, partitions: [] });
            continue;
          }
          info = logs.topic(name);
        }
      }
    }
    if (!info) {
      topics.push({ name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] });
      continue;
    }
    const partitions = [];
    for (let p = 0; p < info.partitions; p++) {
      const log = logs.getLog(info.name, p);
      partitions.push({
        errorCode: 0,
        partitionIndex: p,
        leaderId: self.nodeId,
        leaderEpoch: Math.max(0, log.latestEpoch),
        replicaNodes: [self.nodeId],
        isrNodes: [self.nodeId],
        offlineReplicas: [],
      });
    }
    topics.push({
      errorCode: 0,
      name: info.name,
      topicId: info.topicId,
      isInternal: info.internal,
      partitions,
    });
  }
  return {
    brokers: node.brokers().map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    clusterId: node.clusterId(),
    controllerId: node.controllerId(),
    topics,
  };
}

export function handleCreateTopics(
  node: NodeParts,
  _ctx: CallContext,
  req: CreateTopicsRequestData,
): InferInput<typeof CreateTopicsResponse> | Promise<InferInput<typeof CreateTopicsResponse>> {
  if (node.replicas.replication !== null)
    return clusterCreateTopics(node, req, node.replicas.replication.view);
  const seen = new Set<string>();
  const topics = req.topics.map((t) => {
    if (seen.has(t.name)) {
      return {
        name: t.name,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `topic ${t.name} appears more than once in the request`,
      };
    }
    seen.add(t.name);
    try {
      if (t.assignments.length > 0) {
        const bad = t.assignments.find((a) => a.brokerIds.some((id) => id !== node.endpoint().nodeId));
        if (bad) {
          throw new LogError(
            'INVALID_REPLICATION_FACTOR',
            `partition ${bad.partitionIndex} is assigned to brokers ${bad.brokerIds.join(',')}, ` +
              `but this cluster has only broker ${node.endpoint().nodeId}`,
          );
        }
      }
      const configs: Record<string, string> = {};
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      const numPartitions = t.numPartitions === -1 ? undefined : t.numPartitions;
      const partitions = t.assignments.length > 0 ? t.assignments.length : numPartitions;
      const rf = t.replicationFactor === -1 ? undefined : t.replicationFactor;
      if (rf !== undefined && rf > node.brokers().length) {
        throw new LogError(
          'INVALID_REPLICATION_FACTOR',
          `replication factor ${rf} is larger than the number of brokers (${node.brokers().length})`,
        );
      }
      const info = node.logs.createTopic(t.name, {
        partitions,
        replicationFactor: rf,
        configs,
        validateOnly: req.validateOnly,
      });
      return {
        name: t.name,
        topicId: info.topicId,
        errorCode: 0,
        errorMessage: null,
        numPartitions: info.partitions,
        replicationFactor: info.replicationFactor,
        configs: Object.entries(info.overrides).map(([name, value]) => ({
          name,
          value,
          readOnly: false,
          configSource: 1,
          isSensitive: false,
        })),
      };
    } catch (err) {
      const a = errorAnswer(err);
      return { name: t.name, errorCode: a.errorCode, errorMessage: a.errorMessage };
    }
  });
  return { topics };
}

export function handleDeleteTopics(
  node: NodeParts,
  ctx: CallContext,
  req: DeleteTopicsRequestData,
): InferInput<typeof DeleteTopicsResponse> | Promise<InferInput<typeof DeleteTopicsResponse>> {
  if (node.replicas.replication !== null)
    return clusterDeleteTopics(node, ctx, req, node.replicas.replication.view);
  const topics = node.logs.topics();
  const { rows, send, row } = planTopicDeletions(node, ctx, req, topics);
  const byId = new Map(topics.map((t) => [t.topicId, t.name]));
  for (const { index, item } of send) {
    const name = typeof item === 'string' ? item : byId.get(item.topicId);
    if (name === undefined) {
      rows[index] = row(index, ErrorCode.UNKNOWN_TOPIC_ID, 'no topic has that id');
      continue;
    }
    try {
      node.logs.deleteTopic(name);
      rows[index] = { ...row(index, 0, null), name };
    } catch (err) {
      const a = errorAnswer(err);
      rows[index] = { ...row(index, a.errorCode, a.errorMessage), name };
    }
  }
  return { responses: rows };
}

export function handleCreatePartitions(
  node: NodeParts,
  _ctx: CallContext,
  req: CreatePartitionsRequestData,
): InferInput<typeof CreatePartitionsResponse> | Promise<InferInput<typeof CreatePartitionsResponse>> {
  if (node.replicas.replication !== null)
    return clusterCreatePartitions(node, req, node.replicas.replication.view);
  const results = req.topics.map((t) => {
    try {
      const info = node.logs.topic(t.name);
      if (!info) throw new LogError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${t.name} does not exist`);
      if (t.count <= info.partitions) {
        throw new LogError(
          'INVALID_PARTITIONS',
          `topic ${t.name} has ${info.partitions} partitions; the new count must be larger, got ${t.count}`,
        );
      }
      if (!req.validateOnly) node.logs.createPartitions(t.name, t.count);
      return { name: t.name, errorCode: 0, errorMessage: null };
    } catch (err) {
      const a = errorAnswer(err);
      return { name: t.name, errorCode: a.errorCode, errorMessage: a.errorMessage };
    }
  });
  return { results };
}
