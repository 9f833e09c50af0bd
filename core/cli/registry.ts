/**
 * `trib registry`: a Confluent-compatible schema registry over a cluster (`--bootstrap`) or the
 * embedded log (`--data-dir`), storing everything in the compacted topic `_schemas`. Serves until
 * SIGTERM/SIGINT. Several registries may run against one cluster (docs/schema-registry.md).
 */
import type { LeafCommand } from './command.js';
import { intFlag, stringFlag } from './command.js';
import { openClient, resolveClientConfig, withConnectionFlags } from './connection.js';
import { CliError } from './errors.js';

const NAME = 'registry';

export const registryCommand: LeafCommand = {
  kind: 'command',
  spec: {
    name: NAME,
    summary:
      "Runs a schema registry with Confluent's REST API (Avro; compatibility checks; `_schemas` topic), so " +
      'that Confluent serializers, kafkajs’ confluent-schema-registry and Tributary’s Avro serde and ' +
      'converter can use it (docs/schema-registry.md).',
    usage: 'trib registry --bootstrap HOST:PORT | --data-dir DIR [--listen HOST:PORT]',
    positionals: [0, 0],
    flags: withConnectionFlags({
      listen: {
        type: 'string',
        arg: 'HOST:PORT',
        default: '127.0.0.1:8081',
        help: 'where to serve the REST API; port 0 picks a free port (printed on start)',
      },
      topic: { type: 'string', arg: 'TOPIC', default: '_schemas', help: 'the topic holding the schemas' },
      'max-schema-bytes': {
        type: 'int',
        arg: 'N',
        min: 1,
        help: 'largest schema accepted, in bytes (default 524288)',
      },
    }),
  },
  async run(args, io) {
    const config = resolveClientConfig(NAME, args, io.env);
    // Loaded here, not at the top: `trib --help` needs none of it.
    const { startRegistry } = await import('../../registry/server.js');
    const client = await openClient({ ...config, 'client.id': 'trib-registry' });
    let running: Awaited<ReturnType<typeof startRegistry>>;
    try {
      const maxSchemaBytes = intFlag(args, 'max-schema-bytes');
      running = await startRegistry({
        client,
        listen: stringFlag(args, 'listen'),
        topic: stringFlag(args, 'topic'),
        ...(maxSchemaBytes !== undefined ? { maxSchemaBytes } : {}),
        log: (msg) => io.stderr.write(`${msg}\n`),
      });
    } catch (err) {
      await client.close().catch(() => {});
      throw new CliError(`registry: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
    }
    io.stderr.write(`tributary schema registry listening on ${running.url}\n`);
    await new Promise<void>((resolve) => {
      const off = io.onSignal((signal) => {
        off();
        io.stderr.write(`${signal}: shutting down\n`);
        resolve();
      });
    });
    await running.close();
    await client.close();
    io.stderr.write('registry stopped\n');
    return 0;
  },
};
