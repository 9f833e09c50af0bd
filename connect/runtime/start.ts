/**
 * Starting a worker: in-process (`startWorker`, what the CLI, tests and the `npm start` pipeline
 * use) with its stores, herder and REST server, and stopping it cleanly.
 */
import { hostname } from 'node:os';
import { connect } from '../../core/client/index.js';
import type { KafkaClient } from '../../core/client/types.js';
import { ConfigException, ConnectError } from '../errors.js';
import { RestServer } from '../rest/server.js';
import type { ConnectorPlugin, Props } from '../sdk.js';
import { type ConfigStore, KafkaConfigStore, MemoryConfigStore } from '../storage/configs.js';
import { FileOffsetStore, KafkaOffsetStore, type OffsetStore } from '../storage/offsets.js';
import { KafkaStatusStore, MemoryStatusStore, type State, type StatusStore } from '../storage/statuses.js';
import { typedClientConfig } from './connector-config.js';
import { DistributedHerder } from './distributed.js';
import type { ConnectorInfo, ConnectorStateInfo, Herder, HerderDeps } from './herder.js';
import { PluginRegistry } from './plugins.js';
import { StandaloneHerder } from './standalone.js';
import type { TaskMetrics } from './worker.js';
import {
  clientConfigOf,
  parseWorkerConfig,
  restListener,
  type WorkerConfig,
  type WorkerMode,
} from './worker-config.js';

export interface StartWorkerOptions {
  /** Default 'standalone'. */
  mode?: WorkerMode;
  /** Worker config with Kafka Connect's keys (strings, numbers or booleans). */
  config?: Readonly<Record<string, string | number | boolean>>;
  /** Use this client (the caller closes it); otherwise one is made from bootstrap.servers or data.dir. */
  client?: KafkaClient;
  /** Connector configs to create at start (each with `name` and `connector.class`). */
  connectors?: readonly Readonly<Record<string, string | number | boolean>>[];
  /** Serve the REST API (default true; port from `listeners` or `rest.port`). */
  rest?: boolean;
  /** Where log lines go (default stderr). */
  log?: (line: string) => void;
  /** Extra connector plugins (in addition to the built-ins and `plugin.path`). */
  plugins?: readonly ConnectorPlugin[];
}

export interface WorkerHandle {
  readonly mode: WorkerMode;
  /** The REST API's base URL (http://host:port), or null without REST. */
  readonly url: string | null;
  readonly workerId: string;
  readonly herder: Herder;
  /** Creates or replaces a connector. */
  putConnector(config: Readonly<Record<string, string | number | boolean>>): Promise<ConnectorInfo>;
  deleteConnector(name: string): Promise<void>;
  status(name: string): ConnectorStateInfo;
  /** Resolves once the connector and `tasks` tasks (default: all it has, at least 1) are RUNNING; rejects on FAILED or timeout. */
  waitForRunning(name: string, opts?: { tasks?: number; timeoutMs?: number }): Promise<ConnectorStateInfo>;
  /** Per running task: records sent (sources) or put (sinks) so far; sample it for live throughput. */
  metrics(): TaskMetrics[];
  /** Stops connectors and tasks (committing offsets), the REST server, stores, and the client if it made it. */
  stop(): Promise<void>;
}

function defaultLog(line: string): void {
  const ts = new Date().toISOString().replace('T', ' ').replace('Z', '');
  process.stderr.write(`[${ts}] INFO ${line}\n`);
}

function toProps(o: Readonly<Record<string, string | number | boolean>>): Props {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}

export async function startWorker(opts: StartWorkerOptions = {}): Promise<WorkerHandle> {
  const mode = opts.mode ?? 'standalone';
  const log = opts.log ?? defaultLog;
  const cfg = parseWorkerConfig(mode, toProps(opts.config ?? {}), { clientGiven: opts.client !== undefined });
  const plugins = await PluginRegistry.load(cfg.values['plugin.path'] as string[]);
  for (const p of opts.plugins ?? []) plugins.add(p);
  for (const w of plugins.warnings) log(`WARN ${w}`);
  const ownClient = opts.client === undefined;
  const client = opts.client ?? (await connect(clientConfigOf(cfg)));
  const admin = client.admin();
  const cleanup: (() => Promise<void>)[] = [];
  try {
    checkClientConfigs(client, cfg);
    const withRest = opts.rest !== false;
    const listener = restListener(cfg);
    let rest: RestServer | null = null;
    let url: string | null = null;
    let herderRef: Herder | null = null;
    if (withRest) {
      // The herder is created after the port is known (the worker id is host:port).
      rest = new RestServer(
        new Proxy({} as Herder, {
          get: (_t, p) => {
            const h = herderRef ?? failEarly();
            const v: unknown = Reflect.get(h, p, h);
            return typeof v === 'function' ? v.bind(h) : v;
          },
        }),
        {
          host: listener.host,
          port: listener.port,
          maxBodyBytes: Number(cfg.values['rest.request.max.bytes']),
          allowOrigin: String(cfg.values['access.control.allow.origin'] ?? '') || undefined,
          log,
        },
      );
    }
    let workerHost =
      (cfg.values['rest.advertised.host.name'] as string | null) ??
      (listener.host === '0.0.0.0' || listener.host === '::' ? hostname() : listener.host);
    let workerPort = listener.port;
    if (rest) {
      const addr = await rest.start();
      cleanup.push(() => rest!.stop());
      workerPort = (cfg.values['rest.advertised.port'] as number | null) ?? addr.port;
      if (cfg.values['rest.advertised.host.name'] === null && addr.host !== '0.0.0.0' && addr.host !== '::')
        workerHost = addr.host;
      url = `http://${workerHost.includes(':') ? `[${workerHost}]` : workerHost}:${addr.port}`;
    }
    const workerId = `${workerHost}:${workerPort}`;
    const stores = makeStores(mode, cfg, client, admin, log);
    for (const s of [stores.configs, stores.offsets, stores.statuses]) {
      await s.start();
      cleanup.push(() => s.stop());
    }
    const deps: HerderDeps = { client, admin, config: cfg, plugins, ...stores, workerId, log };
    const herder: Herder =
      mode === 'standalone'
        ? new StandaloneHerder(deps)
        : new DistributedHerder(deps, url ?? `http://${workerId}`);
    await herder.start();
    herderRef = herder;
    cleanup.push(() => herder.stop());
    log(`tributary connect ${mode} worker ${workerId} started${url ? `; REST API on ${url}` : ''}`);

    const putConnector = async (
      c: Readonly<Record<string, string | number | boolean>>,
    ): Promise<ConnectorInfo> => {
      const props = toProps(c);
      const name = props.name;
      if (!name) throw new ConfigException('name', undefined, 'a connector config needs a name');
      for (let attempt = 0; ; attempt++) {
        try {
          return (await herder.putConnector(name, props, { allowReplace: true })).info;
        } catch (err) {
          if (err instanceof ConnectError && err.code === 'REBALANCING' && attempt < 300) {
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          throw err;
        }
      }
    };
    for (const c of opts.connectors ?? []) await putConnector(c);

    let stopped = false;
    return {
      mode,
      url,
      workerId,
      herder,
      putConnector,
      deleteConnector: (name) => herder.deleteConnector(name),
      status: (name) => herder.status(name),
      metrics: () => herder.worker.taskMetrics(),
      async waitForRunning(name, o = {}) {
        const deadline = Date.now() + (o.timeoutMs ?? 30_000);
        for (;;) {
          let s: ConnectorStateInfo | null = null;
          try {
            s = herder.status(name);
          } catch {
            // not created yet
          }
          if (s) {
            const failed = [s.connector, ...s.tasks].find((x) => x.state === 'FAILED');
            if (failed) throw new ConnectError('CONNECT', `connector ${name} failed: ${failed.trace ?? ''}`);
            const want = o.tasks ?? Math.max(1, s.tasks.length);
            const running = (x: { state: State }) => x.state === 'RUNNING';
            if (running(s.connector) && s.tasks.length >= want && s.tasks.slice(0, want).every(running))
              return s;
          }
          if (Date.now() > deadline)
            throw new ConnectError(
              'CONNECT',
              `connector ${name} is not running after ${o.timeoutMs ?? 30_000} ms: ${JSON.stringify(s)}`,
            );
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const c of cleanup.splice(0).reverse())
          await c().catch((err: unknown) => log(`WARN stopping: ${String(err)}`));
        await admin.close().catch(() => {});
        if (ownClient) await client.close();
        log(`tributary connect worker ${workerId} stopped`);
      },
    };
  } catch (err) {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    await admin.close().catch(() => {});
    if (ownClient) await client.close().catch(() => {});
    throw err;
  }
}

/** Fails at start, naming the key, when `producer.`/`consumer.` settings are not ones the client takes. */
function checkClientConfigs(client: KafkaClient, cfg: WorkerConfig): void {
  const check = (prefix: string, make: () => { close(): Promise<void> }) => {
    try {
      void make().close();
    } catch (err) {
      const m = /'([^']+)'/.exec(err instanceof Error ? err.message : '');
      throw new ConfigException(
        m ? `${prefix}${m[1]}` : `${prefix}*`,
        undefined,
        err instanceof Error ? err.message : String(err),
      );
    }
  };
  check('producer.', () => client.producer(typedClientConfig(cfg.producer)));
  check('consumer.', () => client.consumer(typedClientConfig(cfg.consumer)));
}

function failEarly(): never {
  throw new ConnectError('REBALANCING', 'The worker is starting; try again in a moment');
}

function makeStores(
  mode: WorkerMode,
  cfg: WorkerConfig,
  client: KafkaClient,
  admin: ReturnType<KafkaClient['admin']>,
  log: (m: string) => void,
): { configs: ConfigStore; offsets: OffsetStore; statuses: StatusStore } {
  const v = cfg.values;
  if (mode === 'standalone') {
    const file = v['offset.storage.file.filename'] as string | null;
    return {
      configs: new MemoryConfigStore(),
      offsets: new FileOffsetStore(file),
      statuses: new MemoryStatusStore(),
    };
  }
  return {
    configs: new KafkaConfigStore(
      client,
      admin,
      String(v['config.storage.topic']),
      Number(v['config.storage.replication.factor']),
      log,
    ),
    offsets: new KafkaOffsetStore(
      client,
      admin,
      String(v['offset.storage.topic']),
      Number(v['offset.storage.partitions']),
      Number(v['offset.storage.replication.factor']),
      log,
    ),
    statuses: new KafkaStatusStore(
      client,
      admin,
      String(v['status.storage.topic']),
      Number(v['status.storage.partitions']),
      Number(v['status.storage.replication.factor']),
      log,
    ),
  };
}
