/**
 * Kafka's JsonConverter (`org.apache.kafka.connect.json.JsonConverter`), byte for byte:
 *
 * - `schemas.enable=true` (default): `{"schema": {...}, "payload": ...}` with Kafka's schema JSON
 *   (`type` int8…int64, float, double, boolean, string, bytes, array (`items`), map (`keys`,
 *   `values`), struct (`fields`, each with `field`); `optional`, `name`, `version`, `doc`,
 *   `parameters`, `default`). Reading requires exactly those two fields.
 * - `schemas.enable=false`: the payload alone; reading infers no schema (objects become maps).
 *
 * bytes are base64; maps with non-string keys are arrays of [key, value] pairs; the logical types
 * Timestamp (int64 ms), Date (int32 days) and Time (int32 ms of the day) are `Date`s in Connect.
 * A null value with no schema stays null (a tombstone).
 */

import { type Field, LOGICAL, type Schema, type SchemaType } from '../data.js';
import { DataException } from '../errors.js';
import type { Converter, SchemaAndValue } from './converter.js';

const DAY_MS = 86_400_000;
const TYPE_TO_JSON: Record<SchemaType, string> = {
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  float32: 'float',
  float64: 'double',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
  array: 'array',
  map: 'map',
  struct: 'struct',
};
const JSON_TO_TYPE = new Map(Object.entries(TYPE_TO_JSON).map(([k, v]) => [v, k as SchemaType]));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Kafka's asJsonSchema. */
export function schemaToJson(schema: Schema): { [k: string]: Json } {
  const out: { [k: string]: Json } = { type: TYPE_TO_JSON[schema.type] };
  if (schema.type === 'struct') {
    out.fields = (schema.fields ?? []).map((f) => ({ ...schemaToJson(f.schema), field: f.name }));
  } else if (schema.type === 'array') {
    out.items = schemaToJson(schema.valueSchema!);
  } else if (schema.type === 'map') {
    out.keys = schemaToJson(schema.keySchema!);
    out.values = schemaToJson(schema.valueSchema!);
  }
  out.optional = schema.optional === true;
  if (schema.name !== undefined) out.name = schema.name;
  if (schema.version !== undefined) out.version = schema.version;
  if (schema.doc !== undefined) out.doc = schema.doc;
  if (schema.parameters !== undefined) out.parameters = { ...schema.parameters };
  if (schema.defaultValue !== undefined) out.default = valueToJson(schema, schema.defaultValue);
  return out;
}

/** Kafka's asConnectSchema. */
export function schemaFromJson(json: unknown): Schema | null {
  if (json === null || json === undefined) return null;
  if (typeof json !== 'object' || Array.isArray(json))
    throw new DataException('Schema must be a JSON object');
  const j = json as Record<string, unknown>;
  const type = JSON_TO_TYPE.get(String(j.type));
  if (!type) throw new DataException(`Unknown schema type: ${String(j.type)}`);
  const s: { -readonly [K in keyof Schema]: Schema[K] } = { type };
  if (type === 'struct') {
    if (!Array.isArray(j.fields))
      throw new DataException('Struct schema\'s "fields" argument is not an array.');
    s.fields = j.fields.map((f: Record<string, unknown>, index): Field => {
      if (typeof f.field !== 'string')
        throw new DataException("Struct schema's field name not specified properly");
      return { name: f.field, index, schema: schemaFromJson(f)! };
    });
  } else if (type === 'array') {
    if (j.items === undefined) throw new DataException('Array schema did not specify the element type');
    s.valueSchema = schemaFromJson(j.items)!;
  } else if (type === 'map') {
    s.keySchema = schemaFromJson(j.keys)!;
    s.valueSchema = schemaFromJson(j.values)!;
  }
  if (j.optional === true) s.optional = true;
  else s.optional = false;
  if (typeof j.name === 'string') s.name = j.name;
  if (typeof j.version === 'number') s.version = j.version;
  if (typeof j.doc === 'string') s.doc = j.doc;
  if (j.parameters && typeof j.parameters === 'object') s.parameters = j.parameters as Record<string, string>;
  if (j.default !== undefined && j.default !== null) s.defaultValue = valueFromJson(s, j.default);
  return s;
}

/** A Connect value as JSON, following its schema (or inferring from the value when there is none). */
export function valueToJson(schema: Schema | null, value: unknown): Json {
  if (value === null || value === undefined) {
    if (schema?.defaultValue !== undefined) return valueToJson(schema, schema.defaultValue);
    if (schema && !schema.optional)
      throw new DataException(
        'Conversion error: null value for field that is required and has no default value',
      );
    return null;
  }
  if (schema === null) return inferJson(value);
  switch (schema.name) {
    case LOGICAL.timestamp:
      return toDate(value).getTime();
    case LOGICAL.date:
      return Math.floor(toDate(value).getTime() / DAY_MS);
    case LOGICAL.time:
      return toDate(value).getTime() % DAY_MS;
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      throw mismatch(schema, value);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      throw mismatch(schema, value);
    case 'string':
      if (typeof value === 'string') return value;
      throw mismatch(schema, value);
    case 'bytes':
      if (Buffer.isBuffer(value)) return value.toString('base64');
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      throw mismatch(schema, value);
    case 'array':
      if (!Array.isArray(value)) throw mismatch(schema, value);
      return value.map((v) => valueToJson(schema.valueSchema!, v));
    case 'map': {
      const entries = value instanceof Map ? [...value] : Object.entries(value as object);
      if (schema.keySchema?.type === 'string') {
        const out: { [k: string]: Json } = {};
        for (const [k, v] of entries) out[String(k)] = valueToJson(schema.valueSchema!, v);
        return out;
      }
      return entries.map(([k, v]) => [
        valueToJson(schema.keySchema!, k),
        valueToJson(schema.valueSchema!, v),
      ]);
    }
    case 'struct': {
      if (typeof value !== 'object') throw mismatch(schema, value);
      const out: { [k: string]: Json } = {};
      const obj = value as Record<string, unknown>;
      for (const f of schema.fields ?? []) out[f.name] = valueToJson(f.schema, obj[f.name]);
      return out;
    }
  }
}

function mismatch(schema: Schema, value: unknown): DataException {
  return new DataException(`Invalid type for ${schema.type.toUpperCase()}: ${typeof value}`);
}

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  throw new DataException(`Expected a Date, got ${typeof value}`);
}

function inferJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Date) return value.getTime();
  if (value instanceof Map) {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of value) out[String(k)] = inferJson(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(inferJson);
  if (typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = inferJson(v);
    return out;
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  throw new DataException(`Cannot convert ${typeof value} to JSON`);
}

/** JSON as a Connect value of `schema` (Kafka's convertToConnect). */
export function valueFromJson(schema: Schema | null, json: unknown): unknown {
  if (json === null || json === undefined) {
    if (schema?.defaultValue !== undefined) return schema.defaultValue;
    if (schema && !schema.optional)
      throw new DataException(`Invalid null value for required ${schema.type.toUpperCase()} field`);
    return null;
  }
  if (schema === null) return json;
  switch (schema.name) {
    case LOGICAL.timestamp:
      return new Date(Number(json));
    case LOGICAL.date:
      return new Date(Number(json) * DAY_MS);
    case LOGICAL.time:
      return new Date(Number(json));
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      if (typeof json !== 'number' || !Number.isInteger(json))
        throw new DataException(
          `Expected an integer for ${schema.type.toUpperCase()}, got ${JSON.stringify(json)}`,
        );
      return json;
    case 'float32':
    case 'float64':
      if (typeof json !== 'number') throw new DataException(`Expected a number, got ${JSON.stringify(json)}`);
      return json;
    case 'boolean':
      if (typeof json !== 'boolean')
        throw new DataException(`Expected a boolean, got ${JSON.stringify(json)}`);
      return json;
    case 'string':
      if (typeof json !== 'string') throw new DataException(`Expected a string, got ${JSON.stringify(json)}`);
      return json;
    case 'bytes':
      if (typeof json !== 'string')
        throw new DataException('Invalid type for bytes: expected a base64 string');
      return Buffer.from(json, 'base64');
    case 'array':
      if (!Array.isArray(json)) throw new DataException('Expected an array');
      return json.map((v) => valueFromJson(schema.valueSchema!, v));
    case 'map': {
      const out: Record<string, unknown> = {};
      if (schema.keySchema?.type === 'string') {
        for (const [k, v] of Object.entries(json as object)) out[k] = valueFromJson(schema.valueSchema!, v);
        return out;
      }
      const m = new Map<unknown, unknown>();
      for (const pair of json as unknown[][])
        m.set(valueFromJson(schema.keySchema!, pair[0]), valueFromJson(schema.valueSchema!, pair[1]));
      return m;
    }
    case 'struct': {
      if (typeof json !== 'object' || Array.isArray(json))
        throw new DataException('Expected a JSON object for a struct');
      const out: Record<string, unknown> = {};
      const obj = json as Record<string, unknown>;
      for (const f of schema.fields ?? []) out[f.name] = valueFromJson(f.schema, obj[f.name]);
      return out;
    }
  }
}

/** Serialized schemas by identity, and parsed schemas by their JSON text: records of a topic share one. */
const SCHEMA_TEXT = new WeakMap<Schema, string>();
const MAX_PARSED_SCHEMAS = 1000;

/**
 * Output bytes are written straight into shared slabs (as Node's own pool does for small
 * buffers, but larger), and each record is a slice of one: a Debezium event is a few KB, and a
 * fresh allocation per record, or a JSON string built first and encoded after, costs more than
 * writing it. A record outgrowing its slab moves, with what it has written so far, to a new one.
 * Nothing here is re-entered: a writer runs to its end (or throws) before the next one starts.
 */
const SLAB_SIZE = 256 * 1024;
const out = { buf: Buffer.allocUnsafe(0), pos: 0, start: 0 };

/** Room for `n` more bytes of the record being written. */
function ensure(n: number): void {
  if (out.pos + n <= out.buf.length) return;
  const written = out.pos - out.start;
  const next = Buffer.allocUnsafe(Math.max(SLAB_SIZE, (written + n) * 2));
  if (written > 0) out.buf.copy(next, 0, out.start, out.pos);
  out.buf = next;
  out.start = 0;
  out.pos = written;
}

/** Starts a record at the slab's free position. */
function begin(): void {
  out.start = out.pos;
}

/** The record written since begin(), as a slice of the slab; the next one starts 8-byte aligned after it (as Node's pool does). */
function finish(): Buffer {
  const { buf, start, pos } = out;
  out.pos = Math.min((pos + 7) & ~7, buf.length);
  return buf.subarray(start, pos);
}

/** Bytes known in advance (field names, punctuation, a schema). */
function writeConst(b: Buffer): void {
  const n = b.length;
  ensure(n);
  const buf = out.buf;
  const p = out.pos;
  if (n <= 32) for (let i = 0; i < n; i++) buf[p + i] = b[i]!;
  else buf.set(b, p);
  out.pos = p + n;
}

/** Text that is ASCII already (a number's digits, base64). */
function writeAscii(s: string): void {
  const n = s.length;
  ensure(n);
  const buf = out.buf;
  const p = out.pos;
  if (n <= 64) for (let i = 0; i < n; i++) buf[p + i] = s.charCodeAt(i);
  else buf.write(s, p, n, 'latin1');
  out.pos = p + n;
}

/** Any text, as UTF-8 (JSON written by the general path). */
function writeText(s: string): void {
  ensure(s.length * 3);
  out.pos += out.buf.write(s, out.pos, 'utf8');
}

/**
 * A JSON string, exactly as JSON.stringify writes it: printable ASCII is copied as it is; a string
 * with anything JSON escapes (quote, backslash, controls, lone surrogates) or any non-ASCII
 * character goes through JSON.stringify.
 */
function writeJsonString(s: string): void {
  const n = s.length;
  ensure(n + 2);
  const buf = out.buf;
  const p = out.pos;
  buf[p] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) {
      writeText(JSON.stringify(s));
      return;
    }
    buf[p + 1 + i] = c;
  }
  buf[p + 1 + n] = 0x22;
  out.pos = p + n + 2;
}

/** A finite number as JSON.stringify writes it (safe integers digit by digit, without a string). */
function writeNumber(v: number): void {
  if (!Number.isSafeInteger(v)) {
    writeAscii(`${v}`);
    return;
  }
  ensure(17);
  let x = v;
  if (x < 0) {
    out.buf[out.pos++] = 0x2d; // -
    x = -x;
  }
  if (x < 100_000_000) {
    writeDigits(x, 0);
    return;
  }
  // Above 10^8 in two parts of 32-bit size (x < 2^53 < 10^8 · 2^31), so that the digits come from integer arithmetic.
  const high = Math.floor(x / 100_000_000);
  writeDigits(high, 0);
  writeDigits(x - high * 100_000_000, 8);
}

/** The decimal digits of `x` (0 ≤ x < 10^8), at least `width` of them (leading zeros). Room ensured by the caller. */
function writeDigits(x: number, width: number): void {
  let digits = 1;
  for (let t = x; t >= 10; t = (t / 10) | 0) digits++;
  if (digits < width) digits = width;
  const buf = out.buf;
  const p = out.pos;
  for (let i = p + digits - 1; i >= p; i--) {
    const q = (x / 10) | 0;
    buf[i] = 0x30 + x - q * 10;
    x = q;
  }
  out.pos = p + digits;
}

const NULL_BYTES = Buffer.from('null');
const TRUE_BYTES = Buffer.from('true');
const FALSE_BYTES = Buffer.from('false');

/**
 * Writes the JSON of values of one schema, exactly the bytes of
 * `JSON.stringify(valueToJson(schema, value))`, without building the intermediate JSON object or
 * string. Compiled once per schema object (schemas are immutable and connectors reuse them), it
 * handles the common shapes itself and hands anything unusual (defaults, logical types, maps,
 * unexpected value types — and so every error) to the general path, which therefore decides the
 * output in those cases.
 */
type ByteWriter = (value: unknown) => void;
const WRITERS = new WeakMap<Schema, ByteWriter>();

const generic =
  (schema: Schema): ByteWriter =>
  (value) =>
    writeText(JSON.stringify(valueToJson(schema, value)));

/** Field names a plain object would reorder or treat specially (array indexes, __proto__). */
const SPECIAL_KEY = /^(?:0|[1-9]\d*|__proto__)$/;

function byteWriter(schema: Schema): ByteWriter {
  let w = WRITERS.get(schema);
  if (w === undefined) {
    w = compileWriter(schema);
    WRITERS.set(schema, w);
  }
  return w;
}

/** The JSON text of values of `schema`, as {@link JsonConverter} writes it (for tests and tools). */
export function jsonWriter(schema: Schema): (value: unknown) => string {
  const w = byteWriter(schema);
  return (value) => {
    begin();
    try {
      w(value);
      return out.buf.toString('utf8', out.start, out.pos);
    } finally {
      out.pos = out.start; // nothing kept: the space is written again by the next record
    }
  };
}

function compileWriter(schema: Schema): ByteWriter {
  const slow = generic(schema);
  if (schema.defaultValue !== undefined) {
    // The default only stands in for a missing value; present values are written as without it.
    const { defaultValue: _, ...rest } = schema;
    const present = compileWriter(rest);
    return (v) => (v == null ? slow(v) : present(v));
  }
  if (schema.name === LOGICAL.timestamp || schema.name === LOGICAL.date || schema.name === LOGICAL.time)
    return slow;
  const optional = schema.optional === true;
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
      return (v) => {
        if (typeof v === 'number') {
          if (Number.isFinite(v)) writeNumber(v);
          else writeConst(NULL_BYTES);
        } else if (v == null && optional) writeConst(NULL_BYTES);
        else slow(v);
      };
    case 'boolean':
      return (v) => {
        if (v === true) writeConst(TRUE_BYTES);
        else if (v === false) writeConst(FALSE_BYTES);
        else if (v == null && optional) writeConst(NULL_BYTES);
        else slow(v);
      };
    case 'string':
      return (v) => {
        if (typeof v === 'string') writeJsonString(v);
        else if (v == null && optional) writeConst(NULL_BYTES);
        else slow(v);
      };
    case 'bytes':
      return (v) => {
        if (Buffer.isBuffer(v)) {
          writeAscii(`"${v.toString('base64')}"`);
        } else if (v == null && optional) writeConst(NULL_BYTES);
        else slow(v);
      };
    case 'array': {
      const item = byteWriter(schema.valueSchema!);
      return (v) => {
        if (!Array.isArray(v)) {
          if (v == null && optional) writeConst(NULL_BYTES);
          else slow(v);
          return;
        }
        ensure(1);
        out.buf[out.pos++] = 0x5b; // [
        for (let i = 0; i < v.length; i++) {
          if (i > 0) {
            ensure(1);
            out.buf[out.pos++] = 0x2c; // ,
          }
          item(v[i]);
        }
        ensure(1);
        out.buf[out.pos++] = 0x5d; // ]
      };
    }
    case 'struct': {
      const fields = schema.fields ?? [];
      const names = fields.map((f) => f.name);
      if (names.some((n) => SPECIAL_KEY.test(n)) || new Set(names).size !== names.length) return slow;
      return structWriter(fields, optional, slow);
    }
    default:
      return slow;
  }
}

/** What generated struct writers call. */
const RUNTIME = { out, ensure, writeConst, writeNumber, writeJsonString, NULL_BYTES };

/**
 * A struct's writer as generated code (as fast-json-stringify does): one function per struct
 * schema, reading each field by its name and writing numbers and strings inline, so that each
 * struct's property reads and calls see one shape and one callee (closures compiled from one
 * function literal share their type feedback, and a struct writer shared by all schemas is
 * megamorphic). Field names only enter the code as JSON string literals.
 */
function structWriter(fields: readonly Field[], optional: boolean, slow: ByteWriter): ByteWriter {
  // `{"name":` for the first field, `,"name":` for the others.
  const heads = fields.map((f, i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`));
  const writers = fields.map((f) => byteWriter(f.schema));
  const locals: string[] = [];
  const body: string[] = [];
  fields.forEach((f, i) => {
    locals.push(`const h${i} = h[${i}], w${i} = w[${i}];`);
    body.push(`const x${i} = v[${JSON.stringify(f.name)}];`, constBytes(heads[i]!, `h${i}`));
    const plain = f.schema.defaultValue === undefined && !LOGICAL_TIME.has(f.schema.name ?? '');
    if (plain && NUMBER_TYPES.has(f.schema.type))
      body.push(
        `if (typeof x${i} === 'number' && Number.isFinite(x${i})) writeNumber(x${i}); else w${i}(x${i});`,
      );
    else if (plain && f.schema.type === 'string')
      body.push(`if (typeof x${i} === 'string') writeJsonString(x${i}); else w${i}(x${i});`);
    else body.push(`w${i}(x${i});`);
  });
  const code = `
    const { out, ensure, writeConst, writeNumber, writeJsonString, NULL_BYTES } = rt;
    ${locals.join('\n')}
    return function writeStruct(v) {
      if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof Date || Array.isArray(v)) {
        if (v == null && optional) writeConst(NULL_BYTES);
        else slow(v);
        return;
      }
      ${fields.length === 0 ? 'ensure(1); out.buf[out.pos++] = 0x7b;' : body.join('\n')}
      ensure(1);
      out.buf[out.pos++] = 0x7d;
    };`;
  let factory: (
    rt: typeof RUNTIME,
    h: readonly Buffer[],
    w: readonly ByteWriter[],
    slow: ByteWriter,
    optional: boolean,
  ) => ByteWriter;
  try {
    factory = new Function('rt', 'h', 'w', 'slow', 'optional', code) as typeof factory;
  } catch {
    // Code generation disallowed (node --disallow-code-generation-from-strings): the same, as a closure.
    return structClosure(fields, heads, writers, optional, slow);
  }
  return factory(RUNTIME, heads, writers, slow, optional);
}

/** {@link structWriter} without generated code (slower: its field reads see every struct's shapes). */
function structClosure(
  fields: readonly Field[],
  heads: readonly Buffer[],
  writers: readonly ByteWriter[],
  optional: boolean,
  slow: ByteWriter,
): ByteWriter {
  const names = fields.map((f) => f.name);
  const n = fields.length;
  return (v) => {
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof Date || Array.isArray(v)) {
      if (v == null && optional) writeConst(NULL_BYTES);
      else slow(v);
      return;
    }
    const obj = v as Record<string, unknown>;
    if (n === 0) writeAscii('{');
    for (let i = 0; i < n; i++) {
      writeConst(heads[i]!);
      writers[i]!(obj[names[i]!]);
    }
    writeAscii('}');
  };
}

/** Code writing `bytes` (a field's head): stored one by one when short, else copied from `name`. */
function constBytes(bytes: Buffer, name: string): string {
  if (bytes.length > 48) return `writeConst(${name});`;
  const stores = Array.from(bytes, (b, i) => `b[p + ${i}] = ${b};`).join(' ');
  return `ensure(${bytes.length}); { const b = out.buf; const p = out.pos; ${stores} out.pos = p + ${bytes.length}; }`;
}

const NUMBER_TYPES = new Set<SchemaType>(['int8', 'int16', 'int32', 'int64', 'float32', 'float64']);
const LOGICAL_TIME = new Set<string>([LOGICAL.timestamp, LOGICAL.date, LOGICAL.time]);

const PAYLOAD_TAIL = Buffer.from('}');
const NULL_SCHEMA_HEAD = Buffer.from('{"schema":null,"payload":');

export class JsonConverter implements Converter {
  private schemasEnable = true;
  private readonly parsed = new Map<string, Schema | null>();
  /** `{"schema":<schema>,"payload":` as bytes, per schema. */
  private readonly heads = new WeakMap<Schema, Buffer>();
  /** The schema of the last record, with its writer and head. */
  private lastSchema: Schema | null = null;
  private lastWriter: ByteWriter = () => {};
  private lastHead: Buffer = NULL_SCHEMA_HEAD;

  configure(configs: Readonly<Record<string, string>>, _isKey = false): void {
    const v = configs['schemas.enable'];
    if (v !== undefined) this.schemasEnable = String(v).trim().toLowerCase() !== 'false';
    this.lastSchema = null;
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema === null && (value === null || value === undefined)) return null;
    if (schema !== null && schema !== this.lastSchema) {
      // A converter mostly sees one schema after another (a key or value converter of one table).
      this.lastSchema = schema;
      this.lastWriter = byteWriter(schema);
      this.lastHead = this.schemasEnable ? this.head(schema) : NULL_SCHEMA_HEAD;
    }
    begin();
    try {
      if (this.schemasEnable) writeConst(schema ? this.lastHead : NULL_SCHEMA_HEAD);
      if (schema) this.lastWriter(value);
      else writeText(JSON.stringify(valueToJson(null, value)));
      if (this.schemasEnable) writeConst(PAYLOAD_TAIL);
    } catch (err) {
      out.pos = out.start; // the failed record's bytes are written over by the next one
      throw err;
    }
    return finish();
  }

  /** `{"schema":<schema>,"payload":` as bytes: the same for every record of a schema, made once. */
  private head(schema: Schema): Buffer {
    let head = this.heads.get(schema);
    if (head === undefined) {
      let schemaText = SCHEMA_TEXT.get(schema);
      if (schemaText === undefined) {
        schemaText = JSON.stringify(schemaToJson(schema));
        SCHEMA_TEXT.set(schema, schemaText);
      }
      head = Buffer.from(`{"schema":${schemaText},"payload":`);
      this.heads.set(schema, head);
    }
    return head;
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null) return { schema: null, value: null };
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new DataException('Converting byte[] to Kafka Connect data failed due to serialization error: ', {
        cause: err,
      });
    }
    if (!this.schemasEnable) return { schema: null, value: json };
    if (
      json === null ||
      typeof json !== 'object' ||
      Array.isArray(json) ||
      !('schema' in json) ||
      !('payload' in json) ||
      Object.keys(json).length !== 2
    ) {
      throw new DataException(
        'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
      );
    }
    const env = json as { schema: unknown; payload: unknown };
    const key = env.schema === null ? 'null' : JSON.stringify(env.schema);
    let schema = this.parsed.get(key);
    if (schema === undefined) {
      schema = schemaFromJson(env.schema);
      if (this.parsed.size >= MAX_PARSED_SCHEMAS) this.parsed.clear();
      this.parsed.set(key, schema);
    }
    return { schema, value: valueFromJson(schema, env.payload) };
  }
}
