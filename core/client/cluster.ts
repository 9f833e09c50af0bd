/**
 * What a producer, consumer or admin knows about the cluster: brokers, topics and their
 * partition leaders (from Metadata), group coordinators (from FindCoordinator), and one pooled
 * connection per broker and purpose. Each producer, consumer and admin has its own Cluster, as
 * in Kafka's clients, so a consumer's long-polling fetch never delays a producer's request.
 */
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode, errorInfo } from '../protocol/errors.js';
import type { RequestInput, ResponseData, SupportedApiKey } from '../protocol/messages/index.js';
import type { BrokerConnection, RequestOptions } from './connection.js';
import { brokerError, isRetriable, KafkaClientError } from './errors.js';

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Opens connections; one per kind of cluster (embedded or network). */
export interface Transport {
  readonly kind: 'embedded' | 'network';
  /** A connection to any bootstrap broker (to learn the cluster). */
  bootstrap(clientId: string): Promise<BrokerConnection>;
  /** A connection to a broker learnt from metadata. */
  connect(broker: BrokerAddress, clientId: string): Promise<BrokerConnection>;
}

export interface PartitionMetadata {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionMetadata[];
}

export interface ClusterOptions {
  clientId: string;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  /** Metadata older than this is refreshed before use. Default 300000 (Kafka's metadata.max.age.ms). */
  metadataMaxAgeMs?: number;
}

/** Connection purposes: data requests to leaders, and group coordination kept apart from them. */
export type Purpose = 'data' | 'coordinator';

export class Cluster {
  readonly brokers = new Map<number, BrokerAddress>();
  readonly topics = new Map<string, TopicMetadata>();
  clusterId: string | null = null;
  controllerId = -1;
  private readonly connections = new Map<string, Promise<BrokerConnection>>();
  private readonly coordinators = new Map<string, number>();
  private bootstrapConnection: Promise<BrokerConnection> | undefined;
  private metadataUpdatedAt = 0;
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    readonly options: ClusterOptions,
  ) {}

  get kind(): 'embedded' | 'network' {
    return this.transport.kind;
  }

  private checkOpen(): void {
    if (this.closed) throw new KafkaClientError('CLIENT_CLOSED', 'this client was closed');
  }

  /** Any live connection: a known broker's, or a bootstrap one. */
  async anyConnection(): Promise<BrokerConnection> {
    this.checkOpen();
    for (const [key, conn] of this.connections) {
      if (!key.endsWith(':data')) continue;
      try {
        const c = await conn;
        if (!c.closed) return c;
      } catch {
        // try another
      }
    }
    if (this.brokers.size > 0) {
      const ids = [...this.brokers.keys()];
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      try {
        return await this.connectionTo(id);
      } catch {
        // fall back to bootstrap
      }
    }
    if (!this.bootstrapConnection) {
      this.bootstrapConnection = this.transport.bootstrap(this.options.clientId);
      this.bootstrapConnection.catch(() => {
        this.bootstrapConnection = undefined;
      });
    }
    const c = await this.bootstrapConnection;
    if (c.closed) {
      this.bootstrapConnection = undefined;
      return this.anyConnection();
    }
    return c;
  }

  async connectionTo(nodeId: number, purpose: Purpose = 'data'): Promise<BrokerConnection> {
    this.checkOpen();
    const key = `${nodeId}:${purpose}`;
    const existing = this.connections.get(key);
    if (existing) {
      try {
        const c = await existing;
        if (!c.closed) return c;
      } catch {
        // reconnect below
      }
      if (this.connections.get(key) === existing) this.connections.delete(key);
    }
    const address = this.brokers.get(nodeId);
    if (!address) {
      throw new KafkaClientError('LEADER_NOT_AVAILABLE', `broker ${nodeId} is not in the cluster metadata`, {
        retriable: true,
      });
    }
    const opening = this.transport.connect(address, this.options.clientId);
    this.connections.set(key, opening);
    opening.catch(() => {
      if (this.connections.get(key) === opening) this.connections.delete(key);
    });
    return opening;
  }

  /** Sends to a broker; a closed or failed connection is dropped so the next call reconnects. */
  async request<K extends SupportedApiKey>(
    nodeId: number,
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions & { purpose?: Purpose },
  ): Promise<ResponseData<K>> {
    const conn = await this.connectionTo(nodeId, opts?.purpose);
    return conn.request(apiKey, body, opts);
  }

  /** Refreshes metadata for the given topics (null: every topic). Concurrent calls share one request. */
  async refreshMetadata(topics: readonly string[] | null, allowAutoCreate = true): Promise<void> {
    this.checkOpen();
    if (this.refreshing) await this.refreshing.catch(() => undefined);
    const run = this.fetchMetadata(topics, allowAutoCreate);
    this.refreshing = run;
    try {
      await run;
    } finally {
      if (this.refreshing === run) this.refreshing = undefined;
    }
  }

  private async fetchMetadata(topics: readonly string[] | null, allowAutoCreate: boolean): Promise<void> {
    const conn = await this.anyConnection();
    const res = await conn.request(ApiKey.Metadata, {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation: allowAutoCreate,
    });
    this.brokers.clear();
    for (const b of res.brokers)
      this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    this.clusterId = res.clusterId;
    this.controllerId = res.controllerId;
    if (topics === null) this.topics.clear();
    for (const t of res.topics) {
      const name = t.name ?? '';
      if (t.errorCode !== 0) {
        this.topics.delete(name);
        continue;
      }
      this.topics.set(name, {
        name,
        topicId: t.topicId,
        internal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    this.metadataUpdatedAt = Date.now();
    this.lastTopicErrors = new Map(
      res.topics.filter((t) => t.errorCode !== 0).map((t) => [t.name ?? '', t.errorCode]),
    );
  }

  private lastTopicErrors = new Map<string, number>();

  /** A topic's metadata, refreshed when unknown or stale; throws when the topic does not exist. */
  async topic(
    name: string,
    opts: { allowAutoCreate?: boolean; refresh?: boolean } = {},
  ): Promise<TopicMetadata> {
    const maxAge = this.options.metadataMaxAgeMs ?? 300_000;
    let t = this.topics.get(name);
    if (!t || opts.refresh || Date.now() - this.metadataUpdatedAt > maxAge) {
      await this.refreshMetadata([...new Set([name, ...this.topics.keys()])], opts.allowAutoCreate ?? true);
      t = this.topics.get(name);
    }
    if (!t) {
      const code = this.lastTopicErrors.get(name) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      const info = errorInfo(code);
      throw new KafkaClientError(
        info.name,
        code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          ? `topic ${name} does not exist (create it, or enable auto.create.topics.enable on the cluster)`
          : `topic ${name}: ${info.name}: ${info.message ?? ''}`,
        { retriable: code === ErrorCode.LEADER_NOT_AVAILABLE },
      );
    }
    return t;
  }

  leaderFor(topic: string, partition: number): number {
    const p = this.topics.get(topic)?.partitions[partition];
    return p && p.leader >= 0 ? p.leader : -1;
  }

  /** The coordinator of a group (key type 0) — FindCoordinator, cached until invalidated. */
  async coordinator(groupId: string): Promise<number> {
    const cached = this.coordinators.get(groupId);
    if (cached !== undefined && this.brokers.has(cached)) return cached;
    const conn = await this.anyConnection();
    const v = conn.version(ApiKey.FindCoordinator);
    const res = await conn.request(ApiKey.FindCoordinator, {
      key: groupId,
      keyType: 0,
      coordinatorKeys: [groupId],
    });
    const answer =
      v >= 4
        ? res.coordinators[0]
        : {
            nodeId: res.nodeId,
            host: res.host,
            port: res.port,
            errorCode: res.errorCode,
            errorMessage: res.errorMessage,
          };
    if (!answer)
      throw new KafkaClientError('COORDINATOR_NOT_AVAILABLE', `no coordinator for group ${groupId}`);
    if (answer.errorCode !== 0)
      throw brokerError(answer.errorCode, `finding the coordinator of group ${groupId}`);
    this.brokers.set(answer.nodeId, {
      nodeId: answer.nodeId,
      host: answer.host,
      port: answer.port,
      rack: this.brokers.get(answer.nodeId)?.rack ?? null,
    });
    this.coordinators.set(groupId, answer.nodeId);
    return answer.nodeId;
  }

  invalidateCoordinator(groupId: string): void {
    this.coordinators.delete(groupId);
  }

  /**
   * Runs op, retrying retriable failures with exponential backoff until deadlineMs (absolute,
   * Date.now() based); metadata is refreshed between attempts.
   */
  async withRetries<T>(what: string, deadlineMs: number, op: (attempt: number) => Promise<T>): Promise<T> {
    let backoff = this.options.retryBackoffMs;
    for (let attempt = 0; ; attempt++) {
      this.checkOpen();
      try {
        return await op(attempt);
      } catch (err) {
        if (!isRetriable(err) || Date.now() + backoff > deadlineMs || this.closed) {
          if (isRetriable(err) && !this.closed) {
            throw new KafkaClientError(
              'TIMEOUT',
              `${what}: gave up after ${attempt + 1} attempts: ${(err as Error).message}`,
              {
                retriable: true,
                cause: err,
              },
            );
          }
          throw err;
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 1000);
        await this.refreshMetadata([...this.topics.keys()]).catch(() => undefined);
      }
    }
  }

  /**
   * ListOffsets for many partitions, one request per leader, retried on retriable errors.
   * `timestamp`: -2 earliest, -1 latest, -3 the record with the largest timestamp, else a time.
   * Results come back in the order asked.
   */
  async listOffsets(
    query: readonly { topic: string; partition: number; timestamp: number }[],
    opts: { isolationLevel?: number; allowAutoCreate?: boolean } = {},
  ): Promise<{ topic: string; partition: number; offset: number; timestamp: number; leaderEpoch: number }[]> {
    const deadline = Date.now() + this.options.requestTimeoutMs;
    return this.withRetries('listing offsets', deadline, async () => {
      const byLeader = new Map<number, (typeof query)[number][]>();
      for (const q of query) {
        const t = await this.topic(q.topic, { allowAutoCreate: opts.allowAutoCreate ?? false });
        if (q.partition < 0 || q.partition >= t.partitions.length) {
          throw new KafkaClientError(
            'UNKNOWN_TOPIC_OR_PARTITION',
            `${q.topic} has no partition ${q.partition}`,
          );
        }
        const leader = this.leaderFor(q.topic, q.partition);
        if (leader < 0) {
          throw new KafkaClientError('LEADER_NOT_AVAILABLE', `no leader for ${q.topic}-${q.partition}`, {
            retriable: true,
          });
        }
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), q]);
      }
      const found = new Map<string, { offset: number; timestamp: number; leaderEpoch: number }>();
      for (const [leader, list] of byLeader) {
        const byTopic = new Map<string, (typeof query)[number][]>();
        for (const q of list) byTopic.set(q.topic, [...(byTopic.get(q.topic) ?? []), q]);
        const res = await this.request(leader, ApiKey.ListOffsets, {
          replicaId: -1,
          isolationLevel: opts.isolationLevel ?? 0,
          topics: [...byTopic].map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({
              partitionIndex: p.partition,
              currentLeaderEpoch: -1,
              timestamp: p.timestamp,
            })),
          })),
        });
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0)
              throw brokerError(p.errorCode, `listing offsets of ${t.name}-${p.partitionIndex}`);
            found.set(`${t.name}\u0000${p.partitionIndex}`, {
              offset: p.offset,
              timestamp: p.timestamp,
              leaderEpoch: p.leaderEpoch,
            });
          }
        }
      }
      return query.map((q) => {
        const f = found.get(`${q.topic}\u0000${q.partition}`);
        if (!f)
          throw new KafkaClientError('NETWORK_EXCEPTION', `no answer for ${q.topic}-${q.partition}`, {
            retriable: true,
          });
        return { topic: q.topic, partition: q.partition, ...f };
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.connections.values()];
    if (this.bootstrapConnection) all.push(this.bootstrapConnection);
    this.connections.clear();
    for (const c of all) {
      try {
        (await c).close();
      } catch {
        // never opened
      }
    }
  }
}
