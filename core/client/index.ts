/**
 * Tributary's client: one API over the embedded log (`data.dir`) or any Kafka-protocol cluster
 * (`bootstrap.servers`).
 *
 * ```ts
 * const client = await connect({ 'data.dir': './data' });
 * const producer = client.producer();
 * await producer.send({ topic: 'events', key: 'user-1', value: 'signed up' });
 * ```
 */
import { AdminImpl } from './admin.js';
import { Cluster, type Transport } from './cluster.js';
import { COMMON_KEYS, validateConfig } from './config.js';
import { ConsumerImpl } from './consumer.js';
import { EmbeddedTransport } from './embedded/transport.js';
import { KafkaClientError } from './errors.js';
import { GroupMember } from './group-member.js';
import { NetworkTransport } from './network/transport.js';
import { ProducerImpl } from './producer.js';
import type {
  Admin,
  ClientConfig,
  Consumer,
  ConsumerConfig,
  GroupMembership,
  GroupMembershipOptions,
  KafkaClient,
  Producer,
  ProducerConfig,
} from './types.js';

export { KafkaClientError } from './errors.js';
/** The Java client's key → partition mapping, for code that must agree with the producer on where a key lives. */
export { murmur2, murmur2Partition } from './murmur2.js';
export * from './types.js';

let clientCount = 0;

class Client implements KafkaClient {
  private readonly open = new Set<{ close(): Promise<void> }>();
  private closed = false;
  private readonly clientId: string;
  private readonly requestTimeoutMs: number;
  private readonly retryBackoffMs: number;

  constructor(
    private readonly transport: Transport & { close?(): Promise<void> },
    config: ClientConfig,
  ) {
    this.clientId = config['client.id'] ?? `tributary-${process.pid}-${++clientCount}`;
    this.requestTimeoutMs = config['request.timeout.ms'] ?? 30_000;
    this.retryBackoffMs = 100;
  }

  get kind(): 'embedded' | 'network' {
    return this.transport.kind;
  }

  private cluster(clientId?: string, requestTimeoutMs?: number, retryBackoffMs?: number): Cluster {
    if (this.closed) throw new KafkaClientError('CLIENT_CLOSED', 'this client was closed');
    return new Cluster(this.transport, {
      clientId: clientId ?? this.clientId,
      requestTimeoutMs: requestTimeoutMs ?? this.requestTimeoutMs,
      retryBackoffMs: retryBackoffMs ?? this.retryBackoffMs,
    });
  }

  private track<T extends { close(): Promise<void> }>(make: (onClose: () => void) => T): T {
    let made: T | undefined;
    const onClose = (): void => {
      if (made) this.open.delete(made);
    };
    made = make(onClose);
    this.open.add(made);
    return made;
  }

  producer(config: ProducerConfig = {}): Producer {
    const cluster = this.cluster(
      config['client.id'],
      config['request.timeout.ms'],
      config['retry.backoff.ms'],
    );
    return this.track((onClose) => new ProducerImpl(cluster, config, onClose));
  }

  consumer(config: ConsumerConfig = {}): Consumer {
    const cluster = this.cluster(
      config['client.id'],
      config['request.timeout.ms'],
      config['retry.backoff.ms'],
    );
    return this.track((onClose) => new ConsumerImpl(cluster, config, onClose));
  }

  admin(): Admin {
    const cluster = this.cluster();
    return this.track((onClose) => new AdminImpl(cluster, onClose));
  }

  groupMembership(options: GroupMembershipOptions): GroupMembership {
    const cluster = this.cluster();
    return this.track((onClose) => {
      const member = new GroupMember(cluster, {
        groupId: options.groupId,
        groupInstanceId: options.groupInstanceId ?? null,
        protocolType: options.protocolType,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 45_000,
        rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3000,
        protocols: () => options.protocols(),
        assign: (protocol, members) => options.assign(protocol, members),
      });
      return {
        get memberId() {
          return member.memberId;
        },
        get generationId() {
          return member.generationId;
        },
        get rejoinNeeded() {
          return member.rejoinNeeded;
        },
        join: (reason = 'joining') => member.join(reason),
        leave: (reason) => member.leave(reason),
        async close() {
          await member.leave();
          member.close();
          await cluster.close();
          onClose();
        },
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const all = [...this.open];
    await Promise.allSettled(all.map((c) => c.close()));
    this.closed = true;
    await this.transport.close?.();
  }
}

/**
 * Connects to a cluster: `{ 'bootstrap.servers': 'host:9092' }` over the network, or
 * `{ 'data.dir': './data' }` to open the log in this process (the directory is locked while open).
 */
export async function connect(config: ClientConfig): Promise<KafkaClient> {
  const {
    'bootstrap.servers': servers,
    'data.dir': dataDir,
    'log.config': logConfig,
    ...rest
  } = config as ClientConfig & {
    'log.config'?: Readonly<Record<string, string | number | boolean>>;
  };
  validateConfig('client', rest, COMMON_KEYS);
  if ((servers === undefined) === (dataDir === undefined)) {
    throw new KafkaClientError(
      'INVALID_CONFIG',
      "give exactly one of 'bootstrap.servers' (a cluster over the network) or 'data.dir' (the embedded log)",
    );
  }
  const transport =
    dataDir !== undefined
      ? await EmbeddedTransport.open(dataDir, logConfig)
      : new NetworkTransport(servers!, { requestTimeoutMs: config['request.timeout.ms'] ?? 30_000 });
  return new Client(transport, config);
}
