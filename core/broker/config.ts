/**
 * Broker configuration: Kafka's broker config names, their defaults and documentation, in one
 * table that drives parsing (`--set key=value`, `--config FILE` as JSON or .properties),
 * validation (unknown keys refused, with the closest known key suggested) and DescribeConfigs.
 */
import { readFileSync } from 'node:fs';

export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list';

export interface ConfigDef {
  type: ConfigType;
  default: string | number | boolean | null;
  doc: string;
  /** Inclusive lower bound for numbers. */
  min?: number;
  /** Accepted values for strings. */
  oneOf?: readonly string[];
  /** Accepted for compatibility with Kafka's files; has no effect here. */
  ignored?: boolean;
}

const HOUR_MS = 3_600_000;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const BROKER_CONFIG_DEFS = {
  'node.id': { type: 'int', default: 1, min: 0, doc: 'This broker’s id in the cluster.' },
  'broker.id': { type: 'int', default: null, min: 0, doc: 'Alias of node.id (older Kafka name).' },
  'log.dirs': { type: 'string', default: null, doc: 'The data directory (same as --data-dir).' },
  'log.dir': { type: 'string', default: null, doc: 'Alias of log.dirs.' },
  listeners: {
    type: 'string',
    default: 'PLAINTEXT://127.0.0.1:9092',
    doc: 'Where to listen, as PLAINTEXT://HOST:PORT (same as --listen HOST:PORT). Port 0 picks a free port.',
  },
  'advertised.listeners': {
    type: 'string',
    default: null,
    doc: 'The address clients are told to connect to, when it differs from listeners (NAT, containers).',
  },
  'num.partitions': { type: 'int', default: 1, min: 1, doc: 'Partitions of an auto-created topic.' },
  'default.replication.factor': { type: 'int', default: 1, min: 1, doc: 'Replication factor of new topics.' },
  'auto.create.topics.enable': {
    type: 'boolean',
    default: true,
    doc: 'Create a topic when a client asks for its metadata or produces to it.',
  },
  'delete.topic.enable': { type: 'boolean', default: true, doc: 'Allow deleting topics.' },
  'message.max.bytes': {
    type: 'int',
    default: 1048588,
    min: 0,
    doc: 'Largest record batch accepted (topic config max.message.bytes overrides it).',
  },
  'log.segment.bytes': { type: 'int', default: 1073741824, min: 14, doc: 'Default segment.bytes.' },
  'log.roll.ms': {
    type: 'long',
    default: null,
    min: 1,
    doc: 'Default segment.ms (overrides log.roll.hours).',
  },
  'log.roll.hours': { type: 'int', default: 168, min: 1, doc: 'Default segment.ms, in hours.' },
  'log.retention.ms': {
    type: 'long',
    default: null,
    min: -1,
    doc: 'Default retention.ms (overrides minutes/hours).',
  },
  'log.retention.minutes': { type: 'int', default: null, min: -1, doc: 'Default retention.ms, in minutes.' },
  'log.retention.hours': { type: 'int', default: 168, min: -1, doc: 'Default retention.ms, in hours.' },
  'log.retention.bytes': {
    type: 'long',
    default: -1,
    min: -1,
    doc: 'Default retention.bytes (-1: no limit).',
  },
  'log.retention.check.interval.ms': {
    type: 'long',
    default: 300_000,
    min: 1,
    doc: 'How often old segments are checked for deletion.',
  },
  'log.cleanup.policy': {
    type: 'string',
    default: 'delete',
    oneOf: ['delete', 'compact', 'compact,delete', 'delete,compact'],
    doc: 'Default cleanup.policy.',
  },
  'log.cleaner.enable': { type: 'boolean', default: true, doc: 'Run the log cleaner for compacted topics.' },
  'log.cleaner.backoff.ms': { type: 'long', default: 15_000, min: 0, doc: 'Sleep between cleaner passes.' },
  'log.cleaner.dedupe.buffer.size': {
    type: 'long',
    default: 134_217_728,
    min: 1_048_576,
    doc: 'Memory for the cleaner’s key → offset map.',
  },
  'log.cleaner.delete.retention.ms': {
    type: 'long',
    default: 86_400_000,
    min: 0,
    doc: 'Default delete.retention.ms.',
  },
  'log.cleaner.min.compaction.lag.ms': {
    type: 'long',
    default: 0,
    min: 0,
    doc: 'Default min.compaction.lag.ms.',
  },
  'log.cleaner.max.compaction.lag.ms': {
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'Default max.compaction.lag.ms.',
  },
  'log.cleaner.min.cleanable.ratio': {
    type: 'double',
    default: 0.5,
    min: 0,
    doc: 'Default min.cleanable.dirty.ratio.',
  },
  'log.index.interval.bytes': { type: 'int', default: 4096, min: 0, doc: 'Default index.interval.bytes.' },
  'log.index.size.max.bytes': {
    type: 'int',
    default: 10_485_760,
    min: 4,
    doc: 'Default segment.index.bytes.',
  },
  'log.message.timestamp.type': {
    type: 'string',
    default: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
    doc: 'Default message.timestamp.type.',
  },
  'log.message.timestamp.before.max.ms': {
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'Default message.timestamp.before.max.ms: how far in the past a CreateTime timestamp may be.',
  },
  'log.message.timestamp.after.max.ms': {
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'Default message.timestamp.after.max.ms: how far in the future a CreateTime timestamp may be.',
  },
  'log.message.timestamp.difference.max.ms': {
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'Default message.timestamp.difference.max.ms (deprecated in Kafka: both bounds above at once).',
  },
  'log.roll.jitter.ms': {
    type: 'long',
    default: null,
    min: 0,
    doc: 'Default segment.jitter.ms (overrides log.roll.jitter.hours).',
  },
  'log.roll.jitter.hours': { type: 'int', default: 0, min: 0, doc: 'Default segment.jitter.ms, in hours.' },
  'log.flush.interval.messages': {
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'Default flush.messages: fsync after this many messages.',
  },
  'log.flush.interval.ms': {
    type: 'long',
    default: 1000,
    min: 0,
    doc:
      'Default flush.ms: fsync at least this often. Kafka leaves it to the OS because replicas make data durable; ' +
      'a single Tributary node flushes every second, and acks=all always waits for an fsync.',
  },
  'log.flush.scheduler.interval.ms': {
    type: 'long',
    default: 1000,
    min: 1,
    doc: 'How often the flusher checks whether a log needs flushing.',
  },
  'log.flush.offset.checkpoint.interval.ms': {
    type: 'int',
    default: 60_000,
    min: 0,
    doc: 'How often the recovery points are written.',
  },
  'min.insync.replicas': { type: 'int', default: 1, min: 1, doc: 'Default min.insync.replicas.' },
  'compression.type': {
    type: 'string',
    default: 'producer',
    oneOf: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'Default compression.type of topics (producer: keep what the producer sent).',
  },
  'unclean.leader.election.enable': {
    type: 'boolean',
    default: false,
    doc: 'Allow an out-of-sync replica to become leader (may lose data).',
  },
  'socket.request.max.bytes': {
    type: 'int',
    default: 104_857_600,
    min: 1,
    doc: 'Largest request accepted; a larger frame closes the connection.',
  },
  'connections.max.idle.ms': {
    type: 'long',
    default: 600_000,
    min: 1,
    doc: 'Idle connections are closed after this.',
  },
  'queued.max.requests': {
    type: 'int',
    default: 500,
    min: 1,
    doc: 'Requests in flight before reading pauses.',
  },
  'max.connections': { type: 'int', default: 10_000, min: 1, doc: 'Connections accepted at once.' },
  'max.connections.per.ip': {
    type: 'int',
    default: 10_000,
    min: 1,
    doc: 'Connections accepted at once from one address.',
  },
  'queued.max.request.bytes': {
    type: 'long',
    default: -1,
    min: -1,
    doc: 'Bytes of requests in flight before reading pauses (-1: no limit beyond queued.max.requests).',
  },
  'queued.max.requests.per.connection': {
    type: 'int',
    default: 100,
    min: 1,
    doc: 'Requests in flight on one connection before its reading pauses (Tributary; Kafka handles one at a time).',
  },
  'socket.listen.backlog.size': {
    type: 'int',
    default: 50,
    min: 1,
    doc: 'Pending TCP connections the OS queues.',
  },
  'socket.send.buffer.bytes': {
    type: 'int',
    default: 102_400,
    doc: 'Accepted for compatibility.',
    ignored: true,
  },
  'socket.receive.buffer.bytes': {
    type: 'int',
    default: 102_400,
    doc: 'Accepted for compatibility.',
    ignored: true,
  },
  'num.network.threads': {
    type: 'int',
    default: 3,
    doc: 'Accepted for compatibility (one event loop).',
    ignored: true,
  },
  'num.io.threads': {
    type: 'int',
    default: 8,
    doc: 'Accepted for compatibility (one event loop).',
    ignored: true,
  },
  'offsets.topic.num.partitions': {
    type: 'int',
    default: 50,
    min: 1,
    doc: 'Partitions of __consumer_offsets.',
  },
  'offsets.topic.replication.factor': {
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Replication factor of __consumer_offsets in a cluster (capped by the number of live brokers when it is created; a single node keeps 1).',
  },
  'offsets.retention.minutes': {
    type: 'int',
    default: 10_080,
    min: 1,
    doc: 'Committed offsets of an empty group expire after this.',
  },
  'offsets.retention.check.interval.ms': {
    type: 'long',
    default: 600_000,
    min: 1,
    doc: 'Expiry check period.',
  },
  'offset.metadata.max.bytes': { type: 'int', default: 4096, min: 0, doc: 'Largest commit metadata string.' },
  'group.initial.rebalance.delay.ms': {
    type: 'int',
    default: 3000,
    min: 0,
    doc: 'How long the first rebalance of an empty group waits for more members.',
  },
  'group.min.session.timeout.ms': {
    type: 'int',
    default: 6000,
    min: 0,
    doc: 'Smallest session timeout accepted.',
  },
  'group.max.session.timeout.ms': {
    type: 'int',
    default: 1_800_000,
    min: 0,
    doc: 'Largest session timeout accepted.',
  },
  'group.max.size': {
    type: 'int',
    default: 1000,
    min: 1,
    doc: 'Members in one group (Kafka: unlimited; bounded here).',
  },
  'producer.id.expiration.ms': {
    type: 'int',
    default: 86_400_000,
    min: 1,
    doc: 'Idle producer ids are forgotten after this.',
  },
  'transactional.id.expiration.ms': {
    type: 'int',
    default: 604_800_000,
    min: 1,
    doc: 'Accepted for compatibility (transactions not yet supported).',
    ignored: true,
  },
  'replica.lag.time.max.ms': {
    type: 'long',
    default: 30_000,
    min: 1,
    doc: 'A follower not caught up for this long leaves the ISR.',
  },
  'broker.rack': { type: 'string', default: null, doc: 'Rack of this broker, for replica placement.' },
  'cluster.id': { type: 'string', default: null, doc: 'Cluster id (generated on first start when not set).' },
  'process.roles': {
    type: 'list',
    default: 'broker',
    doc: 'broker, controller, or both (with a controller quorum).',
  },
  'controller.quorum.voters': {
    type: 'string',
    default: null,
    doc: 'id@host:port,... of the metadata quorum (same as --controller-quorum).',
  },
} as const satisfies Record<string, ConfigDef>;

export type BrokerConfigKey = keyof typeof BROKER_CONFIG_DEFS;
export type BrokerConfigValue = string | number | boolean | null;
export type BrokerConfig = Readonly<Record<BrokerConfigKey, BrokerConfigValue>>;

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
}

function suggest(key: string): string {
  let best = '';
  let bestScore = 0;
  for (const known of Object.keys(BROKER_CONFIG_DEFS)) {
    // shared dotted words, then shared prefix length
    const a = new Set(key.split('.'));
    const score = known.split('.').filter((w) => a.has(w)).length * 10 + commonPrefix(key, known);
    if (score > bestScore) {
      best = known;
      bestScore = score;
    }
  }
  return bestScore >= 10 ? ` (did you mean '${best}'?)` : '';
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function parseValue(key: string, def: ConfigDef, raw: unknown): BrokerConfigValue {
  if (raw === null) return null;
  const text = String(raw).trim();
  switch (def.type) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(text)) throw new ConfigError(`${key}: expected an integer, got '${text}'`);
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw new ConfigError(`${key}: ${text} is out of range`);
      if (def.min !== undefined && n < def.min)
        throw new ConfigError(`${key}: ${n} is below the minimum ${def.min}`);
      return n;
    }
    case 'double': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n))
        throw new ConfigError(`${key}: expected a number, got '${text}'`);
      if (def.min !== undefined && n < def.min)
        throw new ConfigError(`${key}: ${n} is below the minimum ${def.min}`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false')
        throw new ConfigError(`${key}: expected true or false, got '${text}'`);
      return text === 'true';
    default:
      if (def.oneOf && !def.oneOf.includes(text)) {
        throw new ConfigError(`${key}: '${text}' is not one of ${def.oneOf.join(', ')}`);
      }
      return text;
  }
}

/** Parses Kafka's .properties format: key=value or key: value, # and ! comments, \ line continuations. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`line ${i + 1}: expected key=value, got '${line}'`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** Reads a config file: JSON (an object of key → value) or Kafka .properties. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  if (/^\s*\{/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new ConfigError(`${file}: expected a JSON object of config keys`);
      }
      return parsed as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`${file}: invalid JSON: ${(err as Error).message}`);
    }
  }
  try {
    return parseProperties(text);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
}

/** Validates and completes a broker config: defaults filled in, unknown keys refused. */
export function parseBrokerConfig(input: Readonly<Record<string, unknown>>): BrokerConfig {
  const out: Record<string, BrokerConfigValue> = {};
  for (const [key, def] of Object.entries(BROKER_CONFIG_DEFS)) out[key] = def.default;
  for (const [key, raw] of Object.entries(input)) {
    const def = (BROKER_CONFIG_DEFS as Record<string, ConfigDef>)[key];
    if (!def) {
      throw new ConfigError(
        `unknown broker config '${key}'${suggest(key)}; see docs/broker.md for the keys Tributary knows`,
      );
    }
    out[key] = parseValue(key, def, raw);
  }
  if (out['broker.id'] !== null && input['node.id'] === undefined) out['node.id'] = out['broker.id'];
  if (out['log.dirs'] === null && out['log.dir'] !== null) out['log.dirs'] = out['log.dir'];
  return Object.freeze(out) as BrokerConfig;
}

/** Milliseconds of retention, from Kafka's ms/minutes/hours trio (ms wins, then minutes). */
export function retentionMs(config: BrokerConfig): number {
  const ms = config['log.retention.ms'] as number | null;
  if (ms !== null) return ms;
  const minutes = config['log.retention.minutes'] as number | null;
  if (minutes !== null) return minutes < 0 ? -1 : minutes * 60_000;
  const hours = config['log.retention.hours'] as number;
  return hours < 0 ? -1 : hours * HOUR_MS;
}

/** segment.jitter.ms's broker default, from log.roll.jitter.ms or log.roll.jitter.hours. */
export function rollJitterMs(config: BrokerConfig): number {
  const ms = config['log.roll.jitter.ms'] as number | null;
  return ms ?? (config['log.roll.jitter.hours'] as number) * HOUR_MS;
}

/** Milliseconds before a segment rolls, from log.roll.ms or log.roll.hours. */
export function rollMs(config: BrokerConfig): number {
  const ms = config['log.roll.ms'] as number | null;
  return ms ?? (config['log.roll.hours'] as number) * HOUR_MS;
}
