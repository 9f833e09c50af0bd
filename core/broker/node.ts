/**
 * A broker on the network: a Broker (logs, groups, handlers) behind a KafkaServer (TCP, framing).
 * `trib broker` runs one; tests start them on free ports.
 */

import type { SupportedApiKey } from '../protocol/messages/index.js';
import { Broker, type BrokerOptions } from './broker.js';
import { parseBrokerConfig } from './config.js';
import type { RequestContext } from './connection.js';
import { KafkaServer } from './server.js';
import type { SocketConfig } from './socket-config.js';

export interface BrokerNodeOptions {
  dataDir: string;
  /** HOST:PORT to listen on; port 0 picks a free one. Default 127.0.0.1:9092. */
  listen?: string;
  /** HOST:PORT clients are told to connect to. Default: the listen address. */
  advertised?: string;
  /** Kafka broker config keys (node.id, num.partitions, log.retention.ms, …). */
  config?: Readonly<Record<string, unknown>>;
  log?: (msg: string) => void;
  /** The cluster's metadata; absent: a one-node cluster (see Broker's option). */
  clusterView?: BrokerOptions['clusterView'];
  /** Follower fetch settings, for tests. */
  replicaFetcher?: BrokerOptions['replicaFetcher'];
}

export interface RunningBroker {
  readonly broker: Broker;
  readonly host: string;
  readonly port: number;
  /** "host:port", for bootstrap.servers. */
  readonly bootstrap: string;
  /** Graceful: finish in-flight requests, flush, close the logs. */
  close(): Promise<void>;
}

export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.replace(/^PLAINTEXT:\/\//, ''));
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new Error(`${what}: '${text}' is not HOST:PORT (e.g. 127.0.0.1:9092)`);
  return { host: (m[1] ?? m[2]) || '0.0.0.0', port };
}

const SOCKET_KEYS = [
  'socket.request.max.bytes',
  'connections.max.idle.ms',
  'queued.max.requests',
  'queued.max.request.bytes',
  'queued.max.requests.per.connection',
  'max.connections',
  'max.connections.per.ip',
  'socket.listen.backlog.size',
] as const;

export async function startBroker(opts: BrokerNodeOptions): Promise<RunningBroker> {
  const config = parseBrokerConfig(opts.config ?? {});
  const listen = parseHostPort(opts.listen ?? (config.listeners as string), 'listen');
  const advertised = opts.advertised
    ? parseHostPort(opts.advertised, 'advertised listener')
    : config['advertised.listeners']
      ? parseHostPort(config['advertised.listeners'] as string, 'advertised.listeners')
      : undefined;
  const broker = await Broker.open({
    dataDir: opts.dataDir,
    config: opts.config,
    clusterView: opts.clusterView,
    replicaFetcher: opts.replicaFetcher,
    log: opts.log,
  });
  const socketConfig: Partial<Record<string, number>> = {};
  for (const k of SOCKET_KEYS) socketConfig[k] = config[k] as number;
  const server = new KafkaServer({
    host: listen.host,
    port: listen.port,
    advertisedHost: advertised?.host,
    config: socketConfig as Partial<SocketConfig>,
    log: opts.log,
    handler: {
      handle: (ctx: RequestContext, request: unknown) =>
        broker.handle(
          ctx.apiKey as SupportedApiKey,
          { apiVersion: ctx.apiVersion, clientId: ctx.clientId, clientHost: ctx.clientHost },
          request as never,
        ) as Promise<object | null>,
    },
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (err) {
    await broker.close();
    throw err;
  }
  const host =
    advertised?.host ?? (address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host);
  const port = advertised && advertised.port !== 0 ? advertised.port : address.port;
  broker.setEndpoint(host, port);
  let closing: Promise<void> | undefined;
  return {
    broker,
    host,
    port,
    bootstrap: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    close() {
      closing ??= (async () => {
        try {
          await server.close({ graceful: true, timeoutMs: 10_000 });
        } finally {
          await broker.close();
        }
      })();
      return closing;
    },
  };
}
