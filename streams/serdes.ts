/**
 * Serdes: string, JSON, bytes, numbers, and `auto` (what sources and sinks use unless told:
 * reads text; writes strings and Buffers as they are and anything else as JSON).
 * Avro lives in `avro.ts`.
 */
import { StreamsError } from './errors.js';
import type { Serde } from './types.js';

function failure(serde: string, topic: string, cause: unknown): StreamsError {
  return new StreamsError(
    'SERDE_FAILED',
    `${serde} serde could not handle a record of topic '${topic}': ${cause instanceof Error ? cause.message : String(cause)}`,
    { cause },
  );
}

/** UTF-8 text; null stays null. */
export const stringSerde: Serde<string> = {
  name: 'string',
  serialize: (v) => (v === null || v === undefined ? null : Buffer.from(v, 'utf8')),
  deserialize: (b) => (b === null ? (null as unknown as string) : b.toString('utf8')),
};

/** Bytes as they are. */
export const bytesSerde: Serde<Buffer> = {
  name: 'bytes',
  serialize: (v) => v ?? null,
  deserialize: (b) => b as Buffer,
};

/** JSON text of any value. */
export function jsonSerde<T = unknown>(): Serde<T> {
  return {
    name: 'json',
    serialize: (v, topic) => {
      if (v === null || v === undefined) return null;
      try {
        return Buffer.from(JSON.stringify(v), 'utf8');
      } catch (err) {
        throw failure('json', topic, err);
      }
    },
    deserialize: (b, topic) => {
      if (b === null) return null as T;
      try {
        return JSON.parse(b.toString('utf8')) as T;
      } catch (err) {
        throw failure('json', topic, err);
      }
    },
  };
}

/** A number as its decimal text (what `trib consume` shows as is). */
export const numberSerde: Serde<number> = {
  name: 'number',
  serialize: (v) => (v === null || v === undefined ? null : Buffer.from(String(v), 'utf8')),
  deserialize: (b, topic) => {
    if (b === null) return null as unknown as number;
    const n = Number(b.toString('utf8'));
    if (Number.isNaN(n)) throw failure('number', topic, new Error(`'${b.toString('utf8')}' is not a number`));
    return n;
  },
};

/** Reads UTF-8 text; writes strings and Buffers as they are and other values as JSON. */
export const autoSerde: Serde<unknown> = {
  name: 'auto',
  serialize: (v, topic) => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return Buffer.from(v, 'utf8');
    if (Buffer.isBuffer(v)) return v;
    return jsonSerde().serialize(v, topic);
  },
  deserialize: (b) => (b === null ? null : b.toString('utf8')),
};

export const Serdes = {
  string: stringSerde,
  bytes: bytesSerde,
  number: numberSerde,
  json: jsonSerde,
  auto: autoSerde,
} as const;
