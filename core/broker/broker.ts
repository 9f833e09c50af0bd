/**
 * One Tributary node: the logs of a data directory, the replica manager (produce/fetch), the
 * group coordinator, producer ids, and the table of request handlers. It has no network of its
 * own: the TCP server (server.ts) hands it decoded requests, and the embedded client calls
 * `handle` directly with the same objects, so both paths run the same code.
 */
import { type Clock, systemClock } from '../env/clock.js';
import { type FileSystem, nodeFileSystem } from '../env/fs.js';
import { LogManager } from '../log/log-manager.js';
import { ApiKey } from '../protocol/api-keys.js';
import type { RequestData, ResponseInput, SupportedApiKey } from '../protocol/messages/index.js';
import { ClusterLogSync } from './cluster-log-sync.js';
import { type ClusterView, isSingleNodeView } from './cluster-view.js';
import { type BrokerConfig, parseBrokerConfig, retentionMs, rollJitterMs, rollMs } from './config.js';
import {
  handleAlterPartitionReassignments,
  handleApiVersions,
  handleDescribeCluster,
  handleDescribeProducers,
  handleElectLeaders,
  handleInitProducerId,
  handleListPartitionReassignments,
} from './handlers/cluster.js';
import {
  handleAlterConfigs,
  handleDescribeConfigs,
  handleIncrementalAlterConfigs,
} from './handlers/configs.js';
import type { CallContext, Endpoint, NodeParts } from './handlers/context.js';
import {
  handleDeleteRecords,
  handleFetch,
  handleListOffsets,
  handleOffsetForLeaderEpoch,
  handleProduce,
} from './handlers/data.js';
import { GroupHandlers } from './handlers/groups.js';
import {
  handleCreatePartitions,
  handleCreateTopics,
  handleDeleteTopics,
  handleMetadata,
} from './handlers/topics.js';
import { isProducerIdBlockSource, ProducerIdManager } from './producer-ids.js';
import { ReplicaManager } from './replica-manager.js';
import type { FetcherConfig } from './replication/replica-fetcher.js';
import { ReplicationManager } from './replication/replication-manager.js';

type Handler<K extends SupportedApiKey> = (
  node: NodeParts,
  ctx: CallContext,
  req: RequestData<K>,
) => ResponseInput<K> | null | Promise<ResponseInput<K> | null>;

export type HandlerTable = { [K in SupportedApiKey]?: Handler<K> };

export interface BrokerOptions {
  /** The data directory (locked for the life of the broker). */
  dataDir: string;
  /** Kafka broker config keys (validated: unknown keys are refused). */
  config?: Readonly<Record<string, unknown>>;
  clock?: Clock;
  fs?: FileSystem;
  /** How clients reach this node; settable later once the listener knows its port. */
  endpoint?: { host: string; port: number };
  /**
   * The cluster's metadata (cluster-view.ts). Absent or a SingleNodeView: the one-node cluster,
   * every local partition led here. Otherwise partitions are replicated as the view says.
   */
  clusterView?: ClusterView;
  /** Follower fetch settings (replica.fetch.*), for tests. */
  replicaFetcher?: Partial<FetcherConfig>;
  /** Operator messages (replication role changes, truncations). */
  log?: (msg: string) => void;
}

/**
 * Broker-level keys the log manager understands, for the keys the user set: the log manager has
 * the same defaults, and must report unset keys as defaults (DescribeConfigs' DEFAULT_CONFIG).
 */
function logDefaults(
  config: BrokerConfig,
  given: ReadonlySet<string>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const copy = [
    'num.partitions',
    'default.replication.factor',
    'auto.create.topics.enable',
    'log.segment.bytes',
    'log.retention.bytes',
    'log.retention.check.interval.ms',
    'log.cleanup.policy',
    'log.cleaner.enable',
    'log.cleaner.backoff.ms',
    'log.cleaner.dedupe.buffer.size',
    'log.cleaner.delete.retention.ms',
    'log.cleaner.min.compaction.lag.ms',
    'log.cleaner.max.compaction.lag.ms',
    'log.cleaner.min.cleanable.ratio',
    'log.index.interval.bytes',
    'log.index.size.max.bytes',
    'log.message.timestamp.type',
    'log.message.timestamp.before.max.ms',
    'log.message.timestamp.after.max.ms',
    'log.message.timestamp.difference.max.ms',
    'log.flush.interval.messages',
    'log.flush.interval.ms',
    'log.flush.scheduler.interval.ms',
    'log.flush.offset.checkpoint.interval.ms',
    'message.max.bytes',
    'min.insync.replicas',
    'compression.type',
    'unclean.leader.election.enable',
  ] as const;
  for (const key of copy) {
    const v = config[key];
    if (v !== null && given.has(key)) out[key] = v;
  }
  if (['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'].some((k) => given.has(k))) {
    out['log.retention.ms'] = retentionMs(config);
  }
  if (given.has('log.roll.ms') || given.has('log.roll.hours')) out['log.roll.ms'] = rollMs(config);
  if (given.has('log.roll.jitter.ms') || given.has('log.roll.jitter.hours'))
    out['log.roll.jitter.ms'] = rollJitterMs(config);
  return out;
}

export class Broker implements NodeParts {
  readonly config: BrokerConfig;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly producerIds: ProducerIdManager;
  readonly groups: GroupHandlers;
  readonly clock: Clock;
  private self: Endpoint;
  /** The cluster view of a multi-node cluster; undefined on a single node. */
  private readonly view: ClusterView | undefined;
  private logSync: ClusterLogSync | undefined;
  private readonly handlers: HandlerTable;
  private closed = false;

  private constructor(opts: BrokerOptions, config: BrokerConfig, logs: LogManager) {
    this.config = config;
    this.clock = opts.clock ?? systemClock;
    this.logs = logs;
    this.replicas = new ReplicaManager(logs, this.clock);
    const multiNode = opts.clusterView && !isSingleNodeView(opts.clusterView) ? opts.clusterView : undefined;
    // a cluster's producer id blocks come from its controller (RaftClusterView), else from the data dir
    const blocks = isProducerIdBlockSource(multiNode) ? multiNode : undefined;
    this.producerIds = new ProducerIdManager(opts.fs ?? nodeFileSystem, opts.dataDir, {
      blocks,
      clock: this.clock,
      log: opts.log,
    });
    this.self = {
      nodeId: config['node.id'] as number,
      host: opts.endpoint?.host ?? '127.0.0.1',
      port: opts.endpoint?.port ?? 0,
      rack: config['broker.rack'] as string | null,
    };
    this.groups = new GroupHandlers(this, opts.log);
    this.view = multiNode;
    this.handlers = {
      [ApiKey.ApiVersions]: handleApiVersions,
      [ApiKey.Metadata]: handleMetadata,
      [ApiKey.Produce]: handleProduce,
      [ApiKey.Fetch]: handleFetch,
      [ApiKey.ListOffsets]: handleListOffsets,
      [ApiKey.OffsetForLeaderEpoch]: handleOffsetForLeaderEpoch,
      [ApiKey.DeleteRecords]: handleDeleteRecords,
      [ApiKey.CreateTopics]: handleCreateTopics,
      [ApiKey.DeleteTopics]: handleDeleteTopics,
      [ApiKey.CreatePartitions]: handleCreatePartitions,
      [ApiKey.DescribeConfigs]: handleDescribeConfigs,
      [ApiKey.AlterConfigs]: handleAlterConfigs,
      [ApiKey.IncrementalAlterConfigs]: handleIncrementalAlterConfigs,
      [ApiKey.InitProducerId]: handleInitProducerId,
      [ApiKey.DescribeCluster]: handleDescribeCluster,
      [ApiKey.ElectLeaders]: handleElectLeaders,
      [ApiKey.AlterPartitionReassignments]: handleAlterPartitionReassignments,
      [ApiKey.ListPartitionReassignments]: handleListPartitionReassignments,
      [ApiKey.DescribeProducers]: handleDescribeProducers,
      ...this.groups.table(),
    };
  }

  static async open(opts: BrokerOptions): Promise<Broker> {
    const config = parseBrokerConfig(opts.config ?? {});
    const logs = LogManager.open({
      dataDir: opts.dataDir,
      clusterId: (config['cluster.id'] as string | null) ?? undefined,
      nodeId: config['node.id'] as number,
      defaults: logDefaults(config, new Set(Object.keys(opts.config ?? {}))),
      fs: opts.fs,
      clock: opts.clock,
    });
    let broker: Broker | undefined;
    try {
      broker = new Broker(opts, config, logs);
      if (!broker.view) await broker.groups.start();
      logs.start();
      broker.startReplication(opts);
      if (broker.view) await broker.groups.start(); // follows the replicated __consumer_offsets
      return broker;
    } catch (err) {
      if (broker) await broker.close();
      else await logs.close();
      throw err;
    }
  }

  private startReplication(opts: BrokerOptions): void {
    if (!this.view) return;
    const replicas = this.replicas;
    replicas.replication = new ReplicationManager({
      view: this.view,
      logs: this.logs,
      selfId: this.self.nodeId,
      clock: this.clock,
      lagTimeMaxMs: this.config['replica.lag.time.max.ms'] as number,
      fetcher: opts.replicaFetcher,
      onHighWatermark: (log) => replicas.wake(log),
      log: opts.log,
      fs: opts.fs,
    });
    // deleted topics, reassigned-away replicas and topic configs reach the local logs
    this.logSync = new ClusterLogSync({
      view: this.view,
      logs: this.logs,
      replication: replicas.replication,
      selfId: this.self.nodeId,
      log: opts.log,
    });
  }

  /** Sets the address clients are told to connect to (after the listener bound its port). */
  setEndpoint(host: string, port: number): void {
    this.self = { ...this.self, host, port };
  }

  endpoint(): Endpoint {
    return this.self;
  }

  brokers(): Endpoint[] {
    return this.view ? this.view.brokers() : [this.self];
  }

  controllerId(): number {
    return this.self.nodeId;
  }

  clusterId(): string | null {
    if (this.view?.clusterId === undefined) return this.logs.clusterId;
    return this.view.clusterId();
  }

  /** Whether the handler table has the API (the server closes the connection otherwise). */
  handles(apiKey: number): boolean {
    return Object.hasOwn(this.handlers, apiKey);
  }

  /** Runs one request. Resolves with null when Kafka sends no response (produce with acks=0). */
  async handle<K extends SupportedApiKey>(
    apiKey: K,
    ctx: CallContext,
    request: RequestData<K>,
  ): Promise<ResponseInput<K> | null> {
    const handler = this.handlers[apiKey] as Handler<K> | undefined;
    if (!handler) throw new Error(`API key ${apiKey} has no handler on this broker`);
    return handler(this, ctx, request);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.view?.close?.(); // no ISR change leaves a closing broker (it would outlive the close)
    this.producerIds.close();
    this.logSync?.close();
    await this.replicas.replication?.close();
    this.replicas.close();
    await this.groups.close();
    await this.logs.close();
  }
}
