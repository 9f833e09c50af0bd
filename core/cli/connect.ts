/**
 * `trib connect standalone WORKER CONNECTOR... | distributed WORKER`: Kafka Connect workers, as
 * connect-standalone.sh and connect-distributed.sh run them. Configs are JSON or .properties
 * files with Kafka Connect's keys. Runs until SIGINT/SIGTERM, then stops connectors and tasks
 * cleanly (offsets committed). The runtime is loaded on first use so that `--help` stays instant.
 */
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { CliIO, CommandGroup, LeafCommand } from './command.js';
import { CliError } from './errors.js';

async function runWorker(mode: 'standalone' | 'distributed', args: ParsedArgs, io: CliIO): Promise<number> {
  const [workerFile, ...connectorFiles] = args.positionals;
  const { readConfigFile, readConnectorConfigFile, startWorker, ConnectError, registerConverter } =
    await import('../../connect/index.js');
  // Confluent's Avro converter (io.confluent.connect.avro.AvroConverter), backed by the schema registry.
  const { AVRO_CONVERTER_NAMES, AvroConverter } = await import('../../registry/index.js');
  registerConverter(AVRO_CONVERTER_NAMES, () => new AvroConverter());
  let worker: Awaited<ReturnType<typeof startWorker>>;
  try {
    const config = readConfigFile(workerFile!);
    if (mode === 'standalone' && !config['offset.storage.file.filename']) {
      throw new UsageError(
        `connect standalone: ${workerFile} needs offset.storage.file.filename (where source offsets are kept)`,
      );
    }
    const connectors = connectorFiles.map((f) => readConnectorConfigFile(f));
    worker = await startWorker({
      mode,
      config,
      connectors,
      log: (line) => io.stderr.write(`[${new Date().toISOString()}] ${line}\n`),
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof ConnectError) throw new CliError(`connect ${mode}: ${err.message}`, 1, { cause: err });
    throw err;
  }
  io.stderr.write(`tributary connect worker ${worker.workerId} listening on ${worker.url ?? '(no REST)'}\n`);
  await new Promise<void>((resolve) => {
    const off = io.onSignal(() => {
      off();
      resolve();
    });
  });
  await worker.stop();
  return 0;
}

const standalone: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'connect standalone',
    summary: 'Run a standalone Connect worker with the given connectors (offsets in a local file).',
    usage: 'trib connect standalone WORKER.json|.properties CONNECTOR.json|.properties...',
    positionals: [1, Number.POSITIVE_INFINITY],
    flags: {},
  },
  run: (args, io) => runWorker('standalone', args, io),
};

const distributed: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'connect distributed',
    summary: 'Run a distributed Connect worker: workers with the same group.id share connectors and tasks.',
    usage: 'trib connect distributed WORKER.json|.properties',
    positionals: [1, 1],
    flags: {},
  },
  run: (args, io) => runWorker('distributed', args, io),
};

export const connectCommand: CommandGroup = {
  kind: 'group',
  name: 'connect',
  summary: 'run Kafka Connect workers and connectors (REST API on listeners, default port 8083)',
  subcommands: [standalone, distributed],
};
