/**
 * The worker config: Kafka Connect's keys (connect-standalone.properties /
 * connect-distributed.properties), from JSON or a .properties file. Unknown keys are refused,
 * naming the key (and the closest known one); `producer.`, `consumer.` and `admin.` prefixed
 * keys pass through to the clients, `key.converter.`/`value.converter.`/`header.converter.`
 * prefixed keys to the converters. `data.dir` (ours) opens the embedded log instead of
 * `bootstrap.servers`.
 */
import { readFileSync } from 'node:fs';
import type { ClientConfig } from '../../core/client/types.js';
import { ConfigDef, type ParsedConfig, Validators } from '../config-def.js';
import { ConfigException } from '../errors.js';
import { parseConfigText, stringMap } from './properties.js';

export type WorkerMode = 'standalone' | 'distributed';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

function common(): ConfigDef {
  const d = new ConfigDef();
  const s = (name: string, def: string | null, doc: string) =>
    d.define({ name, type: 'string', default: def, documentation: doc });
  const i = (name: string, def: number, doc: string, min = 0) =>
    d.define({ name, type: 'long', default: def, documentation: doc, validator: Validators.atLeast(min) });
  s('bootstrap.servers', null, 'Kafka brokers, host:port[,host:port…]. Give this or data.dir.');
  s(
    'data.dir',
    null,
    'Tributary only: open the embedded log in this directory instead of connecting to brokers.',
  );
  s('client.id', null, "Client id prefix of the worker's producers, consumers and admin.");
  s('key.converter', JSON_CONVERTER, 'Converter class for record keys (connectors may override it).');
  s('value.converter', JSON_CONVERTER, 'Converter class for record values (connectors may override it).');
  s(
    'header.converter',
    'org.apache.kafka.connect.storage.SimpleHeaderConverter',
    'Converter class for header values.',
  );
  s('listeners', null, 'REST listeners, e.g. http://127.0.0.1:8083 (port 0 picks a free one).');
  s('rest.host.name', null, 'Deprecated: host of the REST listener (use listeners).');
  d.define({
    name: 'rest.port',
    type: 'int',
    default: 8083,
    documentation: 'Deprecated: port of the REST listener (use listeners).',
    validator: Validators.between(0, 65535),
  });
  s('rest.advertised.host.name', null, 'Host name other workers use to reach this one.');
  d.define({
    name: 'rest.advertised.port',
    type: 'int',
    default: null,
    documentation: 'Port other workers use to reach this one.',
  });
  s('rest.advertised.listener', null, 'http or https.');
  s('access.control.allow.origin', '', 'Value of Access-Control-Allow-Origin for REST responses.');
  s('access.control.allow.methods', '', 'Methods allowed for cross-origin requests.');
  i(
    'rest.request.max.bytes',
    1_048_576,
    'Tributary only: the largest REST request body accepted (413 beyond).',
    1024,
  );
  d.define({
    name: 'plugin.path',
    type: 'list',
    default: [],
    documentation: 'Folders and npm packages with connector plugins (comma-separated).',
  });
  i('offset.flush.interval.ms', 60_000, 'How often tasks commit offsets.', 1);
  i(
    'offset.flush.timeout.ms',
    5_000,
    'How long a commit waits for records to be acknowledged before it is retried at the next interval.',
    1,
  );
  i('task.shutdown.graceful.timeout.ms', 5_000, 'How long stopping a task waits for it.', 0);
  i(
    'status.metrics.interval.ms',
    10_000,
    'Tributary only: how often a task\'s own status figures (the "metrics" of its REST status) are written to the status store, when they changed, for the other workers to show. 0: never (this worker still shows its own tasks\' live figures).',
    0,
  );
  s(
    'connector.client.config.override.policy',
    'All',
    'Which producer.override./consumer.override. keys connectors may set: All or None.',
  );
  s(
    'exactly.once.source.support',
    'disabled',
    'enabled: source records are written exactly once even when a worker dies (see docs/connect.md).',
  );
  d.define({
    name: 'topic.creation.enable',
    type: 'boolean',
    default: true,
    documentation: 'Whether source connectors may create the topics they write to.',
  });
  s('metrics.recording.level', 'INFO', 'Accepted for compatibility; ignored.');
  d.define({
    name: 'metric.reporters',
    type: 'list',
    default: [],
    documentation: 'Accepted for compatibility; ignored.',
  });
  s('config.providers', '', 'Accepted for compatibility; config providers are not supported yet.');
  s('key.converter.schemas.enable', null, 'Passed to the key converter.');
  s('value.converter.schemas.enable', null, 'Passed to the value converter.');
  return d;
}

function distributed(): ConfigDef {
  const d = common();
  const s = (name: string, def: string | null, doc: string) =>
    d.define({ name, type: 'string', default: def, documentation: doc });
  const i = (name: string, def: number, doc: string, min = 1) =>
    d.define({ name, type: 'int', default: def, documentation: doc, validator: Validators.atLeast(min) });
  d.define({
    name: 'group.id',
    type: 'string',
    default: undefined,
    documentation: 'The Connect cluster this worker belongs to.',
    validator: Validators.nonEmptyString(),
  });
  d.define({
    name: 'config.storage.topic',
    type: 'string',
    default: undefined,
    documentation: 'Compacted topic holding connector and task configs.',
    validator: Validators.nonEmptyString(),
  });
  d.define({
    name: 'offset.storage.topic',
    type: 'string',
    default: undefined,
    documentation: 'Compacted topic holding source offsets.',
    validator: Validators.nonEmptyString(),
  });
  d.define({
    name: 'status.storage.topic',
    type: 'string',
    default: undefined,
    documentation: 'Compacted topic holding connector and task statuses.',
    validator: Validators.nonEmptyString(),
  });
  i(
    'config.storage.replication.factor',
    3,
    'Replication factor of the config topic (-1: the broker default; capped at the number of brokers).',
    -1,
  );
  i('offset.storage.replication.factor', 3, 'Replication factor of the offset topic.', -1);
  i('status.storage.replication.factor', 3, 'Replication factor of the status topic.', -1);
  i('offset.storage.partitions', 25, 'Partitions of the offset topic.');
  i('status.storage.partitions', 5, 'Partitions of the status topic.');
  i('session.timeout.ms', 10_000, 'A worker silent this long leaves the group and its work moves.');
  i('heartbeat.interval.ms', 3_000, 'Heartbeats to the group coordinator.');
  i('rebalance.timeout.ms', 60_000, 'How long a rebalance waits for workers to rejoin.');
  i('worker.sync.timeout.ms', 3_000, 'How long a worker waits to catch up with the config topic.');
  i('worker.unsync.backoff.ms', 300_000, 'Accepted for compatibility.');
  i(
    'scheduled.rebalance.max.delay.ms',
    300_000,
    'Accepted for compatibility (the eager protocol moves work at once).',
    0,
  );
  s(
    'connect.protocol',
    'eager',
    'eager (the only one supported: every rebalance stops and restarts all work); compatible and sessioned are accepted and run eager.',
  );
  s('inter.worker.key.generation.algorithm', 'HmacSHA256', 'Accepted for compatibility.');
  return d;
}

function standalone(): ConfigDef {
  const d = common();
  d.define({
    name: 'offset.storage.file.filename',
    type: 'string',
    default: null,
    documentation:
      'File holding source offsets (required by `trib connect standalone`; in-process workers without it keep offsets in memory).',
  });
  return d;
}

export function workerConfigDef(mode: WorkerMode): ConfigDef {
  return mode === 'standalone' ? standalone() : distributed();
}

const PASS_THROUGH = [
  'producer.',
  'consumer.',
  'admin.',
  'key.converter.',
  'value.converter.',
  'header.converter.',
  'listeners.https.',
  'ssl.',
  'sasl.',
  'security.',
];

export interface WorkerConfig {
  readonly mode: WorkerMode;
  readonly props: Readonly<Record<string, string>>;
  readonly values: ParsedConfig;
  /** producer., consumer., admin. keys with the prefix removed. */
  readonly producer: Readonly<Record<string, string>>;
  readonly consumer: Readonly<Record<string, string>>;
  readonly admin: Readonly<Record<string, string>>;
}

function closestKey(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestScore) {
      bestScore = d;
      best = k;
    }
  }
  return bestScore <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

function prefixed(props: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** Validates and freezes a worker config; throws ConfigException naming the first bad key. */
export function parseWorkerConfig(
  mode: WorkerMode,
  props: Readonly<Record<string, string>>,
  opts: { clientGiven?: boolean } = {},
): WorkerConfig {
  const def = workerConfigDef(mode);
  const known = def.keys().map((k) => k.name);
  for (const key of Object.keys(props)) {
    if (def.has(key) || PASS_THROUGH.some((p) => key.startsWith(p))) continue;
    const other = mode === 'standalone' ? distributed() : standalone();
    const why = other.has(key)
      ? `it is a ${mode === 'standalone' ? 'distributed' : 'standalone'} worker setting`
      : `unknown worker config key${closestKey(key, known) ? ` (did you mean '${closestKey(key, known)}'?)` : ''}`;
    throw new ConfigException(key, props[key], why);
  }
  const values = def.parse(props);
  const both = values['bootstrap.servers'] !== null && values['data.dir'] !== null;
  const neither = values['bootstrap.servers'] === null && values['data.dir'] === null;
  if (both || (neither && !opts.clientGiven)) {
    throw new ConfigException(
      'bootstrap.servers',
      props['bootstrap.servers'],
      "give exactly one of 'bootstrap.servers' (a Kafka cluster) or 'data.dir' (the embedded log)",
    );
  }
  const protocol = String(values['connect.protocol'] ?? 'eager');
  if (!['eager', 'compatible', 'sessioned'].includes(protocol)) {
    throw new ConfigException(
      'connect.protocol',
      protocol,
      'String must be one of: eager, compatible, sessioned',
    );
  }
  return Object.freeze({
    mode,
    props: Object.freeze({ ...props }),
    values,
    producer: Object.freeze(prefixed(props, 'producer.')),
    consumer: Object.freeze(prefixed(props, 'consumer.')),
    admin: Object.freeze(prefixed(props, 'admin.')),
  });
}

/** Reads a worker or connector config file: JSON (`{...}`) or .properties. */
export function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigException('file', path, `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseConfigText(text, path);
}

/**
 * Reads a connector config file: .properties, a flat JSON map, or a REST body
 * `{"name": …, "config": {…}}` (as Kafka's connect-standalone accepts since 3.7).
 */
export function readConnectorConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigException('file', path, `cannot read ${path}: ${(err as Error).message}`);
  }
  if (text.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ConfigException('file', path, `not valid JSON: ${(err as Error).message}`);
    }
    const body = json as { name?: unknown; config?: unknown };
    if (
      body !== null &&
      typeof body === 'object' &&
      typeof body.config === 'object' &&
      body.config !== null
    ) {
      const config = stringMap(body.config, path);
      return typeof body.name === 'string' ? { ...config, name: body.name } : config;
    }
  }
  return parseConfigText(text, path);
}

/** The client config of a worker (bootstrap.servers or data.dir). */
export function clientConfigOf(cfg: WorkerConfig): ClientConfig {
  const clientId = (cfg.values['client.id'] as string | null) ?? undefined;
  const dataDir = cfg.values['data.dir'] as string | null;
  if (dataDir !== null) return { 'data.dir': dataDir, ...(clientId ? { 'client.id': clientId } : {}) };
  const servers = String(cfg.values['bootstrap.servers'])
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return { 'bootstrap.servers': servers, ...(clientId ? { 'client.id': clientId } : {}) };
}

/** Where the REST server listens: from `listeners` (first http one) or rest.host.name/rest.port. */
export function restListener(cfg: WorkerConfig): { host: string; port: number } {
  const listeners = cfg.values.listeners as string | null;
  if (listeners !== null && listeners.trim() !== '') {
    const first = listeners.split(',')[0]!.trim();
    const m = /^(https?):\/\/(\[[^\]]*\]|[^:/]*):(\d+)\/?$/.exec(first);
    if (!m) throw new ConfigException('listeners', listeners, 'expected http://HOST:PORT');
    if (m[1] === 'https')
      throw new ConfigException('listeners', listeners, 'https listeners are not supported yet');
    return { host: m[2] === '' ? '0.0.0.0' : m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  }
  return {
    host: (cfg.values['rest.host.name'] as string | null) ?? '0.0.0.0',
    port: cfg.values['rest.port'] as number,
  };
}
