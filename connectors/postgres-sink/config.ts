/**
 * The Postgres sink's configuration: the JDBC sink's keys (Confluent's JdbcSinkConnector, which
 * Debezium's JDBC sink shares for the most part), parsed once into a frozen object.
 */
import {
  ConfigDef,
  ConfigException,
  getBoolean,
  getList,
  getNumber,
  getOptionalString,
  getString,
  type Props,
  Validators,
} from '../../connect/sdk.js';

export type InsertMode = 'insert' | 'upsert' | 'update';
export type PkMode = 'none' | 'kafka' | 'record_key' | 'record_value';

export interface SinkConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly ssl: boolean;
  readonly tableNameFormat: string;
  readonly insertMode: InsertMode;
  readonly pkMode: PkMode;
  readonly pkFields: readonly string[];
  readonly fieldsWhitelist: readonly string[];
  readonly autoCreate: boolean;
  readonly autoEvolve: boolean;
  readonly deleteEnabled: boolean;
  readonly batchSize: number;
  readonly maxRetries: number;
  readonly retryBackoffMs: number;
}

export function sinkConfigDef(): ConfigDef {
  const g = 'Postgres sink';
  return new ConfigDef()
    .define({
      name: 'connection.url',
      type: 'string',
      importance: 'high',
      group: g,
      documentation:
        'jdbc:postgresql://HOST[:PORT]/DATABASE[?user=…&password=…&sslmode=…] or postgres://USER:PASSWORD@HOST:PORT/DATABASE.',
      validator: Validators.nonEmptyString(),
    })
    .define({
      name: 'connection.user',
      type: 'string',
      default: null,
      importance: 'high',
      group: g,
      documentation: "User (overrides the URL's).",
    })
    .define({
      name: 'connection.username',
      type: 'string',
      default: null,
      importance: 'low',
      group: g,
      documentation: "Debezium JDBC sink's name for connection.user.",
    })
    .define({
      name: 'connection.password',
      type: 'password',
      default: null,
      importance: 'high',
      group: g,
      documentation: "Password (overrides the URL's).",
    })
    .define({
      name: 'table.name.format',
      type: 'string',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka's table.name.format placeholder
      default: '${topic}',
      importance: 'medium',
      group: g,
      documentation:
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka's table.name.format placeholder
        'The destination table, ${topic} standing for the topic. Dots separate [database.]schema.table: topic srv.public.orders writes public.orders.',
    })
    .define({
      name: 'insert.mode',
      type: 'string',
      default: 'insert',
      importance: 'high',
      group: g,
      documentation:
        'insert (plain INSERT), upsert (INSERT … ON CONFLICT (primary key) DO UPDATE) or update (UPDATE … WHERE primary key).',
      validator: Validators.in('insert', 'upsert', 'update'),
    })
    .define({
      name: 'pk.mode',
      type: 'string',
      default: 'none',
      importance: 'high',
      group: g,
      documentation:
        'Where the primary key comes from: none, kafka (__connect_topic, __connect_partition, __connect_offset), record_key or record_value.',
      validator: Validators.in('none', 'kafka', 'record_key', 'record_value'),
    })
    .define({
      name: 'pk.fields',
      type: 'list',
      default: [],
      importance: 'medium',
      group: g,
      documentation:
        'The primary key fields: of the key struct (record_key; for a primitive key the one column name), of the value (record_value); all fields when empty.',
    })
    .define({
      name: 'fields.whitelist',
      type: 'list',
      default: [],
      importance: 'medium',
      group: g,
      documentation: 'Value fields to write (all when empty).',
    })
    .define({
      name: 'auto.create',
      type: 'boolean',
      default: false,
      importance: 'medium',
      group: g,
      documentation: 'CREATE TABLE from the record schema when the table is missing.',
    })
    .define({
      name: 'auto.evolve',
      type: 'boolean',
      default: false,
      importance: 'medium',
      group: g,
      documentation: 'ALTER TABLE … ADD COLUMN for fields the table lacks.',
    })
    .define({
      name: 'delete.enabled',
      type: 'boolean',
      default: false,
      importance: 'medium',
      group: g,
      documentation:
        'Delete the row of a tombstone (null value) — and of a Debezium delete event (op d). Needs pk.mode=record_key.',
    })
    .define({
      name: 'batch.size',
      type: 'int',
      default: 3000,
      importance: 'medium',
      group: g,
      documentation: 'Rows per statement (multi-row INSERT, one DELETE … IN).',
      validator: Validators.between(1, 100_000),
    })
    .define({
      name: 'max.retries',
      type: 'int',
      default: 10,
      importance: 'low',
      group: g,
      documentation: 'Retries of a failed put (connection failures) before the task fails.',
      validator: Validators.atLeast(0),
    })
    .define({
      name: 'retry.backoff.ms',
      type: 'int',
      default: 3000,
      importance: 'low',
      group: g,
      documentation: 'Wait between retries.',
      validator: Validators.atLeast(0),
    });
}

/** jdbc:postgresql://h:p/db?user=u&password=p, postgres(ql)://u:p@h:p/db. */
function parseUrl(url: string): {
  host: string;
  port: number;
  database: string;
  user?: string;
  password?: string;
  ssl: boolean;
} {
  const bad = (why: string): never => {
    throw new ConfigException('connection.url', url, why);
  };
  const text = url.trim().replace(/^jdbc:/, '');
  if (!/^postgres(ql)?:\/\//.test(text))
    bad('expected jdbc:postgresql://HOST[:PORT]/DATABASE or postgres://…');
  let u: URL;
  try {
    u = new URL(text.replace(/^postgres(ql)?:/, 'http:'));
  } catch {
    return bad('not a URL');
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '') bad('the URL names no database');
  const user = u.username ? decodeURIComponent(u.username) : (u.searchParams.get('user') ?? undefined);
  const password = u.password
    ? decodeURIComponent(u.password)
    : (u.searchParams.get('password') ?? undefined);
  const sslmode = u.searchParams.get('sslmode') ?? 'disable';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 5432,
    database,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ssl: !['disable', 'allow', 'prefer'].includes(sslmode),
  };
}

export function parseSinkConfig(props: Props): SinkConfig {
  const c = sinkConfigDef().parse(props);
  const url = parseUrl(getString(c, 'connection.url'));
  const pkMode = getString(c, 'pk.mode') as PkMode;
  const insertMode = getString(c, 'insert.mode') as InsertMode;
  const deleteEnabled = getBoolean(c, 'delete.enabled');
  if (insertMode !== 'insert' && pkMode === 'none') {
    throw new ConfigException(
      'pk.mode',
      pkMode,
      `insert.mode=${insertMode} needs a primary key: set pk.mode to record_key, record_value or kafka`,
    );
  }
  if (deleteEnabled && pkMode !== 'record_key') {
    throw new ConfigException('delete.enabled', true, 'deletes need the key: set pk.mode=record_key');
  }
  return Object.freeze({
    host: url.host,
    port: url.port,
    database: url.database,
    user:
      getOptionalString(c, 'connection.user') ??
      getOptionalString(c, 'connection.username') ??
      url.user ??
      'postgres',
    password: getOptionalString(c, 'connection.password') ?? url.password ?? '',
    ssl: url.ssl,
    tableNameFormat: getString(c, 'table.name.format'),
    insertMode,
    pkMode,
    pkFields: getList(c, 'pk.fields'),
    fieldsWhitelist: getList(c, 'fields.whitelist'),
    autoCreate: getBoolean(c, 'auto.create'),
    autoEvolve: getBoolean(c, 'auto.evolve'),
    deleteEnabled,
    batchSize: getNumber(c, 'batch.size'),
    maxRetries: getNumber(c, 'max.retries'),
    retryBackoffMs: getNumber(c, 'retry.backoff.ms'),
  });
}
