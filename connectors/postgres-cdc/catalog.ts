/**
 * Connections to PostgreSQL and what the connector reads from its catalog: types (pg_type,
 * pg_enum), tables (pg_attribute, the primary key, NOT NULL, replica identity), slots and
 * publications.
 *
 * Every connection runs with the same session settings (UTC, ISO dates, hex bytea, postgres
 * intervals) and returns all values as text, so the snapshot and the replication stream (which
 * sends text) go through the same conversion in types.ts.
 */
import pg from 'pg';
import { ConnectError } from '../../connect/sdk.js';
import type { CdcConfig } from './config.js';
import { parseArrayText, type TypeInfo } from './types.js';

const SESSION_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres -c bytea_output=hex -c extra_float_digits=3';
const CONNECT_TIMEOUT_MS = 10_000;
/** Text in, text out: no value parsing by pg. */
const RAW_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export interface PgTarget {
  hostname: string;
  port: number;
  user: string;
  password: string;
  dbname: string;
  sslmode: string;
}

export function clientConfig(t: PgTarget, replication: boolean): pg.ClientConfig {
  const ssl =
    t.sslmode === 'disable' || t.sslmode === 'prefer'
      ? false
      : { rejectUnauthorized: t.sslmode !== 'require' };
  return {
    host: t.hostname,
    port: t.port,
    user: t.user,
    password: t.password,
    database: t.dbname,
    ssl,
    options: SESSION_OPTIONS,
    types: RAW_TYPES,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: replication ? 'tributary-cdc-replication' : 'tributary-cdc',
    ...(replication ? { replication: 'database' } : {}),
  } as pg.ClientConfig;
}

/** Opens a connection, turning failures into errors that say where and as whom. */
export async function openClient(t: PgTarget, replication = false): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(t, replication));
  // An idle connection that drops must not crash the process; the next query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new ConnectError(
      'CONNECT',
      `cannot connect to PostgreSQL at ${t.hostname}:${t.port} (database.dbname=${t.dbname}, database.user=${t.user}${replication ? ', replication' : ''}): ${(err as Error).message}`,
      { cause: err, retriable: true },
    );
  }
  return client;
}

export type Row = Record<string, string | null>;

export async function rows(client: pg.Client, sql: string, params?: unknown[]): Promise<Row[]> {
  const res = await client.query<Row>(sql, params);
  return res.rows;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** pg_type entries by OID, loaded on demand (with array elements, domain bases and enum labels). */
export class TypeRegistry {
  private readonly types = new Map<number, TypeInfo>();

  constructor(private readonly client: () => pg.Client) {}

  get(oid: number): TypeInfo | undefined {
    return this.types.get(oid);
  }

  /** Forgets a type (a Type message said it changed: enum labels added, …). */
  invalidate(oid: number): void {
    this.types.delete(oid);
  }

  async ensure(oids: readonly number[]): Promise<void> {
    let missing = [...new Set(oids.filter((o) => o !== 0 && !this.types.has(o)))];
    for (let depth = 0; missing.length > 0 && depth < 4; depth++) {
      const found = await rows(
        this.client(),
        `SELECT t.oid, t.typname, t.typtype, t.typcategory, t.typelem, t.typbasetype, t.typtypmod,
                (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels
           FROM pg_type t WHERE t.oid = ANY($1::oid[])`,
        [missing],
      );
      const next: number[] = [];
      for (const r of found) {
        const info: TypeInfo = {
          oid: Number(r.oid),
          name: r.typname ?? '',
          typtype: r.typtype ?? 'b',
          category: r.typcategory ?? 'U',
          elemOid: Number(r.typelem ?? 0),
          baseOid: Number(r.typbasetype ?? 0),
          baseTypmod: Number(r.typtypmod ?? -1),
          enumLabels: r.labels ? parseArrayText(r.labels).map((l) => l ?? '') : [],
        };
        this.types.set(info.oid, info);
        for (const o of [info.elemOid, info.baseOid]) if (o !== 0 && !this.types.has(o)) next.push(o);
      }
      missing = next;
    }
  }
}

/** A captured table's columns as the connector sees them. */
export interface RelationInfo {
  oid: number;
  schema: string;
  table: string;
  /** 'd' default, 'n' nothing, 'f' full, 'i' index */
  replicaIdentity: string;
  columns: ColumnInfo[];
}

export interface ColumnInfo {
  name: string;
  typeOid: number;
  typeMod: number;
  notNull: boolean;
  /** Position in the primary key (0-based), or -1. */
  pkPosition: number;
}

/** Primary key positions and NOT NULL flags of a table, by column name (empty when the table is gone). */
export async function tableConstraints(
  client: pg.Client,
  oid: number,
): Promise<Map<string, { notNull: boolean; pkPosition: number }>> {
  const found = await rows(
    client,
    `SELECT a.attname, a.attnotnull,
            coalesce((SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(att, n)
                       WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum), 0) AS pk
       FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped`,
    [oid],
  );
  return new Map(
    found.map((r) => [r.attname ?? '', { notNull: r.attnotnull === 't', pkPosition: Number(r.pk) - 1 }]),
  );
}

/** A table's current definition from the catalog (what the snapshot reads with). */
export async function describeTable(client: pg.Client, schema: string, table: string): Promise<RelationInfo> {
  const cls = await rows(
    client,
    `SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, table],
  );
  if (cls.length === 0) throw new ConnectError('CONNECT', `table ${schema}.${table} does not exist`);
  const oid = Number(cls[0]!.oid);
  const cols = await rows(
    client,
    `SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const constraints = await tableConstraints(client, oid);
  return {
    oid,
    schema,
    table,
    replicaIdentity: cls[0]!.relreplident ?? 'd',
    columns: cols.map((r) => {
      const c = constraints.get(r.attname ?? '');
      return {
        name: r.attname ?? '',
        typeOid: Number(r.atttypid),
        typeMod: Number(r.atttypmod),
        notNull: c?.notNull ?? false,
        pkPosition: c?.pkPosition ?? -1,
      };
    }),
  };
}

/** Ordinary and partitioned tables outside the system schemas, as [schema, table], sorted. */
export async function listTables(client: pg.Client): Promise<[string, string][]> {
  const found = await rows(
    client,
    `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
      ORDER BY 1, 2`,
  );
  return found.map((r) => [r.nspname ?? '', r.relname ?? '']);
}

export interface SlotInfo {
  plugin: string | null;
  slotType: string;
  database: string | null;
  active: boolean;
  activePid: number | null;
  confirmedFlushLsn: string | null;
  restartLsn: string | null;
}

export async function slotInfo(client: pg.Client, slot: string): Promise<SlotInfo | null> {
  const found = await rows(
    client,
    `SELECT plugin, slot_type, database, active, active_pid, confirmed_flush_lsn, restart_lsn
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const r = found[0];
  if (!r) return null;
  return {
    plugin: r.plugin,
    slotType: r.slot_type ?? '',
    database: r.database,
    active: r.active === 't',
    activePid: r.active_pid === null ? null : Number(r.active_pid),
    confirmedFlushLsn: r.confirmed_flush_lsn,
    restartLsn: r.restart_lsn,
  };
}

export interface SlotPosition {
  confirmedFlushLsn: string | null;
  restartLsn: string | null;
  /** pg_current_wal_lsn() - confirmed_flush_lsn: WAL written that the slot's reader has not confirmed. */
  lagBytes: number | null;
  /** pg_current_wal_lsn() - restart_lsn: WAL the server keeps on disk for the slot. */
  retainedBytes: number | null;
}

/** Where a slot stands against the server's WAL (null when the slot is missing). */
export async function slotPosition(client: pg.Client, slot: string): Promise<SlotPosition | null> {
  const found = await rows(
    client,
    `SELECT confirmed_flush_lsn, restart_lsn,
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) AS lag,
            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) AS retained
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const r = found[0];
  if (!r) return null;
  return {
    confirmedFlushLsn: r.confirmed_flush_lsn,
    restartLsn: r.restart_lsn,
    lagBytes: r.lag === null ? null : Number(r.lag),
    retainedBytes: r.retained === null ? null : Number(r.retained),
  };
}

export function targetOf(cfg: CdcConfig): PgTarget {
  return {
    hostname: cfg.hostname,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    dbname: cfg.dbname,
    sslmode: cfg.sslmode,
  };
}
