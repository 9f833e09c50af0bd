/**
 * PostgreSQL column types → Connect schemas and values, as Debezium's PostgresValueConverter maps
 * them (defaults: `decimal.handling.mode=precise`, `time.precision.mode=adaptive`,
 * `binary.handling.mode=bytes`, `interval.handling.mode=numeric`).
 *
 * Values arrive as text — pgoutput protocol 1 sends text, and the snapshot reads with every type
 * parser switched off — so one conversion serves the snapshot and the stream alike. Both sessions
 * run with `TimeZone=UTC`, `DateStyle=ISO`, `IntervalStyle=postgres`, `bytea_output=hex`.
 *
 * | PostgreSQL                     | Connect type (schema name)                                        |
 * |--------------------------------|-------------------------------------------------------------------|
 * | bool                           | boolean                                                           |
 * | int2 / int4 / int8, oid        | int16 / int32 / int64                                             |
 * | float4 / float8                | float32 / float64                                                 |
 * | numeric(p,s), money            | bytes `org.apache.kafka.connect.data.Decimal` (scale, precision)  |
 * | numeric (no scale)             | struct `io.debezium.data.VariableScaleDecimal` {scale, value}     |
 * |   …with decimal.handling.mode  | double → float64, string → string                                 |
 * | text, varchar, char, name, …   | string                                                            |
 * | uuid                           | string `io.debezium.data.Uuid`                                    |
 * | json, jsonb / xml              | string `io.debezium.data.Json` / `io.debezium.data.Xml`           |
 * | bytea                          | bytes (binary.handling.mode base64 / hex → string)                |
 * | date                           | int32 `io.debezium.time.Date` (days since epoch)                  |
 * | time                           | int64 `io.debezium.time.MicroTime` (ms: `io.debezium.time.Time`)  |
 * | timetz                         | string `io.debezium.time.ZonedTime`                               |
 * | timestamp(0..3) / (4..6)       | int64 `io.debezium.time.Timestamp` (ms) / `MicroTimestamp` (µs)   |
 * | timestamptz                    | string `io.debezium.time.ZonedTimestamp` (ISO 8601, UTC)          |
 * | interval                       | int64 `io.debezium.time.MicroDuration` (string: ISO 8601)         |
 * | enum                           | string `io.debezium.data.Enum` {allowed: labels}                  |
 * | arrays (one dimension)         | array of the element's type (optional elements)                   |
 * | domains                        | their base type                                                   |
 * | anything else (inet, point, …) | string, PostgreSQL's text form                                    |
 *
 * With `time.precision.mode=connect`, date/time/timestamp use Connect's Date/Time/Timestamp
 * logical types (millisecond precision).
 */
import { DataException, LOGICAL, type Schema } from '../../connect/sdk.js';

export type DecimalMode = 'precise' | 'double' | 'string';
export type TimePrecisionMode = 'adaptive' | 'adaptive_time_microseconds' | 'connect';
export type BinaryMode = 'bytes' | 'base64' | 'hex';
export type IntervalMode = 'numeric' | 'string';

export interface TypeOptions {
  decimalMode: DecimalMode;
  timePrecisionMode: TimePrecisionMode;
  binaryMode: BinaryMode;
  intervalMode: IntervalMode;
  /** `unavailable.value.placeholder`: stands in for unchanged TOAST columns. */
  placeholder: string;
}

/** What pg_type says about a type. */
export interface TypeInfo {
  oid: number;
  name: string;
  /** b base, e enum, d domain, c composite, r range, m multirange, p pseudo */
  typtype: string;
  /** typcategory: 'A' for arrays */
  category: string;
  elemOid: number;
  baseOid: number;
  baseTypmod: number;
  enumLabels: string[];
}

/** How one column's values become Connect values. */
export interface ColumnConverter {
  /** The schema of the value (not yet optional). */
  readonly schema: Schema;
  fromText(text: string): unknown;
  /** The value standing for an unchanged TOAST column. */
  readonly placeholder: unknown;
  /** What a required column holds when its value is unknown (a delete's old row without REPLICA IDENTITY FULL). */
  readonly zero: unknown;
}

const DAY_MS = 86_400_000;
const DAYS_PER_MONTH_AVG = 365.25 / 12;

// ─── Value parsers ──────────────────────────────────────────────────────────────────────────

function parseIntStrict(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new DataException(`not a number: ${text}`);
  return n;
}

function parseFloatPg(text: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === 'Infinity') return Number.POSITIVE_INFINITY;
  if (text === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** Java BigInteger.toByteArray(): big-endian two's complement, minimal length. */
export function bigintToBytes(v: bigint): Buffer {
  const neg = v < 0n;
  let x = neg ? -v - 1n : v;
  const bytes: number[] = [];
  do {
    const b = Number(x & 0xffn);
    bytes.unshift(neg ? ~b & 0xff : b);
    x >>= 8n;
  } while (x > 0n);
  // The sign bit must match the sign.
  if (!neg && (bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  if (neg && (bytes[0]! & 0x80) === 0) bytes.unshift(0xff);
  return Buffer.from(bytes);
}

/** Java BigInteger.toByteArray() of a safe integer, without going through bigint. */
export function safeIntegerToBytes(n: number): Buffer {
  const neg = n < 0;
  // Two's complement: the bytes of -n-1, inverted.
  const x = neg ? -n - 1 : n;
  // Bytes needed: the magnitude's, plus one when its top bit would read as the sign.
  let size = 1;
  for (let rest = Math.floor(x / 256); rest > 0; rest = Math.floor(rest / 256)) size++;
  if (Math.floor(x / 256 ** (size - 1)) >= 0x80) size++;
  const out = Buffer.allocUnsafe(size);
  let rest = x;
  for (let i = size - 1; i >= 0; i--) {
    const b = rest % 256;
    out[i] = neg ? 255 - b : b;
    rest = (rest - b) / 256;
  }
  return out;
}

/**
 * The Decimal bytes of `numeric(p,s)` text as PostgreSQL writes it ("-12.30"), when its unscaled
 * value is a safe integer; null for anything else (then parseDecimal decides).
 */
export function fixedDecimalBytes(text: string, scale: number): Buffer | null {
  // -?digits[.digits], read character by character: this runs for every numeric value.
  const n = text.length;
  let i = text.charCodeAt(0) === 0x2d ? 1 : 0;
  const intStart = i;
  let unscaled = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) break;
    unscaled = unscaled * 10 + c;
  }
  const intDigits = i - intStart;
  if (intDigits === 0 || intDigits + scale > 15) return null;
  let fracDigits = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 0x2e) return null; // .
    for (i++; i < n; i++, fracDigits++) {
      const c = text.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) return null;
      unscaled = unscaled * 10 + c;
    }
    if (fracDigits === 0 || fracDigits > scale) return null;
  }
  // At most 15 digits: exact in a double.
  for (; fracDigits < scale; fracDigits++) unscaled *= 10;
  return safeIntegerToBytes(intStart === 1 && unscaled !== 0 ? -unscaled : unscaled);
}

function decimalBytesOf(d: { unscaled: bigint } | null): Buffer | null {
  return d === null ? null : bigintToBytes(d.unscaled);
}

/** Java `new BigInteger(bytes)`. */
export function bytesToBigint(b: Buffer): bigint {
  if (b.length === 0) return 0n;
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  if ((b[0]! & 0x80) !== 0) v -= 1n << BigInt(b.length * 8);
  return v;
}

/** "123.4500" → { unscaled: 1234500n, scale: 4 } (money: "$1,234.50" and "-$3.00" too). */
export function parseDecimal(text: string, scale?: number): { unscaled: bigint; scale: number } | null {
  let t = text.trim();
  if (t === 'NaN' || t === 'Infinity' || t === '-Infinity') return null;
  t = t.replace(/[$,\s]/g, '');
  let neg = false;
  if (t.startsWith('-')) {
    neg = true;
    t = t.slice(1);
  } else if (t.startsWith('(') && t.endsWith(')')) {
    neg = true;
    t = t.slice(1, -1);
  }
  let exp = 0;
  const e = t.search(/[eE]/);
  if (e >= 0) {
    exp = Number(t.slice(e + 1));
    t = t.slice(0, e);
  }
  const dot = t.indexOf('.');
  let intPart = dot >= 0 ? t.slice(0, dot) : t;
  let frac = dot >= 0 ? t.slice(dot + 1) : '';
  if (!/^\d*$/.test(intPart) || !/^\d*$/.test(frac)) throw new DataException(`not a decimal: ${text}`);
  if (exp > 0) {
    frac = frac.padEnd(exp, '0');
    intPart += frac.slice(0, exp);
    frac = frac.slice(exp);
  } else if (exp < 0) {
    intPart = intPart.padStart(-exp + 1, '0');
    frac = intPart.slice(intPart.length + exp) + frac;
    intPart = intPart.slice(0, intPart.length + exp);
  }
  let s = scale ?? frac.length;
  if (frac.length < s) frac = frac.padEnd(s, '0');
  else if (frac.length > s) {
    // More digits than the declared scale cannot come from PostgreSQL; keep them all.
    s = frac.length;
  }
  const digits = `${intPart}${frac}`.replace(/^0+(?=\d)/, '') || '0';
  const unscaled = BigInt(digits);
  return { unscaled: neg ? -unscaled : unscaled, scale: s };
}

/** 'YYYY-MM-DD[ BC]' → days since the epoch. */
function parseDateDays(text: string): number {
  if (text === 'infinity') return 2_147_483_647;
  if (text === '-infinity') return -2_147_483_648;
  const m = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/.exec(text);
  if (!m) throw new DataException(`not a date: ${text}`);
  let y = Number(m[1]);
  if (m[4]) y = 1 - y;
  const d = new Date(0);
  d.setUTCFullYear(y, Number(m[2]) - 1, Number(m[3]));
  return Math.round(d.getTime() / DAY_MS);
}

/** 'HH:MM:SS[.ffffff]' → microseconds of the day. */
function parseTimeMicros(text: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/.exec(text);
  if (!m) throw new DataException(`not a time: ${text}`);
  const frac = Number((m[4] ?? '').padEnd(6, '0'));
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000 + frac;
}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff][+TZ][ BC]' → microseconds since the epoch (the zone applied when present). */
export function parseTimestampMicros(text: string): number {
  if (text === 'infinity') return Number.MAX_SAFE_INTEGER;
  if (text === '-infinity') return Number.MIN_SAFE_INTEGER;
  const m =
    /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::(\d{2}))?)?( BC)?$/.exec(
      text,
    );
  if (!m) throw new DataException(`not a timestamp: ${text}`);
  let y = Number(m[1]);
  if (m[12]) y = 1 - y;
  const d = new Date(0);
  d.setUTCFullYear(y, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
  let us = d.getTime() * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
  if (m[8]) {
    const offSec = (Number(m[9]) * 60 + Number(m[10] ?? 0)) * 60 + Number(m[11] ?? 0);
    us -= (m[8] === '-' ? -1 : 1) * offSec * 1_000_000;
  }
  return us;
}

/** Microseconds since the epoch → ISO 8601 in UTC with the fraction PostgreSQL had (Debezium's ZonedTimestamp). */
function isoFromMicros(us: number, fracDigits: number): string {
  const ms = Math.floor(us / 1000);
  const base = new Date(ms).toISOString().slice(0, 19);
  const micros = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  const frac = fracDigits > 0 ? `.${String(micros).padStart(6, '0').slice(0, fracDigits)}` : '';
  return `${base}${frac}Z`;
}

/** Interval text (IntervalStyle=postgres: "1 year 2 mons 3 days 04:05:06.7") → microseconds (Debezium's MicroDuration). */
export function parseIntervalMicros(text: string): number {
  let years = 0;
  let months = 0;
  let days = 0;
  let timeUs = 0;
  for (const m of text.matchAll(/(-?\d+) (year|mon|day)s?|([+-])?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/g)) {
    if (m[2] === 'year') years += Number(m[1]);
    else if (m[2] === 'mon') months += Number(m[1]);
    else if (m[2] === 'day') days += Number(m[1]);
    else {
      const us =
        ((Number(m[4]) * 60 + Number(m[5])) * 60 + Number(m[6])) * 1_000_000 +
        Number((m[7] ?? '').padEnd(6, '0'));
      timeUs += m[3] === '-' ? -us : us;
    }
  }
  const dayUs = 86_400_000_000;
  return Math.round((years * 12 + months) * DAYS_PER_MONTH_AVG * dayUs + days * dayUs + timeUs);
}

/** Microseconds → ISO 8601 duration (interval.handling.mode=string), e.g. P1Y2M3DT4H5M6.7S. */
function isoDuration(text: string): string {
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const m of text.matchAll(/(-?\d+) (year|mon|day)s?|([+-])?(\d+):(\d{2}):(\d{2}(?:\.\d{1,6})?)/g)) {
    if (m[2] === 'year') y += Number(m[1]);
    else if (m[2] === 'mon') mo += Number(m[1]);
    else if (m[2] === 'day') d += Number(m[1]);
    else {
      const sign = m[3] === '-' ? -1 : 1;
      h += sign * Number(m[4]);
      mi += sign * Number(m[5]);
      s += sign * Number(m[6]);
    }
  }
  return `P${y}Y${mo}M${d}DT${h}H${mi}M${s}S`;
}

/** A one-dimensional array literal '{a,"b c",NULL}' → element texts (null for NULL). */
export function parseArrayText(text: string, delimiter = ','): (string | null)[] {
  let t = text;
  // Optional dimension decoration: '[1:3]={...}'
  const eq = t.indexOf('=');
  if (t.startsWith('[') && eq > 0) t = t.slice(eq + 1);
  if (!t.startsWith('{') || !t.endsWith('}')) throw new DataException(`not an array: ${text}`);
  const out: (string | null)[] = [];
  let i = 1;
  const end = t.length - 1;
  if (i === end) return out;
  while (i <= end) {
    let value = '';
    let quoted = false;
    if (t[i] === '"') {
      quoted = true;
      i++;
      while (i < end && t[i] !== '"') {
        if (t[i] === '\\') i++;
        value += t[i];
        i++;
      }
      i++; // closing quote
    } else if (t[i] === '{') {
      // A nested array: kept as its literal text.
      let depth = 0;
      const start = i;
      do {
        if (t[i] === '{') depth++;
        else if (t[i] === '}') depth--;
        else if (t[i] === '"') {
          i++;
          while (i < end && t[i] !== '"') i += t[i] === '\\' ? 2 : 1;
        }
        i++;
      } while (depth > 0 && i < end);
      value = t.slice(start, i);
      quoted = true;
    } else {
      while (i < end && t[i] !== delimiter) {
        if (t[i] === '\\') i++;
        value += t[i];
        i++;
      }
      value = value.trim();
    }
    out.push(!quoted && value.toUpperCase() === 'NULL' ? null : value);
    i++; // delimiter or the closing brace
  }
  return out;
}

function parseBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  // The escape format (bytea_output=escape): octal escapes and doubled backslashes.
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      if (text[i + 1] === '\\') {
        bytes.push(0x5c);
        i++;
      } else {
        bytes.push(Number.parseInt(text.slice(i + 1, i + 4), 8));
        i += 3;
      }
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

// ─── Schemas ────────────────────────────────────────────────────────────────────────────────

const named = (type: Schema['type'], name: string, parameters?: Record<string, string>): Schema =>
  parameters ? { type, name, version: 1, parameters } : { type, name, version: 1 };

export const VARIABLE_SCALE_DECIMAL: Schema = {
  type: 'struct',
  name: 'io.debezium.data.VariableScaleDecimal',
  version: 1,
  doc: 'Variable scaled decimal',
  fields: [
    { name: 'scale', index: 0, schema: { type: 'int32' } },
    { name: 'value', index: 1, schema: { type: 'bytes' } },
  ],
};

function simple(
  schema: Schema,
  fromText: (t: string) => unknown,
  zero: unknown,
  placeholder: unknown = null,
): ColumnConverter {
  return { schema, fromText, zero, placeholder };
}

/** The converter of a type (after domains were resolved to their base), or of a text column when unknown. */
export function converterFor(
  info: TypeInfo | undefined,
  typeMod: number,
  opts: TypeOptions,
  lookup: (oid: number) => TypeInfo | undefined,
): ColumnConverter {
  const text = (name?: string, parameters?: Record<string, string>) =>
    simple(name ? named('string', name, parameters) : { type: 'string' }, (t) => t, '', opts.placeholder);
  if (!info) return text();
  if (info.typtype === 'd') {
    const base = lookup(info.baseOid);
    return converterFor(base, info.baseTypmod >= 0 ? info.baseTypmod : typeMod, opts, lookup);
  }
  if (info.typtype === 'e') return text('io.debezium.data.Enum', { allowed: info.enumLabels.join(',') });
  if (info.category === 'A' && info.elemOid !== 0) {
    const elem = converterFor(lookup(info.elemOid), typeMod, opts, lookup);
    const elemSchema: Schema = { ...elem.schema, optional: true };
    const delimiter = lookup(info.elemOid)?.name === 'box' ? ';' : ',';
    return {
      schema: { type: 'array', valueSchema: elemSchema },
      fromText: (t) => parseArrayText(t, delimiter).map((e) => (e === null ? null : elem.fromText(e))),
      zero: [],
      placeholder:
        elem.schema.type === 'string'
          ? [opts.placeholder]
          : elem.schema.type === 'bytes'
            ? [Buffer.from(opts.placeholder)]
            : null,
    };
  }
  switch (info.name) {
    case 'bool':
      return simple({ type: 'boolean' }, (t) => t === 't' || t === 'true', false);
    case 'int2':
      return simple({ type: 'int16' }, parseIntStrict, 0);
    case 'int4':
      return simple({ type: 'int32' }, parseIntStrict, 0);
    case 'int8':
    case 'oid':
      return simple({ type: 'int64' }, parseIntStrict, 0);
    case 'float4':
      return simple({ type: 'float32' }, parseFloatPg, 0);
    case 'float8':
      return simple({ type: 'float64' }, parseFloatPg, 0);
    case 'numeric':
    case 'money': {
      const hasScale = info.name === 'money' || typeMod >= 4;
      const scale = info.name === 'money' ? 2 : hasScale ? (typeMod - 4) & 0xffff : undefined;
      const precision =
        info.name === 'money' ? undefined : hasScale ? ((typeMod - 4) >> 16) & 0xffff : undefined;
      if (opts.decimalMode === 'double') {
        return simple(
          { type: 'float64' },
          (t) => {
            const d = parseDecimal(t);
            return d === null ? parseFloatPg(t) : Number(t.replace(/[$,\s]/g, ''));
          },
          0,
        );
      }
      if (opts.decimalMode === 'string') {
        return simple(
          { type: 'string' },
          (t) => {
            const d = parseDecimal(t, scale);
            return d === null ? t : decimalText(d.unscaled, d.scale);
          },
          '0',
        );
      }
      if (hasScale) {
        const parameters: Record<string, string> = { scale: String(scale) };
        if (precision !== undefined) parameters['connect.decimal.precision'] = String(precision);
        return simple(
          { type: 'bytes', name: LOGICAL.decimal, version: 1, parameters },
          (t) => fixedDecimalBytes(t, scale!) ?? decimalBytesOf(parseDecimal(t, scale)),
          bigintToBytes(0n),
        );
      }
      return simple(
        VARIABLE_SCALE_DECIMAL,
        (t) => {
          const d = parseDecimal(t);
          return d === null ? null : { scale: d.scale, value: bigintToBytes(d.unscaled) };
        },
        { scale: 0, value: bigintToBytes(0n) },
      );
    }
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'char':
    case 'name':
    case 'citext':
      return text();
    case 'uuid':
      return text('io.debezium.data.Uuid');
    case 'json':
    case 'jsonb':
      return text('io.debezium.data.Json');
    case 'xml':
      return text('io.debezium.data.Xml');
    case 'bytea':
      if (opts.binaryMode === 'bytes')
        return simple({ type: 'bytes' }, parseBytea, Buffer.alloc(0), Buffer.from(opts.placeholder));
      return simple(
        { type: 'string' },
        (t) => parseBytea(t).toString(opts.binaryMode === 'hex' ? 'hex' : 'base64'),
        '',
        opts.placeholder,
      );
    case 'date':
      if (opts.timePrecisionMode === 'connect') {
        return simple(
          { type: 'int32', name: LOGICAL.date, version: 1 },
          (t) => new Date(parseDateDays(t) * DAY_MS),
          new Date(0),
        );
      }
      return simple(named('int32', 'io.debezium.time.Date'), parseDateDays, 0);
    case 'time': {
      if (opts.timePrecisionMode === 'connect') {
        return simple(
          { type: 'int32', name: LOGICAL.time, version: 1 },
          (t) => new Date(Math.floor(parseTimeMicros(t) / 1000)),
          new Date(0),
        );
      }
      const p = typeMod < 0 ? 6 : typeMod;
      if (p <= 3 && opts.timePrecisionMode === 'adaptive') {
        return simple(
          named('int32', 'io.debezium.time.Time'),
          (t) => Math.floor(parseTimeMicros(t) / 1000),
          0,
        );
      }
      return simple(named('int64', 'io.debezium.time.MicroTime'), parseTimeMicros, 0);
    }
    case 'timetz':
      return text('io.debezium.time.ZonedTime');
    case 'timestamp': {
      if (opts.timePrecisionMode === 'connect') {
        return simple(
          { type: 'int64', name: LOGICAL.timestamp, version: 1 },
          (t) => new Date(Math.floor(parseTimestampMicros(t) / 1000)),
          new Date(0),
        );
      }
      const p = typeMod < 0 ? 6 : typeMod;
      if (p <= 3)
        return simple(
          named('int64', 'io.debezium.time.Timestamp'),
          (t) => Math.floor(parseTimestampMicros(t) / 1000),
          0,
        );
      return simple(named('int64', 'io.debezium.time.MicroTimestamp'), parseTimestampMicros, 0);
    }
    case 'timestamptz': {
      const digits = typeMod < 0 ? 6 : typeMod;
      return simple(
        named('string', 'io.debezium.time.ZonedTimestamp'),
        (t) => zonedTimestamp(t, digits),
        '1970-01-01T00:00:00Z',
      );
    }
    case 'interval':
      if (opts.intervalMode === 'string')
        return simple(named('string', 'io.debezium.time.Interval'), isoDuration, 'P0Y0M0DT0H0M0S');
      return simple(named('int64', 'io.debezium.time.MicroDuration'), parseIntervalMicros, 0);
    default:
      return text();
  }
}

/**
 * timestamptz text → Debezium's ZonedTimestamp (ISO 8601 in UTC, `digits` fraction digits at most,
 * trailing zeros trimmed). The session runs in UTC, so the text usually is the answer already
 * ("2024-01-01 10:00:00.5+00" → "2024-01-01T10:00:00.5Z"); anything else is parsed.
 */
export function zonedTimestamp(text: string, digits: number): string {
  const n = text.length;
  // Checked character by character (this runs for every timestamptz value): the fixed
  // "YYYY-MM-DD HH:MM:SS", an optional fraction of 1 to 6 digits, then "+00".
  if (
    (n === 22 || (n >= 24 && n <= 29 && text.charCodeAt(19) === 0x2e)) &&
    hasUtcShape(text) &&
    text.endsWith('+00') &&
    allDigits(text, 20, n - 3)
  ) {
    const date = text.slice(0, 10);
    const time = text.slice(11, 19);
    if (n === 22) return `${date}T${time}Z`;
    // The fraction to `digits` places (PostgreSQL's already has no trailing zeros), trailing zeros trimmed.
    let end = Math.min(n - 3, 20 + digits);
    while (end > 20 && text.charCodeAt(end - 1) === 0x30) end--;
    return end === 20 ? `${date}T${time}Z` : `${date}T${time}.${text.slice(20, end)}Z`;
  }
  return text === 'infinity' || text === '-infinity' ? text : isoTrimmed(parseTimestampMicros(text), digits);
}

/** "YYYY-MM-DD HH:MM:SS": 0 for a digit, else the character. */
const UTC_SHAPE = Array.from('0000-00-00 00:00:00', (c) => (c === '0' ? 0 : c.charCodeAt(0)));

function hasUtcShape(text: string): boolean {
  for (let i = 0; i < UTC_SHAPE.length; i++) {
    const c = text.charCodeAt(i);
    if (UTC_SHAPE[i] === 0 ? !isDigit(c) : c !== UTC_SHAPE[i]) return false;
  }
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function allDigits(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/** The general path of {@link zonedTimestamp} (exported for tests). */
export function zonedTimestampParsed(text: string, digits: number): string {
  return isoTrimmed(parseTimestampMicros(text), digits);
}

/** ISO text with the fraction trimmed of trailing zeros, as Java's DateTimeFormatter.ISO_OFFSET_DATE_TIME writes it. */
function isoTrimmed(us: number, maxDigits: number): string {
  const micros = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  if (micros === 0) return isoFromMicros(us, 0);
  let digits = String(micros).padStart(6, '0').slice(0, maxDigits).replace(/0+$/, '').length;
  if (digits === 0) digits = 0;
  return isoFromMicros(us, digits);
}

export function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let s = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  }
  return neg ? `-${s}` : s;
}
