/**
 * Connections over TCP with the Kafka protocol, to a Tributary cluster or any Kafka cluster.
 */
import type { RequestInput, ResponseData, SupportedApiKey } from '../../protocol/messages/index.js';
import type { BrokerAddress, Transport } from '../cluster.js';
import type { BrokerConnection, RequestOptions } from '../connection.js';
import { KafkaClientError } from '../errors.js';
import { NetworkConnection } from './connection.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port[,host:port...]" (IPv6 as [::1]:9092). */
export function parseBootstrap(servers: string | readonly string[]): HostPort[] {
  const list = (typeof servers === 'string' ? servers.split(',') : servers)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0)
    throw new KafkaClientError('INVALID_CONFIG', 'bootstrap.servers is empty: give HOST:PORT[,HOST:PORT...]');
  return list.map((s) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s.replace(/^[A-Z_]+:\/\//, ''));
    const port = m ? Number(m[3]) : Number.NaN;
    if (!m || port < 1 || port > 65535) {
      throw new KafkaClientError('INVALID_CONFIG', `bootstrap.servers: '${s}' is not HOST:PORT`);
    }
    return { host: (m[1] ?? m[2])!, port };
  });
}

class NetworkBrokerConnection implements BrokerConnection {
  constructor(
    private readonly conn: NetworkConnection,
    readonly nodeId: number,
  ) {}

  get closed(): boolean {
    return this.conn.isClosed;
  }

  request<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions,
  ): Promise<ResponseData<K>> {
    return this.conn.request(apiKey, body, opts);
  }

  async send<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    opts?: RequestOptions,
  ): Promise<void> {
    await this.conn.request(apiKey, body, { ...opts, expectResponse: false });
  }

  version(apiKey: SupportedApiKey): number {
    return this.conn.version(apiKey);
  }

  close(): void {
    this.conn.close();
  }
}

export class NetworkTransport implements Transport {
  readonly kind = 'network' as const;
  private readonly servers: HostPort[];
  private next = 0;

  constructor(
    servers: string | readonly string[],
    private readonly opts: { requestTimeoutMs: number; connectTimeoutMs?: number },
  ) {
    this.servers = parseBootstrap(servers);
    this.next = Math.floor(Math.random() * this.servers.length);
  }

  private open(host: string, port: number, clientId: string, nodeId: number): Promise<BrokerConnection> {
    return NetworkConnection.connect({
      host,
      port,
      clientId,
      nodeId,
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: this.opts.requestTimeoutMs,
    }).then((c) => new NetworkBrokerConnection(c, nodeId));
  }

  async bootstrap(clientId: string): Promise<BrokerConnection> {
    const errors: string[] = [];
    for (let i = 0; i < this.servers.length; i++) {
      const s = this.servers[(this.next + i) % this.servers.length]!;
      try {
        const c = await this.open(s.host, s.port, clientId, -1);
        this.next = (this.next + i + 1) % this.servers.length;
        return c;
      } catch (err) {
        errors.push(`${s.host}:${s.port}: ${(err as Error).message}`);
      }
    }
    throw new KafkaClientError(
      'NETWORK_EXCEPTION',
      `could not reach any bootstrap server (${errors.join('; ')}); check bootstrap.servers and that the cluster is up`,
      { retriable: true },
    );
  }

  connect(broker: BrokerAddress, clientId: string): Promise<BrokerConnection> {
    return this.open(broker.host, broker.port, clientId, broker.nodeId);
  }
}
