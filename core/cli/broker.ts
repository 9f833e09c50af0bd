/**
 * `trib broker`: serves a data directory over the Kafka protocol until SIGTERM/SIGINT, then
 * shuts down gracefully (in-flight requests finish, logs are flushed and closed).
 *
 * With --controller-quorum the broker is one node of a replicated cluster (docs/cluster.md): it
 * starts its metadata node (a Raft voter and controller when its id is in the quorum, else a
 * learner), serves partitions as the metadata log assigns them, registers its advertised
 * endpoint with the active controller, and on SIGTERM/SIGINT does a controlled shutdown
 * (leaderships move away) before closing.
 */
import * as path from 'node:path';
import { readConfigFile } from '../broker/config.js';
import { type RunningBroker, startBroker } from '../broker/node.js';
import { RaftClusterView } from '../broker/raft-cluster-view.js';
import { BrokerLifecycle } from '../cluster/controller/broker-lifecycle.js';
import { type ControllerConfigInput, DEFAULT_CONTROLLER_CONFIG } from '../cluster/controller/config.js';
import { ClusterNode, parseControllerQuorum, parseHostPort } from '../cluster/net/index.js';
import type { QuorumVoter } from '../cluster/raft/config.js';
import { systemClock } from '../env/clock.js';
import { systemRandom } from '../env/random.js';
import type { CommandSpec } from './args.js';
import { UsageError } from './args.js';
import { intFlag, type LeafCommand, listFlag, stringFlag } from './command.js';

const spec: CommandSpec = {
  name: 'broker',
  summary:
    'Runs a broker that serves the data directory over the Apache Kafka protocol, so that kcat, kafkajs, ' +
    'librdkafka, the Java client and `trib --bootstrap` work against it. Broker settings use Kafka’s names ' +
    '(docs/broker.md).',
  usage:
    'trib broker --data-dir DIR [--listen HOST:PORT] [--node-id N] [--config FILE] [--set key=value]... ' +
    '[--controller-quorum ID@HOST:PORT,... [--controller-listen HOST:PORT]]',
  positionals: [0, 0],
  flags: {
    'data-dir': {
      type: 'string',
      arg: 'DIR',
      help: 'the data directory (created if missing; locked while running)',
    },
    listen: {
      type: 'string',
      arg: 'HOST:PORT',
      default: '127.0.0.1:9092',
      help: 'where to listen; port 0 picks a free port (printed on start)',
    },
    'advertised-listener': {
      type: 'string',
      arg: 'HOST:PORT',
      help: 'the address clients are told to use, when it differs from --listen',
    },
    'node-id': { type: 'int', arg: 'N', help: 'this broker’s id (node.id); default 1' },
    config: { type: 'string', arg: 'FILE', help: 'broker settings as JSON or a Kafka .properties file' },
    set: {
      type: 'list',
      arg: 'KEY=VALUE',
      help: 'one broker setting, e.g. --set num.partitions=3',
    },
    'controller-quorum': {
      type: 'string',
      arg: 'ID@HOST:PORT,...',
      help:
        'join a replicated cluster: the metadata quorum’s voters (Kafka’s controller.quorum.voters), the ' +
        'same on every node, e.g. 1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293; without it the ' +
        'broker is a one-node cluster (docs/cluster.md)',
    },
    'controller-listen': {
      type: 'string',
      arg: 'HOST:PORT',
      help:
        'where this node’s controller listens for the quorum and for brokers; required when --node-id ' +
        'is in --controller-quorum, absent for a broker-only node',
    },
  },
};

export const brokerCommand: LeafCommand = {
  kind: 'command',
  spec,
  async run(args, io) {
    const dataDir = stringFlag(args, 'data-dir') ?? io.env.TRIB_DATA_DIR;
    if (!dataDir) throw new UsageError('broker: --data-dir DIR is required (where the logs live)');
    const config: Record<string, unknown> = {};
    const file = stringFlag(args, 'config');
    if (file) Object.assign(config, readConfigFile(file));
    for (const kv of listFlag(args, 'set')) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`broker: --set expects key=value, got '${kv}'`);
      config[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const nodeId = intFlag(args, 'node-id');
    if (nodeId !== undefined) config['node.id'] = nodeId;
    const quorumText = stringFlag(args, 'controller-quorum');
    const controllerListenText = stringFlag(args, 'controller-listen');
    if (quorumText === undefined && controllerListenText !== undefined)
      throw new UsageError('broker: --controller-listen needs --controller-quorum');
    const log = (msg: string): void => {
      io.stderr.write(`${msg}\n`);
    };
    const signalled = new Promise<void>((resolve) => {
      const off = io.onSignal((signal) => {
        off();
        io.stderr.write(`${signal}: shutting down\n`);
        resolve();
      });
    });
    if (quorumText !== undefined) {
      return runClusterBroker({
        dataDir,
        config,
        quorumText,
        controllerListenText,
        listen: stringFlag(args, 'listen'),
        advertised: stringFlag(args, 'advertised-listener'),
        log,
        signalled,
      });
    }
    const running = await startBroker({
      dataDir,
      listen: stringFlag(args, 'listen'),
      advertised: stringFlag(args, 'advertised-listener'),
      config,
      log,
    });
    io.stderr.write(
      `tributary broker ${running.broker.endpoint().nodeId} listening on ${running.bootstrap} ` +
        `(data dir ${dataDir}, cluster ${running.broker.logs.clusterId})\n`,
    );
    await signalled;
    await running.close();
    io.stderr.write('broker stopped\n');
    return 0;
  },
};

/** Where a cluster node keeps its metadata log (inside the data directory, beside the partitions). */
export const CLUSTER_METADATA_SUBDIR = 'cluster-metadata';

/** Settings of the metadata quorum and the controller: taken out of the broker's config. */
const CLUSTER_KEYS = {
  'broker.heartbeat.interval.ms': 'brokerHeartbeatIntervalMs',
  'broker.session.timeout.ms': 'brokerSessionTimeoutMs',
  'broker.session.reconnect.grace.ms': 'brokerSessionReconnectGraceMs',
} as const;
const SHARED_KEYS = {
  'num.partitions': 'numPartitions',
  'default.replication.factor': 'defaultReplicationFactor',
} as const;
const ELECTION_TIMEOUT_KEY = 'controller.quorum.election.timeout.ms';

function positiveInt(key: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`broker: ${key} must be a positive integer, got '${value}'`);
  return n;
}

interface ClusterBrokerOptions {
  dataDir: string;
  config: Record<string, unknown>;
  quorumText: string;
  controllerListenText: string | undefined;
  listen: string | undefined;
  advertised: string | undefined;
  log: (msg: string) => void;
  signalled: Promise<void>;
}

async function runClusterBroker(o: ClusterBrokerOptions): Promise<number> {
  let quorum: QuorumVoter[];
  try {
    quorum = parseControllerQuorum(o.quorumText);
  } catch (err) {
    throw new UsageError(`broker: --controller-quorum: ${(err as Error).message}`);
  }
  const nodeId = o.config['node.id'] === undefined ? 1 : positiveIntOrZero(o.config['node.id']);
  o.config['node.id'] = nodeId;
  const isVoter = quorum.some((v) => v.id === nodeId);
  if (isVoter && o.controllerListenText === undefined)
    throw new UsageError(`broker: node ${nodeId} is in --controller-quorum, so it needs --controller-listen`);
  if (!isVoter && o.controllerListenText !== undefined)
    throw new UsageError(
      `broker: --controller-listen is only for nodes in --controller-quorum (node ${nodeId} is not)`,
    );
  let controllerListen: ReturnType<typeof parseHostPort> | undefined;
  try {
    controllerListen =
      o.controllerListenText === undefined ? undefined : parseHostPort(o.controllerListenText);
  } catch (err) {
    throw new UsageError(`broker: ${(err as Error).message}`);
  }
  const controller: { -readonly [K in keyof ControllerConfigInput]: ControllerConfigInput[K] } = {};
  for (const [key, field] of Object.entries(CLUSTER_KEYS)) {
    if (o.config[key] === undefined) continue;
    controller[field] = positiveInt(key, o.config[key]);
    delete o.config[key]; // not a broker key: the controller and the lifecycle use it
  }
  for (const [key, field] of Object.entries(SHARED_KEYS)) {
    if (o.config[key] !== undefined) controller[field] = positiveInt(key, o.config[key]);
  }
  let electionTimeoutMs: number | undefined;
  if (o.config[ELECTION_TIMEOUT_KEY] !== undefined) {
    electionTimeoutMs = positiveInt(ELECTION_TIMEOUT_KEY, o.config[ELECTION_TIMEOUT_KEY]);
    delete o.config[ELECTION_TIMEOUT_KEY];
  }
  const configuredId = typeof o.config['cluster.id'] === 'string' ? o.config['cluster.id'] : undefined;
  const node = await ClusterNode.start({
    nodeId,
    dataDir: path.join(o.dataDir, CLUSTER_METADATA_SUBDIR),
    quorum,
    ...(controllerListen ? { controllerListen } : {}),
    ...(electionTimeoutMs === undefined ? {} : { raft: { electionTimeoutMs } }),
    controller,
    ...(configuredId === undefined ? {} : { clusterId: configuredId }),
    logger: o.log,
    onFatal: (err) => o.log(`metadata quorum stopped: ${(err as Error)?.stack ?? err}`),
  });
  let lifecycle: BrokerLifecycle | null = null;
  const view = new RaftClusterView({
    brokerId: nodeId,
    metadata: node.metadata,
    controllers: node.controllers,
    brokerEpoch: () => lifecycle?.brokerEpoch ?? -1,
  });
  // Kafka refuses a node formatted for another cluster (INCONSISTENT_CLUSTER_ID); here the
  // cluster's id wins, and a different cluster.id given to this node is reported once.
  if (configuredId !== undefined) {
    let checked = false;
    const check = (): void => {
      const id = view.clusterId();
      if (checked || id === null) return;
      checked = true;
      if (id !== configuredId)
        o.log(
          `error: this node was given cluster.id=${configuredId} but the cluster it joined has id ${id}; ` +
            "it reports the cluster's id. Check --controller-quorum, or give every node the same cluster.id.",
        );
    };
    const stop = view.onChange(() => {
      check();
      if (checked) stop();
    });
    check();
  }
  let running: RunningBroker;
  try {
    running = await startBroker({
      dataDir: o.dataDir,
      listen: o.listen,
      advertised: o.advertised,
      config: o.config,
      log: o.log,
      clusterView: view,
    });
  } catch (err) {
    await node.stop();
    throw err;
  }
  o.log(
    `tributary broker ${nodeId} listening on ${running.bootstrap} (data dir ${o.dataDir}, ` +
      `${isVoter ? `controller on ${node.listenAddress?.host}:${node.listenAddress?.port}, ` : ''}` +
      `quorum ${quorum.map((v) => v.id).join(',')})`,
  );
  // Registered with the endpoint clients must use (known now that the listener is bound).
  const registered = new BrokerLifecycle({
    brokerId: nodeId,
    host: running.host,
    port: running.port,
    rack: (running.broker.config['broker.rack'] as string | null) ?? null,
    controller: isVoter,
    channel: node.controllers,
    metadata: node.metadata,
    clock: systemClock,
    random: systemRandom,
    heartbeatIntervalMs:
      controller.brokerHeartbeatIntervalMs ?? node.controller?.config.brokerHeartbeatIntervalMs,
    onStateChange: (state, epoch) => {
      if (state === 'running') o.log(`broker ${nodeId} is running in the cluster (broker epoch ${epoch})`);
      else if (state === 'fenced' || state === 'registering') o.log(`broker ${nodeId} is ${state}`);
    },
  });
  lifecycle = registered;
  registered.start();
  await o.signalled;
  // Controlled shutdown: the controller moves leaderships away and fences this broker. Bounded
  // by the session timeout: past it, the controller fences a silent broker anyway (and without a
  // controller majority the request cannot succeed at all).
  const shutdownMs =
    controller.brokerSessionTimeoutMs ??
    node.controller?.config.brokerSessionTimeoutMs ??
    DEFAULT_CONTROLLER_CONFIG.brokerSessionTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    const done = await Promise.race([
      registered.shutdown(shutdownMs).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), shutdownMs);
      }),
    ]);
    if (!done) o.log(`controlled shutdown did not complete in ${shutdownMs} ms; stopping anyway`);
  } finally {
    clearTimeout(timer);
    registered.stop();
    try {
      await running.close();
    } finally {
      await node.stop();
    }
  }
  o.log('broker stopped');
  return 0;
}

function positiveIntOrZero(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`broker: node.id must be an integer ≥ 0, got '${value}'`);
  return n;
}
