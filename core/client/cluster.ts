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
  private readonly connections = new Map<string, PooledConnection>();
  /** Brokers that failed recently (connect, timeout, closed connection): avoided until `until`. */
  private readonly backoffs = new Map<number, { failures: number; until: number }>();
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

  /**
   * The connection for metadata and other requests any broker can answer: the least loaded node,
   * as Kafka's clients choose it. A connected broker with the fewest requests in flight comes
   * first, then a broker not connected yet, then one still connecting; a broker that failed or
   * timed out recently is avoided while its backoff runs (so after a broker goes silent, refreshes
   * go elsewhere at once instead of waiting out request.timeout.ms against it). With no broker
   * known yet, or none usable, a bootstrap server.
   */
  async anyConnection(exclude?: ReadonlySet<number>): Promise<BrokerConnection> {
    this.checkOpen();
    const id = this.leastLoadedNode(exclude);
    if (id !== undefined) {
      const handle = this.connection(id);
      try {
        return await handle.ready;
      } catch {
        // noted as a failure by the handle: another node, or bootstrap
        if (this.closed) this.checkOpen();
        const others = new Set(exclude);
        others.add(id);
        if (others.size < this.brokers.size) return this.anyConnection(others);
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
      return this.anyConnection(exclude);
    }
    return c;
  }

  /**
   * The known broker to ask next (undefined when none is known or all are excluded), among those
   * not backing off: connected with nothing in flight; else not connected; else connected with
   * the fewest requests in flight; else still connecting. When all back off, the one whose
   * backoff ends first.
   */
  leastLoadedNode(exclude?: ReadonlySet<number>): number | undefined {
    const now = Date.now();
    let best: number | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const id of this.brokers.keys()) {
      if (exclude?.has(id)) continue;
      const h = this.connections.get(`${id}:data`);
      const backoff = this.backoffs.get(id);
      const waiting = backoff !== undefined && backoff.until > now;
      // An idle open connection is best; a broker with requests outstanding comes after one not
      // connected yet (those requests may be waiting on a broker that went silent).
      let score: number;
      if (waiting) score = 3_000_000 + (backoff.until - now);
      else if (h?.isOpen && h.load === 0) score = 0;
      else if (!h || h.closed) score = 1 + Math.random();
      else if (h.isOpen) score = 2 + h.load;
      else score = 1_000_000 + h.load;
      if (score < bestScore) {
        bestScore = score;
        best = id;
      }
    }
    return best;
  }

  /** A node's request failed at the network level (closed, timed out, unreachable): back off from it. */
  private noteFailure(nodeId: number): void {
    const prev = this.backoffs.get(nodeId);
    const failures = (prev?.failures ?? 0) + 1;
    const base = Math.max(this.options.retryBackoffMs, NODE_BACKOFF_MIN_MS);
    const ms = Math.min(base * 2 ** (failures - 1), NODE_BACKOFF_MAX_MS);
    this.backoffs.set(nodeId, { failures, until: Date.now() + ms });
  }

  private noteSuccess(nodeId: number): void {
    this.backoffs.delete(nodeId);
  }

  /**
   * The pooled connection to a broker, at once: while it opens, requests wait in it and go on the
   * wire in the order they were issued (so a partition's batches keep their sequence order).
   * A closed or failed one is replaced.
   */
  connection(nodeId: number, purpose: Purpose = 'data'): PooledConnection {
    this.checkOpen();
    const key = `${nodeId}:${purpose}`;
    const existing = this.connections.get(key);
    if (existing && !existing.closed) return existing;
    const address = this.brokers.get(nodeId);
    if (!address) {
      throw new KafkaClientError('LEADER_NOT_AVAILABLE', `broker ${nodeId} is not in the cluster metadata`, {
        retriable: true,
      });
    }
    const handle = new PooledConnection(nodeId, this.transport.connect(address, this.options.clientId), {
      failed: () => this.noteFailure(nodeId),
      opened: () => this.noteSuccess(nodeId),
    });
    this.connections.set(key, handle);
    return handle;
  }

  /** The pooled connection to a broker, once open. */
  async connectionTo(nodeId: number, purpose: Purpose = 'data'): Promise<BrokerConnection> {
    const handle = this.connection(nodeId, purpose);
    await handle.ready;
    return handle;
  }

  /**
   * Sends to a broker; a closed or failed connection is replaced so the next call reconnects.
   * Requests to one broker go on the wire in the order of the calls, even while it connects.
   */
  request<K extends SupportedApiKey>(
    nodeId: number,
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions & { purpose?: Purpose },
  ): Promise<ResponseData<K>> {
    try {
      return this.connection(nodeId, opts?.purpose).request(apiKey, body, opts);
    } catch (err) {
      return Promise.reject(err);
    }
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
    const body = {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation: allowAutoCreate,
    };
    // A broker that times out or drops the connection is left at once for another one (each
    // known broker once, then a bootstrap server), rather than asked again.
    const tried = new Set<number>();
    let res: ResponseData<typeof ApiKey.Metadata>;
    for (;;) {
      const conn = await this.anyConnection(tried);
      try {
        res = await conn.request(ApiKey.Metadata, body);
        break;
      } catch (err) {
        if (!isNetworkFailure(err) || this.closed || conn.nodeId < 0 || tried.has(conn.nodeId)) throw err;
        tried.add(conn.nodeId);
        if (tried.size >= this.brokers.size + 1) throw err;
      }
    }
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
    this.connections.clear();
    for (const c of all) c.close();
    if (this.bootstrapConnection) {
      try {
        (await this.bootstrapConnection).close();
      } catch {
        // never opened
      }
    }
  }
}

const NODE_BACKOFF_MIN_MS = 1000;
const NODE_BACKOFF_MAX_MS = 10_000;

/** A failure of the connection itself (closed, timed out, unreachable), not a broker's answer. */
function isNetworkFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'NETWORK_EXCEPTION' || code === 'REQUEST_TIMED_OUT';
}

/**
 * One pooled connection to a broker, usable at once: requests issued while it opens are queued
 * and written, in the order issued, as soon as it is open; afterwards they go straight through.
 * Network failures are reported (the cluster backs off from the broker).
 */
export class PooledConnection implements BrokerConnection {
  /** Resolves with the open connection; rejects when opening failed. */
  readonly ready: Promise<BrokerConnection>;
  private conn: BrokerConnection | null = null;
  private failure: Error | null = null;
  private shut = false;
  private waiting: ((conn: BrokerConnection | null, err: Error | null) => void)[] = [];
  private pending = 0;
  private reportedFailure = false;

  constructor(
    readonly nodeId: number,
    opening: Promise<BrokerConnection>,
    private readonly events: { failed(): void; opened(): void },
  ) {
    this.ready = opening.then(
      (c) => {
        if (this.shut) {
          c.close();
          throw closedError(nodeId);
        }
        this.conn = c;
        events.opened();
        this.flush();
        return c;
      },
      (err: Error) => {
        this.failure = err;
        this.reportedFailure = true;
        events.failed();
        this.flush();
        throw err;
      },
    );
    this.ready.catch(() => undefined);
  }

  /** Open and usable. */
  get isOpen(): boolean {
    return this.conn !== null && !this.conn.closed && !this.shut;
  }

  /** Failed, closed, or its connection closed since. */
  get closed(): boolean {
    return this.shut || this.failure !== null || (this.conn?.closed ?? false);
  }

  /** Requests issued and not answered yet (queued ones included). */
  get load(): number {
    return this.pending + this.waiting.length;
  }

  version(apiKey: SupportedApiKey): number {
    if (this.conn === null) {
      throw new KafkaClientError(
        'NETWORK_EXCEPTION',
        `the connection to broker ${this.nodeId} is not open yet`,
        {
          retriable: true,
        },
      );
    }
    return this.conn.version(apiKey);
  }

  request<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions,
  ): Promise<ResponseData<K>> {
    return this.issue((c) => c.request(apiKey, body, opts));
  }

  send<K extends SupportedApiKey>(apiKey: K, body: RequestInput<K>, opts?: RequestOptions): Promise<void> {
    return this.issue((c) => c.send(apiKey, body, opts));
  }

  close(): void {
    if (this.shut) return;
    this.shut = true;
    this.conn?.close();
    this.flush();
  }

  private issue<T>(call: (c: BrokerConnection) => Promise<T>): Promise<T> {
    if (this.conn !== null && !this.shut) return this.track(call(this.conn));
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.shut) return Promise.reject(closedError(this.nodeId));
    return new Promise<T>((resolve, reject) => {
      this.waiting.push((conn, err) => {
        if (conn === null) reject(err ?? closedError(this.nodeId));
        else this.track(call(conn)).then(resolve, reject);
      });
    });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending++;
    p.then(
      () => {
        this.pending--;
      },
      (err: unknown) => {
        this.pending--;
        // Once per connection: its in-flight requests all fail together when it closes.
        if (isNetworkFailure(err) && !this.reportedFailure) {
          this.reportedFailure = true;
          this.events.failed();
        }
      },
    );
    return p;
  }

  /** Issues (or fails) every queued request, in order. */
  private flush(): void {
    const waiting = this.waiting;
    this.waiting = [];
    const conn = this.shut ? null : this.conn;
    for (const w of waiting) w(conn, conn === null ? (this.failure ?? closedError(this.nodeId)) : null);
  }
}

function closedError(nodeId: number): KafkaClientError {
  return new KafkaClientError('NETWORK_EXCEPTION', `the connection to broker ${nodeId} was closed`, {
    retriable: true,
  });
}
