/**
 * Connect data ⇄ Avro, as Confluent's AvroData does it, so that records written by Confluent's
 * AvroConverter and by ours read the same:
 *
 * | Connect                  | Avro                                                              |
 * | ------------------------ | ----------------------------------------------------------------- |
 * | int8, int16              | `{"type":"int","connect.type":"int8"}` (`int16`)                   |
 * | int32, int64             | int, long                                                         |
 * | float32, float64         | float, double                                                     |
 * | boolean, string, bytes   | the same                                                          |
 * | array                    | array                                                             |
 * | map (string keys)        | map; other keys: array of `MapEntry` records `{key, value}`        |
 * | struct                   | record named after the schema (else `ConnectDefault`, `ConnectDefault2`… in io.confluent.connect.avro) |
 * | optional T               | `["null", T]` with default null                                   |
 * | Timestamp / Date / Time  | long timestamp-millis / int date / int time-millis                |
 * | name, version, doc, parameters | `connect.name`, `connect.version`, `connect.doc`, `connect.parameters` |
 *
 * Reading Avro written by others: enum → string, fixed → bytes, `["null", T]` → optional T; other
 * unions are not supported. Schemas are described by the structural {@link ConnectSchema} (the
 * same shape as connect/data.ts's `Schema`); values are plain objects, Buffers, numbers and Dates.
 */
import { RegistryError } from './errors.js';

export type ConnectType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'map'
  | 'struct';

export interface ConnectField {
  readonly name: string;
  readonly index: number;
  readonly schema: ConnectSchema;
}

export interface ConnectSchema {
  readonly type: ConnectType;
  readonly optional?: boolean;
  readonly defaultValue?: unknown;
  readonly name?: string;
  readonly version?: number;
  readonly doc?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly fields?: readonly ConnectField[];
  readonly keySchema?: ConnectSchema;
  readonly valueSchema?: ConnectSchema;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const TIMESTAMP = 'org.apache.kafka.connect.data.Timestamp';
const DATE = 'org.apache.kafka.connect.data.Date';
const TIME = 'org.apache.kafka.connect.data.Time';
const NAMESPACE = 'io.confluent.connect.avro';
const DAY_MS = 86_400_000;

const bad = (message: string): RegistryError => new RegistryError('SERIALIZATION_FAILED', message);

// --- Connect schema → Avro schema ------------------------------------------------------------

/** The Avro schema (JSON) for a Connect schema. */
export function toAvroSchema(schema: ConnectSchema): Json {
  const ctx = { defaults: 0, entries: 0, names: new Set<string>() };
  return nullable(schema, base(schema, ctx));
}

function nullable(schema: ConnectSchema, avro: Json): Json {
  if (!schema.optional) return avro;
  // Confluent puts the branch of a non-null default first (an Avro default matches branch 0).
  return schema.defaultValue !== undefined && schema.defaultValue !== null ? [avro, 'null'] : ['null', avro];
}

function base(schema: ConnectSchema, ctx: { defaults: number; entries: number; names: Set<string> }): Json {
  let out: Obj;
  switch (schema.type) {
    case 'int8':
    case 'int16':
      out = { type: 'int', 'connect.type': schema.type };
      break;
    case 'int32':
      out = { type: 'int' };
      break;
    case 'int64':
      out = { type: 'long' };
      break;
    case 'float32':
      out = { type: 'float' };
      break;
    case 'float64':
      out = { type: 'double' };
      break;
    case 'boolean':
    case 'string':
    case 'bytes':
      out = { type: schema.type };
      break;
    case 'array':
      out = { type: 'array', items: nullable(schema.valueSchema!, base(schema.valueSchema!, ctx)) };
      break;
    case 'map': {
      const k = schema.keySchema!;
      const v = nullable(schema.valueSchema!, base(schema.valueSchema!, ctx));
      if (k.type === 'string' && !k.optional) out = { type: 'map', values: v };
      else {
        ctx.entries++;
        out = {
          type: 'array',
          items: {
            type: 'record',
            name: ctx.entries === 1 ? 'MapEntry' : `MapEntry${ctx.entries}`,
            namespace: NAMESPACE,
            fields: [
              { name: 'key', type: nullable(k, base(k, ctx)) },
              { name: 'value', type: v },
            ],
          },
        };
      }
      break;
    }
    case 'struct': {
      let name = schema.name;
      let namespace: string | undefined;
      if (name === undefined) {
        ctx.defaults++;
        name = ctx.defaults === 1 ? 'ConnectDefault' : `ConnectDefault${ctx.defaults}`;
        namespace = NAMESPACE;
      }
      if (ctx.names.has(name)) throw bad(`struct name ${name} is used twice with different definitions`);
      ctx.names.add(name);
      out = {
        type: 'record',
        name,
        ...(namespace ? { namespace } : {}),
        fields: (schema.fields ?? []).map((f) => {
          const field: Obj = { name: f.name, type: nullable(f.schema, base(f.schema, ctx)) };
          if (f.schema.defaultValue !== undefined)
            field.default = defaultJson(f.schema, f.schema.defaultValue);
          else if (f.schema.optional) field.default = null;
          return field;
        }),
      };
      break;
    }
  }
  if (schema.name !== undefined && schema.type !== 'struct') out['connect.name'] = schema.name;
  if (schema.type === 'struct' && schema.name !== undefined) out['connect.name'] = schema.name;
  if (schema.version !== undefined) out['connect.version'] = schema.version;
  if (schema.doc !== undefined) out['connect.doc'] = schema.doc;
  if (schema.parameters !== undefined) out['connect.parameters'] = { ...schema.parameters };
  if (schema.name === TIMESTAMP) out.logicalType = 'timestamp-millis';
  else if (schema.name === DATE) out.logicalType = 'date';
  else if (schema.name === TIME) out.logicalType = 'time-millis';
  const keys = Object.keys(out);
  return keys.length === 1 ? (out.type as Json) : out;
}

function defaultJson(schema: ConnectSchema, value: unknown): Json {
  const v = toAvroValue(schema, value);
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return v as Json;
}

// --- Connect value → Avro value --------------------------------------------------------------

/** A Connect value as avsc writes it for {@link toAvroSchema}'s schema. */
export function toAvroValue(schema: ConnectSchema, value: unknown): unknown {
  if (value === null || value === undefined) {
    if (schema.optional) return null;
    if (schema.defaultValue !== undefined) return toAvroValue(schema, schema.defaultValue);
    throw bad(`a null value for a required ${schema.type}${schema.name ? ` (${schema.name})` : ''}`);
  }
  switch (schema.name) {
    case TIMESTAMP:
      return value instanceof Date ? value.getTime() : Number(value);
    case DATE:
      return value instanceof Date ? Math.floor(value.getTime() / DAY_MS) : Number(value);
    case TIME:
      return value instanceof Date ? value.getTime() % DAY_MS : Number(value);
  }
  switch (schema.type) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      const v = value as Record<string, unknown>;
      for (const f of schema.fields ?? []) out[f.name] = toAvroValue(f.schema, v[f.name]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((x) => toAvroValue(schema.valueSchema!, x));
    case 'map': {
      const entries: [unknown, unknown][] =
        value instanceof Map ? [...value] : Object.entries(value as Record<string, unknown>);
      const k = schema.keySchema!;
      if (k.type === 'string' && !k.optional) {
        const out: Record<string, unknown> = {};
        for (const [key, v] of entries) out[String(key)] = toAvroValue(schema.valueSchema!, v);
        return out;
      }
      return entries.map(([key, v]) => ({
        key: toAvroValue(k, key),
        value: toAvroValue(schema.valueSchema!, v),
      }));
    }
    case 'bytes':
      return Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
    case 'string':
      return String(value);
    default:
      return value;
  }
}

// --- Avro schema → Connect schema ------------------------------------------------------------

/** The Connect schema of an Avro schema (JSON), e.g. one read from the registry. */
export function toConnectSchema(avro: Json): ConnectSchema {
  return convert(avro, new Map(), undefined);
}

function convert(avro: Json, named: Map<string, ConnectSchema>, ns: string | undefined): ConnectSchema {
  if (typeof avro === 'string') {
    switch (avro) {
      case 'int':
        return { type: 'int32' };
      case 'long':
        return { type: 'int64' };
      case 'float':
        return { type: 'float32' };
      case 'double':
        return { type: 'float64' };
      case 'boolean':
      case 'string':
      case 'bytes':
        return { type: avro };
      default: {
        const ref = named.get(avro) ?? (ns ? named.get(`${ns}.${avro}`) : undefined);
        if (!ref) throw bad(`Avro type ${avro} cannot be converted to a Connect schema`);
        return ref;
      }
    }
  }
  if (Array.isArray(avro)) {
    const nonNull = avro.filter((b) => b !== 'null');
    if (nonNull.length === 1 && nonNull.length < avro.length) {
      const inner = convert(nonNull[0]!, named, ns);
      return { ...inner, optional: true };
    }
    throw bad(
      `Avro unions other than [null, T] are not supported by this converter: ${JSON.stringify(avro)}`,
    );
  }
  if (avro === null || typeof avro !== 'object') throw bad(`not an Avro schema: ${JSON.stringify(avro)}`);
  const t = avro.type!;
  let out: { -readonly [K in keyof ConnectSchema]: ConnectSchema[K] };
  const fullName = (): string => {
    const n = String(avro.name);
    const space = typeof avro.namespace === 'string' ? avro.namespace : ns;
    return n.includes('.') || !space ? n : `${space}.${n}`;
  };
  switch (t) {
    case 'int':
      out = {
        type:
          avro['connect.type'] === 'int8' || avro['connect.type'] === 'int16'
            ? avro['connect.type']
            : 'int32',
      };
      break;
    case 'long':
    case 'float':
    case 'double':
    case 'boolean':
    case 'string':
    case 'bytes':
      out = { ...convert(t, named, ns) };
      break;
    case 'array': {
      const items = avro.items!;
      const entry = typeof items === 'object' && items !== null && !Array.isArray(items) ? items : undefined;
      if (
        entry?.type === 'record' &&
        /^MapEntry\d*$/.test(String(entry.name)) &&
        Array.isArray(entry.fields)
      ) {
        const f = entry.fields as Obj[];
        const space = typeof entry.namespace === 'string' ? entry.namespace : ns;
        out = {
          type: 'map',
          keySchema: convert(f.find((x) => x.name === 'key')!.type!, named, space),
          valueSchema: convert(f.find((x) => x.name === 'value')!.type!, named, space),
        };
      } else out = { type: 'array', valueSchema: convert(items, named, ns) };
      break;
    }
    case 'map':
      out = { type: 'map', keySchema: { type: 'string' }, valueSchema: convert(avro.values!, named, ns) };
      break;
    case 'enum':
      out = {
        type: 'string',
        name: fullName(),
        parameters: { 'io.confluent.connect.avro.Enum': fullName() },
      };
      named.set(fullName(), out);
      break;
    case 'fixed':
      out = { type: 'bytes', name: fullName(), parameters: { 'connect.fixed.size': String(avro.size) } };
      named.set(fullName(), out);
      break;
    case 'record': {
      const name = fullName();
      const space = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined;
      const fields: ConnectField[] = [];
      const isDefault = /^io\.confluent\.connect\.avro\.ConnectDefault\d*$/.test(name);
      out = { type: 'struct', ...(isDefault ? {} : { name }), fields };
      named.set(name, out);
      for (const [index, f] of ((avro.fields ?? []) as Obj[]).entries()) {
        let fs = convert(f.type!, named, space);
        if (f.default !== undefined && f.default !== null)
          fs = { ...fs, defaultValue: fromAvroValue(fs, f.default) };
        fields.push({ name: String(f.name), index, schema: fs });
      }
      break;
    }
    default:
      throw bad(`Avro type ${JSON.stringify(t)} cannot be converted to a Connect schema`);
  }
  if (typeof avro['connect.name'] === 'string') out.name = avro['connect.name'];
  if (typeof avro['connect.version'] === 'number') out.version = avro['connect.version'];
  if (typeof avro['connect.doc'] === 'string') out.doc = avro['connect.doc'];
  const params = avro['connect.parameters'];
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    out.parameters = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  }
  if (out.name === undefined) {
    if (avro.logicalType === 'timestamp-millis' && t === 'long')
      out = { ...out, name: TIMESTAMP, version: 1 };
    else if (avro.logicalType === 'date' && t === 'int') out = { ...out, name: DATE, version: 1 };
    else if (avro.logicalType === 'time-millis' && t === 'int') out = { ...out, name: TIME, version: 1 };
  }
  return out;
}

// --- Avro value → Connect value --------------------------------------------------------------

/** An Avro value as avsc read it, as Connect data of `schema`. */
export function fromAvroValue(schema: ConnectSchema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (schema.name) {
    case TIMESTAMP:
      return new Date(Number(value));
    case DATE:
      return new Date(Number(value) * DAY_MS);
    case TIME:
      return new Date(Number(value));
  }
  switch (schema.type) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      const v = value as Record<string, unknown>;
      for (const f of schema.fields ?? []) out[f.name] = fromAvroValue(f.schema, v[f.name]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((x) => fromAvroValue(schema.valueSchema!, x));
    case 'map': {
      if (Array.isArray(value)) {
        return new Map(
          value.map((e: { key: unknown; value: unknown }) => [
            fromAvroValue(schema.keySchema!, e.key),
            fromAvroValue(schema.valueSchema!, e.value),
          ]),
        );
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        out[k] = fromAvroValue(schema.valueSchema!, v);
      return out;
    }
    case 'bytes':
      return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    default:
      return value;
  }
}

/** The Connect schema of a schemaless value (Confluent infers primitives the same way). */
export function inferSchema(value: unknown): ConnectSchema {
  if (typeof value === 'string') return { type: 'string' };
  if (typeof value === 'boolean') return { type: 'boolean' };
  if (typeof value === 'number') return Number.isInteger(value) ? { type: 'int64' } : { type: 'float64' };
  if (Buffer.isBuffer(value)) return { type: 'bytes' };
  throw bad(`cannot write a ${typeof value} without a schema as Avro: give the record a schema`);
}
