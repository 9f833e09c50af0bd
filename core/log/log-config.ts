/**
 * Per-topic log configuration: Kafka's topic config names and defaults, parsed and validated
 * (schema with defaults → validate → freeze). A bad value is refused with LogError
 * INVALID_CONFIG naming the key, the value and what is accepted; an unknown key names the
 * closest known one.
 *
 * Kafka's "unlimited" (Long.MAX_VALUE) is Number.MAX_SAFE_INTEGER here; a string holding a
 * larger integer (e.g. "9223372036854775807") is read as unlimited too.
 *
 * Durability: Kafka leaves fsync to the OS (flush.messages and flush.ms default to Long.MAX)
 * because replicas provide durability. A single Tributary node has no replicas, so the
 * default flush.ms is 1000 (the log manager fsyncs every second) and flush.messages stays
 * unlimited; producers with acks=all always wait for an fsync (group commit): the broker calls
 * PartitionLog.flush() before answering them.
 */
import { closestName } from '../util/closest.js';
import { LogError } from './errors.js';

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  'segment.bytes': number;
  'segment.ms': number;
  'segment.index.bytes': number;
  'index.interval.bytes': number;
  'retention.ms': number;
  'retention.bytes': number;
  'cleanup.policy': CleanupPolicy;
  'delete.retention.ms': number;
  'min.compaction.lag.ms': number;
  'max.compaction.lag.ms': number;
  'min.cleanable.dirty.ratio': number;
  'max.message.bytes': number;
  'message.timestamp.type': TimestampType;
  'flush.messages': number;
  'flush.ms': number;
  'min.insync.replicas': number;
  'unclean.leader.election.enable': boolean;
  'compression.type': string;
  'file.delete.delay.ms': number;
  'message.timestamp.before.max.ms': number;
  'message.timestamp.after.max.ms': number;
  'message.timestamp.difference.max.ms': number;
  'segment.jitter.ms': number;
  // Accepted so that configs written for Kafka apply unchanged; they change nothing here.
  preallocate: boolean;
  'local.retention.ms': number;
  'local.retention.bytes': number;
  'remote.storage.enable': boolean;
  'remote.log.copy.disable': boolean;
  'remote.log.delete.on.disable': boolean;
  'compression.gzip.level': number;
  'compression.lz4.level': number;
  'compression.zstd.level': number;
  'leader.replication.throttled.replicas': string;
  'follower.replication.throttled.replicas': string;
  'message.downconversion.enable': boolean;
  'message.format.version': string;
}

const INT32_MAX = 2147483647;
const UNLIMITED = Number.MAX_SAFE_INTEGER;
const DAY_MS = 24 * 60 * 60 * 1000;
export const COMPRESSION_TYPES = ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  'segment.bytes': 1024 * 1024 * 1024,
  'segment.ms': 7 * DAY_MS,
  'segment.index.bytes': 10 * 1024 * 1024,
  'index.interval.bytes': 4096,
  'retention.ms': 7 * DAY_MS,
  'retention.bytes': -1,
  'cleanup.policy': 'delete',
  'delete.retention.ms': DAY_MS,
  'min.compaction.lag.ms': 0,
  'max.compaction.lag.ms': UNLIMITED,
  'min.cleanable.dirty.ratio': 0.5,
  'max.message.bytes': 1048588,
  'message.timestamp.type': 'CreateTime',
  'flush.messages': UNLIMITED,
  'flush.ms': 1000,
  'min.insync.replicas': 1,
  'unclean.leader.election.enable': false,
  'compression.type': 'producer',
  'file.delete.delay.ms': 60000,
  'message.timestamp.before.max.ms': UNLIMITED,
  'message.timestamp.after.max.ms': UNLIMITED,
  'message.timestamp.difference.max.ms': UNLIMITED,
  'segment.jitter.ms': 0,
  preallocate: false,
  'local.retention.ms': -2,
  'local.retention.bytes': -2,
  'remote.storage.enable': false,
  'remote.log.copy.disable': false,
  'remote.log.delete.on.disable': false,
  'compression.gzip.level': -1,
  'compression.lz4.level': 9,
  'compression.zstd.level': 3,
  'leader.replication.throttled.replicas': '',
  'follower.replication.throttled.replicas': '',
  'message.downconversion.enable': true,
  'message.format.version': '3.0-IV1',
});

type Kind =
  | { type: 'int' | 'long'; min: number; max: number }
  | { type: 'double'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; values: readonly string[] }
  | { type: 'string'; maxLength: number; pattern?: RegExp; what?: string }
  | { type: 'gzipLevel' };

interface Spec {
  kind: Kind;
  doc: string;
}

const long = (min: number, max = UNLIMITED): Kind => ({ type: 'long', min, max });
const int = (min: number, max = INT32_MAX): Kind => ({ type: 'int', min, max });

/** `*`, or partition:broker pairs separated by commas (Kafka's ThrottledReplicaListValidator). */
const THROTTLED_REPLICAS: Kind = {
  type: 'string',
  maxLength: 4096,
  pattern: /^(?:\*|\s*\d+\s*:\s*\d+\s*(?:,\s*\d+\s*:\s*\d+\s*)*)?$/,
  what: '"*" or a comma-separated list of partition:broker',
};

const SPECS: Readonly<Record<keyof LogConfig, Spec>> = {
  'segment.bytes': {
    kind: int(14),
    doc: 'Size of one segment file; the log rolls a new segment when an append would exceed it.',
  },
  'segment.ms': {
    kind: long(1),
    doc: 'The log rolls a new segment when the active one is older than this, even if not full.',
  },
  'segment.index.bytes': {
    kind: int(4),
    doc: 'Maximum size of the offset index of a segment; the segment rolls when its index is full.',
  },
  'index.interval.bytes': {
    kind: int(0),
    doc: 'How many bytes of log between two offset index entries (a denser index means shorter scans).',
  },
  'retention.ms': {
    kind: long(-1),
    doc: 'How long closed segments are kept (by their largest record timestamp); -1 keeps them forever.',
  },
  'retention.bytes': {
    kind: long(Number.MIN_SAFE_INTEGER),
    doc: 'Maximum size of the partition before old segments are deleted; -1 means no limit.',
  },
  'cleanup.policy': {
    kind: { type: 'list', values: ['delete', 'compact'] },
    doc: '"delete" drops old segments, "compact" keeps the latest record of every key, or both.',
  },
  'delete.retention.ms': {
    kind: long(0),
    doc: 'How long tombstones (null values) stay in a compacted log, so consumers can see them.',
  },
  'min.compaction.lag.ms': {
    kind: long(0),
    doc: 'Records younger than this are never compacted.',
  },
  'max.compaction.lag.ms': {
    kind: long(1),
    doc: 'A record older than this is eligible for compaction regardless of the dirty ratio.',
  },
  'min.cleanable.dirty.ratio': {
    kind: { type: 'double', min: 0, max: 1 },
    doc: 'The cleaner compacts a log when at least this fraction of it is uncompacted.',
  },
  'max.message.bytes': {
    kind: int(0),
    doc: 'Largest record batch (after compression, with its 12-byte log overhead) the log accepts.',
  },
  'message.timestamp.type': {
    kind: { type: 'enum', values: ['CreateTime', 'LogAppendTime'] },
    doc: 'CreateTime keeps the producer timestamps; LogAppendTime stamps batches with the broker clock.',
  },
  'flush.messages': {
    kind: long(1),
    doc:
      'fsync after this many unflushed messages (default unlimited). Tributary fsyncs on a timer ' +
      '(flush.ms) and for every acks=all produce (group commit).',
  },
  'flush.ms': {
    kind: long(0),
    doc:
      'fsync the log at least this often. Kafka defaults to never (replicas give durability); a single ' +
      'Tributary node has no replicas, so the default is 1000 ms. acks=all producers always wait for an fsync.',
  },
  'min.insync.replicas': {
    kind: int(1),
    doc: 'With acks=all, a write is refused unless at least this many replicas are in sync.',
  },
  'unclean.leader.election.enable': {
    kind: { type: 'boolean' },
    doc: 'Allow an out-of-sync replica to become leader as a last resort (may lose acknowledged data).',
  },
  'compression.type': {
    kind: { type: 'enum', values: COMPRESSION_TYPES },
    doc: '"producer" keeps the codec each batch arrived with; otherwise batches are stored in this codec.',
  },
  'file.delete.delay.ms': {
    kind: long(0),
    doc: 'How long a deleted segment file lingers (renamed *.deleted) before it is removed.',
  },
  'message.timestamp.before.max.ms': {
    kind: long(0),
    doc:
      'With message.timestamp.type=CreateTime, a batch holding a record whose timestamp is more than this ' +
      'many ms before the broker clock is refused (INVALID_TIMESTAMP); default unlimited.',
  },
  'message.timestamp.after.max.ms': {
    kind: long(0),
    doc:
      'With message.timestamp.type=CreateTime, a batch holding a record whose timestamp is more than this ' +
      'many ms after the broker clock is refused (INVALID_TIMESTAMP); default unlimited, as Kafka 3.x (Kafka 4 defaults to 1 hour).',
  },
  'message.timestamp.difference.max.ms': {
    kind: long(0),
    doc: "Kafka's older, deprecated form of both bounds above (removed in Kafka 4): it bounds a side whose own config is unset.",
  },
  'segment.jitter.ms': {
    kind: long(0),
    doc: 'Each segment rolls by time up to this much earlier than segment.ms (random per segment), so logs created together do not all roll at once.',
  },
  preallocate: {
    kind: { type: 'boolean' },
    doc: 'Accepted for compatibility; no effect: Tributary does not preallocate segment files.',
  },
  'local.retention.ms': {
    kind: long(-2),
    doc: 'Accepted for compatibility; no effect: it applies to tiered storage, which Tributary does not have.',
  },
  'local.retention.bytes': {
    kind: long(-2),
    doc: 'Accepted for compatibility; no effect: it applies to tiered storage, which Tributary does not have.',
  },
  'remote.storage.enable': {
    kind: { type: 'boolean' },
    doc: 'Tiered storage; only false is accepted: Tributary keeps every segment on local disk.',
  },
  'remote.log.copy.disable': {
    kind: { type: 'boolean' },
    doc: 'Accepted for compatibility; no effect (tiered storage).',
  },
  'remote.log.delete.on.disable': {
    kind: { type: 'boolean' },
    doc: 'Accepted for compatibility; no effect (tiered storage).',
  },
  'compression.gzip.level': {
    kind: { type: 'gzipLevel' },
    doc: 'Accepted for compatibility; no effect yet: batches recompressed by the broker use the codec default level.',
  },
  'compression.lz4.level': {
    kind: int(1, 17),
    doc: 'Accepted for compatibility; no effect yet: batches recompressed by the broker use the codec default level.',
  },
  'compression.zstd.level': {
    kind: int(-131072, 22),
    doc: 'Accepted for compatibility; no effect yet: batches recompressed by the broker use the codec default level.',
  },
  'leader.replication.throttled.replicas': {
    kind: THROTTLED_REPLICAS,
    doc: 'Accepted for compatibility; no effect: Tributary does not throttle replication.',
  },
  'follower.replication.throttled.replicas': {
    kind: THROTTLED_REPLICAS,
    doc: 'Accepted for compatibility; no effect: Tributary does not throttle replication.',
  },
  'message.downconversion.enable': {
    kind: { type: 'boolean' },
    doc: 'Accepted for compatibility; no effect: Tributary serves record batch v2 only, never converted down.',
  },
  'message.format.version': {
    kind: {
      type: 'string',
      maxLength: 32,
      pattern: /^\d+\.\d+(\.\d+)?(-IV\d+)?$/,
      what: 'a Kafka version such as 2.8, 3.0-IV1 or 0.10.2',
    },
    doc: 'Accepted for compatibility (removed in Kafka 4); no effect: the log format is always record batch v2.',
  },
};

export const LOG_CONFIG_KEYS = Object.freeze(Object.keys(SPECS) as (keyof LogConfig)[]);

function describeKind(k: Kind): string {
  switch (k.type) {
    case 'int':
    case 'long':
      return `${k.type} in [${k.min === Number.MIN_SAFE_INTEGER ? '-inf' : k.min}, ${k.max === UNLIMITED ? 'Long.MAX' : k.max}]`;
    case 'double':
      return `double in [${k.min}, ${k.max}]`;
    case 'boolean':
      return 'boolean (true or false)';
    case 'enum':
      return `one of ${k.values.join(', ')}`;
    case 'list':
      return `a comma-separated list of ${k.values.join(', ')}`;
    case 'string':
      return k.what ?? `a string of at most ${k.maxLength} characters`;
    case 'gzipLevel':
      return 'int: -1 (the codec default) or 1 to 9';
  }
}

function formatDefault(v: LogConfig[keyof LogConfig]): string {
  if (v === UNLIMITED) return '9223372036854775807 (unlimited)';
  return String(v);
}

export const LOG_CONFIG_DOCS: Readonly<
  Record<keyof LogConfig, { doc: string; type: string; default: string }>
> = Object.freeze(
  Object.fromEntries(
    LOG_CONFIG_KEYS.map((key) => [
      key,
      {
        doc: SPECS[key].doc,
        type: describeKind(SPECS[key].kind),
        default: formatDefault(DEFAULT_LOG_CONFIG[key]),
      },
    ]),
  ) as Record<keyof LogConfig, { doc: string; type: string; default: string }>,
);

export function isLogConfigKey(key: string): key is keyof LogConfig {
  return Object.hasOwn(SPECS, key);
}

/**
 * Overrides applied on top of base (Kafka's defaults when absent), validated, frozen.
 * Throws LogError INVALID_CONFIG naming the first bad key.
 */
export function parseLogConfig(
  overrides: Record<string, string | number | boolean>,
  base: LogConfig = DEFAULT_LOG_CONFIG,
): LogConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [key, raw] of Object.entries(overrides)) {
    if (!isLogConfigKey(key)) {
      const near = closestKey(key);
      throw new LogError(
        'INVALID_CONFIG',
        `unknown topic config '${key}'${near === undefined ? '' : ` (did you mean '${near}'?)`}; known: ${LOG_CONFIG_KEYS.join(', ')}`,
      );
    }
    out[key] = parseValue(key, SPECS[key].kind, raw);
    if (key === 'remote.storage.enable' && out[key] === true) {
      throw new LogError(
        'INVALID_CONFIG',
        'remote.storage.enable=true is not supported: Tributary has no tiered storage and keeps every segment on local disk; leave it false (or unset) and size retention.ms/retention.bytes for the disk',
      );
    }
  }
  return Object.freeze(out as unknown as LogConfig);
}

function invalid(key: string, raw: unknown, kind: Kind): LogError {
  return new LogError(
    'INVALID_CONFIG',
    `invalid value ${JSON.stringify(raw)} for topic config '${key}': expected ${describeKind(kind)}`,
  );
}

function parseValue(key: string, kind: Kind, raw: string | number | boolean): unknown {
  switch (kind.type) {
    case 'int':
    case 'long': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) {
        n = Number(raw.trim());
        // Long.MAX_VALUE and other integers beyond 2^53 mean "unlimited" in Kafka configs.
        if (kind.type === 'long' && n > UNLIMITED) n = UNLIMITED;
      } else throw invalid(key, raw, kind);
      if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) throw invalid(key, raw, kind);
      return n;
    }
    case 'double': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && raw.trim() !== ''
            ? Number(raw)
            : Number.NaN;
      if (!Number.isFinite(n) || n < kind.min || n > kind.max) throw invalid(key, raw, kind);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (s === 'true') return true;
      if (s === 'false') return false;
      throw invalid(key, raw, kind);
    }
    case 'enum': {
      const s = String(raw).trim();
      const hit = kind.values.find((v) => v.toLowerCase() === s.toLowerCase());
      if (hit === undefined) throw invalid(key, raw, kind);
      return hit;
    }
    case 'list': {
      const parts = String(raw)
        .split(',')
        .map((p) => p.trim().toLowerCase())
        .filter((p) => p !== '');
      if (parts.length === 0 || parts.some((p) => !kind.values.includes(p))) throw invalid(key, raw, kind);
      const set = new Set(parts);
      return set.size === 2 ? 'compact,delete' : [...set][0];
    }
    case 'string': {
      const s = String(raw).trim();
      if (s.length > kind.maxLength || (kind.pattern !== undefined && !kind.pattern.test(s)))
        throw invalid(key, raw, kind);
      return s;
    }
    case 'gzipLevel': {
      const n =
        typeof raw === 'number'
          ? raw
          : /^\s*-?\d+\s*$/.test(String(raw))
            ? Number(String(raw).trim())
            : Number.NaN;
      if (n !== -1 && !(Number.isInteger(n) && n >= 1 && n <= 9)) throw invalid(key, raw, kind);
      return n;
    }
  }
}

/** The known key nearest to key by edit distance, when it is plausibly a typo. */
function closestKey(key: string): string | undefined {
  return closestName(key, LOG_CONFIG_KEYS);
}
