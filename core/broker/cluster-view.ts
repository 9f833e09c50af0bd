/**
 * What a broker needs from the cluster's metadata: the brokers, the topics, and for every
 * partition its replicas, ISR, leader and epochs (Kafka's PartitionRecord / LeaderAndIsr).
 * The broker reads it and asks the controller to change an ISR; it never writes it otherwise.
 *
 * Implementations:
 * - `SingleNodeView`: today's one-node cluster (every partition of the local logs led by this
 *   node, ISR = [self]); the broker takes its fast path and never consults partitions().
 * - `StaticClusterView`: an in-memory view several in-process brokers share in tests, with a
 *   test "controller" that applies alterPartition and lets tests move leadership.
 * - the Raft-backed view of core/cluster (the metadata log's image), plugged in by the node.
 *
 * Contract:
 * - Reads are synchronous snapshots of the latest committed state; onChange listeners run
 *   (synchronously or not) after any change, without saying what changed: the broker diffs.
 * - leaderEpoch grows by at least one whenever the leader changes (and may grow otherwise);
 *   partitionEpoch grows by at least one on every change of a partition (leader, ISR, replicas).
 * - alterPartition is Kafka's AlterPartition: it is refused (the promise rejects) unless
 *   leaderEpoch and partitionEpoch are the current ones; on success it resolves with the new
 *   committed state (partitionEpoch bumped), which partitions() then also reports.
 */
import type { LogManager } from '../log/log-manager.js';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionAssignment {
  topic: string;
  partition: number;
  /** Broker ids holding a replica, preferred leader first. */
  replicas: number[];
  /** In-sync replicas (always includes the leader when there is one). */
  isr: number[];
  /** -1 when the partition has no leader (every ISR member is down). */
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicDescription {
  name: string;
  /** Kafka's Uuid text form. */
  topicId: string;
  /** Topic-level config overrides (min.insync.replicas, retention.ms, …). */
  configs: Record<string, string>;
}

export interface AlterPartitionChange {
  topic: string;
  partition: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
}

/** A CreateTopics request for the controller; replicas are placed by it unless given. */
export interface TopicCreation {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  /** Explicit placement: assignments[p] lists partition p's replicas, preferred leader first. */
  assignments: number[][] | null;
  configs: Record<string, string>;
}

/** One item's outcome of a cluster admin call: null error = done (committed). */
export interface AdminItemResult {
  /** Kafka's error name (UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG, ELECTION_NOT_NEEDED, …) or null. */
  error: string | null;
  message: string | null;
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export interface PartitionReassignment extends TopicPartitionRef {
  /** The target replicas, preferred leader first; null cancels the ongoing reassignment. */
  replicas: number[] | null;
}

export interface OngoingReassignment extends TopicPartitionRef {
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/**
 * The admin requests a cluster's controller carries out (Kafka forwards them to the active
 * controller). Each resolves once the change is committed and this broker's view shows it (or,
 * after a bounded wait, with the controller's answer); rejects with a ClusterError for a failure
 * of the whole call (NOT_CONTROLLER, REQUEST_TIMED_OUT, …), per-item refusals are results.
 */
export interface ClusterAdmin {
  /**
   * Deletes topics given by name or by topic id (DeleteTopics v6): an id deletes that topic only,
   * never a later topic of the same name; an unknown id answers UNKNOWN_TOPIC_ID. Each result
   * names the topic (null for an unknown id) and, for an id item, the id.
   */
  deleteTopics(
    topics: readonly (string | { readonly topicId: string })[],
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & { topic: string | null; topicId?: string })[]>;
  createPartitions(
    changes: readonly { topic: string; count: number; assignments: number[][] | null }[],
    validateOnly: boolean,
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & { topic: string })[]>;
  /** Incremental: a null value deletes the override. */
  alterTopicConfigs(
    changes: readonly { topic: string; configs: Record<string, string | null> }[],
    validateOnly: boolean,
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & { topic: string })[]>;
  /** partitions null: every partition. */
  electLeaders(
    type: 'preferred' | 'unclean',
    partitions: readonly TopicPartitionRef[] | null,
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & TopicPartitionRef)[]>;
  alterPartitionReassignments(
    reassignments: readonly PartitionReassignment[],
    opts?: AdminCallOptions,
  ): Promise<(AdminItemResult & TopicPartitionRef)[]>;
  /** partitions null: every ongoing reassignment. */
  listPartitionReassignments(
    partitions: readonly TopicPartitionRef[] | null,
    opts?: AdminCallOptions,
  ): Promise<OngoingReassignment[]>;
}

/** Per-call options of the admin calls. */
export interface AdminCallOptions {
  /**
   * The client request's timeoutMs. > 0: the controller must answer within it (else the call
   * fails with REQUEST_TIMED_OUT) and the wait for this broker's image is cut to what remains.
   * <= 0: the change is made and answered without waiting for the image (Kafka's "values <= 0
   * trigger the operation and return immediately"). Absent: the defaults.
   */
  readonly timeoutMs?: number;
}

export interface ClusterView {
  brokers(): BrokerEndpoint[];
  topics(): Iterable<TopicDescription>;
  partitions(): Iterable<PartitionAssignment>;
  /** Calls listener after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Asks the controller to change a partition's ISR (Kafka's AlterPartition); resolves with the committed state or rejects. */
  alterPartition(change: AlterPartitionChange): Promise<PartitionAssignment>;
  /**
   * Creates a topic through the controller (optional: without it a cluster broker refuses
   * CreateTopics). Resolves once committed; rejects with an Error whose `code` is Kafka's error
   * name (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, …).
   */
  createTopic?(spec: TopicCreation, opts?: AdminCallOptions): Promise<TopicDescription>;
  /**
   * Whether the view holds at least everything committed before this broker (re)joined the
   * cluster, so that a topic missing from it is really gone (optional: absent means always).
   * A restarting broker's first view may be an old snapshot; local logs of topics it lacks are
   * kept until this is true.
   */
  caughtUp?(): boolean;
  /** The other admin requests, through the controller (optional: without it a cluster broker refuses them). */
  readonly admin?: ClusterAdmin;
  /**
   * The cluster's id, the same on every broker (optional; null until the controller wrote it, and
   * absent in views without one: the broker then reports its data directory's).
   */
  clusterId?(): string | null;
  /** The broker is closing: refuse further ISR changes at once (optional). */
  close?(): void;
}

/** A refusal carrying Kafka's error name as `code` (the broker maps it to the numeric code). */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Raised by alterPartition when the change is refused (Kafka's error names). */
export class AlterPartitionError extends Error {
  override readonly name = 'AlterPartitionError';
  constructor(
    readonly code:
      | 'FENCED_LEADER_EPOCH'
      | 'INVALID_UPDATE_VERSION'
      | 'UNKNOWN_TOPIC_OR_PARTITION'
      | 'INELIGIBLE_REPLICA',
    message: string,
  ) {
    super(message);
  }
}

/** The one-node cluster: every local partition is led by this node, ISR = [self]. */
export class SingleNodeView implements ClusterView {
  readonly singleNode = true;
  constructor(
    private readonly self: () => BrokerEndpoint,
    private readonly logs: LogManager,
  ) {}
  brokers(): BrokerEndpoint[] {
    return [this.self()];
  }
  *topics(): Iterable<TopicDescription> {
    for (const t of this.logs.topics()) yield { name: t.name, topicId: t.topicId, configs: t.overrides };
  }
  *partitions(): Iterable<PartitionAssignment> {
    const id = this.self().nodeId;
    for (const t of this.logs.topics()) {
      for (let p = 0; p < t.partitions; p++) {
        const epoch = Math.max(0, this.logs.getLog(t.name, p).latestEpoch);
        yield {
          topic: t.name,
          partition: p,
          replicas: [id],
          isr: [id],
          leader: id,
          leaderEpoch: epoch,
          partitionEpoch: 0,
        };
      }
    }
  }
  onChange(): () => void {
    return () => {};
  }
  alterPartition(change: AlterPartitionChange): Promise<PartitionAssignment> {
    return Promise.reject(
      new AlterPartitionError(
        'INVALID_UPDATE_VERSION',
        `${change.topic}-${change.partition}: a single node has a fixed ISR`,
      ),
    );
  }
}

export function isSingleNodeView(view: ClusterView): boolean {
  return (view as { singleNode?: unknown }).singleNode === true;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * An in-memory cluster view shared by in-process brokers (tests). It plays the controller:
 * alterPartition checks the epochs and commits at once; tests register brokers, create topics
 * and move leadership. Listeners are called on a microtask, as a metadata log would deliver.
 */
export class StaticClusterView implements ClusterView {
  private readonly brokerMap = new Map<number, BrokerEndpoint>();
  private readonly topicMap = new Map<string, TopicDescription>();
  private readonly parts = new Map<string, PartitionAssignment>();
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;
  private topicCount = 0;
  /** Every committed ISR change, for tests: [topic-partition, isr]. */
  readonly isrChanges: { topic: string; partition: number; isr: number[] }[] = [];

  brokers(): BrokerEndpoint[] {
    return [...this.brokerMap.values()].sort((a, b) => a.nodeId - b.nodeId);
  }
  topics(): Iterable<TopicDescription> {
    return [...this.topicMap.values()];
  }
  partitions(): Iterable<PartitionAssignment> {
    return [...this.parts.values()].map(copy);
  }
  partition(topic: string, partition: number): PartitionAssignment | undefined {
    const p = this.parts.get(key(topic, partition));
    return p && copy(p);
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Adds a broker or changes its address (a restarted broker on a new port). */
  registerBroker(endpoint: BrokerEndpoint): void {
    this.brokerMap.set(endpoint.nodeId, { ...endpoint });
    this.changed();
  }

  /** CreateTopics: replicas placed round-robin over the registered brokers unless assigned. */
  async createTopic(spec: TopicCreation): Promise<TopicDescription> {
    await Promise.resolve();
    if (this.topicMap.has(spec.name))
      throw new ClusterError('TOPIC_ALREADY_EXISTS', `Topic '${spec.name}' already exists.`);
    const ids = this.brokers().map((b) => b.nodeId);
    let replicas = spec.assignments;
    if (!replicas) {
      if (spec.replicationFactor > ids.length) {
        throw new ClusterError(
          'INVALID_REPLICATION_FACTOR',
          `Replication factor: ${spec.replicationFactor} larger than available brokers: ${ids.length}.`,
        );
      }
      const start = this.topicCount % Math.max(1, ids.length);
      replicas = Array.from({ length: spec.numPartitions }, (_, p) =>
        Array.from({ length: spec.replicationFactor }, (_, i) => ids[(start + p + i) % ids.length]!),
      );
    }
    this.addTopic(spec.name, replicas, spec.configs);
    return { ...this.topicMap.get(spec.name)! };
  }

  /** Creates a topic at once; `replicas[p]` lists partition p's replicas, the first leads. */
  addTopic(name: string, replicas: number[][], configs: Record<string, string> = {}): void {
    if (this.topicMap.has(name)) throw new Error(`topic ${name} exists`);
    const n = ++this.topicCount;
    const topicId = Buffer.alloc(16, n).toString('base64url');
    this.topicMap.set(name, { name, topicId, configs: { ...configs } });
    replicas.forEach((r, p) => {
      this.parts.set(key(name, p), {
        topic: name,
        partition: p,
        replicas: [...r],
        isr: [...r],
        leader: r[0] ?? -1,
        leaderEpoch: 0,
        partitionEpoch: 0,
      });
    });
    this.changed();
  }

  /** Moves leadership (a controller's election): bumps the leader epoch; the new leader joins the ISR. */
  electLeader(topic: string, partition: number, leader: number, isr?: number[]): PartitionAssignment {
    const p = this.require(topic, partition);
    p.leader = leader;
    p.leaderEpoch++;
    p.partitionEpoch++;
    if (isr) p.isr = [...isr];
    else if (leader >= 0 && !p.isr.includes(leader)) p.isr = [...p.isr, leader];
    this.changed();
    return copy(p);
  }

  async alterPartition(change: AlterPartitionChange): Promise<PartitionAssignment> {
    await Promise.resolve();
    const p = this.parts.get(key(change.topic, change.partition));
    const where = `${change.topic}-${change.partition}`;
    if (!p) throw new AlterPartitionError('UNKNOWN_TOPIC_OR_PARTITION', `${where} does not exist`);
    if (change.leaderEpoch !== p.leaderEpoch)
      throw new AlterPartitionError(
        'FENCED_LEADER_EPOCH',
        `${where}: leader epoch ${change.leaderEpoch} is not ${p.leaderEpoch}`,
      );
    if (change.partitionEpoch !== p.partitionEpoch)
      throw new AlterPartitionError(
        'INVALID_UPDATE_VERSION',
        `${where}: partition epoch ${change.partitionEpoch} is not ${p.partitionEpoch}`,
      );
    if (!change.newIsr.includes(p.leader) || change.newIsr.some((id) => !p.replicas.includes(id)))
      throw new AlterPartitionError('INELIGIBLE_REPLICA', `${where}: ISR ${change.newIsr} is not valid`);
    p.isr = [...change.newIsr];
    p.partitionEpoch++;
    this.isrChanges.push({ topic: change.topic, partition: change.partition, isr: [...p.isr] });
    this.changed();
    return copy(p);
  }

  private require(topic: string, partition: number): PartitionAssignment {
    const p = this.parts.get(key(topic, partition));
    if (!p) throw new Error(`${topic}-${partition} does not exist`);
    return p;
  }

  private changed(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of [...this.listeners]) l();
    });
  }
}

function copy(p: PartitionAssignment): PartitionAssignment {
  return { ...p, replicas: [...p.replicas], isr: [...p.isr] };
}
