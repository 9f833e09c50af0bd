/**
 * The log manager: owns one data directory, every partition log in it and the background work
 * on them (retention, time-based flush, checkpoints, compaction). Kafka's `LogManager`, plus the
 * topic metadata a single node keeps itself (Kafka keeps it in ZooKeeper or the KRaft quorum).
 *
 * On-disk layout of the data directory:
 *
 *   .lock                              owner's pid (core/env/lock.ts); refused while it lives
 *   meta.properties                    version=1, cluster.id, node.id (Kafka's format)
 *   topics.json                        topic metadata, versioned JSON, rewritten atomically
 *   recovery-point-offset-checkpoint   per partition: everything below was fsynced
 *   log-start-offset-checkpoint        per partition: the log start offset
 *   cleaner-offset-checkpoint          per compacted partition: the first dirty offset
 *   .kafka_cleanshutdown               present only between a clean close() and the next open
 *   <topic>-<n>/                       one partition (see files.ts), with partition.metadata
 *                                      ("version: 0", "topic_id: <id>") as Kafka writes it
 *   <topic>-<n>.<32 hex>-delete/       a deleted partition, removed after file.delete.delay.ms
 *
 * Crash safety of the topic operations (every step below is durable before the next starts):
 * - create / add partitions: topics.json first, then the partition directories. A crash in
 *   between leaves a topic whose missing directories the next open creates empty.
 * - delete: topics.json without the topic and with it listed under "deleting", then the
 *   directories renamed `*-delete`, then topics.json without the "deleting" entry. The next
 *   open finishes a delete that was cut short: any `<topic>-<n>` of a topic under "deleting"
 *   is renamed and removed, and every `*-delete` directory is removed.
 * - a partition directory that topics.json does not know (copied in, or topics.json removed
 *   by hand) is adopted: its topic is added with default configs and enough partitions to
 *   include it, and a warning says so. Data is never deleted on a guess.
 * - a partition directory whose partition.metadata names another topic id than topics.json
 *   (a stale directory of an earlier topic of the same name) is renamed `*-stray` and kept.
 *
 * Concurrency: single-threaded like the rest of core/log. Every public method runs to
 * completion synchronously except flushAll() and close(), whose fsyncs run off the event
 * loop; the cleaner runs synchronously (it never interleaves with appends to the same log).
 */
import * as path from 'node:path';
import { type Clock, systemClock } from '../env/clock.js';
import { type FileSystem, nodeFileSystem } from '../env/fs.js';
import { type DirLock, lockDataDir } from '../env/lock.js';
import { type Random, systemRandom } from '../env/random.js';
import {
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  type OffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  tpKey,
  writeOffsetCheckpoint,
} from './checkpoints.js';
import { type CleanStats, cleanableRange, cleanLog } from './cleaner.js';
import { LogError } from './errors.js';
import { parsePartitionDirName, partitionDirName } from './files.js';
import { PartitionLog } from './log.js';
import { isLogConfigKey, LOG_CONFIG_KEYS, type LogConfig, parseLogConfig } from './log-config.js';
import { collisionName, isInternalTopic, topicNameProblem, validateTopicName } from './topic-name.js';

export interface TopicInfo {
  name: string;
  /** 16 random bytes, base64url without padding: Kafka's Uuid text form. */
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** The topic-level configs set on this topic, as given (strings). */
  overrides: Record<string, string>;
  /** Effective config: static defaults ← broker defaults ← overrides. */
  config: LogConfig;
  internal: boolean;
}

export type TopicChangeEvent = { type: 'created' | 'deleted' | 'partitions' | 'config'; topic: string };

export interface LogManagerLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface LogManagerOptions {
  dataDir: string;
  /** Checked against meta.properties; written there on the first start (default 0). */
  nodeId?: number;
  /** Written to meta.properties on the first start (default: a random Uuid); checked afterwards. */
  clusterId?: string;
  /**
   * Broker-level configs, Kafka's names (see docs/topic-configs.md): num.partitions,
   * default.replication.factor, log.retention.ms/minutes/hours, log.segment.bytes, … map to the
   * topic defaults (log.retention.ms → retention.ms); the log.* scheduler keys set the background
   * work. Keys the log manager does not know are ignored (they belong to other layers).
   */
  defaults?: Record<string, string | number | boolean>;
  fs?: FileSystem;
  clock?: Clock;
  random?: Random;
  /** Take the data directory's `.lock` (default true). A simulation with an in-memory fs turns it off. */
  lock?: boolean;
  /** Largest replication factor createTopic accepts (the number of brokers; default 32767). */
  maxReplicationFactor?: number;
  logger?: LogManagerLogger;
}

/** Kafka's DescribeConfigs sources for a topic config. */
export type ConfigSource = 'TOPIC_CONFIG' | 'STATIC_BROKER_CONFIG' | 'DEFAULT_CONFIG';

export interface TopicConfigEntry {
  name: keyof LogConfig;
  value: string;
  source: ConfigSource;
  /** The broker key that sets this config's default (Kafka's synonym), e.g. log.retention.ms. */
  brokerSynonym: string;
}

export const META_PROPERTIES_FILE = 'meta.properties';
export const TOPICS_FILE = 'topics.json';
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const PARTITION_METADATA_FILE = 'partition.metadata';

/** Limits (Kafka has none for some of these; a limit on everything). */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;
export const MAX_TOTAL_PARTITIONS = 100_000;
export const MAX_REPLICATION_FACTOR = 32_767;
const MAX_METADATA_FILE_BYTES = 64 * 1024 * 1024;
/** Cleaner ticks that may follow each other without the backoff. */
const MAX_IMMEDIATE_RUNS = 100;
/** Node's timers hold at most 2^31 - 1 ms; a longer period means "never". */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

const TOPICS_FILE_VERSION = 1;
/** Directories of the data dir that other parts of the node own (the Raft metadata log). */
const OTHER_OWNERS: ReadonlySet<string> = new Set(['cluster-metadata']);
const DELETE_DIR_RE = /^(.+)-(\d+)\.([0-9a-f]{32})-delete$/;
const STRAY_DIR_RE = /-(stray|future)$/;

// ---------------------------------------------------------------------------------------------
// Broker-level configuration

/**
 * Broker keys that set topic defaults (Kafka's `ServerTopicConfigSynonyms`), in order of
 * precedence. hours and minutes are converted to milliseconds.
 */
export const TOPIC_CONFIG_SYNONYMS: Readonly<Record<keyof LogConfig, readonly string[]>> = Object.freeze({
  'segment.bytes': ['log.segment.bytes'],
  'segment.ms': ['log.roll.ms', 'log.roll.hours'],
  'segment.index.bytes': ['log.index.size.max.bytes'],
  'index.interval.bytes': ['log.index.interval.bytes'],
  'retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  'retention.bytes': ['log.retention.bytes'],
  'cleanup.policy': ['log.cleanup.policy'],
  'delete.retention.ms': ['log.cleaner.delete.retention.ms'],
  'min.compaction.lag.ms': ['log.cleaner.min.compaction.lag.ms'],
  'max.compaction.lag.ms': ['log.cleaner.max.compaction.lag.ms'],
  'min.cleanable.dirty.ratio': ['log.cleaner.min.cleanable.ratio'],
  'max.message.bytes': ['message.max.bytes'],
  'message.timestamp.type': ['log.message.timestamp.type'],
  'flush.messages': ['log.flush.interval.messages'],
  'flush.ms': ['log.flush.interval.ms'],
  'min.insync.replicas': ['min.insync.replicas'],
  'unclean.leader.election.enable': ['unclean.leader.election.enable'],
  'compression.type': ['compression.type'],
  'file.delete.delay.ms': ['log.segment.delete.delay.ms'],
  'message.timestamp.before.max.ms': ['log.message.timestamp.before.max.ms'],
  'message.timestamp.after.max.ms': ['log.message.timestamp.after.max.ms'],
  'message.timestamp.difference.max.ms': ['log.message.timestamp.difference.max.ms'],
  'segment.jitter.ms': ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
  // Accepted for compatibility, no effect, and no broker default here.
  preallocate: [],
  'local.retention.ms': [],
  'local.retention.bytes': [],
  'remote.storage.enable': [],
  'remote.log.copy.disable': [],
  'remote.log.delete.on.disable': [],
  'compression.gzip.level': [],
  'compression.lz4.level': [],
  'compression.zstd.level': [],
  'leader.replication.throttled.replicas': [],
  'follower.replication.throttled.replicas': [],
  'message.downconversion.enable': [],
  'message.format.version': [],
});

/** Broker keys the log manager reads itself, with their defaults and documentation. */
export const BROKER_LOG_SETTINGS = Object.freeze({
  'num.partitions': {
    default: 1,
    min: 1,
    max: MAX_PARTITIONS_PER_TOPIC,
    doc: 'Partitions of a topic created without a count.',
  },
  'default.replication.factor': {
    default: 1,
    min: 1,
    max: MAX_REPLICATION_FACTOR,
    doc: 'Replication factor of a topic created without one.',
  },
  'log.retention.check.interval.ms': {
    default: 300_000,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'How often retention (retention.ms, retention.bytes) deletes old segments.',
  },
  'log.flush.scheduler.interval.ms': {
    default: 1000,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc:
      'How often the flusher checks which logs are due an fsync by their flush.ms. Kafka defaults to ' +
      'never (Long.MAX); Tributary checks every second because its flush.ms defaults to 1000.',
  },
  'log.flush.offset.checkpoint.interval.ms': {
    default: 60_000,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'How often recovery points are written to recovery-point-offset-checkpoint.',
  },
  'log.flush.start.offset.checkpoint.interval.ms': {
    default: 60_000,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'How often log start offsets are written to log-start-offset-checkpoint.',
  },
  'log.cleaner.enable': { default: true, doc: 'Run the cleaner on topics with cleanup.policy=compact.' },
  'log.cleaner.backoff.ms': {
    default: 15_000,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'How long the cleaner sleeps when no log needs cleaning.',
  },
  'log.cleaner.dedupe.buffer.size': {
    default: 128 * 1024 * 1024,
    min: 1024 * 1024,
    max: 2 ** 31 - 1,
    doc:
      'Memory for the key → offset map of one cleaning pass (24 bytes per key); a dirty section with ' +
      'more keys is cleaned in several passes.',
  },
  'producer.id.expiration.ms': {
    default: 86_400_000,
    min: 1,
    max: 2 ** 31 - 1,
    doc:
      'How long the state of an idempotent producer outlives its last write; the cleaner keeps the ' +
      "last batch of each producer younger than this so that the producer's sequence survives compaction.",
  },
  'auto.create.topics.enable': {
    default: true,
    doc: 'Create a topic when a client asks for metadata of, or produces to, one that does not exist (read by the broker).',
  },
  'delete.topic.enable': { default: true, doc: 'Allow DeleteTopics (read by the broker).' },
} as const);

type BrokerSettingKey = keyof typeof BROKER_LOG_SETTINGS;

interface BrokerLogSettings {
  numPartitions: number;
  defaultReplicationFactor: number;
  retentionCheckIntervalMs: number;
  flushSchedulerIntervalMs: number;
  flushOffsetCheckpointIntervalMs: number;
  flushStartOffsetCheckpointIntervalMs: number;
  cleanerEnable: boolean;
  cleanerBackoffMs: number;
  cleanerDedupeBufferSizeBytes: number;
  producerIdExpirationMs: number;
}

interface ResolvedBrokerConfig {
  settings: BrokerLogSettings;
  topicDefaults: LogConfig;
  /** Topic keys whose default a broker key set, and which broker key. */
  brokerSet: Map<keyof LogConfig, string>;
  effective: Record<string, string>;
}

function brokerConfigError(key: string, raw: unknown, expected: string): LogError {
  return new LogError(
    'INVALID_CONFIG',
    `invalid value ${JSON.stringify(raw)} for broker config '${key}': expected ${expected}`,
  );
}

function readBrokerInt(key: string, raw: string | number | boolean, min: number, max: number): number {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw))
    n = Math.min(Number(raw.trim()), Number.MAX_SAFE_INTEGER);
  else throw brokerConfigError(key, raw, `an integer in [${min}, ${max}]`);
  if (!Number.isSafeInteger(n) || n < min)
    throw brokerConfigError(key, raw, `an integer in [${min}, ${max}]`);
  return Math.min(n, max);
}

function readBrokerBool(key: string, raw: string | number | boolean): boolean {
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).trim().toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw brokerConfigError(key, raw, 'true or false');
}

/** Broker keys → broker settings and topic defaults; throws LogError INVALID_CONFIG naming the key. */
export function resolveBrokerConfig(
  defaults: Record<string, string | number | boolean> = {},
): ResolvedBrokerConfig {
  const given = (key: string): string | number | boolean | undefined =>
    Object.hasOwn(defaults, key) && defaults[key] !== undefined && defaults[key] !== null
      ? defaults[key]
      : undefined;

  const topicOverrides: Record<string, string | number | boolean> = {};
  const brokerSet = new Map<keyof LogConfig, string>();
  for (const topicKey of LOG_CONFIG_KEYS) {
    for (const brokerKey of TOPIC_CONFIG_SYNONYMS[topicKey]) {
      const raw = given(brokerKey);
      if (raw === undefined) continue;
      let value: string | number | boolean = raw;
      const factor = brokerKey.endsWith('.hours') ? 3_600_000 : brokerKey.endsWith('.minutes') ? 60_000 : 1;
      if (factor !== 1) {
        const n = readBrokerInt(brokerKey, raw, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        value = n < 0 ? -1 : Math.min(n * factor, Number.MAX_SAFE_INTEGER);
      }
      try {
        parseLogConfig({ [topicKey]: value });
      } catch (err) {
        throw new LogError(
          'INVALID_CONFIG',
          `invalid value ${JSON.stringify(raw)} for broker config '${brokerKey}' (the default of topic config '${topicKey}'): ${(err as Error).message}`,
          { cause: err },
        );
      }
      topicOverrides[topicKey] = value;
      brokerSet.set(topicKey, brokerKey);
      break;
    }
  }
  // Kafka: without log.flush.interval.ms, flush.ms defaults to log.flush.scheduler.interval.ms.
  const schedulerRaw = given('log.flush.scheduler.interval.ms');
  if (!brokerSet.has('flush.ms') && schedulerRaw !== undefined) {
    topicOverrides['flush.ms'] = schedulerRaw;
    brokerSet.set('flush.ms', 'log.flush.scheduler.interval.ms');
  }
  const topicDefaults = parseLogConfig(topicOverrides);

  const setting = <K extends BrokerSettingKey>(key: K): number | boolean => {
    const spec = BROKER_LOG_SETTINGS[key];
    const raw = given(key);
    if (typeof spec.default === 'boolean') return raw === undefined ? spec.default : readBrokerBool(key, raw);
    const range = spec as { default: number; min: number; max: number };
    return raw === undefined ? range.default : readBrokerInt(key, raw, range.min, range.max);
  };
  const num = (key: BrokerSettingKey): number => setting(key) as number;
  const settings: BrokerLogSettings = {
    numPartitions: num('num.partitions'),
    defaultReplicationFactor: num('default.replication.factor'),
    retentionCheckIntervalMs: num('log.retention.check.interval.ms'),
    flushSchedulerIntervalMs: num('log.flush.scheduler.interval.ms'),
    flushOffsetCheckpointIntervalMs: num('log.flush.offset.checkpoint.interval.ms'),
    flushStartOffsetCheckpointIntervalMs: num('log.flush.start.offset.checkpoint.interval.ms'),
    cleanerEnable: setting('log.cleaner.enable') as boolean,
    cleanerBackoffMs: num('log.cleaner.backoff.ms'),
    cleanerDedupeBufferSizeBytes: num('log.cleaner.dedupe.buffer.size'),
    producerIdExpirationMs: num('producer.id.expiration.ms'),
  };

  const effective: Record<string, string> = {};
  for (const key of Object.keys(BROKER_LOG_SETTINGS) as BrokerSettingKey[])
    effective[key] = String(setting(key));
  for (const topicKey of LOG_CONFIG_KEYS) {
    const synonyms = TOPIC_CONFIG_SYNONYMS[topicKey];
    if (synonyms.length === 0) continue;
    effective[synonyms[0]!] = String(topicDefaults[topicKey]);
    for (const other of synonyms.slice(1)) {
      const raw = given(other);
      if (raw !== undefined) effective[other] = String(raw);
    }
  }
  return { settings, topicDefaults, brokerSet, effective };
}

// ---------------------------------------------------------------------------------------------
// Ids and small files

/** Kafka's `Uuid.randomUuid()`: a version-4 UUID in base64url, never starting with '-'. */
export function randomUuid(random: Random = systemRandom): string {
  const bytes = new Uint8Array(16);
  for (let attempt = 0; attempt < 100; attempt++) {
    random.fill(bytes);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const text = Buffer.from(bytes).toString('base64url');
    if (!text.startsWith('-')) return text;
  }
  throw new Error('could not generate a Uuid (is the random source broken?)');
}

function randomHex32(random: Random): string {
  const bytes = new Uint8Array(16);
  random.fill(bytes);
  return Buffer.from(bytes).toString('hex');
}

function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.search(/[=:]/);
    if (eq < 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

interface TopicRecord {
  name: string;
  topicId: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

interface TopicsFile {
  version: number;
  topics: TopicRecord[];
  /** Topics whose deletion began but whose directories may not all be renamed yet. */
  deleting: { name: string; topicId: string }[];
}

function storageError(message: string, cause?: unknown): LogError {
  return new LogError('KAFKA_STORAGE_ERROR', message, { cause, retriable: false });
}

function parseTopicsFile(buf: Buffer, file: string): TopicsFile {
  const bad = (why: string): LogError =>
    storageError(
      `${file} is not a valid topics file (${why}); restore it from a backup or move it away to adopt the partition directories with default configs`,
    );
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (typeof json !== 'object' || json === null) throw bad('not an object');
  const obj = json as Record<string, unknown>;
  if (obj.version !== TOPICS_FILE_VERSION) throw bad(`unsupported version ${JSON.stringify(obj.version)}`);
  if (!Array.isArray(obj.topics)) throw bad('"topics" is not an array');
  const topics: TopicRecord[] = [];
  for (const t of obj.topics as unknown[]) {
    const r = t as Partial<TopicRecord> | null;
    if (
      r === null ||
      typeof r !== 'object' ||
      typeof r.name !== 'string' ||
      typeof r.topicId !== 'string' ||
      !Number.isSafeInteger(r.partitions) ||
      (r.partitions as number) < 1 ||
      !Number.isSafeInteger(r.replicationFactor) ||
      typeof r.configs !== 'object' ||
      r.configs === null ||
      Object.values(r.configs).some((v) => typeof v !== 'string')
    ) {
      throw bad(`bad topic entry ${JSON.stringify(t).slice(0, 200)}`);
    }
    topics.push({
      name: r.name,
      topicId: r.topicId,
      partitions: r.partitions as number,
      replicationFactor: r.replicationFactor as number,
      configs: { ...r.configs },
    });
  }
  const deleting: { name: string; topicId: string }[] = [];
  for (const d of Array.isArray(obj.deleting) ? (obj.deleting as unknown[]) : []) {
    const r = d as { name?: unknown; topicId?: unknown } | null;
    if (r === null || typeof r !== 'object' || typeof r.name !== 'string' || typeof r.topicId !== 'string') {
      throw bad(`bad deleting entry ${JSON.stringify(d).slice(0, 200)}`);
    }
    deleting.push({ name: r.name, topicId: r.topicId });
  }
  return { version: TOPICS_FILE_VERSION, topics, deleting };
}

// ---------------------------------------------------------------------------------------------

interface TopicState {
  name: string;
  topicId: string;
  partitions: number;
  replicationFactor: number;
  overrides: Record<string, string>;
  config: LogConfig;
  logs: PartitionLog[];
}

interface OpenContext {
  cleanShutdown: boolean;
  recoveryPoints: OffsetCheckpoint;
  logStartOffsets: OffsetCheckpoint;
}

type Task = 'retention' | 'flush' | 'recovery-checkpoint' | 'start-offset-checkpoint' | 'cleaner';

const consoleLogger: LogManagerLogger = {
  info: () => {},
  warn: (message) => console.warn(`[tributary log-manager] ${message}`),
};

export class LogManager {
  readonly clusterId: string;
  readonly nodeId: number;
  readonly dataDir: string;

  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: LogManagerLogger;
  private readonly maxReplicationFactor: number;
  private readonly broker: ResolvedBrokerConfig;
  private dirLock: DirLock | undefined;

  private readonly topicStates = new Map<string, TopicState>();
  private deleting: { name: string; topicId: string }[] = [];
  private readonly cleanerCheckpoint: OffsetCheckpoint = new Map();
  private readonly lastFlushMs = new Map<PartitionLog, number>();
  private readonly listeners = new Set<(event: TopicChangeEvent) => void>();
  private readonly timers = new Map<Task, { cancel(): void }>();
  /** Renamed `*-delete` directories awaiting removal → their timer. */
  private readonly pendingDeletes = new Map<string, { cancel(): void }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private started = false;
  private immediateRuns = 0;
  /** Per partition: the earliest delete horizon of a tombstone still in the log (-1: none). */
  private readonly deleteHorizons = new Map<string, number>();
  /** Partitions whose scheduled clean failed: skipped by the timer until runCleaner() succeeds on them. */
  private readonly uncleanable = new Set<string>();
  private closing: Promise<void> | undefined;

  private constructor(
    opts: LogManagerOptions,
    meta: { clusterId: string; nodeId: number },
    broker: ResolvedBrokerConfig,
    lock: DirLock | undefined,
  ) {
    this.dataDir = opts.dataDir;
    this.fs = opts.fs ?? nodeFileSystem;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
    this.logger = opts.logger ?? consoleLogger;
    this.maxReplicationFactor = Math.min(
      opts.maxReplicationFactor ?? MAX_REPLICATION_FACTOR,
      MAX_REPLICATION_FACTOR,
    );
    this.clusterId = meta.clusterId;
    this.nodeId = meta.nodeId;
    this.broker = broker;
    this.dirLock = lock;
  }

  /**
   * Locks the directory (DataDirLockedError while another live process holds it), reads or
   * creates meta.properties, loads topics.json, finishes interrupted deletes, opens and recovers
   * every partition log: from its checkpointed recovery point after an unclean shutdown, not at
   * all after a clean one.
   */
  static open(opts: LogManagerOptions): LogManager {
    const broker = resolveBrokerConfig(opts.defaults);
    const fs = opts.fs ?? nodeFileSystem;
    if (
      opts.nodeId !== undefined &&
      (!Number.isSafeInteger(opts.nodeId) || opts.nodeId < 0 || opts.nodeId > 2 ** 31 - 1)
    ) {
      throw new RangeError(`invalid node id ${opts.nodeId}: expected an integer in [0, 2147483647]`);
    }
    const lock = opts.lock === false ? undefined : lockDataDir(opts.dataDir);
    try {
      fs.mkdirp(opts.dataDir);
      const meta = LogManager.loadMeta(fs, opts, opts.random ?? systemRandom);
      const manager = new LogManager(opts, meta, broker, lock);
      manager.load();
      return manager;
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  private static loadMeta(
    fs: FileSystem,
    opts: LogManagerOptions,
    random: Random,
  ): { clusterId: string; nodeId: number } {
    const file = path.join(opts.dataDir, META_PROPERTIES_FILE);
    if (fs.exists(file)) {
      const props = parseProperties(fs.readFile(file).toString('utf8'));
      const clusterId = props.get('cluster.id');
      const nodeId = Number(props.get('node.id') ?? props.get('broker.id'));
      if (
        props.get('version') !== '1' ||
        clusterId === undefined ||
        clusterId === '' ||
        !Number.isSafeInteger(nodeId)
      ) {
        throw storageError(`${file} is malformed (expected version=1, cluster.id and node.id)`);
      }
      if (opts.nodeId !== undefined && opts.nodeId !== nodeId) {
        throw storageError(
          `stored node id ${nodeId} in ${file} doesn't match the configured node id ${opts.nodeId}; ` +
            'use the same node id or another data directory',
        );
      }
      if (opts.clusterId !== undefined && opts.clusterId !== clusterId) {
        throw storageError(
          `the data directory ${opts.dataDir} belongs to cluster ${clusterId}, not ${opts.clusterId}; use another data directory`,
        );
      }
      return { clusterId, nodeId };
    }
    const meta = { clusterId: opts.clusterId ?? randomUuid(random), nodeId: opts.nodeId ?? 0 };
    const text = `#\n# Tributary data directory metadata; do not edit.\nversion=1\ncluster.id=${meta.clusterId}\nnode.id=${meta.nodeId}\n`;
    fs.writeFileAtomic(file, Buffer.from(text, 'utf8'));
    return meta;
  }

  // --- loading ---------------------------------------------------------------------------------

  private load(): void {
    const topicsPath = path.join(this.dataDir, TOPICS_FILE);
    const hadTopicsFile = this.fs.exists(topicsPath);
    let dirty = false;
    if (hadTopicsFile) {
      const buf = this.fs.readFile(topicsPath);
      if (buf.length > MAX_METADATA_FILE_BYTES)
        throw storageError(`${topicsPath} is larger than ${MAX_METADATA_FILE_BYTES} bytes`);
      const file = parseTopicsFile(buf, topicsPath);
      for (const r of file.topics) {
        let config: LogConfig;
        try {
          config = parseLogConfig(r.configs, this.broker.topicDefaults);
        } catch (err) {
          throw storageError(
            `topic '${r.name}' in ${topicsPath} has an invalid config: ${(err as Error).message}`,
            err,
          );
        }
        this.topicStates.set(r.name, { ...r, overrides: r.configs, config, logs: [] });
      }
      this.deleting = file.deleting;
    }

    const markerPath = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    const ctx: OpenContext = {
      cleanShutdown: this.fs.exists(markerPath),
      recoveryPoints: this.readCheckpointOrEmpty(RECOVERY_POINT_CHECKPOINT_FILE),
      logStartOffsets: this.readCheckpointOrEmpty(LOG_START_OFFSET_CHECKPOINT_FILE),
    };
    for (const [k, v] of this.readCheckpointOrEmpty(CLEANER_OFFSET_CHECKPOINT_FILE))
      this.cleanerCheckpoint.set(k, v);

    // Scan the directory: finish deletes, adopt unknown partition directories.
    const deletingNames = new Set(this.deleting.map((d) => d.name));
    for (const entry of this.fs.readdir(this.dataDir).sort()) {
      const full = path.join(this.dataDir, entry);
      if (!this.fs.isDirectory(full)) continue;
      if (OTHER_OWNERS.has(entry)) continue; // not ours: the cluster's metadata log lives here
      if (DELETE_DIR_RE.test(entry)) {
        this.fs.rmrf(full);
        continue;
      }
      if (STRAY_DIR_RE.test(entry)) {
        this.logger.warn(
          `ignoring ${full}: a stray or future partition directory; remove it when it is not needed`,
        );
        continue;
      }
      const parsed = parsePartitionDirName(entry);
      if (parsed === null || topicNameProblem(parsed.topic) !== undefined) {
        this.logger.warn(`ignoring ${full}: not a partition directory`);
        continue;
      }
      const state = this.topicStates.get(parsed.topic);
      if (state === undefined && deletingNames.has(parsed.topic)) {
        this.renameForDelete(full);
        continue;
      }
      if (state === undefined) {
        const config = this.broker.topicDefaults;
        this.topicStates.set(parsed.topic, {
          name: parsed.topic,
          topicId: this.readPartitionTopicId(full) ?? randomUuid(this.random),
          partitions: parsed.partition + 1,
          replicationFactor: 1,
          overrides: {},
          config,
          logs: [],
        });
        this.logger.warn(
          `adopted ${full}: ${hadTopicsFile ? `${TOPICS_FILE} does not know topic '${parsed.topic}'` : `no ${TOPICS_FILE}`}; ` +
            'it gets the broker default configs',
        );
        dirty = true;
      } else if (parsed.partition >= state.partitions) {
        this.logger.warn(
          `adopted ${full}: topic '${parsed.topic}' grows to ${parsed.partition + 1} partitions to include it`,
        );
        state.partitions = parsed.partition + 1;
        dirty = true;
      }
    }
    if (this.deleting.length > 0) {
      this.deleting = [];
      dirty = true;
    }
    if (totalPartitions(this.topicStates.values()) > MAX_TOTAL_PARTITIONS) {
      throw storageError(`${this.dataDir} holds more than ${MAX_TOTAL_PARTITIONS} partitions`);
    }
    if (dirty) this.persistTopics();

    try {
      for (const state of this.topicStates.values()) {
        for (let p = 0; p < state.partitions; p++) state.logs.push(this.openPartition(state, p, ctx));
      }
    } catch (err) {
      for (const state of this.topicStates.values()) for (const log of state.logs) closeQuietly(log);
      throw err;
    }
    // From here on, a crash is an unclean shutdown again.
    if (ctx.cleanShutdown) {
      this.fs.unlink(markerPath);
      this.fs.syncDir(this.dataDir);
    }
    this.logger.info(
      `opened ${this.dataDir}: ${this.topicStates.size} topics, ${totalPartitions(this.topicStates.values())} partitions ` +
        `after ${ctx.cleanShutdown ? 'a clean' : 'an unclean'} shutdown`,
    );
  }

  private readCheckpointOrEmpty(name: string): OffsetCheckpoint {
    const file = path.join(this.dataDir, name);
    try {
      return readOffsetCheckpoint(this.fs, file);
    } catch (err) {
      // Safe fallback: no recovery point means recovering the whole log; no cleaner offset means
      // cleaning from the start; no log start offset means the log's own.
      this.logger.warn(`ignoring ${file}: ${(err as Error).message}`);
      return new Map();
    }
  }

  private openPartition(state: TopicState, partition: number, ctx?: OpenContext): PartitionLog {
    const dir = path.join(this.dataDir, partitionDirName(state.name, partition));
    const storedId = this.readPartitionTopicId(dir);
    if (storedId !== undefined && storedId !== state.topicId) {
      const stray = `${dir}.${randomHex32(this.random)}-stray`;
      this.logger.warn(
        `${dir} belongs to topic id ${storedId}, not ${state.topicId} (an earlier topic of the same name); moved to ${stray}`,
      );
      this.fs.rename(dir, stray);
      this.fs.syncDir(this.dataDir);
    }
    const key = tpKey(state.name, partition);
    const recoveryPoint =
      ctx === undefined
        ? undefined
        : ctx.cleanShutdown
          ? Number.MAX_SAFE_INTEGER
          : (ctx.recoveryPoints.get(key)?.offset ?? 0);
    const logStartOffset = ctx?.logStartOffsets.get(key)?.offset;
    const log = PartitionLog.open({
      dir,
      topic: state.name,
      partition,
      config: state.config,
      fs: this.fs,
      clock: this.clock,
      recoveryPoint,
      logStartOffset,
    });
    if (storedId !== state.topicId) {
      const text = `version: 0\ntopic_id: ${state.topicId}\n`;
      this.fs.writeFileAtomic(path.join(dir, PARTITION_METADATA_FILE), Buffer.from(text, 'utf8'));
    }
    this.lastFlushMs.set(log, this.clock.now());
    return log;
  }

  private readPartitionTopicId(dir: string): string | undefined {
    const file = path.join(dir, PARTITION_METADATA_FILE);
    if (!this.fs.exists(file)) return undefined;
    const props = parseProperties(this.fs.readFile(file).toString('utf8'));
    const id = props.get('topic_id');
    return id === undefined || id === '' ? undefined : id;
  }

  private persistTopics(): void {
    const file: TopicsFile = {
      version: TOPICS_FILE_VERSION,
      topics: [...this.topicStates.values()].map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configs: { ...t.overrides },
      })),
      deleting: this.deleting,
    };
    this.fs.writeFileAtomic(
      path.join(this.dataDir, TOPICS_FILE),
      Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8'),
    );
  }

  // --- topics ----------------------------------------------------------------------------------

  /**
   * Creates a topic: LogError INVALID_TOPIC_EXCEPTION (bad name, or '.'/'_' collision with an
   * existing topic), TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
   * INVALID_CONFIG. partitions / replicationFactor -1 or absent take the broker defaults.
   * Creating internal topics (`__…`) is allowed here: refusing them to clients is the broker's job.
   */
  createTopic(
    name: string,
    opts: {
      partitions?: number;
      replicationFactor?: number;
      configs?: Record<string, string>;
      validateOnly?: boolean;
      /**
       * The topic id (default: a new random one). A cluster broker passes the cluster's topic id,
       * which every partition directory then records in partition.metadata, as in Kafka.
       */
      topicId?: string;
    } = {},
  ): TopicInfo {
    this.ensureOpen();
    validateTopicName(name);
    if (opts.topicId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(opts.topicId))
      throw new RangeError(`invalid topic id '${opts.topicId}' for topic '${name}'`);
    if (this.topicStates.has(name))
      throw new LogError('TOPIC_ALREADY_EXISTS', `Topic '${name}' already exists.`);
    const collision = [...this.topicStates.keys()].find((t) => collisionName(t) === collisionName(name));
    if (collision !== undefined) {
      throw new LogError(
        'INVALID_TOPIC_EXCEPTION',
        `Topic '${name}' collides with existing topic '${collision}': '.' and '_' are the same in metric names; pick another name`,
      );
    }
    const partitions =
      opts.partitions === undefined || opts.partitions === -1
        ? this.broker.settings.numPartitions
        : opts.partitions;
    this.checkPartitionCount(name, partitions, 0);
    const rf =
      opts.replicationFactor === undefined || opts.replicationFactor === -1
        ? this.broker.settings.defaultReplicationFactor
        : opts.replicationFactor;
    if (!Number.isSafeInteger(rf) || rf < 1) {
      throw new LogError(
        'INVALID_REPLICATION_FACTOR',
        `Replication factor must be larger than 0 (got ${rf}) for topic '${name}'.`,
      );
    }
    if (rf > this.maxReplicationFactor) {
      throw new LogError(
        'INVALID_REPLICATION_FACTOR',
        `Replication factor: ${rf} larger than available brokers: ${this.maxReplicationFactor} (topic '${name}').`,
      );
    }
    const overrides = { ...(opts.configs ?? {}) };
    const config = this.parseTopicConfig(name, overrides);
    const state: TopicState = {
      name,
      topicId: opts.topicId ?? randomUuid(this.random),
      partitions,
      replicationFactor: rf,
      overrides,
      config,
      logs: [],
    };
    if (opts.validateOnly) return this.info(state);

    this.topicStates.set(name, state);
    try {
      this.persistTopics();
      for (let p = 0; p < partitions; p++) state.logs.push(this.openPartition(state, p));
    } catch (err) {
      for (const log of state.logs) closeQuietly(log);
      this.topicStates.delete(name);
      try {
        this.persistTopics();
        for (let p = 0; p < partitions; p++) this.fs.rmrf(path.join(this.dataDir, partitionDirName(name, p)));
      } catch {
        // the next open adopts or recreates what is left
      }
      throw storageError(`could not create topic '${name}': ${(err as Error).message}`, err);
    }
    this.emit({ type: 'created', topic: name });
    return this.info(state);
  }

  /**
   * Deletes a topic: its logs are closed, its directories renamed `<dir>.<32 hex>-delete` and
   * removed after the topic's file.delete.delay.ms (at once by close(), or by the next open).
   */
  deleteTopic(name: string): void {
    this.ensureOpen();
    const state = this.requireTopic(name);
    this.topicStates.delete(name);
    this.deleting.push({ name, topicId: state.topicId });
    this.persistTopics();
    for (const log of state.logs) {
      this.lastFlushMs.delete(log);
      closeQuietly(log);
      this.cleanerCheckpoint.delete(tpKey(name, log.partition));
    }
    for (let p = 0; p < state.partitions; p++) {
      const dir = path.join(this.dataDir, partitionDirName(name, p));
      if (this.fs.exists(dir)) this.renameForDelete(dir, state.config['file.delete.delay.ms']);
    }
    this.deleting = this.deleting.filter((d) => d.topicId !== state.topicId);
    this.persistTopics();
    // Stale checkpoint entries would mislead a topic created later with the same name.
    this.writeCheckpoints();
    this.emit({ type: 'deleted', topic: name });
  }

  /**
   * Sets a topic's partition directories aside without deleting anything: its logs are closed,
   * the topic leaves topics.json and every directory is renamed `<dir>.<32 hex>-stray` (which
   * open() ignores; remove them by hand once not needed). A cluster broker does this with local
   * logs whose topic id the cluster does not confirm. Returns the new directory paths.
   * A crash before the renames leaves directories that the next open adopts under their
   * recorded topic id, so the caller sees and sets them aside again.
   */
  setAsideTopic(name: string): string[] {
    this.ensureOpen();
    const state = this.requireTopic(name);
    this.topicStates.delete(name);
    try {
      this.persistTopics();
    } catch (err) {
      this.topicStates.set(name, state);
      throw storageError(`could not set topic '${name}' aside: ${(err as Error).message}`, err);
    }
    for (const log of state.logs) {
      this.lastFlushMs.delete(log);
      closeQuietly(log);
      this.cleanerCheckpoint.delete(tpKey(name, log.partition));
    }
    const moved: string[] = [];
    for (let p = 0; p < state.partitions; p++) {
      const dir = path.join(this.dataDir, partitionDirName(name, p));
      if (!this.fs.exists(dir)) continue;
      const target = `${dir}.${randomHex32(this.random)}-stray`;
      this.fs.rename(dir, target);
      moved.push(target);
    }
    this.fs.syncDir(this.dataDir);
    this.writeCheckpoints();
    this.emit({ type: 'deleted', topic: name });
    return moved;
  }

  /** Grows a topic to totalCount partitions (INVALID_PARTITIONS unless it is an increase). */
  createPartitions(name: string, totalCount: number, opts: { validateOnly?: boolean } = {}): TopicInfo {
    this.ensureOpen();
    const state = this.requireTopic(name);
    if (!Number.isSafeInteger(totalCount) || totalCount <= state.partitions) {
      throw new LogError(
        'INVALID_PARTITIONS',
        totalCount === state.partitions
          ? `Topic '${name}' already has ${state.partitions} partitions.`
          : `Topic '${name}' currently has ${state.partitions} partitions, ${totalCount} would not be an increase.`,
      );
    }
    this.checkPartitionCount(name, totalCount, state.partitions);
    if (opts.validateOnly) return { ...this.info(state), partitions: totalCount };
    const before = state.partitions;
    state.partitions = totalCount;
    try {
      this.persistTopics();
      for (let p = before; p < totalCount; p++) state.logs.push(this.openPartition(state, p));
    } catch (err) {
      // topics.json may already say totalCount: the next open creates what is missing.
      state.partitions = state.logs.length;
      throw storageError(`could not add partitions to topic '${name}': ${(err as Error).message}`, err);
    }
    this.emit({ type: 'partitions', topic: name });
    return this.info(state);
  }

  /**
   * Changes topic-level configs. changes maps a key to its new value, or to null to delete the
   * override (the broker default applies again). Incremental (IncrementalAlterConfigs SET/DELETE)
   * changes only the keys given; otherwise (AlterConfigs) the non-null entries replace all
   * overrides. INVALID_CONFIG names the bad key. APPEND/SUBTRACT on list configs are the
   * broker's to translate into a SET.
   */
  alterTopicConfig(
    name: string,
    changes: Record<string, string | null>,
    opts: { incremental?: boolean; validateOnly?: boolean } = {},
  ): TopicInfo {
    this.ensureOpen();
    const state = this.requireTopic(name);
    for (const key of Object.keys(changes)) {
      if (!isLogConfigKey(key)) parseLogConfig({ [key]: '' }); // throws INVALID_CONFIG naming the key
    }
    let overrides: Record<string, string>;
    if (opts.incremental) {
      overrides = { ...state.overrides };
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete overrides[key];
        else overrides[key] = value;
      }
    } else {
      overrides = {};
      for (const [key, value] of Object.entries(changes)) if (value !== null) overrides[key] = value;
    }
    const config = this.parseTopicConfig(name, overrides);
    if (opts.validateOnly) return { ...this.info(state), overrides: { ...overrides }, config };
    const previous = { overrides: state.overrides, config: state.config };
    state.overrides = overrides;
    state.config = config;
    try {
      this.persistTopics();
    } catch (err) {
      state.overrides = previous.overrides;
      state.config = previous.config;
      throw storageError(`could not alter the configs of topic '${name}': ${(err as Error).message}`, err);
    }
    for (const log of state.logs) log.updateConfig(config);
    this.emit({ type: 'config', topic: name });
    return this.info(state);
  }

  topic(name: string): TopicInfo | undefined {
    const state = this.topicStates.get(name);
    return state === undefined ? undefined : this.info(state);
  }

  topics(): TopicInfo[] {
    return [...this.topicStates.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => this.info(s));
  }

  /** Every topic config with its effective value and where it comes from (DescribeConfigs). */
  describeTopicConfigs(name: string): TopicConfigEntry[] {
    const state = this.requireTopic(name);
    return LOG_CONFIG_KEYS.map((key) => ({
      name: key,
      value: String(state.config[key]),
      source: Object.hasOwn(state.overrides, key)
        ? 'TOPIC_CONFIG'
        : this.broker.brokerSet.has(key)
          ? 'STATIC_BROKER_CONFIG'
          : 'DEFAULT_CONFIG',
      brokerSynonym: this.broker.brokerSet.get(key) ?? TOPIC_CONFIG_SYNONYMS[key][0] ?? '',
    }));
  }

  /** The partition log; LogError UNKNOWN_TOPIC_OR_PARTITION when there is none. */
  getLog(topic: string, partition: number): PartitionLog {
    const log = this.topicStates.get(topic)?.logs[partition];
    if (log === undefined) {
      throw new LogError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        this.topicStates.has(topic)
          ? `Topic '${topic}' has no partition ${partition} (it has ${this.topicStates.get(topic)!.partitions}).`
          : `Topic '${topic}' does not exist.`,
      );
    }
    return log;
  }

  *logs(): IterableIterator<PartitionLog> {
    for (const state of [...this.topicStates.values()]) yield* [...state.logs];
  }

  /** Effective broker-level configs the log manager reads, Kafka's names (DescribeConfigs on a broker). */
  brokerConfig(): Record<string, string> {
    return { ...this.broker.effective };
  }

  /** Topic defaults after the broker-level configs: what a topic without overrides gets. */
  get defaultTopicConfig(): LogConfig {
    return this.broker.topicDefaults;
  }

  onChange(listener: (event: TopicChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // --- background work -------------------------------------------------------------------------

  /** Starts the periodic work; idempotent. */
  start(): void {
    this.ensureOpen();
    if (this.started) return;
    this.started = true;
    const s = this.broker.settings;
    this.schedule('retention', s.retentionCheckIntervalMs, () => {
      this.runRetention();
    });
    this.schedule('flush', s.flushSchedulerIntervalMs, () => this.flushDue());
    this.schedule('recovery-checkpoint', s.flushOffsetCheckpointIntervalMs, () =>
      this.checkpointRecoveryPoints(),
    );
    this.schedule('start-offset-checkpoint', s.flushStartOffsetCheckpointIntervalMs, () =>
      this.checkpointLogStartOffsets(),
    );
    if (s.cleanerEnable) this.schedule('cleaner', s.cleanerBackoffMs, () => this.cleanerTick());
  }

  private schedule(task: Task, intervalMs: number, fn: () => unknown): void {
    if (intervalMs > MAX_TIMER_DELAY_MS) return; // "never"
    const arm = (delayMs: number): void => {
      this.timers.set(
        task,
        this.clock.setTimeout(() => {
          this.timers.delete(task);
          if (this.closing !== undefined) return;
          let again = intervalMs;
          try {
            const result = fn();
            if (result instanceof Promise) {
              this.track(
                result.catch((err: unknown) => this.logger.warn(`${task} failed: ${(err as Error).message}`)),
              );
            } else if (result === true && this.immediateRuns < MAX_IMMEDIATE_RUNS) {
              again = 0; // more work right away (the cleaner cleaned a log; another may be due)
              this.immediateRuns++;
            } else {
              this.immediateRuns = 0;
            }
          } catch (err) {
            this.logger.warn(`${task} failed: ${(err as Error).message}`);
          }
          if (this.closing === undefined) arm(again);
        }, delayMs),
      );
    };
    arm(intervalMs);
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /**
   * Deletes segments past retention.ms / retention.bytes / the log start offset in every log
   * (PartitionLog.deleteOldSegments; the log applies cleanup.policy). Returns the number deleted.
   */
  runRetention(): number {
    this.ensureOpen();
    const now = this.clock.now();
    let deleted = 0;
    const errors: unknown[] = [];
    for (const log of this.logs()) {
      try {
        deleted += log.deleteOldSegments(now);
      } catch (err) {
        errors.push(err);
        this.logger.warn(`retention of ${log.topic}-${log.partition} failed: ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) throw errors[0];
    return deleted;
  }

  /**
   * Cleans every compacted log that needs it (dirty ratio, max.compaction.lag.ms, a tombstone's
   * delete horizon passed), recording the new first dirty offsets in cleaner-offset-checkpoint.
   * Returns one CleanStats per compacted log (cleaned false, with the reason, when it was not
   * due). A log that fails is skipped (its error is thrown after the others were cleaned).
   */
  runCleaner(): CleanStats[] {
    this.ensureOpen();
    const stats: CleanStats[] = [];
    const errors: unknown[] = [];
    for (const log of this.compactedLogs()) {
      try {
        stats.push(this.cleanOne(log));
        this.uncleanable.delete(tpKey(log.topic, log.partition));
      } catch (err) {
        errors.push(err);
        this.logger.warn(`cleaning ${log.topic}-${log.partition} failed: ${(err as Error).message}`);
      }
    }
    if (stats.some((s) => s.cleaned)) this.checkpointCleaner();
    if (errors.length > 0) throw errors[0];
    return stats;
  }

  private *compactedLogs(): IterableIterator<PartitionLog> {
    for (const state of [...this.topicStates.values()]) {
      if (state.config['cleanup.policy'].includes('compact')) yield* [...state.logs];
    }
  }

  private cleanOne(log: PartitionLog): CleanStats {
    const key = tpKey(log.topic, log.partition);
    const now = this.clock.now();
    const stats = cleanLog(log, now, {
      firstDirtyOffset: this.cleanerCheckpoint.get(key)?.offset,
      dedupeBufferBytes: this.broker.settings.cleanerDedupeBufferSizeBytes,
      producerIdExpirationMs: this.broker.settings.producerIdExpirationMs,
      force: this.horizonDue(key, now),
    });
    if (stats.cleaned) {
      this.cleanerCheckpoint.set(key, {
        topic: log.topic,
        partition: log.partition,
        offset: stats.endOffset,
      });
      this.deleteHorizons.set(key, stats.nextDeleteHorizonMs);
    }
    return stats;
  }

  private horizonDue(key: string, now: number): boolean {
    const horizon = this.deleteHorizons.get(key);
    return horizon !== undefined && horizon >= 0 && horizon <= now;
  }

  /** Scheduled cleaning: the filthiest log that is due, if any (true: look again at once). */
  private cleanerTick(): boolean {
    const now = this.clock.now();
    let best: { log: PartitionLog; ratio: number } | undefined;
    for (const log of this.compactedLogs()) {
      const key = tpKey(log.topic, log.partition);
      if (this.uncleanable.has(key)) continue;
      const range = cleanableRange(log, now, {
        firstDirtyOffset: this.cleanerCheckpoint.get(key)?.offset,
        force: this.horizonDue(key, now),
      });
      if (range.shouldClean && (best === undefined || range.dirtyRatio > best.ratio))
        best = { log, ratio: range.dirtyRatio };
    }
    if (best === undefined) return false;
    try {
      this.cleanOne(best.log);
    } catch (err) {
      this.uncleanable.add(tpKey(best.log.topic, best.log.partition));
      this.logger.warn(
        `cleaning ${best.log.topic}-${best.log.partition} failed, it is skipped until restart: ${(err as Error).message}`,
      );
    } finally {
      this.checkpointCleaner();
    }
    return true;
  }

  /** fsyncs every log (then the recovery points are everything appended so far). */
  async flushAll(): Promise<void> {
    const logs = [...this.logs()];
    const now = this.clock.now();
    const results = await Promise.allSettled(
      logs.map(async (log) => {
        await log.flush();
        this.lastFlushMs.set(log, now);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  private flushDue(): Promise<unknown> | undefined {
    const now = this.clock.now();
    const due: PartitionLog[] = [];
    for (const log of this.logs()) {
      const last = this.lastFlushMs.get(log) ?? now;
      if (now - last >= log.config['flush.ms'] && log.flushedOffset < log.logEndOffset) due.push(log);
      else if (log.flushedOffset >= log.logEndOffset) this.lastFlushMs.set(log, now);
    }
    if (due.length === 0) return undefined;
    return Promise.all(
      due.map(async (log) => {
        try {
          await log.flush();
          this.lastFlushMs.set(log, now);
        } catch (err) {
          if (this.lastFlushMs.has(log)) throw err; // a deleted topic's log may be closed under us
        }
      }),
    );
  }

  /** Writes the recovery-point, log-start-offset and cleaner checkpoints. */
  checkpoint(): void {
    this.ensureOpen();
    this.writeCheckpoints();
  }

  private writeCheckpoints(): void {
    this.checkpointRecoveryPoints();
    this.checkpointLogStartOffsets();
    this.checkpointCleaner();
  }

  private checkpointRecoveryPoints(): void {
    const entries = [...this.logs()].map((l) => ({
      topic: l.topic,
      partition: l.partition,
      offset: l.flushedOffset,
    }));
    writeOffsetCheckpoint(this.fs, path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT_FILE), entries);
  }

  private checkpointLogStartOffsets(): void {
    const entries = [...this.logs()].map((l) => ({
      topic: l.topic,
      partition: l.partition,
      offset: l.logStartOffset,
    }));
    writeOffsetCheckpoint(this.fs, path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT_FILE), entries);
  }

  private checkpointCleaner(): void {
    const live = new Set([...this.logs()].map((l) => tpKey(l.topic, l.partition)));
    for (const key of [...this.cleanerCheckpoint.keys()])
      if (!live.has(key)) this.cleanerCheckpoint.delete(key);
    writeOffsetCheckpoint(
      this.fs,
      path.join(this.dataDir, CLEANER_OFFSET_CHECKPOINT_FILE),
      this.cleanerCheckpoint.values(),
    );
  }

  /** The first dirty offset the cleaner recorded for a partition (cleaner-offset-checkpoint). */
  cleanerOffset(topic: string, partition: number): number | undefined {
    return this.cleanerCheckpoint.get(tpKey(topic, partition))?.offset;
  }

  /**
   * Stops the timers, waits for background work, fsyncs every log, writes the checkpoints and
   * the clean-shutdown marker, closes the logs, removes deleted topics' directories and releases
   * the lock. Idempotent. When a step fails the marker is not written (the next open recovers).
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    try {
      await Promise.allSettled([...this.inflight]);
      let clean = true;
      try {
        await this.flushAll();
      } catch (err) {
        clean = false;
        this.logger.warn(`unclean close of ${this.dataDir}: a flush failed: ${(err as Error).message}`);
      }
      try {
        this.writeCheckpoints(); // the recovery points of the logs that did flush still help
      } catch (err) {
        clean = false;
        this.logger.warn(
          `unclean close of ${this.dataDir}: writing checkpoints failed: ${(err as Error).message}`,
        );
      }
      for (const log of this.logs()) {
        try {
          log.close();
        } catch (err) {
          clean = false;
          this.logger.warn(`closing ${log.topic}-${log.partition} failed: ${(err as Error).message}`);
        }
      }
      this.lastFlushMs.clear();
      if (clean) this.fs.writeFileAtomic(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE), new Uint8Array(0));
      for (const [dir, timer] of this.pendingDeletes) {
        timer.cancel();
        this.fs.rmrf(dir);
      }
      this.pendingDeletes.clear();
    } finally {
      this.dirLock?.release();
      this.dirLock = undefined;
    }
  }

  // --- helpers ---------------------------------------------------------------------------------

  private renameForDelete(dir: string, delayMs = 0): void {
    const target = `${dir}.${randomHex32(this.random)}-delete`;
    this.fs.rename(dir, target);
    this.fs.syncDir(this.dataDir);
    const remove = (): void => {
      this.pendingDeletes.delete(target);
      try {
        this.fs.rmrf(target);
      } catch (err) {
        this.logger.warn(`could not remove ${target}: ${(err as Error).message}; the next open retries`);
      }
    };
    if (delayMs <= 0 || delayMs > MAX_TIMER_DELAY_MS || this.closing !== undefined) {
      remove();
      return;
    }
    this.pendingDeletes.set(target, this.clock.setTimeout(remove, delayMs));
  }

  private checkPartitionCount(name: string, count: number, current: number): void {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new LogError(
        'INVALID_PARTITIONS',
        `Number of partitions must be larger than 0 (got ${count}) for topic '${name}'.`,
      );
    }
    if (count > MAX_PARTITIONS_PER_TOPIC) {
      throw new LogError(
        'INVALID_PARTITIONS',
        `Number of partitions ${count} for topic '${name}' is more than the limit of ${MAX_PARTITIONS_PER_TOPIC}.`,
      );
    }
    const total = totalPartitions(this.topicStates.values()) - current + count;
    if (total > MAX_TOTAL_PARTITIONS) {
      throw new LogError(
        'INVALID_PARTITIONS',
        `Topic '${name}' would bring this node to ${total} partitions, more than the limit of ${MAX_TOTAL_PARTITIONS}.`,
      );
    }
  }

  private parseTopicConfig(name: string, overrides: Record<string, string>): LogConfig {
    for (const [key, value] of Object.entries(overrides)) {
      if (typeof value !== 'string') {
        throw new LogError(
          'INVALID_CONFIG',
          `invalid value ${JSON.stringify(value)} for topic config '${key}' of topic '${name}': expected a string`,
        );
      }
    }
    try {
      return parseLogConfig(overrides, this.broker.topicDefaults);
    } catch (err) {
      if (err instanceof LogError)
        throw new LogError(err.code, `${err.message} (topic '${name}')`, { cause: err });
      throw err;
    }
  }

  private requireTopic(name: string): TopicState {
    const state = this.topicStates.get(name);
    if (state === undefined)
      throw new LogError('UNKNOWN_TOPIC_OR_PARTITION', `Topic '${name}' does not exist.`);
    return state;
  }

  private info(state: TopicState): TopicInfo {
    return {
      name: state.name,
      topicId: state.topicId,
      partitions: state.partitions,
      replicationFactor: state.replicationFactor,
      overrides: { ...state.overrides },
      config: state.config,
      internal: isInternalTopic(state.name),
    };
  }

  private emit(event: TopicChangeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.warn(`a topic change listener threw: ${(err as Error).message}`);
      }
    }
  }

  private ensureOpen(): void {
    if (this.closing !== undefined) throw storageError(`the log manager of ${this.dataDir} is closed`);
  }
}

function totalPartitions(states: Iterable<TopicState>): number {
  let n = 0;
  for (const s of states) n += s.partitions;
  return n;
}

function closeQuietly(log: PartitionLog): void {
  try {
    log.close();
  } catch {
    // already closed or its files are gone
  }
}
