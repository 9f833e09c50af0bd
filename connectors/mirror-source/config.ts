/**
 * MirrorMaker 2's config keys (`org.apache.kafka.connect.mirror.MirrorSourceConfig` and
 * `MirrorCheckpointConfig`), validated and frozen. `source.cluster.bootstrap.servers` is read
 * from over the Kafka protocol; the target — the cluster the Connect worker writes into, which
 * gets the remote topics, their configs and the translated group offsets — is
 * `target.cluster.bootstrap.servers`, or when that is empty the worker's own cluster (so a worker
 * on an embedded log can mirror into it).
 */
import {
  ConfigDef,
  ConfigException,
  getBoolean,
  getList,
  getNumber,
  getString,
  type Props,
  Validators,
} from '../../connect/sdk.js';
import { createReplicationPolicy, type ReplicationPolicy } from './policy.js';

export const VERSION = '1.0.0';

/** MM2's defaults: internal, replica and double-underscore topics stay home. */
export const DEFAULT_TOPICS_EXCLUDE = ['.*[\\-\\.]internal', '.*\\.replica', '__.*'];
export const DEFAULT_GROUPS_EXCLUDE = ['console-consumer-.*', 'connect-.*', '__.*'];

function commonDef(): ConfigDef {
  return new ConfigDef()
    .define({
      name: 'source.cluster.alias',
      type: 'string',
      default: 'source',
      importance: 'high',
      documentation: 'Name of the cluster being replicated; prefixes remote topics (<alias>.<topic>).',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'target.cluster.alias',
      type: 'string',
      default: 'target',
      importance: 'high',
      documentation: 'Name of the cluster written to (in the offset-syncs topic name).',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'source.cluster.bootstrap.servers',
      type: 'list',
      importance: 'high',
      documentation: 'host:port of the source cluster (any Kafka-protocol cluster).',
      validator: Validators.nonEmptyList(),
    })
    .define({
      name: 'target.cluster.bootstrap.servers',
      type: 'list',
      default: [],
      importance: 'high',
      documentation:
        "host:port of the target cluster: where the worker writes (remote topics are created there). Empty: the worker's own cluster, which may be its embedded log (data.dir).",
    })
    .define({
      name: 'topics',
      type: 'list',
      default: ['.*'],
      importance: 'high',
      documentation: 'Topics to replicate: names and regular expressions.',
    })
    .define({
      name: 'topics.exclude',
      type: 'list',
      default: DEFAULT_TOPICS_EXCLUDE,
      importance: 'high',
      documentation: 'Topics never replicated: names and regular expressions.',
    })
    .define({
      name: 'replication.policy.class',
      type: 'class',
      default: 'org.apache.kafka.connect.mirror.DefaultReplicationPolicy',
      importance: 'low',
      documentation: 'DefaultReplicationPolicy (<alias>.<topic>) or IdentityReplicationPolicy (same names).',
    })
    .define({
      name: 'replication.policy.separator',
      type: 'string',
      default: '.',
      importance: 'low',
      documentation: 'Separator of alias and topic in remote topic names.',
    })
    .define({
      name: 'offset-syncs.topic.location',
      type: 'string',
      default: 'target',
      importance: 'low',
      documentation: 'Where the offset-syncs topic lives; only target is supported here.',
      validator: Validators.in('target'),
    })
    .define({
      name: 'offset-syncs.topic.replication.factor',
      type: 'int',
      default: -1,
      importance: 'low',
      documentation: 'Replication factor of the offset-syncs topic (-1: the broker default).',
    });
}

export function mirrorSourceConfigDef(): ConfigDef {
  return commonDef()
    .define({
      name: 'sync.topic.configs.enabled',
      type: 'boolean',
      default: true,
      importance: 'medium',
      documentation: "Copy the source topics' configs to the remote topics.",
    })
    .define({
      name: 'sync.topic.configs.interval.seconds',
      type: 'long',
      default: 600,
      importance: 'low',
      documentation: 'How often topic configs are copied.',
      validator: Validators.atLeast(1),
    })
    .define({
      name: 'refresh.topics.enabled',
      type: 'boolean',
      default: true,
      importance: 'low',
      documentation: 'Look for new topics and partitions to replicate.',
    })
    .define({
      name: 'refresh.topics.interval.seconds',
      type: 'long',
      default: 600,
      importance: 'low',
      documentation: 'How often to look for new topics and partitions.',
      validator: Validators.atLeast(1),
    })
    .define({
      name: 'replication.factor',
      type: 'int',
      default: -1,
      importance: 'low',
      documentation:
        'Replication factor of remote topics (-1: the broker default; capped at the broker count).',
    })
    .define({
      name: 'emit.offset-syncs.enabled',
      type: 'boolean',
      default: true,
      importance: 'low',
      documentation: 'Write offset syncs (upstream → downstream offsets) for checkpointing.',
    })
    .define({
      name: 'offset.lag.max',
      type: 'long',
      default: 100,
      importance: 'low',
      documentation:
        'How far the downstream offset may drift from the last offset sync before a new one is written.',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'consumer.poll.timeout.ms',
      type: 'long',
      default: 1000,
      importance: 'low',
      documentation: 'Longest wait of one poll of the source cluster.',
      validator: Validators.atLeast(1),
    })
    .define({
      name: 'task.assigned.partitions',
      type: 'list',
      default: [],
      importance: 'low',
      documentation: 'Internal: the source partitions of one task (topic-partition).',
    });
}

export function mirrorCheckpointConfigDef(): ConfigDef {
  return commonDef()
    .define({
      name: 'groups',
      type: 'list',
      default: ['.*'],
      importance: 'high',
      documentation: 'Consumer groups to checkpoint: names and regular expressions.',
    })
    .define({
      name: 'groups.exclude',
      type: 'list',
      default: DEFAULT_GROUPS_EXCLUDE,
      importance: 'high',
      documentation: 'Consumer groups never checkpointed.',
    })
    .define({
      name: 'emit.checkpoints.enabled',
      type: 'boolean',
      default: true,
      importance: 'low',
      documentation: 'Write checkpoints (translated group offsets) to <alias>.checkpoints.internal.',
    })
    .define({
      name: 'emit.checkpoints.interval.seconds',
      type: 'long',
      default: 60,
      importance: 'low',
      documentation: 'How often checkpoints are written.',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'sync.group.offsets.enabled',
      type: 'boolean',
      default: false,
      importance: 'medium',
      documentation:
        "Also commit the translated offsets to the target's __consumer_offsets for groups with no active members there.",
    })
    .define({
      name: 'sync.group.offsets.interval.seconds',
      type: 'long',
      default: 60,
      importance: 'low',
      documentation: 'How often group offsets are synced.',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'checkpoints.topic.replication.factor',
      type: 'int',
      default: -1,
      importance: 'low',
      documentation: 'Replication factor of the checkpoints topic (-1: the broker default).',
    })
    .define({
      name: 'task.index',
      type: 'int',
      default: 0,
      importance: 'low',
      documentation: 'Internal: this task among task.count (groups are shared by hash).',
    })
    .define({
      name: 'task.count',
      type: 'int',
      default: 1,
      importance: 'low',
      documentation: 'Internal: the number of checkpoint tasks.',
      validator: Validators.atLeast(1),
    });
}

/** Names and regexes, as MM2's topic/group filters: a name matches when any pattern matches all of it. */
export class NameFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(
    include: readonly string[],
    exclude: readonly string[],
    includeKey: string,
    excludeKey: string,
  ) {
    this.include = include.filter((p) => p !== '').map((p) => compile(p, includeKey));
    this.exclude = exclude.filter((p) => p !== '').map((p) => compile(p, excludeKey));
  }

  matches(name: string): boolean {
    return this.include.some((r) => r.test(name)) && !this.exclude.some((r) => r.test(name));
  }
}

function compile(pattern: string, key: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new ConfigException(
      key,
      pattern,
      `not a regular expression: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

export interface MirrorCommonConfig {
  sourceAlias: string;
  targetAlias: string;
  sourceBootstrap: string[];
  /** Empty: the worker's own cluster. */
  targetBootstrap: string[];
  topicFilter: NameFilter;
  policy: ReplicationPolicy;
  offsetSyncsReplicationFactor: number;
}

function common(c: ReturnType<ConfigDef['parse']>): MirrorCommonConfig {
  const sourceAlias = getString(c, 'source.cluster.alias');
  const targetAlias = getString(c, 'target.cluster.alias');
  if (sourceAlias === targetAlias)
    throw new ConfigException('target.cluster.alias', targetAlias, 'must differ from source.cluster.alias');
  return {
    sourceAlias,
    targetAlias,
    sourceBootstrap: getList(c, 'source.cluster.bootstrap.servers'),
    targetBootstrap: getList(c, 'target.cluster.bootstrap.servers').filter((s) => s.trim() !== ''),
    topicFilter: new NameFilter(
      getList(c, 'topics'),
      getList(c, 'topics.exclude'),
      'topics',
      'topics.exclude',
    ),
    policy: createReplicationPolicy(
      getString(c, 'replication.policy.class'),
      getString(c, 'replication.policy.separator'),
    ),
    offsetSyncsReplicationFactor: getNumber(c, 'offset-syncs.topic.replication.factor'),
  };
}

export interface MirrorSourceConfig extends MirrorCommonConfig {
  syncTopicConfigs: boolean;
  syncTopicConfigsIntervalMs: number;
  refreshTopics: boolean;
  refreshTopicsIntervalMs: number;
  replicationFactor: number;
  emitOffsetSyncs: boolean;
  offsetLagMax: number;
  pollTimeoutMs: number;
  assigned: { topic: string; partition: number }[];
}

export function parseMirrorSourceConfig(props: Props): MirrorSourceConfig {
  const c = mirrorSourceConfigDef().parse(props);
  return Object.freeze({
    ...common(c),
    syncTopicConfigs: getBoolean(c, 'sync.topic.configs.enabled'),
    syncTopicConfigsIntervalMs: getNumber(c, 'sync.topic.configs.interval.seconds') * 1000,
    refreshTopics: getBoolean(c, 'refresh.topics.enabled'),
    refreshTopicsIntervalMs: getNumber(c, 'refresh.topics.interval.seconds') * 1000,
    replicationFactor: getNumber(c, 'replication.factor'),
    emitOffsetSyncs: getBoolean(c, 'emit.offset-syncs.enabled'),
    offsetLagMax: getNumber(c, 'offset.lag.max'),
    pollTimeoutMs: getNumber(c, 'consumer.poll.timeout.ms'),
    assigned: getList(c, 'task.assigned.partitions')
      .filter((s) => s !== '')
      .map((s) => parseTopicPartition(s)),
  });
}

export interface MirrorCheckpointConfig extends MirrorCommonConfig {
  groupFilter: NameFilter;
  emitCheckpoints: boolean;
  emitCheckpointsIntervalMs: number;
  syncGroupOffsets: boolean;
  syncGroupOffsetsIntervalMs: number;
  checkpointsReplicationFactor: number;
  taskIndex: number;
  taskCount: number;
}

export function parseMirrorCheckpointConfig(props: Props): MirrorCheckpointConfig {
  const c = mirrorCheckpointConfigDef().parse(props);
  return Object.freeze({
    ...common(c),
    groupFilter: new NameFilter(
      getList(c, 'groups'),
      getList(c, 'groups.exclude'),
      'groups',
      'groups.exclude',
    ),
    emitCheckpoints: getBoolean(c, 'emit.checkpoints.enabled'),
    emitCheckpointsIntervalMs: getNumber(c, 'emit.checkpoints.interval.seconds') * 1000,
    syncGroupOffsets: getBoolean(c, 'sync.group.offsets.enabled'),
    syncGroupOffsetsIntervalMs: getNumber(c, 'sync.group.offsets.interval.seconds') * 1000,
    checkpointsReplicationFactor: getNumber(c, 'checkpoints.topic.replication.factor'),
    taskIndex: getNumber(c, 'task.index'),
    taskCount: getNumber(c, 'task.count'),
  });
}

/** "orders-3" → { topic: 'orders', partition: 3 } (topics may contain '-'). */
export function parseTopicPartition(s: string): { topic: string; partition: number } {
  const at = s.lastIndexOf('-');
  const partition = Number(s.slice(at + 1));
  if (at <= 0 || !Number.isInteger(partition))
    throw new ConfigException('task.assigned.partitions', s, 'expected topic-partition');
  return { topic: s.slice(0, at), partition };
}

/** The converters a mirror needs: bytes through unchanged. */
export const BYTE_ARRAY_CONVERTER = 'org.apache.kafka.connect.converters.ByteArrayConverter';

/** Refuses converters that would change the bytes being mirrored. */
export function checkConverters(props: Props): void {
  for (const key of ['key.converter', 'value.converter']) {
    const v = props[key];
    if (v === undefined || !/ByteArrayConverter$/.test(v.trim())) {
      throw new ConfigException(
        key,
        v,
        `a mirror copies bytes unchanged: set ${key}=${BYTE_ARRAY_CONVERTER} in the connector config`,
      );
    }
  }
  const h = props['header.converter'];
  if (h === undefined || !/ByteArrayConverter$/.test(h.trim())) {
    throw new ConfigException(
      'header.converter',
      h,
      `a mirror copies header bytes unchanged: set header.converter=${BYTE_ARRAY_CONVERTER} in the connector config`,
    );
  }
}
