/**
 * Kafka's StringConverter, ByteArrayConverter and SimpleHeaderConverter.
 */

import { type Schema, Schemas } from '../data.js';
import { DataException } from '../errors.js';
import type { Converter, HeaderConverter, SchemaAndValue } from './converter.js';

/** `org.apache.kafka.connect.storage.StringConverter`: value.toString() in UTF-8; reads an optional string. */
export class StringConverter implements Converter {
  private encoding: BufferEncoding = 'utf8';

  configure(configs: Readonly<Record<string, string>>, _isKey = false): void {
    const enc = configs['converter.encoding'];
    if (enc !== undefined) {
      const e = enc.toLowerCase().replace('-', '');
      if (!Buffer.isEncoding(e)) throw new DataException(`Unsupported converter.encoding ${enc}`);
      this.encoding = e;
    }
  }

  fromConnectData(_topic: string, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    return Buffer.from(stringOf(value), this.encoding);
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_STRING, value: bytes === null ? null : bytes.toString(this.encoding) };
  }
}

/** Java's toString() for the values Connect carries (structs and maps as JSON). */
export function stringOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes through unchanged. */
/** `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes as they are; also a header converter. */
export class ByteArrayConverter implements Converter, HeaderConverter {
  configure(): void {}

  fromConnectHeader(_topic: string, key: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'bytes') {
      throw new DataException(
        `ByteArrayConverter: header ${key} has schema type ${schema.type.toUpperCase()}, not BYTES`,
      );
    }
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value);
    throw new DataException(`ByteArrayConverter: header ${key} is not bytes but ${typeof value}`);
  }

  toConnectHeader(_topic: string, _key: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_BYTES, value: bytes };
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'bytes') {
      throw new DataException(`Invalid schema type for ByteArrayConverter: ${schema.type.toUpperCase()}`);
    }
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value);
    throw new DataException(`ByteArrayConverter is not compatible with objects of type ${typeof value}`);
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_BYTES, value: bytes };
  }
}

/** `org.apache.kafka.connect.storage.SimpleHeaderConverter`: strings as-is, other values as JSON text. */
export class SimpleHeaderConverter implements HeaderConverter {
  configure(): void {}

  fromConnectHeader(_topic: string, _key: string, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    return Buffer.from(stringOf(value));
  }

  toConnectHeader(_topic: string, _key: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null) return { schema: null, value: null };
    return { schema: Schemas.OPTIONAL_STRING, value: bytes.toString('utf8') };
  }
}
