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
 * JSON text of values of one schema, exactly `JSON.stringify(valueToJson(schema, value))`, written
 * without building the intermediate JSON object. Compiled once per schema object (schemas are
 * immutable and connectors reuse them), it handles the common shapes itself and hands anything
 * unusual (defaults, logical types, maps, unexpected value types — and so every error) to the
 * general path, which therefore decides the output in those cases.
 */
type JsonWriter = (value: unknown) => string;
const WRITERS = new WeakMap<Schema, JsonWriter>();

const generic =
  (schema: Schema): JsonWriter =>
  (value) =>
    JSON.stringify(valueToJson(schema, value));

/** Characters JSON.stringify escapes (quote, backslash, controls, surrogates — lone ones are escaped). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Field names a plain object would reorder or treat specially (array indexes, __proto__). */
const SPECIAL_KEY = /^(?:0|[1-9]\d*|__proto__)$/;

export function jsonWriter(schema: Schema): JsonWriter {
  let w = WRITERS.get(schema);
  if (w === undefined) {
    w = compileWriter(schema);
    WRITERS.set(schema, w);
  }
  return w;
}

function compileWriter(schema: Schema): JsonWriter {
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
      return (v) =>
        typeof v === 'number'
          ? Number.isFinite(v)
            ? `${v}`
            : 'null'
          : v == null && optional
            ? 'null'
            : slow(v);
    case 'boolean':
      return (v) => (v === true ? 'true' : v === false ? 'false' : v == null && optional ? 'null' : slow(v));
    case 'string':
      return (v) =>
        typeof v === 'string'
          ? NEEDS_ESCAPE.test(v)
            ? JSON.stringify(v)
            : `"${v}"`
          : v == null && optional
            ? 'null'
            : slow(v);
    case 'bytes':
      return (v) =>
        Buffer.isBuffer(v) ? `"${v.toString('base64')}"` : v == null && optional ? 'null' : slow(v);
    case 'array': {
      const item = jsonWriter(schema.valueSchema!);
      return (v) => {
        if (!Array.isArray(v)) return v == null && optional ? 'null' : slow(v);
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + item(v[i]);
        return `${out}]`;
      };
    }
    case 'struct': {
      const fields = schema.fields ?? [];
      const names = fields.map((f) => f.name);
      if (names.some((n) => SPECIAL_KEY.test(n)) || new Set(names).size !== names.length) return slow;
      const heads = names.map((n, i) => `${i === 0 ? '{' : ','}${JSON.stringify(n)}:`);
      const writers = fields.map((f) => jsonWriter(f.schema));
      const n = fields.length;
      return (v) => {
        if (
          v === null ||
          typeof v !== 'object' ||
          Buffer.isBuffer(v) ||
          v instanceof Date ||
          Array.isArray(v)
        )
          return v == null && optional ? 'null' : slow(v);
        if (n === 0) return '{}';
        const obj = v as Record<string, unknown>;
        let out = '';
        for (let i = 0; i < n; i++) out += heads[i]! + writers[i]!(obj[names[i]!]);
        return `${out}}`;
      };
    }
    default:
      return slow;
  }
}

/**
 * Output buffers are cut from shared slabs (as Node's own pool does for small strings, but larger):
 * a Debezium event is a few KB, and a fresh allocation per record costs more than writing it.
 */
const SLAB_SIZE = 256 * 1024;
let slab = Buffer.allocUnsafe(0);
let slabUsed = 0;

/** `head` (cached bytes), then `text` as UTF-8, then `tail` (ASCII), as one Buffer. */
function encodeParts(head: Buffer | null, text: string, tail: string): Buffer {
  const max = (head?.length ?? 0) + text.length * 3 + tail.length;
  if (max > SLAB_SIZE / 4) {
    const out = Buffer.allocUnsafe(max);
    return out.subarray(0, writeParts(out, 0, head, text, tail));
  }
  if (slab.length - slabUsed < max) {
    slab = Buffer.allocUnsafe(SLAB_SIZE);
    slabUsed = 0;
  }
  const start = slabUsed;
  const end = writeParts(slab, start, head, text, tail);
  // Keep the next record 8-byte aligned, as Node's pool does.
  slabUsed = (end + 7) & ~7;
  return slab.subarray(start, end);
}

function writeParts(buf: Buffer, at: number, head: Buffer | null, text: string, tail: string): number {
  let off = at;
  if (head) off += head.copy(buf, off);
  off += buf.write(text, off, 'utf8');
  if (tail !== '') off += buf.write(tail, off, 'latin1');
  return off;
}

export class JsonConverter implements Converter {
  private schemasEnable = true;
  private readonly parsed = new Map<string, Schema | null>();
  /** `{"schema":<schema>,"payload":` as bytes, per schema. */
  private readonly heads = new WeakMap<Schema, Buffer>();

  configure(configs: Readonly<Record<string, string>>, _isKey = false): void {
    const v = configs['schemas.enable'];
    if (v !== undefined) this.schemasEnable = String(v).trim().toLowerCase() !== 'false';
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema === null && (value === null || value === undefined)) return null;
    const payload = schema ? jsonWriter(schema)(value) : JSON.stringify(valueToJson(null, value));
    if (!this.schemasEnable) return encodeParts(null, payload, '');
    if (!schema) return encodeParts(null, `{"schema":null,"payload":${payload}}`, '');
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
    return encodeParts(head, payload, '}');
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
