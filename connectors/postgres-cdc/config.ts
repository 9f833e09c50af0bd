/**
 * The Postgres CDC source's configuration: Debezium's PostgreSQL connector keys, names, defaults
 * and meanings (so a Debezium config pastes unchanged), parsed once into a frozen object.
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
import type { BinaryMode, DecimalMode, IntervalMode, TimePrecisionMode } from './types.js';

export type SnapshotMode = 'initial' | 'never' | 'no_data' | 'initial_only' | 'always' | 'when_needed';
export type PublicationAutocreateMode = 'all_tables' | 'disabled' | 'filtered';

export interface CdcConfig {
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dbname: string;
  readonly sslmode: string;
  readonly slotName: string;
  readonly publicationName: string;
  readonly publicationAutocreateMode: PublicationAutocreateMode;
  readonly topicPrefix: string;
  readonly tableInclude: RegExp[];
  readonly tableExclude: RegExp[];
  readonly schemaInclude: RegExp[];
  readonly schemaExclude: RegExp[];
  readonly snapshotMode: SnapshotMode;
  readonly snapshotFetchSize: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatActionQuery: string;
  readonly heartbeatTopicPrefix: string;
  readonly tombstonesOnDelete: boolean;
  readonly slotDropOnStop: boolean;
  readonly decimalMode: DecimalMode;
  readonly timePrecisionMode: TimePrecisionMode;
  readonly binaryMode: BinaryMode;
  readonly intervalMode: IntervalMode;
  readonly placeholder: string;
  /** Operations not emitted: c, u, d, t (Debezium's skipped.operations; default t). */
  readonly skippedOperations: ReadonlySet<string>;
  readonly maxQueueSize: number;
  readonly maxBatchSize: number;
  readonly pollIntervalMs: number;
  readonly statusUpdateIntervalMs: number;
  readonly messagePrefixInclude: RegExp[];
  readonly messagePrefixExclude: RegExp[];
}

const SNAPSHOT_MODES = ['initial', 'never', 'no_data', 'initial_only', 'always', 'when_needed'];

export function cdcConfigDef(): ConfigDef {
  const g = 'Postgres';
  return new ConfigDef()
    .define({
      name: 'database.hostname',
      type: 'string',
      importance: 'high',
      group: g,
      documentation: 'Resolvable hostname or IP address of the PostgreSQL server.',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'database.port',
      type: 'int',
      default: 5432,
      importance: 'high',
      group: g,
      documentation: 'Port of the PostgreSQL server.',
      validator: Validators.between(1, 65535),
    })
    .define({
      name: 'database.user',
      type: 'string',
      importance: 'high',
      group: g,
      documentation:
        'Name of the PostgreSQL user (needs the REPLICATION attribute, and SELECT on the captured tables).',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'database.password',
      type: 'password',
      default: '',
      importance: 'high',
      group: g,
      documentation: 'Password of the PostgreSQL user.',
    })
    .define({
      name: 'database.dbname',
      type: 'string',
      importance: 'high',
      group: g,
      documentation: 'The database to capture changes from.',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'database.sslmode',
      type: 'string',
      default: 'disable',
      importance: 'medium',
      group: g,
      documentation:
        'disable, require (encrypted, server certificate not verified), verify-ca or verify-full.',
      validator: Validators.in('disable', 'prefer', 'require', 'verify-ca', 'verify-full'),
    })
    .define({
      name: 'plugin.name',
      type: 'string',
      default: 'pgoutput',
      importance: 'medium',
      group: g,
      documentation: 'The logical decoding plugin: only pgoutput (built into PostgreSQL 10+) is supported.',
      validator: Validators.custom('pgoutput', (name, v) => {
        if (v !== 'pgoutput')
          throw new ConfigException(name, v, 'only pgoutput is supported (decoderbufs and wal2json are not)');
      }),
    })
    .define({
      name: 'slot.name',
      type: 'string',
      default: 'debezium',
      importance: 'medium',
      group: g,
      documentation: 'The logical replication slot the connector streams from (created when missing).',
      validator: Validators.custom('a slot name: lower-case letters, digits, underscores', (name, v) => {
        if (typeof v !== 'string' || !/^[a-z0-9_]{1,63}$/.test(v))
          throw new ConfigException(
            name,
            v,
            'a slot name may contain only lower-case letters, digits and underscores (at most 63)',
          );
      }),
    })
    .define({
      name: 'publication.name',
      type: 'string',
      default: 'dbz_publication',
      importance: 'medium',
      group: g,
      documentation: 'The publication pgoutput streams.',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'publication.autocreate.mode',
      type: 'string',
      default: 'all_tables',
      importance: 'medium',
      group: g,
      documentation:
        'all_tables: create the publication FOR ALL TABLES when missing; disabled: it must exist; filtered: create or update it for the tables the include/exclude lists select.',
      validator: Validators.in('all_tables', 'disabled', 'filtered'),
    })
    .define({
      name: 'topic.prefix',
      type: 'string',
      importance: 'high',
      group: g,
      documentation:
        'Prefix of every topic (<prefix>.<schema>.<table>) and the logical name of the server in events.',
      validator: Validators.custom('a topic prefix', (name, v) => {
        if (typeof v !== 'string' || !/^[A-Za-z0-9._-]+$/.test(v))
          throw new ConfigException(
            name,
            v,
            'must be non-empty and contain only letters, digits, ., _ and -',
          );
      }),
    })
    .define({
      name: 'table.include.list',
      type: 'list',
      default: [],
      importance: 'high',
      group: g,
      documentation: 'Regular expressions matching schema.table names to capture (all when empty).',
      validator: regexList(),
    })
    .define({
      name: 'table.exclude.list',
      type: 'list',
      default: [],
      importance: 'medium',
      group: g,
      documentation: 'Regular expressions matching schema.table names not to capture.',
      validator: regexList(),
    })
    .define({
      name: 'schema.include.list',
      type: 'list',
      default: [],
      importance: 'medium',
      group: g,
      documentation: 'Regular expressions matching schemas to capture (all but system schemas when empty).',
      validator: regexList(),
    })
    .define({
      name: 'schema.exclude.list',
      type: 'list',
      default: [],
      importance: 'medium',
      group: g,
      documentation: 'Regular expressions matching schemas not to capture.',
      validator: regexList(),
    })
    .define({
      name: 'snapshot.mode',
      type: 'string',
      default: 'initial',
      importance: 'medium',
      group: g,
      documentation:
        'initial: snapshot when no offset exists, then stream; never / no_data: stream only; initial_only: snapshot, then stop; always: snapshot at every start; when_needed: snapshot when there is no offset or the slot is gone.',
      validator: Validators.in(...SNAPSHOT_MODES),
    })
    .define({
      name: 'snapshot.fetch.size',
      type: 'int',
      default: 10240,
      importance: 'low',
      group: g,
      documentation: 'Rows fetched per round trip while snapshotting.',
      validator: Validators.between(1, 1_000_000),
    })
    .define({
      name: 'heartbeat.interval.ms',
      type: 'int',
      default: 0,
      importance: 'medium',
      group: g,
      documentation:
        'Emit a heartbeat record (topic <topic.heartbeat.prefix>.<topic.prefix>) this often so the confirmed LSN advances while captured tables are quiet; 0 disables.',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'heartbeat.action.query',
      type: 'string',
      default: '',
      importance: 'low',
      group: g,
      documentation:
        'SQL run at every heartbeat (e.g. an UPDATE of a heartbeat table) to make WAL flow through the slot.',
    })
    .define({
      name: 'topic.heartbeat.prefix',
      type: 'string',
      default: '__debezium-heartbeat',
      importance: 'low',
      group: g,
      documentation: 'Prefix of the heartbeat topic.',
    })
    .define({
      name: 'tombstones.on.delete',
      type: 'boolean',
      default: true,
      importance: 'medium',
      group: g,
      documentation:
        'Follow each delete event with a tombstone (the key, a null value) so compaction can drop the key.',
    })
    .define({
      name: 'slot.drop.on.stop',
      type: 'boolean',
      default: false,
      importance: 'low',
      group: g,
      documentation:
        'Drop the replication slot when the task stops (for tests; changes made while stopped are then lost).',
    })
    .define({
      name: 'decimal.handling.mode',
      type: 'string',
      default: 'precise',
      importance: 'medium',
      group: g,
      documentation:
        'numeric/decimal values as precise (Connect Decimal bytes; VariableScaleDecimal without a scale), double or string.',
      validator: Validators.in('precise', 'double', 'string'),
    })
    .define({
      name: 'time.precision.mode',
      type: 'string',
      default: 'adaptive',
      importance: 'medium',
      group: g,
      documentation:
        "adaptive (io.debezium.time.* with the column's precision), adaptive_time_microseconds or connect (Connect Date/Time/Timestamp, ms).",
      validator: Validators.in('adaptive', 'adaptive_time_microseconds', 'connect'),
    })
    .define({
      name: 'binary.handling.mode',
      type: 'string',
      default: 'bytes',
      importance: 'low',
      group: g,
      documentation: 'bytea values as bytes, base64 or hex strings.',
      validator: Validators.in('bytes', 'base64', 'hex'),
    })
    .define({
      name: 'interval.handling.mode',
      type: 'string',
      default: 'numeric',
      importance: 'low',
      group: g,
      documentation: 'interval values as numeric (µs) or string (ISO 8601).',
      validator: Validators.in('numeric', 'string'),
    })
    .define({
      name: 'unavailable.value.placeholder',
      type: 'string',
      default: '__debezium_unavailable_value',
      importance: 'low',
      group: g,
      documentation: 'Stands in for TOAST columns an UPDATE left unchanged (PostgreSQL does not send them).',
    })
    .define({
      name: 'skipped.operations',
      type: 'list',
      default: ['t'],
      importance: 'low',
      group: g,
      documentation: 'Operations not emitted: c, u, d, t (truncate), or none.',
      validator: Validators.custom('c, u, d, t or none', (name, v) => {
        for (const op of (v as string[]) ?? [])
          if (!['c', 'u', 'd', 't', 'none'].includes(op))
            throw new ConfigException(name, v, `unknown operation '${op}'; use c, u, d, t or none`);
      }),
    })
    .define({
      name: 'message.prefix.include.list',
      type: 'list',
      default: [],
      importance: 'low',
      group: g,
      documentation:
        'Regular expressions of pg_logical_emit_message prefixes to emit (topic <prefix>.message); all when empty.',
      validator: regexList(),
    })
    .define({
      name: 'message.prefix.exclude.list',
      type: 'list',
      default: [],
      importance: 'low',
      group: g,
      documentation: 'Regular expressions of message prefixes not to emit; .* turns messages off.',
      validator: regexList(),
    })
    .define({
      name: 'max.queue.size',
      type: 'int',
      default: 8192,
      importance: 'low',
      group: g,
      documentation: 'Replication messages buffered ahead of poll(); the stream is paused beyond this.',
      validator: Validators.between(16, 1_000_000),
    })
    .define({
      name: 'max.batch.size',
      type: 'int',
      default: 2048,
      importance: 'low',
      group: g,
      documentation: 'Most records returned by one poll().',
      validator: Validators.between(1, 100_000),
    })
    .define({
      name: 'poll.interval.ms',
      type: 'int',
      default: 500,
      importance: 'low',
      group: g,
      documentation: 'Longest wait in poll() for new changes.',
      validator: Validators.between(1, 1000),
    })
    .define({
      name: 'status.update.interval.ms',
      type: 'int',
      default: 10_000,
      importance: 'low',
      group: g,
      documentation:
        'How often the confirmed flush LSN is reported to PostgreSQL (also after every offset commit).',
      validator: Validators.between(100, 600_000),
    });
}

function regexList() {
  return Validators.custom('regular expressions', (name, v) => {
    for (const r of (v as string[]) ?? []) {
      try {
        new RegExp(r);
      } catch (err) {
        throw new ConfigException(name, v, `'${r}' is not a regular expression: ${(err as Error).message}`);
      }
    }
  });
}

const anchored = (list: string[]): RegExp[] =>
  list.filter((s) => s !== '').map((s) => new RegExp(`^(?:${s})$`, 'i'));

export function parseCdcConfig(props: Props): CdcConfig {
  const c = cdcConfigDef().parse(props);
  const skipped = new Set(getList(c, 'skipped.operations').filter((o) => o !== 'none'));
  const tableInclude = anchored(getList(c, 'table.include.list'));
  const tableExclude = anchored(getList(c, 'table.exclude.list'));
  if (tableInclude.length > 0 && tableExclude.length > 0) {
    throw new ConfigException(
      'table.exclude.list',
      props['table.exclude.list'],
      'give table.include.list or table.exclude.list, not both',
    );
  }
  return Object.freeze({
    hostname: getString(c, 'database.hostname'),
    port: getNumber(c, 'database.port'),
    user: getString(c, 'database.user'),
    password: getString(c, 'database.password'),
    dbname: getString(c, 'database.dbname'),
    sslmode: getString(c, 'database.sslmode'),
    slotName: getString(c, 'slot.name'),
    publicationName: getString(c, 'publication.name'),
    publicationAutocreateMode: getString(c, 'publication.autocreate.mode') as PublicationAutocreateMode,
    topicPrefix: getString(c, 'topic.prefix'),
    tableInclude,
    tableExclude,
    schemaInclude: anchored(getList(c, 'schema.include.list')),
    schemaExclude: anchored(getList(c, 'schema.exclude.list')),
    snapshotMode: getString(c, 'snapshot.mode') as SnapshotMode,
    snapshotFetchSize: getNumber(c, 'snapshot.fetch.size'),
    heartbeatIntervalMs: getNumber(c, 'heartbeat.interval.ms'),
    heartbeatActionQuery: getString(c, 'heartbeat.action.query'),
    heartbeatTopicPrefix: getString(c, 'topic.heartbeat.prefix'),
    tombstonesOnDelete: getBoolean(c, 'tombstones.on.delete'),
    slotDropOnStop: getBoolean(c, 'slot.drop.on.stop'),
    decimalMode: getString(c, 'decimal.handling.mode') as DecimalMode,
    timePrecisionMode: getString(c, 'time.precision.mode') as TimePrecisionMode,
    binaryMode: getString(c, 'binary.handling.mode') as BinaryMode,
    intervalMode: getString(c, 'interval.handling.mode') as IntervalMode,
    placeholder: getString(c, 'unavailable.value.placeholder'),
    skippedOperations: skipped,
    maxQueueSize: getNumber(c, 'max.queue.size'),
    maxBatchSize: getNumber(c, 'max.batch.size'),
    pollIntervalMs: getNumber(c, 'poll.interval.ms'),
    statusUpdateIntervalMs: getNumber(c, 'status.update.interval.ms'),
    messagePrefixInclude: anchored(getList(c, 'message.prefix.include.list')),
    messagePrefixExclude: anchored(getList(c, 'message.prefix.exclude.list')),
  });
}

/** Whether schema.table is captured under the include/exclude lists. */
export function tableSelected(cfg: CdcConfig, schema: string, table: string): boolean {
  if (schema === 'pg_catalog' || schema === 'information_schema' || schema.startsWith('pg_toast'))
    return false;
  if (cfg.schemaInclude.length > 0 && !cfg.schemaInclude.some((r) => r.test(schema))) return false;
  if (cfg.schemaExclude.some((r) => r.test(schema))) return false;
  const fq = `${schema}.${table}`;
  if (cfg.tableInclude.length > 0) return cfg.tableInclude.some((r) => r.test(fq));
  return !cfg.tableExclude.some((r) => r.test(fq));
}

export function messageSelected(cfg: CdcConfig, prefix: string): boolean {
  if (cfg.messagePrefixInclude.length > 0 && !cfg.messagePrefixInclude.some((r) => r.test(prefix)))
    return false;
  return !cfg.messagePrefixExclude.some((r) => r.test(prefix));
}
