/**
 * Topic operations: validate against the current image, then produce the records. Pure
 * functions; the controller proposes what they return.
 */
import type { Random } from '../../env/random.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import { newTopicId } from '../metadata/uuid.js';
import { assignReplicas } from './assignment.js';
import type { ControllerConfig } from './config.js';
import { ControllerError, fail, type ItemError, OK } from './errors.js';
import type {
  AlterConfigsRequest,
  AlterConfigsResponse,
  CreatableTopic,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicResult,
  CreateTopicsRequest,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
} from './requests.js';
import { checkTopicConfig, checkTopicName } from './topic-configs.js';

export interface OpContext {
  readonly config: ControllerConfig;
  readonly random: Random;
}

export interface OpResult<R> {
  readonly records: MetadataRecord[];
  readonly response: R;
}

function usableBrokers(image: MetadataImage): { id: number; rack: string | null }[] {
  return image.liveBrokers().map((b) => ({ id: b.id, rack: b.rack }));
}

function checkAssignment(image: MetadataImage, assignments: readonly (readonly number[])[]): string | null {
  if (assignments.length === 0) return 'empty assignment';
  const rf = assignments[0]!.length;
  for (const [i, replicas] of assignments.entries()) {
    if (replicas.length === 0) return `partition ${i} has no replicas`;
    if (replicas.length !== rf) return 'every partition must have the same number of replicas';
    if (new Set(replicas).size !== replicas.length) return `partition ${i} lists a broker twice`;
    for (const r of replicas) if (!image.brokers.has(r)) return `broker ${r} is not registered`;
  }
  return null;
}

function createOne(
  image: MetadataImage,
  t: CreatableTopic,
  ctx: OpContext,
  records: MetadataRecord[],
  seen: Set<string>,
): CreateTopicResult {
  const { config } = ctx;
  const none = { name: t.name, topicId: null, numPartitions: -1, replicationFactor: -1 };
  const bad = checkTopicName(t.name);
  if (bad !== null) return { ...none, ...fail('INVALID_TOPIC_EXCEPTION', bad) };
  if (image.topicIds.has(t.name) || seen.has(t.name))
    return { ...none, ...fail('TOPIC_ALREADY_EXISTS', `topic "${t.name}" already exists`) };
  if (image.topics.size + seen.size >= config.maxTopics)
    return { ...none, ...fail('INVALID_REQUEST', `the cluster already has ${config.maxTopics} topics`) };
  for (const [k, v] of Object.entries(t.configs ?? {})) {
    const why = checkTopicConfig(k, v);
    if (why !== null) return { ...none, ...fail('INVALID_CONFIG', why) };
  }
  let assignments: readonly (readonly number[])[];
  if (t.assignments !== undefined && t.assignments.length > 0) {
    const why = checkAssignment(image, t.assignments);
    if (why !== null) return { ...none, ...fail('INVALID_REPLICA_ASSIGNMENT', why) };
    assignments = t.assignments;
  } else {
    const n = t.numPartitions === -1 ? config.numPartitions : t.numPartitions;
    const rf = t.replicationFactor === -1 ? config.defaultReplicationFactor : t.replicationFactor;
    if (!Number.isInteger(n) || n <= 0 || n > config.maxPartitionsPerTopic)
      return {
        ...none,
        ...fail('INVALID_PARTITIONS', `partitions must be 1..${config.maxPartitionsPerTopic}`),
      };
    if (!Number.isInteger(rf) || rf <= 0 || rf > config.maxReplicationFactor)
      return {
        ...none,
        ...fail('INVALID_REPLICATION_FACTOR', `replication factor must be 1..${config.maxReplicationFactor}`),
      };
    try {
      assignments = assignReplicas(usableBrokers(image), n, rf, ctx.random);
    } catch (err) {
      if (err instanceof ControllerError) return { ...none, ...fail(err.code, err.message) };
      throw err;
    }
  }
  if (assignments.length > config.maxPartitionsPerTopic)
    return { ...none, ...fail('INVALID_PARTITIONS', `more than ${config.maxPartitionsPerTopic} partitions`) };
  seen.add(t.name);
  const topicId = newTopicId(ctx.random);
  records.push({ type: 'topic', name: t.name, topicId });
  for (const [k, v] of Object.entries(t.configs ?? {}))
    records.push({ type: 'config', resourceType: 'topic', resourceName: t.name, name: k, value: v });
  assignments.forEach((replicas, partition) => {
    const isr = replicas.filter((r) => image.isLive(r));
    records.push({
      type: 'partition',
      topicId,
      partition,
      replicas: [...replicas],
      isr: isr.length > 0 ? isr : [...replicas],
      leader: isr[0] ?? -1,
      leaderEpoch: 0,
      partitionEpoch: 0,
      addingReplicas: [],
      removingReplicas: [],
    });
  });
  return {
    name: t.name,
    topicId,
    numPartitions: assignments.length,
    replicationFactor: assignments[0]!.length,
    ...OK,
  };
}

export function createTopics(
  image: MetadataImage,
  req: CreateTopicsRequest,
  ctx: OpContext,
): OpResult<{ topics: CreateTopicResult[] }> {
  const records: MetadataRecord[] = [];
  const seen = new Set<string>();
  const topics = req.topics.map((t) => createOne(image, t, ctx, records, seen));
  return { records: req.validateOnly ? [] : records, response: { topics } };
}

export function deleteTopics(image: MetadataImage, req: DeleteTopicsRequest): OpResult<DeleteTopicsResponse> {
  const records: MetadataRecord[] = [];
  const done = new Set<string>();
  const remove = (topicId: string): void => {
    if (!done.has(topicId)) records.push({ type: 'removeTopic', topicId });
    done.add(topicId);
  };
  // a name is a name: never resolved as an id (a topic name may look like one)
  const topics = req.topics.map((name): ItemError & { topic: string } => {
    const t = image.topicByName(name);
    if (t === undefined) return { topic: name, ...fail('UNKNOWN_TOPIC_OR_PARTITION', `no topic "${name}"`) };
    remove(t.topicId);
    return { topic: name, ...OK };
  });
  if (!Array.isArray(req.topicIds)) return { records, response: { topics } };
  // an id names one topic: a later topic of the same name is never deleted by it
  const topicIds = req.topicIds.map((topicId): ItemError & { topicId: string; topic: string | null } => {
    const t = typeof topicId === 'string' ? image.topics.get(topicId) : undefined;
    if (t === undefined)
      return { topicId, topic: null, ...fail('UNKNOWN_TOPIC_ID', `no topic has id ${topicId}`) };
    remove(t.topicId);
    return { topicId, topic: t.name, ...OK };
  });
  return { records, response: { topics, topicIds } };
}

export function createPartitions(
  image: MetadataImage,
  req: CreatePartitionsRequest,
  ctx: OpContext,
): OpResult<CreatePartitionsResponse> {
  const records: MetadataRecord[] = [];
  const topics = req.topics.map((t): ItemError & { name: string } => {
    const topic = image.topicByName(t.name);
    if (topic === undefined)
      return { name: t.name, ...fail('UNKNOWN_TOPIC_OR_PARTITION', `no topic "${t.name}"`) };
    const have = topic.partitions.size;
    if (!Number.isInteger(t.count) || t.count <= have)
      return {
        name: t.name,
        ...fail('INVALID_PARTITIONS', `topic has ${have} partitions; the new count must be larger`),
      };
    if (t.count > ctx.config.maxPartitionsPerTopic)
      return {
        name: t.name,
        ...fail('INVALID_PARTITIONS', `more than ${ctx.config.maxPartitionsPerTopic} partitions`),
      };
    const rf = topic.partitions.get(0)?.replicas.length ?? 1;
    let assignments: readonly (readonly number[])[];
    if (t.assignments !== undefined && t.assignments.length > 0) {
      if (t.assignments.length !== t.count - have)
        return {
          name: t.name,
          ...fail('INVALID_REPLICA_ASSIGNMENT', `expected ${t.count - have} new assignments`),
        };
      const why = checkAssignment(image, t.assignments);
      if (why !== null) return { name: t.name, ...fail('INVALID_REPLICA_ASSIGNMENT', why) };
      assignments = t.assignments;
    } else {
      try {
        assignments = assignReplicas(usableBrokers(image), t.count - have, rf, ctx.random, have);
      } catch (err) {
        if (err instanceof ControllerError) return { name: t.name, ...fail(err.code, err.message) };
        throw err;
      }
    }
    assignments.forEach((replicas, i) => {
      const isr = replicas.filter((r) => image.isLive(r));
      records.push({
        type: 'partition',
        topicId: topic.topicId,
        partition: have + i,
        replicas: [...replicas],
        isr: isr.length > 0 ? isr : [...replicas],
        leader: isr[0] ?? -1,
        leaderEpoch: 0,
        partitionEpoch: 0,
        addingReplicas: [],
        removingReplicas: [],
      });
    });
    return { name: t.name, ...OK };
  });
  return { records: req.validateOnly ? [] : records, response: { topics } };
}

export function alterConfigs(image: MetadataImage, req: AlterConfigsRequest): OpResult<AlterConfigsResponse> {
  const records: MetadataRecord[] = [];
  const resources = req.resources.map((res) => {
    const head = { type: res.type, name: res.name };
    if (res.type === 'topic') {
      if (!image.topicIds.has(res.name))
        return { ...head, ...fail('UNKNOWN_TOPIC_OR_PARTITION', `no topic "${res.name}"`) };
      for (const [k, v] of Object.entries(res.configs)) {
        const why = checkTopicConfig(k, v);
        if (why !== null) return { ...head, ...fail('INVALID_CONFIG', why) };
      }
    } else if (res.name !== '' && !/^\d{1,10}$/.test(res.name)) {
      return {
        ...head,
        ...fail('INVALID_REQUEST', `broker resource "${res.name}" is not a broker id or ''`),
      };
    }
    for (const [k, v] of Object.entries(res.configs)) {
      records.push({ type: 'config', resourceType: res.type, resourceName: res.name, name: k, value: v });
    }
    return { ...head, ...OK };
  });
  return { records: req.validateOnly ? [] : records, response: { resources } };
}
