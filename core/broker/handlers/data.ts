/**
 * Produce, Fetch, ListOffsets, OffsetForLeaderEpoch, DeleteRecords: the data path.
 * Records pass through as the producer's batch bytes and leave as slices of segment files.
 */
import { ErrorCode } from '../../protocol/errors.js';
import type {
  DeleteRecordsRequestData,
  DeleteRecordsResponse,
} from '../../protocol/messages/delete-records.js';
import type { FetchRequestData, FetchResponse } from '../../protocol/messages/fetch.js';
import type { ListOffsetsRequestData, ListOffsetsResponse } from '../../protocol/messages/list-offsets.js';
import type {
  OffsetForLeaderEpochRequestData,
  OffsetForLeaderEpochResponse,
} from '../../protocol/messages/offset-for-leader-epoch.js';
import type { ProduceRequestData, ProduceResponse } from '../../protocol/messages/produce.js';
import type { InferInput } from '../../protocol/schema.js';
import { errorAnswer } from '../kafka-errors.js';
import type { PartitionFetch, PartitionProduce } from '../replica-manager.js';
import type { CallContext, NodeParts } from './context.js';

/** Returns null for acks=0: Kafka sends no response at all. */
export async function handleProduce(
  node: NodeParts,
  ctx: CallContext,
  req: ProduceRequestData,
): Promise<InferInput<typeof ProduceResponse> | null> {
  const entries: PartitionProduce[] = [];
  for (const t of req.topicData) {
    for (const p of t.partitionData) entries.push({ topic: t.name, partition: p.index, records: p.records });
  }
  if (req.transactionalId !== null && req.transactionalId !== undefined) {
    const results = entries.map((e) => ({
      name: e.topic,
      index: e.partition,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'transactions are not supported yet by this broker; produce without a transactional.id',
    }));
    return req.acks === 0 ? null : { responses: groupByTopic(results) };
  }
  if (ctx.apiVersion < 3) {
    const results = entries.map((e) => ({
      name: e.topic,
      index: e.partition,
      errorCode: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      errorMessage: 'produce requests before v3 carry message format v0/v1, which this broker does not store',
    }));
    return req.acks === 0 ? null : { responses: groupByTopic(results) };
  }
  const results = await node.replicas.produce(entries, { acks: req.acks, timeoutMs: req.timeoutMs });
  if (req.acks === 0) return null;
  return {
    responses: groupByTopic(
      results.map((r) => ({
        name: r.topic,
        index: r.partition,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        recordErrors: (r.recordErrors ?? []).map((e) => ({
          batchIndex: e.batchIndex,
          batchIndexErrorMessage: e.message,
        })),
        baseOffset: r.baseOffset,
        logAppendTimeMs: r.logAppendTime,
        logStartOffset: r.logStartOffset,
      })),
    ),
  };
}

function groupByTopic<T extends { name: string; index: number }>(
  rows: T[],
): { name: string; partitionResponses: Omit<T, 'name'>[] }[] {
  const byTopic = new Map<string, Omit<T, 'name'>[]>();
  for (const { name, ...rest } of rows) {
    let list = byTopic.get(name);
    if (!list) {
      list = [];
      byTopic.set(name, list);
    }
    list.push(rest);
  }
  return [...byTopic].map(([name, partitionResponses]) => ({ name, partitionResponses }));
}

export async function handleFetch(
  node: NodeParts,
  ctx: CallContext,
  req: FetchRequestData,
): Promise<InferInput<typeof FetchResponse>> {
  const entries: PartitionFetch[] = [];
  for (const t of req.topics) {
    for (const p of t.partitions) {
      entries.push({
        topic: t.topic,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
      });
    }
  }
  const replicaId = ctx.apiVersion >= 15 ? req.replicaState.replicaId : req.replicaId;
  const results = await node.replicas.fetch(entries, {
    maxWaitMs: req.maxWaitMs,
    minBytes: req.minBytes,
    maxBytes: ctx.apiVersion >= 3 ? req.maxBytes : Number.MAX_SAFE_INTEGER,
    replicaId,
    isolationLevel: req.isolationLevel,
    // The records go to the socket as they are (connection.ts releases them once written).
    leaseBuffers: true,
  });
  const responses: { topic: string; partitions: object[] }[] = [];
  let current: { topic: string; partitions: object[] } | undefined;
  for (const r of results) {
    if (!current || current.topic !== r.topic) {
      current = { topic: r.topic, partitions: [] };
      responses.push(current);
    }
    current.partitions.push({
      partitionIndex: r.partition,
      errorCode: r.errorCode,
      highWatermark: r.highWatermark,
      lastStableOffset: r.lastStableOffset,
      logStartOffset: r.logStartOffset,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: r.records ?? Buffer.alloc(0), // librdkafka rejects a null (-1) MessageSetSize
    });
  }
  // No fetch sessions: session id 0 tells clients to send full fetch requests.
  return { errorCode: 0, sessionId: 0, responses } as InferInput<typeof FetchResponse>;
}

export function handleListOffsets(
  node: NodeParts,
  ctx: CallContext,
  req: ListOffsetsRequestData,
): InferInput<typeof ListOffsetsResponse> {
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const found = node.replicas.listOffset(
          t.name,
          p.partitionIndex,
          p.timestamp,
          req.isolationLevel,
          p.currentLeaderEpoch,
        );
        if (ctx.apiVersion === 0) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: found.errorCode,
            oldStyleOffsets: found.offset >= 0 ? [found.offset] : [],
          };
        }
        return {
          partitionIndex: p.partitionIndex,
          errorCode: found.errorCode,
          timestamp: found.timestamp,
          offset: found.offset,
          leaderEpoch: found.leaderEpoch,
        };
      }),
    })),
  };
}

export function handleOffsetForLeaderEpoch(
  node: NodeParts,
  _ctx: CallContext,
  req: OffsetForLeaderEpochRequestData,
): InferInput<typeof OffsetForLeaderEpochResponse> {
  return {
    topics: req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        try {
          if (node.replicas.replication !== null) {
            // In a cluster only the leader answers, for followers truncating and for clients.
            const code = node.replicas.leaderCheck(t.topic, p.partition, p.currentLeaderEpoch);
            if (code !== 0) return { partition: p.partition, errorCode: code };
          }
          const log = node.logs.getLog(t.topic, p.partition);
          if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch > Math.max(0, log.latestEpoch)) {
            return { partition: p.partition, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH };
          }
          const { epoch, endOffset } = log.endOffsetForEpoch(p.leaderEpoch);
          return { partition: p.partition, errorCode: 0, leaderEpoch: epoch, endOffset };
        } catch (err) {
          return { partition: p.partition, errorCode: errorAnswer(err).errorCode };
        }
      }),
    })),
  };
}

export function handleDeleteRecords(
  node: NodeParts,
  _ctx: CallContext,
  req: DeleteRecordsRequestData,
): InferInput<typeof DeleteRecordsResponse> {
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        try {
          const log = node.logs.getLog(t.name, p.partitionIndex);
          const offset = p.offset === -1 ? log.highWatermark : p.offset;
          if (offset < 0 || offset > log.highWatermark) {
            return {
              partitionIndex: p.partitionIndex,
              lowWatermark: -1,
              errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
            };
          }
          log.deleteRecordsBefore(offset);
          return { partitionIndex: p.partitionIndex, lowWatermark: log.logStartOffset, errorCode: 0 };
        } catch (err) {
          return {
            partitionIndex: p.partitionIndex,
            lowWatermark: -1,
            errorCode: errorAnswer(err).errorCode,
          };
        }
      }),
    })),
  };
}
