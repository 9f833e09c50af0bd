/**
 * Connect schemas → PostgreSQL column types (for auto.create / auto.evolve), and Connect values →
 * query parameters. Debezium's logical types (what the Postgres CDC source emits) map back to the
 * PostgreSQL types they came from, so a CDC → topic → sink round trip reproduces the table:
 *
 * | Connect (schema name)                                  | PostgreSQL        |
 * |--------------------------------------------------------|-------------------|
 * | int8, int16 / int32 / int64                            | smallint / integer / bigint |
 * | float32 / float64, boolean, string, bytes              | real / double precision, boolean, text, bytea |
 * | Decimal (scale, connect.decimal.precision)             | numeric(p,s) / numeric |
 * | io.debezium.data.VariableScaleDecimal                  | numeric           |
 * | Date, io.debezium.time.Date                            | date              |
 * | Time, io.debezium.time.Time / MicroTime                | time              |
 * | Timestamp, io.debezium.time.Timestamp / MicroTimestamp | timestamp         |
 * | io.debezium.time.ZonedTimestamp / ZonedTime            | timestamptz / timetz |
 * | io.debezium.time.MicroDuration                         | interval          |
 * | io.debezium.data.Json / Uuid / Xml                     | jsonb / uuid / xml |
 * | array of T                                             | T[]               |
 * | struct, map                                            | jsonb             |
 */
import { DataException, LOGICAL, type Schema } from '../../connect/sdk.js';

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sqlType(schema: Schema): string {
  switch (schema.name) {
    case LOGICAL.decimal: {
      const p = schema.parameters?.['connect.decimal.precision'];
      const s = schema.parameters?.scale ?? '0';
      return p ? `numeric(${p},${s})` : 'numeric';
    }
    case 'io.debezium.data.VariableScaleDecimal':
      return 'numeric';
    case LOGICAL.date:
    case 'io.debezium.time.Date':
      return 'date';
    case LOGICAL.time:
    case 'io.debezium.time.Time':
    case 'io.debezium.time.MicroTime':
    case 'io.debezium.time.NanoTime':
      return 'time';
    case LOGICAL.timestamp:
    case 'io.debezium.time.Timestamp':
      return 'timestamp(3)';
    case 'io.debezium.time.MicroTimestamp':
    case 'io.debezium.time.NanoTimestamp':
      return 'timestamp';
    case 'io.debezium.time.ZonedTimestamp':
      return 'timestamptz';
    case 'io.debezium.time.ZonedTime':
      return 'timetz';
    case 'io.debezium.time.MicroDuration':
      return 'interval';
    case 'io.debezium.data.Json':
      return 'jsonb';
    case 'io.debezium.data.Uuid':
      return 'uuid';
    case 'io.debezium.data.Xml':
      return 'xml';
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'text';
    case 'bytes':
      return 'bytea';
    case 'array':
      return schema.valueSchema && !['array', 'map', 'struct'].includes(schema.valueSchema.type)
        ? `${sqlType(schema.valueSchema)}[]`
        : 'jsonb';
    case 'map':
    case 'struct':
      return 'jsonb';
  }
}

/** Java `new BigInteger(bytes)`. */
function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  if ((b[0]! & 0x80) !== 0) v -= 1n << BigInt(b.length * 8);
  return v;
}

function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let s = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  } else if (scale < 0) s += '0'.repeat(-scale);
  return neg ? `-${s}` : s;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function microsToTimestamp(us: number): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const micros = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  const y = d.getUTCFullYear();
  const year = y <= 0 ? `${pad(1 - y, 4)}` : pad(y, 4);
  return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(micros, 6)}${y <= 0 ? ' BC' : ''}`;
}

function microsToTime(us: number): string {
  const s = Math.floor(us / 1_000_000);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(us % 1_000_000, 6)}`;
}

function asNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  throw new DataException(`expected a number, got ${typeof v}`);
}

function toJson(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJson(x)]));
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof Date) return v.getTime();
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

/** A Connect value of `schema` as a `pg` query parameter (text for everything temporal and numeric-exact). */
export function toParam(schema: Schema, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (schema.name) {
    case LOGICAL.decimal:
      return decimalText(bytesToBigint(v as Uint8Array), Number(schema.parameters?.scale ?? 0));
    case 'io.debezium.data.VariableScaleDecimal': {
      const s = v as { scale: number; value: Uint8Array };
      return decimalText(bytesToBigint(s.value), s.scale);
    }
    case LOGICAL.date:
      return (v as Date).toISOString().slice(0, 10);
    case 'io.debezium.time.Date':
      return new Date(asNumber(v) * 86_400_000).toISOString().slice(0, 10);
    case LOGICAL.time:
      return microsToTime(asNumber(v) * 1000);
    case 'io.debezium.time.Time':
      return microsToTime(asNumber(v) * 1000);
    case 'io.debezium.time.MicroTime':
      return microsToTime(asNumber(v));
    case 'io.debezium.time.NanoTime':
      return microsToTime(Math.floor(asNumber(v) / 1000));
    case LOGICAL.timestamp:
    case 'io.debezium.time.Timestamp':
      return microsToTimestamp(asNumber(v) * 1000);
    case 'io.debezium.time.MicroTimestamp':
      return microsToTimestamp(asNumber(v));
    case 'io.debezium.time.NanoTimestamp':
      return microsToTimestamp(Math.floor(asNumber(v) / 1000));
    case 'io.debezium.time.MicroDuration': {
      // Whole days as days (as PostgreSQL's justify_hours); months were averaged away by the source.
      const us = asNumber(v);
      const days = Math.trunc(us / 86_400_000_000);
      return `${days} days ${us - days * 86_400_000_000} microseconds`;
    }
  }
  switch (schema.type) {
    case 'bytes':
      return Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array);
    case 'array':
      if (sqlType(schema) === 'jsonb') return JSON.stringify(toJson(v));
      return (v as unknown[]).map((x) => toParam(schema.valueSchema!, x));
    case 'map':
    case 'struct':
      return JSON.stringify(toJson(v));
    case 'int64':
      return typeof v === 'bigint' ? v.toString() : v;
    default:
      return v;
  }
}
