/**
 * The Postgres sink: a JDBC-sink-style connector (Confluent's JdbcSinkConnector and Debezium's
 * JdbcSinkConnector configs paste unchanged) writing records into PostgreSQL tables with insert,
 * upsert or update, primary keys per pk.mode, auto.create / auto.evolve from the record schema,
 * deletes from tombstones (delete.enabled), and batches of batch.size. Debezium change events are
 * unwrapped natively, so Postgres CDC → topic → Postgres sink reproduces a table.
 *
 * Each put() is one transaction: when put() returns, its records are durable, so the runtime's
 * default preCommit (flush, then commit what was put) is exact. Writes are idempotent under
 * upsert, which makes redelivery after a crash harmless.
 */
import pg from 'pg';
import {
  type ConfigDef,
  ConfigException,
  ConnectError,
  type ConnectorPlugin,
  type Props,
  RetriableException,
  type SinkConnector,
  type SinkRecord,
  type SinkTask,
} from '../../connect/sdk.js';
import { parseSinkConfig, type SinkConfig, sinkConfigDef } from './config.js';
import { Writer } from './writer.js';

export { parseSinkConfig, sinkConfigDef } from './config.js';

const VERSION = '1.0.0';
const CONNECT_TIMEOUT_MS = 10_000;

/** SQLSTATE classes that are about the connection or the server, not the data: worth a retry. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  if (/^(08|53|57|40)/.test(code)) return true;
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection terminated|not queryable/i.test(
    (err as Error).message ?? '',
  );
}

export class PostgresSinkTask implements SinkTask {
  private cfg!: SinkConfig;
  private client: pg.Client | null = null;
  private writer!: Writer;
  private retriesLeft = 0;

  version(): string {
    return VERSION;
  }

  async start(props: Props): Promise<void> {
    this.cfg = parseSinkConfig(props);
    this.writer = new Writer(this.cfg);
    this.retriesLeft = this.cfg.maxRetries;
    await this.connection();
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = this.cfg;
    const client = new pg.Client({
      host: c.host,
      port: c.port,
      database: c.database,
      user: c.user,
      password: c.password,
      ssl: c.ssl ? { rejectUnauthorized: false } : false,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'tributary-postgres-sink',
      options: '-c TimeZone=UTC',
    });
    client.on('error', () => {
      // reported by the next query; the connection is replaced then
    });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw new RetriableException(
        `cannot connect to PostgreSQL at ${c.host}:${c.port}/${c.database} as ${c.user} (connection.url, connection.user): ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.client = client;
    return client;
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    const writes = this.writer.plan(records);
    try {
      await this.writer.execute(await this.connection(), writes);
      this.retriesLeft = this.cfg.maxRetries;
    } catch (err) {
      this.writer.reset();
      if (err instanceof RetriableException || isTransient(err)) {
        await this.client?.end().catch(() => {});
        this.client = null;
        if (this.retriesLeft-- > 0) {
          await new Promise((r) => setTimeout(r, this.cfg.retryBackoffMs));
          throw new RetriableException(
            `writing ${records.length} records failed, will retry (${this.retriesLeft} retries left, max.retries): ${(err as Error).message}`,
            { cause: err },
          );
        }
      }
      if (err instanceof ConnectError) throw err;
      throw new ConnectError(
        'CONNECT',
        `writing ${records.length} records to PostgreSQL failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  flush(): void {
    // put() commits its own transaction: nothing is pending here.
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }
}

export class PostgresSinkConnector implements SinkConnector {
  readonly type = 'sink';
  private props: Props = {};

  version(): string {
    return VERSION;
  }

  config(): ConfigDef {
    return sinkConfigDef();
  }

  start(props: Props): void {
    parseSinkConfig(props);
    this.props = props;
  }

  validate(props: Props): Record<string, string[]> {
    try {
      parseSinkConfig(props);
      return {};
    } catch (err) {
      if (err instanceof ConfigException) return { [err.key]: [err.message] };
      return {};
    }
  }

  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }

  stop(): void {}

  createTask(): SinkTask {
    return new PostgresSinkTask();
  }
}

export const plugins: ConnectorPlugin[] = [
  {
    className: 'PostgresSinkConnector',
    aliases: [
      'io.confluent.connect.jdbc.JdbcSinkConnector',
      'JdbcSinkConnector',
      'io.debezium.connector.jdbc.JdbcSinkConnector',
      'PostgresSink',
    ],
    type: 'sink',
    version: VERSION,
    create: () => new PostgresSinkConnector(),
  },
];
