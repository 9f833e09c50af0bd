/**
 * What a connector implements — the TypeScript counterpart of Kafka Connect's
 * `org.apache.kafka.connect.{connector,source,sink}` API — and all a connector may import from
 * the runtime.
 *
 * A plugin ({@link ConnectorPlugin}) names a connector class (plus aliases such as Kafka's,
 * Confluent's or Debezium's class names) and creates {@link SourceConnector}s or
 * {@link SinkConnector}s. The runtime starts the connector with its config, asks it for
 * `taskConfigs(maxTasks)`, and runs one task per config:
 *
 * - a {@link SourceTask} returns records from `poll()`; each carries `sourcePartition` and
 *   `sourceOffset` maps. The runtime commits an offset only after Kafka acknowledged every record
 *   it covers; on restart, `context.offsetStorageReader` returns the last committed offsets.
 * - a {@link SinkTask} receives records in `put()`. The runtime commits consumer offsets only
 *   for what `preCommit()` returns (by default: `flush()` then the offsets of everything put).
 *
 * Throw {@link RetriableException} for transient failures (the runtime retries), anything else to
 * fail the task (its status becomes FAILED with the trace; the worker keeps running the rest).
 */
import type { KafkaClient } from '../core/client/types.js';
import type { ConfigDef } from './config-def.js';
import type { SinkOffsets, SinkRecord, SourceMap, SourceRecord, TopicPartitionKey } from './data.js';

export * from './config-def.js';
export * from './data.js';
export { ConfigException, ConnectError, DataException, RetriableException } from './errors.js';

/** Connector and task configs are string maps, as in Kafka Connect. */
export type Props = Readonly<Record<string, string>>;

export interface ConnectorContext {
  /** Asks the runtime to call taskConfigs() again (e.g. the source found new tables). */
  requestTaskReconfiguration(): void;
  /** Fails the connector with this error (status FAILED). */
  raiseError(err: Error): void;
  /**
   * The cluster this worker runs against — the embedded log (`data.dir`) or the network cluster —
   * shared with the worker: do not close it. For connectors that manage topics or groups there
   * (the mirror's target); absent when a connector is started outside a worker.
   */
  readonly cluster?: KafkaClient;
}

interface ConnectorBase {
  version(): string;
  /** The connector's own keys; the runtime adds the common ones (name, tasks.max, converters, …). */
  config(): ConfigDef;
  start(props: Props, context: ConnectorContext): void | Promise<void>;
  /** One config per task, at most maxTasks. */
  taskConfigs(maxTasks: number): Props[] | Promise<Props[]>;
  stop(): void | Promise<void>;
  /** Extra validation beyond the ConfigDef: key → errors. */
  validate?(props: Props): Record<string, string[]> | Promise<Record<string, string[]>>;
}

export interface SourceConnector extends ConnectorBase {
  readonly type: 'source';
  createTask(): SourceTask;
  /** Rewrites committed offsets for PATCH/DELETE /connectors/{name}/offsets; return true if handled. */
  alterOffsets?(props: Props, offsets: Map<SourceMap, SourceMap | null>): boolean | Promise<boolean>;
}

export interface SinkConnector extends ConnectorBase {
  readonly type: 'sink';
  createTask(): SinkTask;
  alterOffsets?(props: Props, offsets: Map<TopicPartitionKey, number | null>): boolean | Promise<boolean>;
}

export type Connector = SourceConnector | SinkConnector;

export interface OffsetStorageReader {
  offset(partition: SourceMap): Promise<SourceMap | null>;
  offsets(partitions: readonly SourceMap[]): Promise<Map<SourceMap, SourceMap | null>>;
}

export interface SourceTaskContext {
  readonly configs: Props;
  readonly offsetStorageReader: OffsetStorageReader;
  /** The worker's own cluster, as in {@link ConnectorContext.cluster}: do not close it. */
  readonly cluster?: KafkaClient;
}

/** A JSON value (what a task's status may hold). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

/**
 * What a task reports about itself beyond its state: shown as `"metrics"` on the task's entry of
 * `GET /connectors/{name}/status` and `GET /connectors/{name}/tasks/{id}/status` (e.g. a CDC
 * source's replication slot lag). Keys in snake_case, values small and JSON-serializable.
 */
export type TaskStatusMetrics = Readonly<Record<string, JsonValue>>;

export interface RecordMetadataLike {
  topic: string;
  partition: number;
  offset: number;
}

export interface SourceTask {
  version(): string;
  start(props: Props, context: SourceTaskContext): void | Promise<void>;
  /**
   * The next records, or null/[] when there are none right now. May wait a little (the runtime
   * calls it in a loop), but should return within about a second so that stop() is not delayed.
   */
  poll(): Promise<SourceRecord[] | null>;
  /** Called after offsets were committed. */
  commit?(): void | Promise<void>;
  /**
   * Called once Kafka acknowledged a record, in the order acknowledgements come; metadata is null
   * when the record never reached Kafka but counts as done: a transform or predicate dropped it,
   * or `errors.tolerance=all` skipped it (a conversion or send failure). Every polled record gets
   * exactly one call, so a source may release what the record holds (e.g. confirm a position).
   */
  commitRecord?(record: SourceRecord, metadata: RecordMetadataLike | null): void;
  /** See {@link TaskStatusMetrics}. Called for every status request: return figures kept up to date elsewhere (a timer), never wait. */
  status?(): TaskStatusMetrics | null;
  stop(): void | Promise<void>;
}

export interface ErrantRecordReporter {
  /** Sends the record to the dead letter queue (when configured) and logs it; resolves when written. */
  report(record: SinkRecord, error: Error): Promise<void>;
}

export interface SinkTaskContext {
  readonly configs: Props;
  assignment(): TopicPartitionKey[];
  pause(...partitions: TopicPartitionKey[]): void;
  resume(...partitions: TopicPartitionKey[]): void;
  /** Rewinds (or skips) a partition: the next record put() sees comes from `offset`. */
  offset(partition: TopicPartitionKey, offset: number): void;
  /** Asks for an offset commit as soon as possible. */
  requestCommit(): void;
  /** null unless the connector's errors.tolerance / DLQ settings allow reporting. */
  readonly errantRecordReporter: ErrantRecordReporter | null;
}

export interface SinkTask {
  version(): string;
  start(props: Props, context: SinkTaskContext): void | Promise<void>;
  /** Partitions assigned to this task (before records of them arrive). */
  open?(partitions: TopicPartitionKey[]): void | Promise<void>;
  put(records: SinkRecord[]): void | Promise<void>;
  /** Makes everything put so far durable. */
  flush?(currentOffsets: SinkOffsets): void | Promise<void>;
  /**
   * The offsets that are safe to commit. Default: flush(currentOffsets), then currentOffsets.
   * Return fewer (or older) offsets when only part of the data is durable.
   */
  preCommit?(currentOffsets: SinkOffsets): SinkOffsets | Promise<SinkOffsets>;
  /** Partitions taken away (rebalance or stop): release what belongs to them. */
  close?(partitions: TopicPartitionKey[]): void | Promise<void>;
  /** As {@link SourceTask.status}. */
  status?(): TaskStatusMetrics | null;
  stop(): void | Promise<void>;
}

/** A connector class the worker can run: what `connector.class` names. */
export interface ConnectorPlugin {
  /** Our class name, e.g. 'FileStreamSourceConnector'. */
  readonly className: string;
  /** Other names accepted in `connector.class` (Kafka's, Confluent's, Debezium's, short forms). */
  readonly aliases?: readonly string[];
  readonly type: 'source' | 'sink';
  readonly version: string;
  create(): Connector;
}

/** What a `plugin.path` module exports: `export const plugins: ConnectorPlugin[]` or a default of the same. */
export interface PluginModule {
  plugins?: readonly ConnectorPlugin[];
  default?: readonly ConnectorPlugin[] | { plugins?: readonly ConnectorPlugin[] };
}
