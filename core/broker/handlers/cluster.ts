/**
 * ApiVersions, DescribeCluster, InitProducerId, and the cluster APIs (ElectLeaders, partition
 * reassignments): through the controller in a multi-node cluster (cluster-admin.ts), the
 * single-node answers otherwise.
 */
import { ErrorCode } from '../../protocol/errors.js';
import { advertisedApiVersions } from '../../protocol/messages/index.js';
import { ProducerIdsUnavailableError } from '../producer-ids.js';
import { clusterAlterReassignments, clusterElectLeaders, clusterListReassignments } from './cluster-admin.js';
import type { CallContext, NodeParts, Req, Res } from './context.js';

export function handleApiVersions(): Res<'ApiVersions'> {
  return { errorCode: 0, apiKeys: advertisedApiVersions(), throttleTimeMs: 0 };
}

export function handleDescribeCluster(node: NodeParts): Res<'DescribeCluster'> {
  const clusterId = node.clusterId();
  if (clusterId === null) {
    // A forming cluster (no controller has been active yet): retriable, as clients treat it.
    return {
      errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
      errorMessage: 'the cluster has no id yet: no controller has been active; retry',
      clusterId: '',
      controllerId: -1,
      brokers: [],
    };
  }
  return {
    errorCode: 0,
    errorMessage: null,
    clusterId,
    controllerId: node.controllerId(),
    brokers: node.brokers().map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
  };
}

export function handleInitProducerId(
  node: NodeParts,
  _ctx: CallContext,
  req: Req<'InitProducerId'>,
): Res<'InitProducerId'> | Promise<Res<'InitProducerId'>> {
  if (req.transactionalId !== null && req.transactionalId !== '') {
    return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1, producerEpoch: -1 };
  }
  // An idempotent producer asking to bump its epoch (KIP-360): a fresh epoch of the same id.
  if (req.producerId >= 0 && req.producerEpoch < 32766) {
    return { errorCode: 0, producerId: req.producerId, producerEpoch: req.producerEpoch + 1 };
  }
  // In a cluster the id comes from a block the controller gave this broker (producer-ids.ts);
  // while there is none, the retriable COORDINATOR_LOAD_IN_PROGRESS (the client asks again).
  const id = node.producerIds.nextProducerId();
  if (typeof id === 'number') return { errorCode: 0, producerId: id, producerEpoch: 0 };
  return id.then(
    (producerId): Res<'InitProducerId'> => ({ errorCode: 0, producerId, producerEpoch: 0 }),
    (err: unknown): Res<'InitProducerId'> => {
      if (!(err instanceof ProducerIdsUnavailableError)) throw err;
      return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, producerId: -1, producerEpoch: -1 };
    },
  );
}

export function handleElectLeaders(
  node: NodeParts,
  _ctx: CallContext,
  req: Req<'ElectLeaders'>,
): Res<'ElectLeaders'> | Promise<Res<'ElectLeaders'>> {
  if (node.replicas.replication !== null) return clusterElectLeaders(req, node.replicas.replication.view);
  const topics =
    req.topicPartitions ??
    node.logs.topics().map((t) => ({
      topic: t.name,
      partitions: Array.from({ length: t.partitions }, (_, i) => i),
    }));
  return {
    errorCode: 0,
    replicaElectionResults: topics.map((t) => ({
      topic: t.topic,
      partitionResult: t.partitions.map((p) => ({
        partitionId: p,
        errorCode: node.logs.topic(t.topic)
          ? ErrorCode.ELECTION_NOT_NEEDED
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: null,
      })),
    })),
  };
}

export function handleAlterPartitionReassignments(
  node: NodeParts,
  _ctx: CallContext,
  req: Req<'AlterPartitionReassignments'>,
): Res<'AlterPartitionReassignments'> | Promise<Res<'AlterPartitionReassignments'>> {
  if (node.replicas.replication !== null)
    return clusterAlterReassignments(req, node.replicas.replication.view);
  const self = node.endpoint().nodeId;
  return {
    errorCode: 0,
    errorMessage: null,
    responses: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        if (!node.logs.topic(t.name)) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
          };
        }
        if (p.replicas === null || (p.replicas.length === 1 && p.replicas[0] === self)) {
          return { partitionIndex: p.partitionIndex, errorCode: 0, errorMessage: null };
        }
        return {
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          errorMessage: `this cluster has only broker ${self}`,
        };
      }),
    })),
  };
}

export function handleListPartitionReassignments(
  node: NodeParts,
  _ctx: CallContext,
  req: Req<'ListPartitionReassignments'>,
): Res<'ListPartitionReassignments'> | Promise<Res<'ListPartitionReassignments'>> {
  if (node.replicas.replication !== null)
    return clusterListReassignments(req, node.replicas.replication.view);
  return { errorCode: 0, errorMessage: null, topics: [] };
}

export function handleDescribeProducers(
  node: NodeParts,
  _ctx: CallContext,
  req: Req<'DescribeProducers'>,
): Res<'DescribeProducers'> {
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => ({
        partitionIndex: p,
        errorCode: node.logs.topic(t.name) ? 0 : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        activeProducers: [],
      })),
    })),
  };
}
