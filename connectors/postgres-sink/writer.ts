/**
 * Turns sink records into SQL: each record becomes an upsert-like write (INSERT, INSERT … ON
 * CONFLICT … DO UPDATE, or UPDATE, per insert.mode) or a delete, with its columns and primary key
 * per pk.mode. Consecutive writes of the same kind to the same table with the same columns are
 * batched into one statement (at most batch.size rows, and PostgreSQL's 65535 parameters); the
 * batches of one put() run in one transaction, in record order.
 *
 * Values are plain structs, or Debezium change events (an `…Envelope` struct with before, after and
 * op), which are unwrapped as Debezium's JDBC sink does: c/r/u write `after`, d deletes the key
 * (when delete.enabled), t is ignored.
 */
import type pg from 'pg';
import { ConnectError, DataException, type Schema, type SinkRecord } from '../../connect/sdk.js';
import type { SinkConfig } from './config.js';
import { quoteIdent, sqlType, toParam } from './sql.js';

const MAX_PARAMS = 65_535;

export interface TableRef {
  schema: string;
  table: string;
}

interface Column {
  name: string;
  schema: Schema;
}

interface Write {
  kind: 'write' | 'delete';
  table: TableRef;
  columns: Column[];
  keyNames: string[];
  values: unknown[];
}

export function tableRefOf(format: string, topic: string): TableRef {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Kafka's table.name.format placeholder
  const name = format.replaceAll('${topic}', topic);
  const parts = name.split('.');
  const table = parts[parts.length - 1]!;
  const schema = parts.length >= 2 ? parts[parts.length - 2]! : 'public';
  if (table === '')
    throw new ConnectError('CONFIG', `table.name.format gives an empty table name for topic ${topic}`);
  return { schema, table };
}

const qualified = (t: TableRef) => `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
const tableKey = (t: TableRef) => `${t.schema}\u0000${t.table}`;

function isEnvelope(schema: Schema | null): boolean {
  if (schema?.type !== 'struct' || !schema.name?.endsWith('.Envelope')) return false;
  const names = new Set((schema.fields ?? []).map((f) => f.name));
  return names.has('before') && names.has('after') && names.has('op');
}

const KAFKA_COLUMNS: Column[] = [
  { name: '__connect_topic', schema: { type: 'string' } },
  { name: '__connect_partition', schema: { type: 'int32' } },
  { name: '__connect_offset', schema: { type: 'int64' } },
];

export class Writer {
  /** Columns each known table has (lower-cased names are not assumed: PostgreSQL names are exact here). */
  private readonly tables = new Map<string, Set<string>>();

  constructor(private readonly cfg: SinkConfig) {}

  /** The writes of these records, in order (records that write nothing are left out). */
  plan(records: readonly SinkRecord[]): Write[] {
    const out: Write[] = [];
    for (const r of records) {
      const w = this.writeOf(r);
      if (w) out.push(w);
    }
    return out;
  }

  private writeOf(r: SinkRecord): Write | null {
    const table = tableRefOf(this.cfg.tableNameFormat, r.topic);
    let rowSchema: Schema | null = r.valueSchema;
    let row = r.value as Record<string, unknown> | null;
    let deleting = r.value === null;
    if (!deleting && isEnvelope(r.valueSchema)) {
      const env = r.value as {
        op: string;
        after: Record<string, unknown> | null;
        before: Record<string, unknown> | null;
      };
      if (env.op === 'd') deleting = true;
      else if (env.op === 't' || env.op === 'm') return null;
      else {
        rowSchema = r.valueSchema!.fields!.find((f) => f.name === 'after')!.schema;
        row = env.after;
        if (row === null) return null;
      }
    }
    if (deleting) {
      if (!this.cfg.deleteEnabled) return null;
      const key = this.keyColumns(r, null, null);
      if (key.columns.length === 0) return null;
      return {
        kind: 'delete',
        table,
        columns: key.columns,
        keyNames: key.columns.map((c) => c.name),
        values: key.values,
      };
    }
    if (rowSchema?.type !== 'struct' || row === null || typeof row !== 'object') {
      throw new DataException(
        `record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} has no struct value with a schema; the Postgres sink needs one (use a converter with schemas, e.g. JsonConverter with schemas.enable=true)`,
      );
    }
    const key = this.keyColumns(r, rowSchema, row);
    const columns = [...key.columns];
    const values = [...key.values];
    const have = new Set(columns.map((c) => c.name));
    const whitelist = this.cfg.fieldsWhitelist;
    for (const f of rowSchema.fields ?? []) {
      if (have.has(f.name) || (whitelist.length > 0 && !whitelist.includes(f.name))) continue;
      columns.push({ name: f.name, schema: f.schema });
      values.push(row[f.name]);
    }
    return { kind: 'write', table, columns, keyNames: key.columns.map((c) => c.name), values };
  }

  private keyColumns(
    r: SinkRecord,
    rowSchema: Schema | null,
    row: Record<string, unknown> | null,
  ): { columns: Column[]; values: unknown[] } {
    const cfg = this.cfg;
    switch (cfg.pkMode) {
      case 'none':
        return { columns: [], values: [] };
      case 'kafka':
        return { columns: KAFKA_COLUMNS, values: [r.topic, r.kafkaPartition, r.kafkaOffset] };
      case 'record_key': {
        const ks = r.keySchema;
        if (r.key === null || r.key === undefined) {
          throw new DataException(
            `pk.mode=record_key but record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} has no key`,
          );
        }
        if (ks && ks.type === 'struct') {
          const names = cfg.pkFields.length > 0 ? cfg.pkFields : (ks.fields ?? []).map((f) => f.name);
          const key = r.key as Record<string, unknown>;
          return {
            columns: names.map((n) => {
              const f = ks.fields?.find((x) => x.name === n);
              if (!f)
                throw new DataException(
                  `pk.fields names ${n}, which the key struct of ${r.topic} does not have`,
                );
              return { name: n, schema: f.schema };
            }),
            values: names.map((n) => key[n]),
          };
        }
        if (cfg.pkFields.length !== 1) {
          throw new ConnectError(
            'CONFIG',
            `pk.fields must name exactly one column for the primitive keys of ${r.topic} (pk.mode=record_key)`,
          );
        }
        const schema: Schema = ks ?? { type: typeof r.key === 'number' ? 'int64' : 'string' };
        return { columns: [{ name: cfg.pkFields[0]!, schema }], values: [r.key] };
      }
      case 'record_value': {
        if (!rowSchema || !row) return { columns: [], values: [] };
        const names = cfg.pkFields.length > 0 ? cfg.pkFields : (rowSchema.fields ?? []).map((f) => f.name);
        return {
          columns: names.map((n) => {
            const f = rowSchema.fields?.find((x) => x.name === n);
            if (!f)
              throw new DataException(`pk.fields names ${n}, which the value of ${r.topic} does not have`);
            return { name: n, schema: f.schema };
          }),
          values: names.map((n) => row[n]),
        };
      }
    }
  }

  /** Runs the writes in one transaction. */
  async execute(client: pg.Client, writes: readonly Write[]): Promise<void> {
    if (writes.length === 0) return;
    await client.query('BEGIN');
    try {
      let i = 0;
      while (i < writes.length) {
        const first = writes[i]!;
        const sig = signature(first);
        const rowsPerStatement = Math.max(
          1,
          Math.min(this.cfg.batchSize, Math.floor(MAX_PARAMS / Math.max(1, first.columns.length))),
        );
        let j = i + 1;
        while (j < writes.length && j - i < rowsPerStatement && signature(writes[j]!) === sig) j++;
        await this.ensureTable(client, first);
        await this.run(client, writes.slice(i, j));
        i = j;
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  private async run(client: pg.Client, batch: Write[]): Promise<void> {
    const first = batch[0]!;
    const t = qualified(first.table);
    const cols = first.columns;
    const params: unknown[] = [];
    const tuple = (w: Write) =>
      `(${w.values
        .map((v, k) => {
          params.push(toParam(cols[k]!.schema, v));
          return `$${params.length}`;
        })
        .join(', ')})`;
    if (first.kind === 'delete') {
      const keys = cols.map((c) => quoteIdent(c.name)).join(', ');
      await client.query(`DELETE FROM ${t} WHERE (${keys}) IN (${batch.map(tuple).join(', ')})`, params);
      return;
    }
    const mode = this.cfg.insertMode;
    if (mode === 'update') {
      for (const w of batch) {
        const p: unknown[] = [];
        const nonKey = cols.filter((c) => !w.keyNames.includes(c.name));
        if (nonKey.length === 0) continue;
        const set = nonKey.map((c) => {
          p.push(toParam(c.schema, w.values[cols.indexOf(c)]));
          return `${quoteIdent(c.name)} = $${p.length}`;
        });
        const where = w.keyNames.map((k) => {
          const c = cols.find((x) => x.name === k)!;
          p.push(toParam(c.schema, w.values[cols.indexOf(c)]));
          return `${quoteIdent(k)} = $${p.length}`;
        });
        await client.query(`UPDATE ${t} SET ${set.join(', ')} WHERE ${where.join(' AND ')}`, p);
      }
      return;
    }
    let rows = batch;
    if (mode === 'upsert') {
      // One statement may not touch a row twice: keep the last write of each key.
      const last = new Map<string, Write>();
      for (const w of batch)
        last.set(
          JSON.stringify(w.keyNames.map((k) => keyText(w.values[cols.findIndex((c) => c.name === k)]))),
          w,
        );
      rows = [...last.values()];
    }
    const names = cols.map((c) => quoteIdent(c.name)).join(', ');
    let sql = `INSERT INTO ${t} (${names}) VALUES ${rows.map(tuple).join(', ')}`;
    if (mode === 'upsert') {
      const nonKey = cols.filter((c) => !first.keyNames.includes(c.name));
      const conflict = first.keyNames.map(quoteIdent).join(', ');
      sql +=
        nonKey.length === 0
          ? ` ON CONFLICT (${conflict}) DO NOTHING`
          : ` ON CONFLICT (${conflict}) DO UPDATE SET ${nonKey.map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`).join(', ')}`;
    }
    await client.query(sql, params);
  }

  /** Creates the table (auto.create) or adds columns (auto.evolve) as the write needs. */
  private async ensureTable(client: pg.Client, w: Write): Promise<void> {
    const key = tableKey(w.table);
    let columns = this.tables.get(key);
    if (!columns) {
      columns = await this.loadColumns(client, w.table);
      if (columns.size === 0) {
        if (w.kind === 'delete') return;
        if (!this.cfg.autoCreate) {
          throw new ConnectError(
            'CONNECT',
            `table ${w.table.schema}.${w.table.table} does not exist; create it or set auto.create=true`,
          );
        }
        const defs = w.columns.map(
          (c) =>
            `${quoteIdent(c.name)} ${sqlType(c.schema)}${c.schema.optional && !w.keyNames.includes(c.name) ? '' : ' NOT NULL'}`,
        );
        if (w.keyNames.length > 0) defs.push(`PRIMARY KEY (${w.keyNames.map(quoteIdent).join(', ')})`);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(w.table.schema)}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${qualified(w.table)} (${defs.join(', ')})`);
        columns = new Set(w.columns.map((c) => c.name));
      }
      this.tables.set(key, columns);
    }
    const missing = w.columns.filter((c) => !columns.has(c.name));
    if (missing.length === 0) return;
    if (!this.cfg.autoEvolve) {
      throw new ConnectError(
        'CONNECT',
        `table ${w.table.schema}.${w.table.table} has no column(s) ${missing.map((c) => c.name).join(', ')}; add them or set auto.evolve=true`,
      );
    }
    for (const c of missing) {
      // Added columns are nullable: the rows already there have no value for them.
      await client.query(
        `ALTER TABLE ${qualified(w.table)} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${sqlType(c.schema)}`,
      );
      columns.add(c.name);
    }
  }

  private async loadColumns(client: pg.Client, t: TableRef): Promise<Set<string>> {
    const res = await client.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [t.schema, t.table],
    );
    return new Set(res.rows.map((r) => r.column_name));
  }

  /** Forget cached table definitions (after a failed transaction rolled back a CREATE or ALTER). */
  reset(): void {
    this.tables.clear();
  }
}

function signature(w: Write): string {
  return `${w.kind}\u0000${tableKey(w.table)}\u0000${w.columns.map((c) => c.name).join('\u0001')}`;
}

function keyText(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (v instanceof Date) return v.getTime();
  return v;
}
