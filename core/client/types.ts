/**
 * The client API: what streams/, connect/ and connectors/ depend on, and all they may depend on.
 *
 * Two implementations sit behind it: embedded (the log opened in-process from a data directory)
 * and network (the Kafka protocol, against a Tributary or any Kafka cluster). Config keys are
 * Kafka's own names so that `producer.`/`consumer.` prefixed settings pass straight through.
 * Offsets and timestamps are JavaScript numbers (exact up to 2^53).
 */

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** Headers as a list (order and repeated keys kept) or as an object for convenience. */
export type HeadersInit = readonly RecordHeader[] | Readonly<Record<string, string | Buffer | null>>;

export interface ProducerRecord {
  topic: string;
  /** Explicit partition; otherwise the partitioner decides from the key. */
  partition?: number;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: HeadersInit;
  /** Milliseconds since the epoch; defaults to now. */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp, or the broker's append time for LogAppendTime topics. */
  timestamp: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
  metadata?: string | null;
  leaderEpoch?: number;
}

export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  leaderEpoch: number;
}

/**
 * The records of one {@link Consumer.pollBatch} call, read through a cursor: no object per record
 * (Kafka's `ConsumerRecords`, kafkajs' `eachBatch`, for consumers that must go fast). Keys and
 * values are read as views of the fetched bytes or as strings only when asked for.
 *
 * ```ts
 * const batch = await consumer.pollBatch();
 * for (const r = batch.cursor(); r.next(); ) {
 *   handle(r.offset, r.valueString());
 * }
 * ```
 */
export interface ConsumerBatch {
  /** How many records it holds (0 when the poll timed out). */
  readonly count: number;
  /** A new cursor, before the first record. */
  cursor(): RecordCursor;
  /** The records as {@link ConsumerRecord} objects — what poll() would have returned. */
  toArray(): ConsumerRecord[];
  /**
   * Optional: lets the consumer reuse the memory the batch's records lie in (a network consumer
   * reads fetch responses into pooled buffers). Afterwards `count` is 0, `cursor()`, `toArray()`
   * and the batch's cursors throw, and every view taken from it (`key()`, `value()`, `headers()`,
   * `record()`, `toArray()`) may be overwritten by a later fetch: copy what you keep first
   * (`Buffer.from(view)`, a string). Without release() the memory is garbage collected as usual.
   * A second call does nothing.
   */
  release(): void;
}

/**
 * A position in a {@link ConsumerBatch}: `next()` moves it to the next record (false after the
 * last); the fields then describe that record. One cursor serves every record, so keep what you
 * need of a record (its `value()` view, a `record()` copy), not the cursor.
 */
export interface RecordCursor {
  /** Moves to the next record; false when there is none (the cursor is then past the end). */
  next(): boolean;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: TimestampType;
  readonly leaderEpoch: number;
  /** The key's length in bytes; -1 for a null key. */
  readonly keyLength: number;
  /** The value's length in bytes; -1 for a null value. */
  readonly valueLength: number;
  /** The key: a view of the fetched bytes (shares memory with them), or null. */
  key(): Buffer | null;
  /** The value: a view of the fetched bytes (shares memory with them), or null. */
  value(): Buffer | null;
  /** The key decoded as UTF-8, or null. */
  keyString(): string | null;
  /** The value decoded as UTF-8, or null. */
  valueString(): string | null;
  /** The record's headers (decoded on each call; values are views). */
  headers(): RecordHeader[];
  /** The record as a {@link ConsumerRecord} object, as poll() returns it. */
  record(): ConsumerRecord;
}

export interface PartitionerContext {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  partitionCount: number;
}

/** Picks a partition in [0, partitionCount). Return -1 to fall back to the default partitioner. */
export type Partitioner = (ctx: PartitionerContext) => number;

export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerConfig {
  'client.id'?: string;
  /** 0: fire and forget; 1: the leader appended it; all/-1: the in-sync replicas have it (fsynced on a single node). Default all. */
  acks?: Acks;
  /** How long to wait for more records before sending a batch. Default 5 (Kafka ≥ 4.0). */
  'linger.ms'?: number;
  /** Upper bound in bytes of one partition's batch. Default 16384. */
  'batch.size'?: number;
  'compression.type'?: CompressionType;
  /** Producer ids and sequence numbers so retries never duplicate. Default true. */
  'enable.idempotence'?: boolean;
  'max.in.flight.requests.per.connection'?: number;
  'request.timeout.ms'?: number;
  /** Upper bound on the time from send() to success or failure, retries included. Default 120000. */
  'delivery.timeout.ms'?: number;
  retries?: number;
  'retry.backoff.ms'?: number;
  'retry.backoff.max.ms'?: number;
  /** Bytes of records buffered before send() waits (back-pressure). Default 33554432. */
  'buffer.memory'?: number;
  /** Largest request (and so record) the producer will send. Default 1048576. */
  'max.request.size'?: number;
  /** How long send() may wait for buffer space or metadata before failing. Default 60000. */
  'max.block.ms'?: number;
  /** A function, or a name: 'murmur2' (the Java client's, default), 'consistent_random' (librdkafka's default). */
  partitioner?: Partitioner | 'murmur2' | 'consistent_random' | 'random';
  /** Reserved for transactions (not yet supported: setting it is refused). */
  'transactional.id'?: string;
}

export interface Producer {
  /** Resolves once the record is acknowledged per `acks`. */
  send(record: ProducerRecord): Promise<RecordMetadata>;
  /** Sends many records; resolves with their metadata in the same order. */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]>;
  /**
   * Sends many records; resolves once all are acknowledged (rejects on the first failure), without
   * a RecordMetadata per record: the cheaper form when the offsets are not needed.
   */
  sendAll(records: readonly ProducerRecord[]): Promise<void>;
  /** Sends everything buffered now and waits for it. */
  flush(): Promise<void>;
  /** Flushes, then releases resources. */
  close(): Promise<void>;
}

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

export interface ConsumerConfig {
  /** Joins a consumer group: partitions shared among members, offsets committed to the group. */
  'group.id'?: string;
  /** Static membership: a restart within session.timeout.ms keeps the assignment. */
  'group.instance.id'?: string;
  'client.id'?: string;
  /** Where to start without a committed offset. Default latest (Kafka's default). */
  'auto.offset.reset'?: 'earliest' | 'latest' | 'none';
  'enable.auto.commit'?: boolean;
  'auto.commit.interval.ms'?: number;
  'session.timeout.ms'?: number;
  'heartbeat.interval.ms'?: number;
  'rebalance.timeout.ms'?: number;
  'max.poll.interval.ms'?: number;
  'max.poll.records'?: number;
  'fetch.min.bytes'?: number;
  'fetch.max.bytes'?: number;
  'fetch.max.wait.ms'?: number;
  'max.partition.fetch.bytes'?: number;
  'isolation.level'?: 'read_uncommitted' | 'read_committed';
  'partition.assignment.strategy'?: AssignorName | readonly AssignorName[];
  /** Verify each batch's CRC-32C on receipt. Default true. */
  'check.crcs'?: boolean;
  'request.timeout.ms'?: number;
  'retry.backoff.ms'?: number;
}

export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Called before partitions move away: commit or flush what belongs to them. */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Called when partitions were lost (session expired) and may already belong to another member. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface OffsetsForTimesQuery extends TopicPartition {
  timestamp: number;
}

export interface OffsetAndTimestamp extends TopicPartition {
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: number;
  timestamp: number;
}

export interface Consumer extends AsyncIterable<ConsumerRecord> {
  /** Subscribes to topics (names or a pattern) as a member of `group.id`. */
  subscribe(topics: readonly string[] | RegExp, listener?: RebalanceListener): Promise<void>;
  unsubscribe(): Promise<void>;
  /** Takes partitions manually (no group membership; commits still go to `group.id` if set). */
  assign(partitions: readonly TopicPartition[]): void;
  assignment(): TopicPartition[];
  /** Waits up to timeoutMs (default fetch.max.wait.ms) for records; returns [] when none came. */
  poll(opts?: { timeoutMs?: number; maxRecords?: number }): Promise<ConsumerRecord[]>;
  /**
   * poll() for high throughput: the same records, positions and errors, handed out as a
   * {@link ConsumerBatch} read with a cursor instead of an object per record.
   */
  pollBatch(opts?: { timeoutMs?: number; maxRecords?: number }): Promise<ConsumerBatch>;
  seek(partition: TopicPartition, offset: number): void;
  seekToBeginning(partitions?: readonly TopicPartition[]): void;
  seekToEnd(partitions?: readonly TopicPartition[]): void;
  /** The offset of the next record that will be returned. */
  position(partition: TopicPartition): Promise<number>;
  committed(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]>;
  /** Commits the given offsets, or the positions of everything returned so far. */
  commit(offsets?: readonly TopicPartitionOffset[]): Promise<void>;
  offsetsForTimes(query: readonly OffsetsForTimesQuery[]): Promise<OffsetAndTimestamp[]>;
  beginningOffsets(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]>;
  endOffsets(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]>;
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  paused(): TopicPartition[];
  /** Commits (when auto commit is on), leaves the group and releases resources. */
  close(): Promise<void>;
}

export interface NewTopic {
  topic: string;
  /** Default: the cluster's num.partitions. */
  numPartitions?: number;
  /** Default: the cluster's default.replication.factor. */
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicDescription {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionDescription[];
}

export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number };

export interface ListOffsetsResult extends TopicPartition {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export type ConfigResourceType = 'topic' | 'broker';

export interface ConfigResource {
  type: ConfigResourceType;
  name: string;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  source: 'topic' | 'broker' | 'default' | 'static-broker' | 'unknown';
}

export interface ConfigDescription {
  resource: ConfigResource;
  entries: ConfigEntry[];
}

export interface ConfigChange {
  name: string;
  /** null removes the override. */
  value: string | null;
  /** Kafka's IncrementalAlterConfigs operations; default 'set'. */
  op?: 'set' | 'delete' | 'append' | 'subtract';
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  assignment: TopicPartition[];
}

export interface GroupDescription {
  groupId: string;
  state: 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead' | string;
  protocolType: string;
  protocol: string;
  members: MemberDescription[];
  coordinator: number;
}

export interface GroupOffset extends TopicPartitionOffset {
  /** The partition's end offset and the lag behind it. */
  logEndOffset: number;
  lag: number;
}

export interface BrokerDescription {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterDescription {
  clusterId: string;
  controllerId: number;
  brokers: BrokerDescription[];
}

export interface Admin {
  createTopics(
    topics: readonly NewTopic[],
    opts?: { validateOnly?: boolean; timeoutMs?: number },
  ): Promise<void>;
  deleteTopics(topics: readonly string[], opts?: { timeoutMs?: number }): Promise<void>;
  listTopics(opts?: { includeInternal?: boolean }): Promise<string[]>;
  describeTopics(topics: readonly string[]): Promise<TopicDescription[]>;
  createPartitions(changes: readonly { topic: string; count: number }[]): Promise<void>;
  listOffsets(
    query: readonly (TopicPartition & { spec: OffsetSpec })[],
    opts?: { isolationLevel?: 'read_uncommitted' | 'read_committed' },
  ): Promise<ListOffsetsResult[]>;
  describeConfigs(resources: readonly ConfigResource[]): Promise<ConfigDescription[]>;
  /** Incremental (IncrementalAlterConfigs): only the named keys change. */
  alterConfigs(resource: ConfigResource, changes: readonly ConfigChange[]): Promise<void>;
  listGroups(): Promise<GroupListing[]>;
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  /** Committed offsets of a group with lag per partition. */
  listGroupOffsets(groupId: string): Promise<GroupOffset[]>;
  /** Sets a group's committed offsets (the group must have no active members). */
  alterGroupOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void>;
  deleteRecords(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  describeCluster(): Promise<ClusterDescription>;
  /**
   * Leader election (ElectLeaders): 'preferred' moves leadership back to each partition's first
   * replica, 'unclean' elects any live replica of a leaderless partition (may lose records).
   * partitions omitted: every partition. Resolves with the partitions where an election ran;
   * ELECTION_NOT_NEEDED for a named partition is not a failure.
   */
  electLeaders(
    type: 'preferred' | 'unclean',
    partitions?: readonly TopicPartition[],
  ): Promise<TopicPartition[]>;
  /** Moves partitions to new replicas (AlterPartitionReassignments); replicas null cancels an ongoing move. */
  alterPartitionReassignments(
    reassignments: readonly (TopicPartition & { replicas: readonly number[] | null })[],
  ): Promise<void>;
  /** Reassignments in progress (ListPartitionReassignments); partitions omitted: all. */
  listPartitionReassignments(partitions?: readonly TopicPartition[]): Promise<PartitionReassignment[]>;
  close(): Promise<void>;
}

/** A partition being moved: its replicas now (target + removing), and those being added and removed. */
export interface PartitionReassignment extends TopicPartition {
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** Where a client connects: a Kafka-protocol cluster, or the embedded log in a data directory. */
export type ClientConfig = {
  'client.id'?: string;
  /** Default timeouts for requests. */
  'request.timeout.ms'?: number;
} & (
  | { 'bootstrap.servers': string | readonly string[]; 'data.dir'?: undefined }
  | {
      'data.dir': string;
      'bootstrap.servers'?: undefined;
      /** Broker-level settings for the embedded log (num.partitions, log.retention.ms, …). */
      'log.config'?: Readonly<Record<string, string | number | boolean>>;
    }
);

/** One member's view of a group it joined through Kafka's group protocol (any protocol type). */
export interface GroupMembershipOptions {
  groupId: string;
  groupInstanceId?: string | null;
  /** 'consumer', 'connect', or your own. */
  protocolType: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** The protocols this member supports, best first, with its metadata; asked before every join. */
  protocols(): { name: string; metadata: Buffer }[] | Promise<{ name: string; metadata: Buffer }[]>;
  /** Leader only: every member's assignment, from their metadata. */
  assign(
    protocol: string,
    members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Map<string, Buffer> | Promise<Map<string, Buffer>>;
}

export interface GroupGeneration {
  generationId: number;
  memberId: string;
  protocol: string;
  leader: boolean;
  /** This member's assignment, as the leader encoded it. */
  assignment: Buffer;
}

export interface GroupMembership {
  readonly memberId: string;
  readonly generationId: number;
  /** True once the coordinator asked for a rebalance (or membership was lost): call join() again. */
  readonly rejoinNeeded: boolean;
  /** Joins or rejoins; heartbeats run in the background until the next rebalance. */
  join(reason?: string): Promise<GroupGeneration>;
  leave(reason?: string): Promise<void>;
  close(): Promise<void>;
}

/** A connection to one cluster; creates producers, consumers and admins that share it. */
export interface KafkaClient {
  readonly kind: 'embedded' | 'network';
  producer(config?: ProducerConfig): Producer;
  consumer(config?: ConsumerConfig): Consumer;
  admin(): Admin;
  /** Membership of a group with your own protocol (Connect workers, streams instances). */
  groupMembership(options: GroupMembershipOptions): GroupMembership;
  /** Closes every producer, consumer and admin made by this client, then the connection or log. */
  close(): Promise<void>;
}
