/**
 * Converters turn Connect data into bytes and back, as Kafka's `Converter` interface: the worker
 * uses one for keys, one for values (`key.converter`, `value.converter`, overridable per
 * connector) and a header converter. Configured with the keys under their prefix
 * (`value.converter.schemas.enable=false` → `schemas.enable`).
 */
import type { RecordHeader } from '../../core/client/types.js';
import type { Schema } from '../data.js';

export interface SchemaAndValue {
  schema: Schema | null;
  value: unknown;
}

/**
 * Converters may answer asynchronously (a schema-registry converter looks schemas up over the
 * network); the runtime awaits only results that are promises, so synchronous ones cost nothing.
 */
export interface Converter {
  configure(configs: Readonly<Record<string, string>>, isKey: boolean): void;
  fromConnectData(
    topic: string,
    schema: Schema | null,
    value: unknown,
    headers?: RecordHeader[],
  ): Buffer | null | Promise<Buffer | null>;
  toConnectData(
    topic: string,
    bytes: Buffer | null,
    headers?: readonly RecordHeader[],
  ): SchemaAndValue | Promise<SchemaAndValue>;
}

export function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

export interface HeaderConverter {
  configure(configs: Readonly<Record<string, string>>): void;
  fromConnectHeader(topic: string, key: string, schema: Schema | null, value: unknown): Buffer | null;
  toConnectHeader(topic: string, key: string, bytes: Buffer | null): SchemaAndValue;
}
