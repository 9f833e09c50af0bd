/**
 * `trib broker`: serves a data directory over the Kafka protocol until SIGTERM/SIGINT, then
 * shuts down gracefully (in-flight requests finish, logs are flushed and closed).
 */
import { readConfigFile } from '../broker/config.js';
import { startBroker } from '../broker/node.js';
import type { CommandSpec } from './args.js';
import { UsageError } from './args.js';
import { intFlag, type LeafCommand, listFlag, stringFlag } from './command.js';

const spec: CommandSpec = {
  name: 'broker',
  summary:
    'Runs a broker that serves the data directory over the Apache Kafka protocol, so that kcat, kafkajs, ' +
    'librdkafka, the Java client and `trib --bootstrap` work against it. Broker settings use Kafka’s names ' +
    '(docs/broker.md).',
  usage: 'trib broker --data-dir DIR [--listen HOST:PORT] [--node-id N] [--config FILE] [--set key=value]...',
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
    const running = await startBroker({
      dataDir,
      listen: stringFlag(args, 'listen'),
      advertised: stringFlag(args, 'advertised-listener'),
      config,
      log: (msg) => io.stderr.write(`${msg}\n`),
    });
    io.stderr.write(
      `tributary broker ${running.broker.endpoint().nodeId} listening on ${running.bootstrap} ` +
        `(data dir ${dataDir}, cluster ${running.broker.logs.clusterId})\n`,
    );
    await new Promise<void>((resolve) => {
      const off = io.onSignal((signal) => {
        off();
        io.stderr.write(`${signal}: shutting down\n`);
        resolve();
      });
    });
    await running.close();
    io.stderr.write('broker stopped\n');
    return 0;
  },
};
