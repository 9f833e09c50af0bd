/**
 * The ClusterView of a broker in a Raft-backed cluster (core/cluster): reads are the metadata
 * log's latest image (MetadataSource.image()), onChange follows MetadataSource.subscribe, and
 * ISR changes and topic creations go to the active controller (ControllerChannel.call).
 *
 *   const node = await ClusterNode.start({ nodeId, dataDir, quorum, controllerListen });
 *   const view = new RaftClusterView({ brokerId: nodeId, metadata: node.metadata,
 *     controllers: node.controllers, brokerEpoch: () => lifecycle.brokerEpoch });
 *   await startBroker({ dataDir, listen, config, clusterView: view });
 *
 * - brokers() lists the registered brokers that are not fenced (the live ones): a Metadata
 *   response names them, and a replica on another broker is offline otherwise.
 * - alterPartition, createTopic and the admin calls (deleteTopics, createPartitions,
 *   alterTopicConfigs, electLeaders, alterPartitionReassignments) resolve once the local image
 *   holds the committed change (so partitions() / topics() report it), or after `applyWaitMs`
 *   with the controller's answer.
 * - allocateProducerIds gets this broker a block of producer ids from the controller (producer-ids.ts).
 * - Refusals carry Kafka's error names: AlterPartitionError for the four stale/ineligible
 *   answers of AlterPartition, ClusterError otherwise (NOT_CONTROLLER, REQUEST_TIMED_OUT,
 *   TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, …).
 */
import { isControllerError } from '../cluster/controller/errors.js';
import type {
  AlterPartitionResponse,
  ApiRequest,
  ApiResponse,
  CallOptions,
  ControllerApi,
  ControllerChannel,
  CreateTopicsResponse,
} from '../cluster/controller/requests.js';
import type { MetadataImage, PartitionImage } from '../cluster/metadata/image.js';
import type { MetadataSource } from '../cluster/metadata/listener.js';
import {
  type AdminCallOptions,
  type AdminItemResult,
  type AlterPartitionChange,
  AlterPartitionError,
  type BrokerEndpoint,
  type ClusterAdmin,
  ClusterError,
  type ClusterView,
  type OngoingReassignment,
  type PartitionAssignment,
  type PartitionReassignment,
  type TopicCreation,
  type TopicDescription,
  type TopicPartitionRef,
} from './cluster-view.js';
import type { ProducerIdBlock, ProducerIdBlockSource } from './producer-ids.js';

/** A producer id block request gives up after this (the next InitProducerId asks again). */
const PRODUCER_ID_CALL_TIMEOUT_MS = 10_000;

export interface RaftClusterViewOptions {
  /** This broker's id (node.id). */
  readonly brokerId: number;
  readonly metadata: MetadataSource;
  readonly controllers: ControllerChannel;
  /** The broker epoch the controller gave this broker (BrokerLifecycle.brokerEpoch; -1 before registering). */
  readonly brokerEpoch: () => number;
  /** How long a committed change may take to reach the local image before resolving anyway. Default 5000. */
  readonly applyWaitMs?: number;
}

type AlterCode = AlterPartitionError['code'];
const ALTER_CODES: ReadonlySet<string> = new Set<AlterCode>([
  'FENCED_LEADER_EPOCH',
  'INVALID_UPDATE_VERSION',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INELIGIBLE_REPLICA',
]);

export class RaftClusterView implements ClusterView, ClusterAdmin, ProducerIdBlockSource {
  private readonly applyWaitMs: number;
  /** DeleteTopics, CreatePartitions, AlterConfigs, ElectLeaders, reassignments: the methods below. */
  readonly admin: ClusterAdmin = this;

  constructor(private readonly opts: RaftClusterViewOptions) {
    this.applyWaitMs = opts.applyWaitMs ?? 5000;
  }

  brokers(): BrokerEndpoint[] {
    return this.opts.metadata
      .image()
      .liveBrokers()
      .map((b) => ({ nodeId: b.id, host: b.host, port: b.port, rack: b.rack }))
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  *topics(): Iterable<TopicDescription> {
    for (const t of this.opts.metadata.image().topics.values()) {
      yield { name: t.name, topicId: t.topicId, configs: Object.fromEntries(t.configs) };
    }
  }

  *partitions(): Iterable<PartitionAssignment> {
    for (const p of this.opts.metadata.image().partitions()) yield assignment(p);
  }

  /** True once the image holds this broker's current registration: it is then no older than the join. */
  clusterId(): string | null {
    return this.opts.metadata.image().clusterId;
  }

  caughtUp(): boolean {
    const epoch = this.opts.brokerEpoch();
    return epoch >= 0 && this.opts.metadata.image().brokers.get(this.opts.brokerId)?.epoch === epoch;
  }

  onChange(listener: () => void): () => void {
    // subscribe() delivers the current roles synchronously; the contract's callers read the
    // view themselves right after subscribing, so only later changes are passed on.
    let initial = true;
    const off = this.opts.metadata.subscribe(this.opts.brokerId, {
      onChange: () => {
        if (!initial) listener();
      },
    });
    initial = false;
    return off;
  }

  private closed = false;

  /** The broker is closing: ISR changes are refused from now on instead of going to the controller. */
  close(): void {
    this.closed = true;
  }

  async alterPartition(change: AlterPartitionChange): Promise<PartitionAssignment> {
    const where = `${change.topic}-${change.partition}`;
    if (this.closed) throw new ClusterError('BROKER_NOT_AVAILABLE', `${where}: the broker is shutting down`);
    const current = this.opts.metadata.image().partition(change.topic, change.partition);
    if (!current) throw new AlterPartitionError('UNKNOWN_TOPIC_OR_PARTITION', `${where} does not exist`);
    let response: AlterPartitionResponse;
    try {
      response = await this.opts.controllers.call('alterPartition', {
        brokerId: this.opts.brokerId,
        brokerEpoch: this.opts.brokerEpoch(),
        partitions: [
          {
            topicId: current.topicId,
            partition: change.partition,
            leaderEpoch: change.leaderEpoch,
            partitionEpoch: change.partitionEpoch,
            newIsr: [...change.newIsr],
          },
        ],
      });
    } catch (err) {
      throw toClusterError(err, where);
    }
    const result = response.partitions[0];
    if (!result) throw new ClusterError('UNKNOWN_SERVER_ERROR', `${where}: the controller sent no answer`);
    if (result.error !== null) {
      const message = `${where}: ${result.message ?? result.error}`;
      if (ALTER_CODES.has(result.error)) throw new AlterPartitionError(result.error as AlterCode, message);
      throw new ClusterError(result.error, message);
    }
    const committed = await this.waitFor((img) => {
      const p = img.partition(current.topicId, change.partition);
      return p !== undefined && p.partitionEpoch >= result.partitionEpoch ? p : undefined;
    });
    if (committed && committed.partitionEpoch === result.partitionEpoch) return assignment(committed);
    return {
      topic: change.topic,
      partition: change.partition,
      replicas: [...(committed ?? current).replicas],
      isr: [...result.isr],
      leader: result.leader,
      leaderEpoch: result.leaderEpoch,
      partitionEpoch: result.partitionEpoch,
    };
  }

  async createTopic(spec: TopicCreation, opts?: AdminCallOptions): Promise<TopicDescription> {
    const budget = this.budget(opts);
    let response: CreateTopicsResponse;
    try {
      response = await this.opts.controllers.call(
        'createTopics',
        {
          topics: [
            {
              name: spec.name,
              numPartitions: spec.numPartitions,
              replicationFactor: spec.replicationFactor,
              ...(spec.assignments ? { assignments: spec.assignments } : {}),
              configs: { ...spec.configs },
            },
          ],
        },
        budget.call,
      );
    } catch (err) {
      throw toClusterError(err, spec.name);
    }
    const result = response.topics[0];
    if (!result)
      throw new ClusterError('UNKNOWN_SERVER_ERROR', `${spec.name}: the controller sent no answer`);
    if (result.error !== null) throw new ClusterError(result.error, result.message ?? result.error);
    // Wait until this broker's image has the topic: its next Metadata answer then names it.
    const topic = await this.waitFor((img) => {
      const t = img.topicByName(spec.name);
      return t !== undefined && (result.topicId === null || t.topicId === result.topicId) ? t : undefined;
    }, budget.waitMs());
    if (topic)
      return { name: topic.name, topicId: topic.topicId, configs: Object.fromEntries(topic.configs) };
    return { name: spec.name, topicId: result.topicId ?? '', configs: { ...spec.configs } };
  }

  async deleteTopics(
    topics: readonly (string | { readonly topicId: string })[],
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & { topic: string | null; topicId?: string })[]> {
    const budget = this.budget(opts);
    const before = this.opts.metadata.image();
    const names = topics.filter((t): t is string => typeof t === 'string');
    const ids = topics
      .filter((t): t is { readonly topicId: string } => typeof t !== 'string')
      .map((t) => t.topicId);
    // ids go to the controller as ids: it deletes that topic, never a later one of the same name
    const response = await this.controller(
      'deleteTopics',
      ids.length > 0 ? { topics: names, topicIds: ids } : { topics: names },
      'DeleteTopics',
      budget,
    );
    let n = 0;
    let k = 0;
    const results = topics.map((t): AdminItemResult & { topic: string | null; topicId?: string } => {
      if (typeof t === 'string') return { topic: t, ...item(response.topics[n++]) };
      const r = response.topicIds?.[k++];
      return { topic: r?.topic ?? null, topicId: t.topicId, ...item(r) };
    });
    const gone = results
      .filter((r) => r.error === null)
      .map((r) => r.topicId ?? (r.topic === null ? undefined : before.topicByName(r.topic)?.topicId))
      .filter((id): id is string => id !== undefined);
    await this.waitFor(
      (img) => (gone.every((id) => !img.topics.has(id)) ? true : undefined),
      budget.waitMs(),
    );
    return results;
  }

  async createPartitions(
    changes: readonly { topic: string; count: number; assignments: number[][] | null }[],
    validateOnly: boolean,
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & { topic: string })[]> {
    const budget = this.budget(opts);
    const response = await this.controller(
      'createPartitions',
      {
        topics: changes.map((c) => ({
          name: c.topic,
          count: c.count,
          ...(c.assignments ? { assignments: c.assignments } : {}),
        })),
        validateOnly,
      },
      'CreatePartitions',
      budget,
    );
    const results = changes.map((c, i) => ({ topic: c.topic, ...item(response.topics[i]) }));
    if (!validateOnly) {
      const grown = changes.filter((_, i) => results[i]!.error === null);
      await this.waitFor(
        (img) =>
          grown.every((c) => (img.topicByName(c.topic)?.partitions.size ?? 0) >= c.count) ? true : undefined,
        budget.waitMs(),
      );
    }
    return results;
  }

  async alterTopicConfigs(
    changes: readonly { topic: string; configs: Record<string, string | null> }[],
    validateOnly: boolean,
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & { topic: string })[]> {
    const budget = this.budget(opts);
    const response = await this.controller(
      'alterConfigs',
      {
        resources: changes.map((c) => ({ type: 'topic' as const, name: c.topic, configs: { ...c.configs } })),
        validateOnly,
      },
      'AlterConfigs',
      budget,
    );
    const results = changes.map((c, i) => ({ topic: c.topic, ...item(response.resources[i]) }));
    if (!validateOnly) {
      const applied = changes.filter((_, i) => results[i]!.error === null);
      await this.waitFor(
        (img) =>
          applied.every((c) => {
            const t = img.topicByName(c.topic);
            if (!t) return true; // deleted meanwhile
            return Object.entries(c.configs).every(([k, v]) => (t.configs.get(k) ?? null) === v);
          })
            ? true
            : undefined,
        budget.waitMs(),
      );
    }
    return results;
  }

  async electLeaders(
    type: 'preferred' | 'unclean',
    partitions: readonly TopicPartitionRef[] | null,
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & TopicPartitionRef)[]> {
    const budget = this.budget(opts);
    const before = this.opts.metadata.image();
    const response = await this.controller(
      'electLeaders',
      { electionType: type, partitions: partitions === null ? null : partitions.map(ref) },
      'ElectLeaders',
      budget,
    );
    const results = response.partitions.map((r) => ({ ...ref(r), ...item(r) }));
    const elected = results.filter((r) => r.error === null);
    await this.waitFor(
      (img) =>
        elected.every((r) => {
          const p = img.partition(r.topic, r.partition);
          const was = before.partition(r.topic, r.partition);
          if (!p || (was && p.topicId !== was.topicId)) return true;
          if (was && p.partitionEpoch <= was.partitionEpoch) return false;
          return type === 'unclean' ? p.leader >= 0 : p.leader === preferredReplica(p);
        })
          ? true
          : undefined,
      budget.waitMs(),
    );
    return results;
  }

  async alterPartitionReassignments(
    reassignments: readonly PartitionReassignment[],
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & TopicPartitionRef)[]> {
    const budget = this.budget(opts);
    const before = this.opts.metadata.image();
    const response = await this.controller(
      'alterPartitionReassignments',
      {
        reassignments: reassignments.map((r) => ({
          ...ref(r),
          replicas: r.replicas === null ? null : [...r.replicas],
        })),
      },
      'AlterPartitionReassignments',
      budget,
    );
    const results = reassignments.map((r, i) => ({ ...ref(r), ...item(response.partitions[i]) }));
    const moved = reassignments.filter((_, i) => results[i]!.error === null);
    await this.waitFor(
      (img) =>
        moved.every((r) => {
          const p = img.partition(r.topic, r.partition);
          const was = before.partition(r.topic, r.partition);
          if (!p || (was && p.topicId !== was.topicId)) return true;
          if (r.replicas === null) return p.addingReplicas.length === 0 && p.removingReplicas.length === 0;
          return r.replicas.every((b) => p.replicas.includes(b));
        })
          ? true
          : undefined,
      budget.waitMs(),
    );
    return results;
  }

  async listPartitionReassignments(
    partitions: readonly TopicPartitionRef[] | null,
    opts?: AdminCallOptions,
  ): Promise<OngoingReassignment[]> {
    const response = await this.controller(
      'listPartitionReassignments',
      { partitions: partitions === null ? null : partitions.map(ref) },
      'ListPartitionReassignments',
      this.budget(opts),
    );
    return response.partitions.map((p) => ({
      ...ref(p),
      replicas: [...p.replicas],
      addingReplicas: [...p.addingReplicas],
      removingReplicas: [...p.removingReplicas],
    }));
  }

  /**
   * A block of producer ids for this broker (ProducerIdManager in cluster mode): committed by the
   * controller, so no other broker ever gets any of them. Fails while this broker is unregistered.
   */
  async allocateProducerIds(minProducerId: number): Promise<ProducerIdBlock> {
    const brokerEpoch = this.opts.brokerEpoch();
    if (brokerEpoch < 0)
      throw new ClusterError(
        'BROKER_ID_NOT_REGISTERED',
        `broker ${this.opts.brokerId} has not registered yet`,
      );
    const r = await this.controller(
      'allocateProducerIds',
      { brokerId: this.opts.brokerId, brokerEpoch, minProducerId },
      'AllocateProducerIds',
      { call: { timeoutMs: PRODUCER_ID_CALL_TIMEOUT_MS }, waitMs: () => 0 },
    );
    return { firstProducerId: r.firstProducerId, size: r.size };
  }

  private async controller<A extends ControllerApi>(
    api: A,
    request: ApiRequest<A>,
    what: string,
    budget: Budget,
  ): Promise<ApiResponse<A>> {
    try {
      return await this.opts.controllers.call(api, request, budget.call);
    } catch (err) {
      throw toClusterError(err, what);
    }
  }

  /**
   * An admin call's time: the controller call gets the request's timeoutMs as its deadline, the
   * wait for the image what remains of it (at most applyWaitMs; none for timeoutMs <= 0).
   */
  private budget(opts: AdminCallOptions | undefined): Budget {
    const timeoutMs = opts?.timeoutMs;
    if (timeoutMs === undefined || !Number.isFinite(timeoutMs))
      return { call: undefined, waitMs: () => this.applyWaitMs };
    if (timeoutMs <= 0) return { call: undefined, waitMs: () => 0 };
    const deadline = performance.now() + timeoutMs;
    return {
      call: { timeoutMs },
      waitMs: () => Math.max(0, Math.min(this.applyWaitMs, deadline - performance.now())),
    };
  }

  /** Resolves with pick(image) once it is defined, or undefined after waitMs (default applyWaitMs). */
  private waitFor<T>(
    pick: (image: MetadataImage) => T | undefined,
    waitMs = this.applyWaitMs,
  ): Promise<T | undefined> {
    const now = pick(this.opts.metadata.image());
    if (now !== undefined) return Promise.resolve(now);
    if (waitMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let done = false;
      let off: (() => void) | undefined;
      const finish = (value: T | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        queueMicrotask(() => off?.());
        resolve(value);
      };
      const timer = setTimeout(() => finish(undefined), waitMs);
      timer.unref?.();
      off = this.opts.metadata.subscribe(this.opts.brokerId, {
        onChange: (delta) => {
          const v = pick(delta.image);
          if (v !== undefined) finish(v);
        },
      });
      if (done) off();
    });
  }
}

interface Budget {
  readonly call: CallOptions | undefined;
  /** How long to wait for the image now. */
  waitMs(): number;
}

function assignment(p: PartitionImage): PartitionAssignment {
  return {
    topic: p.topic,
    partition: p.partition,
    replicas: [...p.replicas],
    isr: [...p.isr],
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
  };
}

function ref(r: TopicPartitionRef): TopicPartitionRef {
  return { topic: r.topic, partition: r.partition };
}

/** A per-item controller answer; a missing one is a server error. */
function item(r: { error: string | null; message?: string } | undefined): AdminItemResult {
  if (!r) return { error: 'UNKNOWN_SERVER_ERROR', message: 'the controller sent no answer for this item' };
  return { error: r.error, message: r.error === null ? null : (r.message ?? r.error) };
}

/** The replica a preferred election makes leader: the first target replica. */
function preferredReplica(p: PartitionImage): number {
  return p.replicas.find((r) => !p.removingReplicas.includes(r)) ?? -1;
}

/** A controller failure (NOT_CONTROLLER, REQUEST_TIMED_OUT, a lost connection) as a ClusterError. */
function toClusterError(err: unknown, where: string): Error {
  if (isControllerError(err)) return new ClusterError(err.code, `${where}: ${err.message}`);
  if (err instanceof ClusterError) return err;
  return new ClusterError(
    'REQUEST_TIMED_OUT',
    `${where}: ${err instanceof Error ? err.message : String(err)}`,
  );
}
