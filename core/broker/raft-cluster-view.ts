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
 * - alterPartition and createTopic resolve once the local image holds the committed change (so
 *   partitions() / topics() report it), or after `applyWaitMs` with the controller's answer.
 * - Refusals carry Kafka's error names: AlterPartitionError for the four stale/ineligible
 *   answers of AlterPartition, ClusterError otherwise (NOT_CONTROLLER, REQUEST_TIMED_OUT,
 *   TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, …).
 */
import { isControllerError } from '../cluster/controller/errors.js';
import type {
  AlterPartitionResponse,
  ControllerChannel,
  CreateTopicsResponse,
} from '../cluster/controller/requests.js';
import type { MetadataImage, PartitionImage } from '../cluster/metadata/image.js';
import type { MetadataSource } from '../cluster/metadata/listener.js';
import {
  type AlterPartitionChange,
  AlterPartitionError,
  type BrokerEndpoint,
  ClusterError,
  type ClusterView,
  type PartitionAssignment,
  type TopicCreation,
  type TopicDescription,
} from './cluster-view.js';

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

export class RaftClusterView implements ClusterView {
  private readonly applyWaitMs: number;

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

  async alterPartition(change: AlterPartitionChange): Promise<PartitionAssignment> {
    const where = `${change.topic}-${change.partition}`;
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

  async createTopic(spec: TopicCreation): Promise<TopicDescription> {
    let response: CreateTopicsResponse;
    try {
      response = await this.opts.controllers.call('createTopics', {
        topics: [
          {
            name: spec.name,
            numPartitions: spec.numPartitions,
            replicationFactor: spec.replicationFactor,
            ...(spec.assignments ? { assignments: spec.assignments } : {}),
            configs: { ...spec.configs },
          },
        ],
      });
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
    });
    if (topic)
      return { name: topic.name, topicId: topic.topicId, configs: Object.fromEntries(topic.configs) };
    return { name: spec.name, topicId: result.topicId ?? '', configs: { ...spec.configs } };
  }

  /** Resolves with pick(image) once it is defined, or undefined after applyWaitMs. */
  private waitFor<T>(pick: (image: MetadataImage) => T | undefined): Promise<T | undefined> {
    const now = pick(this.opts.metadata.image());
    if (now !== undefined) return Promise.resolve(now);
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
      const timer = setTimeout(() => finish(undefined), this.applyWaitMs);
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

/** A controller failure (NOT_CONTROLLER, REQUEST_TIMED_OUT, a lost connection) as a ClusterError. */
function toClusterError(err: unknown, where: string): Error {
  if (isControllerError(err)) return new ClusterError(err.code, `${where}: ${err.message}`);
  if (err instanceof ClusterError) return err;
  return new ClusterError(
    'REQUEST_TIMED_OUT',
    `${where}: ${err instanceof Error ? err.message : String(err)}`,
  );
}
