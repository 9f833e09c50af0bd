/**
 * Debezium's change event envelope for PostgreSQL, schemas included, so that the JsonConverter
 * with `schemas.enable=true` writes exactly Debezium's `{"schema": …, "payload": …}`:
 *
 *   key:   struct `<prefix>.<schema>.<table>.Key` of the primary key columns (null without a key)
 *   value: struct `<prefix>.<schema>.<table>.Envelope` (version 1):
 *            before, after   optional `<prefix>.<schema>.<table>.Value` structs
 *            source          `io.debezium.connector.postgresql.Source`: version, connector
 *                            ("postgresql"), name (topic.prefix), ts_ms, snapshot (true/last/false),
 *                            db, sequence (["<last commit lsn>","<lsn>"]), schema, table, txId,
 *                            lsn, xmin
 *            transaction     optional `event.block` (null: transaction metadata is not provided)
 *            op              c, u, d, r (snapshot read), t (truncate)
 *            ts_ms           when the connector processed the event
 */
import type { ConnectHeader, Schema, SourceMap, SourceRecord } from '../../connect/sdk.js';
import type { ColumnInfo, RelationInfo } from './catalog.js';
import { type ColumnConverter, converterFor, type TypeInfo, type TypeOptions } from './types.js';

export const CONNECTOR_VERSION = '2.7.0.tributary';

const opt = (type: Schema['type']): Schema => ({ type, optional: true });

export const SOURCE_SCHEMA: Schema = {
  type: 'struct',
  name: 'io.debezium.connector.postgresql.Source',
  fields: (
    [
      { name: 'version', schema: { type: 'string' } },
      { name: 'connector', schema: { type: 'string' } },
      { name: 'name', schema: { type: 'string' } },
      { name: 'ts_ms', schema: { type: 'int64' } },
      {
        name: 'snapshot',
        schema: {
          type: 'string',
          optional: true,
          name: 'io.debezium.data.Enum',
          version: 1,
          parameters: { allowed: 'true,last,false,incremental' },
          defaultValue: 'false',
        },
      },
      { name: 'db', schema: { type: 'string' } },
      { name: 'sequence', schema: opt('string') },
      { name: 'schema', schema: { type: 'string' } },
      { name: 'table', schema: { type: 'string' } },
      { name: 'txId', schema: opt('int64') },
      { name: 'lsn', schema: opt('int64') },
      { name: 'xmin', schema: opt('int64') },
    ] as { name: string; schema: Schema }[]
  ).map((f, index) => ({ ...f, index })),
};

export const TRANSACTION_SCHEMA: Schema = {
  type: 'struct',
  optional: true,
  name: 'event.block',
  version: 1,
  fields: [
    { name: 'id', index: 0, schema: { type: 'string' } },
    { name: 'total_order', index: 1, schema: { type: 'int64' } },
    { name: 'data_collection_order', index: 2, schema: { type: 'int64' } },
  ],
};

export interface SourceInfo {
  tsMs: number;
  snapshot: 'true' | 'last' | 'false';
  sequence: string | null;
  txId: number | null;
  lsn: number | null;
}

/** Everything needed to turn one table's rows into events. */
export interface TableSchema {
  readonly relation: RelationInfo;
  readonly topic: string;
  readonly keySchema: Schema | null;
  readonly rowSchema: Schema;
  readonly envelopeSchema: Schema;
  readonly converters: readonly ColumnConverter[];
  /** Column indexes of the primary key, in key order. */
  readonly keyColumns: readonly number[];
}

export function buildTableSchema(
  prefix: string,
  relation: RelationInfo,
  opts: TypeOptions,
  lookup: (oid: number) => TypeInfo | undefined,
): TableSchema {
  const base = `${prefix}.${relation.schema}.${relation.table}`;
  const converters = relation.columns.map((c) => converterFor(lookup(c.typeOid), c.typeMod, opts, lookup));
  const fieldSchema = (c: ColumnInfo, i: number, forKey: boolean): Schema =>
    forKey || c.notNull ? converters[i]!.schema : { ...converters[i]!.schema, optional: true };
  const rowSchema: Schema = {
    type: 'struct',
    optional: true,
    name: `${base}.Value`,
    fields: relation.columns.map((c, i) => ({ name: c.name, index: i, schema: fieldSchema(c, i, false) })),
  };
  const keyColumns = relation.columns
    .map((c, i) => ({ i, pos: c.pkPosition }))
    .filter((x) => x.pos >= 0)
    .sort((a, b) => a.pos - b.pos)
    .map((x) => x.i);
  const keySchema: Schema | null =
    keyColumns.length === 0
      ? null
      : {
          type: 'struct',
          name: `${base}.Key`,
          fields: keyColumns.map((ci, index) => ({
            name: relation.columns[ci]!.name,
            index,
            schema: fieldSchema(relation.columns[ci]!, ci, true),
          })),
        };
  const envelopeSchema: Schema = {
    type: 'struct',
    name: `${base}.Envelope`,
    version: 1,
    fields: [
      { name: 'before', index: 0, schema: rowSchema },
      { name: 'after', index: 1, schema: rowSchema },
      { name: 'source', index: 2, schema: SOURCE_SCHEMA },
      { name: 'transaction', index: 3, schema: TRANSACTION_SCHEMA },
      { name: 'op', index: 4, schema: { type: 'string' } },
      { name: 'ts_ms', index: 5, schema: opt('int64') },
    ],
  };
  return { relation, topic: base, keySchema, rowSchema, envelopeSchema, converters, keyColumns };
}

export type Row = Record<string, unknown>;

export function keyOf(t: TableSchema, row: Row | null): Row | null {
  if (!t.keySchema || !row) return null;
  const key: Row = {};
  for (const ci of t.keyColumns) {
    const name = t.relation.columns[ci]!.name;
    key[name] = row[name];
  }
  return key;
}

export function sourceStruct(prefix: string, db: string, t: TableSchema, info: SourceInfo): Row {
  return {
    version: CONNECTOR_VERSION,
    connector: 'postgresql',
    name: prefix,
    ts_ms: info.tsMs,
    snapshot: info.snapshot,
    db,
    sequence: info.sequence,
    schema: t.relation.schema,
    table: t.relation.table,
    txId: info.txId,
    lsn: info.lsn,
    xmin: null,
  };
}

/** Events have no headers: they share one (frozen) empty list. */
const NO_HEADERS: readonly ConnectHeader[] = Object.freeze([]);

export function changeRecord(
  t: TableSchema,
  op: 'c' | 'u' | 'd' | 'r' | 't',
  before: Row | null,
  after: Row | null,
  source: Row,
  partition: SourceMap,
  offset: SourceMap,
  key: Row | null,
): SourceRecord {
  const now = Date.now();
  return {
    topic: t.topic,
    kafkaPartition: null,
    keySchema: key ? t.keySchema : null,
    key,
    valueSchema: t.envelopeSchema,
    value: { before, after, source, transaction: null, op, ts_ms: now },
    timestamp: now,
    headers: NO_HEADERS,
    sourcePartition: partition,
    sourceOffset: offset,
  };
}

export function tombstone(t: TableSchema, key: Row, partition: SourceMap, offset: SourceMap): SourceRecord {
  return {
    topic: t.topic,
    kafkaPartition: null,
    keySchema: t.keySchema,
    key,
    valueSchema: null,
    value: null,
    timestamp: Date.now(),
    headers: NO_HEADERS,
    sourcePartition: partition,
    sourceOffset: offset,
  };
}

export const HEARTBEAT_KEY_SCHEMA: Schema = {
  type: 'struct',
  name: 'io.debezium.connector.common.ServerNameKey',
  fields: [{ name: 'serverName', index: 0, schema: { type: 'string' } }],
};

export const HEARTBEAT_VALUE_SCHEMA: Schema = {
  type: 'struct',
  name: 'io.debezium.connector.common.Heartbeat',
  fields: [{ name: 'ts_ms', index: 0, schema: { type: 'int64' } }],
};

export const MESSAGE_KEY_SCHEMA: Schema = {
  type: 'struct',
  name: 'io.debezium.connector.postgresql.MessageKey',
  fields: [{ name: 'prefix', index: 0, schema: opt('string') }],
};

const MESSAGE_SOURCE_SCHEMA: Schema = {
  ...SOURCE_SCHEMA,
  fields: SOURCE_SCHEMA.fields!.map((f) =>
    f.name === 'schema' || f.name === 'table' ? { ...f, schema: { ...f.schema, optional: true } } : f,
  ),
};

export const MESSAGE_VALUE_SCHEMA: Schema = {
  type: 'struct',
  name: 'io.debezium.connector.postgresql.MessageValue',
  fields: [
    { name: 'op', index: 0, schema: { type: 'string' } },
    { name: 'ts_ms', index: 1, schema: opt('int64') },
    { name: 'source', index: 2, schema: MESSAGE_SOURCE_SCHEMA },
    {
      name: 'message',
      index: 3,
      schema: {
        type: 'struct',
        name: 'io.debezium.connector.postgresql.Message',
        fields: [
          { name: 'prefix', index: 0, schema: opt('string') },
          { name: 'content', index: 1, schema: opt('bytes') },
        ],
      },
    },
  ],
};
