/**
 * `trib topics create|list|describe|delete|alter|add-partitions`: topic administration, as
 * kafka-topics.sh and kafka-configs.sh do it.
 */
import type { ConfigChange } from '../client/types.js';
import { UsageError } from './args.js';
import { boolFlag, type CommandGroup, intFlag, type LeafCommand, listFlag } from './command.js';
import { withAdmin, withConnectionFlags } from './connection.js';
import { errorCode, explainTopicError } from './errors.js';
import { parseKeyValue } from './text.js';
import { describeTopicsCommand } from './topics-describe.js';

function configMap(command: string, entries: readonly string[]): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const entry of entries) {
    const [key, value] = parseKeyValue(command, 'config', entry);
    configs[key] = value;
  }
  return configs;
}

const create: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'topics create',
    summary: 'Create a topic.',
    usage: 'trib topics create NAME [--partitions N] [--replication-factor R] [--config key=value]...',
    positionals: [1, 1],
    flags: withConnectionFlags({
      partitions: {
        type: 'int',
        arg: 'N',
        min: 1,
        help: "number of partitions (default: the cluster's num.partitions)",
      },
      'replication-factor': {
        type: 'int',
        arg: 'R',
        min: 1,
        help: "copies of each partition (default: the cluster's default.replication.factor)",
      },
      config: {
        type: 'list',
        arg: 'KEY=VALUE',
        help: 'a topic config override, e.g. retention.ms=86400000',
      },
      'if-not-exists': { type: 'bool', help: 'succeed if the topic already exists' },
    }),
  },
  async run(args, io) {
    const topic = args.positionals[0]!;
    const configs = configMap('topics create', listFlag(args, 'config'));
    const numPartitions = intFlag(args, 'partitions');
    const replicationFactor = intFlag(args, 'replication-factor');
    return withAdmin('topics create', args, io, async (admin) => {
      try {
        await admin.createTopics([
          {
            topic,
            ...(numPartitions !== undefined ? { numPartitions } : {}),
            ...(replicationFactor !== undefined ? { replicationFactor } : {}),
            ...(Object.keys(configs).length > 0 ? { configs } : {}),
          },
        ]);
      } catch (err) {
        if (errorCode(err) === 'TOPIC_ALREADY_EXISTS' && boolFlag(args, 'if-not-exists')) return 0;
        throw explainTopicError(err, topic);
      }
      io.stdout.write(`created topic ${topic}\n`);
      return 0;
    });
  },
};

const list: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'topics list',
    summary: 'List topic names, one per line.',
    usage: 'trib topics list [--include-internal]',
    flags: withConnectionFlags({
      'include-internal': { type: 'bool', help: 'also list internal topics (__consumer_offsets, …)' },
    }),
  },
  async run(args, io) {
    return withAdmin('topics list', args, io, async (admin) => {
      const names = await admin.listTopics({ includeInternal: boolFlag(args, 'include-internal') });
      io.stdout.write(
        [...names]
          .sort()
          .map((n) => `${n}\n`)
          .join(''),
      );
      return 0;
    });
  },
};

const remove: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'topics delete',
    summary: 'Delete topics and all their records.',
    usage: 'trib topics delete NAME...',
    positionals: [1, Number.POSITIVE_INFINITY],
    flags: withConnectionFlags({
      'if-exists': { type: 'bool', help: 'succeed for topics that do not exist' },
    }),
  },
  async run(args, io) {
    return withAdmin('topics delete', args, io, async (admin) => {
      for (const topic of args.positionals) {
        try {
          await admin.deleteTopics([topic]);
        } catch (err) {
          if (errorCode(err) === 'UNKNOWN_TOPIC_OR_PARTITION' && boolFlag(args, 'if-exists')) continue;
          throw explainTopicError(err, topic);
        }
        io.stdout.write(`deleted topic ${topic}\n`);
      }
      return 0;
    });
  },
};

const alter: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'topics alter',
    summary: "Change a topic's config overrides. Keys not named keep their values (an incremental alter).",
    usage: 'trib topics alter NAME [--config key=value]... [--delete-config key]...',
    positionals: [1, 1],
    flags: withConnectionFlags({
      config: { type: 'list', arg: 'KEY=VALUE', help: 'set an override' },
      'delete-config': {
        type: 'list',
        arg: 'KEY',
        help: 'remove an override, back to the default',
      },
    }),
  },
  async run(args, io) {
    const topic = args.positionals[0]!;
    const changes: ConfigChange[] = [
      ...Object.entries(configMap('topics alter', listFlag(args, 'config'))).map(
        ([name, value]): ConfigChange => ({ name, value, op: 'set' }),
      ),
      ...listFlag(args, 'delete-config').map((name): ConfigChange => ({ name, value: null, op: 'delete' })),
    ];
    if (changes.length === 0) {
      throw new UsageError('topics alter: nothing to change; give --config key=value or --delete-config key');
    }
    return withAdmin('topics alter', args, io, async (admin) => {
      try {
        await admin.alterConfigs({ type: 'topic', name: topic }, changes);
      } catch (err) {
        throw explainTopicError(err, topic);
      }
      const said = changes.map((c) => (c.op === 'delete' ? `deleted ${c.name}` : `${c.name}=${c.value}`));
      io.stdout.write(`updated topic ${topic}: ${said.join(', ')}\n`);
      return 0;
    });
  },
};

const addPartitions: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'topics add-partitions',
    summary: "Raise a topic's partition count to N. N is the new total; partitions are never removed.",
    usage: 'trib topics add-partitions NAME --partitions N',
    positionals: [1, 1],
    flags: withConnectionFlags({
      partitions: { type: 'int', arg: 'N', min: 1, help: 'the total number of partitions wanted' },
    }),
  },
  async run(args, io) {
    const topic = args.positionals[0]!;
    const count = intFlag(args, 'partitions');
    if (count === undefined)
      throw new UsageError('topics add-partitions: --partitions N is required (the new total)');
    return withAdmin('topics add-partitions', args, io, async (admin) => {
      try {
        await admin.createPartitions([{ topic, count }]);
      } catch (err) {
        throw explainTopicError(err, topic);
      }
      io.stdout.write(`topic ${topic} now has ${count} partitions\n`);
      return 0;
    });
  },
};

export const topicsCommand: CommandGroup = {
  kind: 'group',
  name: 'topics',
  summary: 'create, list, describe, delete and alter topics',
  subcommands: [create, list, describeTopicsCommand, remove, alter, addPartitions],
};
