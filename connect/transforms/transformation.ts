/**
 * Single message transforms, as Kafka's `Transformation` and `Predicate`: configured from the
 * connector's `transforms.<alias>.*` keys, applied to every record in order. A transform returns
 * the record (changed or not) or null to drop it. Most of Kafka's transforms come in `$Key` and
 * `$Value` variants that operate on one side of the record ({@link Side}).
 */
import type { ConfigDef } from '../config-def.js';
import type { ConnectRecord, Schema } from '../data.js';
import { DataException } from '../errors.js';

export interface Transformation {
  config(): ConfigDef;
  configure(props: Readonly<Record<string, string>>): void;
  apply<R extends ConnectRecord>(record: R): R | null;
  close?(): void;
}

export interface Predicate {
  config(): ConfigDef;
  configure(props: Readonly<Record<string, string>>): void;
  test(record: ConnectRecord): boolean;
}

/** The side of the record a `$Key`/`$Value` transform works on. */
export interface Side {
  readonly name: 'key' | 'value';
  schema(r: ConnectRecord): Schema | null;
  value(r: ConnectRecord): unknown;
  with<R extends ConnectRecord>(r: R, schema: Schema | null, value: unknown): R;
}

export const KEY: Side = {
  name: 'key',
  schema: (r) => r.keySchema,
  value: (r) => r.key,
  with: (r, schema, value) => ({ ...r, keySchema: schema, key: value }),
};

export const VALUE: Side = {
  name: 'value',
  schema: (r) => r.valueSchema,
  value: (r) => r.value,
  with: (r, schema, value) => ({ ...r, valueSchema: schema, value }),
};

/** Kafka's Requirements.requireMap: a schemaless value must be a map (a plain object or a Map). */
export function requireMap(value: unknown, purpose: string): Record<string, unknown> {
  if (value instanceof Map) return Object.fromEntries(value);
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Buffer.isBuffer(value) ||
    value instanceof Date
  ) {
    throw new DataException(
      `Only Map objects supported in absence of schema for [${purpose}], found: ${typeName(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Kafka's Requirements.requireStruct: a value with a struct schema. */
export function requireStruct(schema: Schema, value: unknown, purpose: string): Record<string, unknown> {
  if (schema.type !== 'struct' || value === null || typeof value !== 'object') {
    throw new DataException(`Only Struct objects supported for [${purpose}], found: ${typeName(value)}`);
  }
  return value as Record<string, unknown>;
}

export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'java.util.ArrayList';
  if (Buffer.isBuffer(value)) return '[B';
  if (typeof value === 'string') return 'java.lang.String';
  if (typeof value === 'number') return Number.isInteger(value) ? 'java.lang.Long' : 'java.lang.Double';
  if (typeof value === 'boolean') return 'java.lang.Boolean';
  return typeof value;
}
