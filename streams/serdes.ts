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
  serializeToString: (v) => (v === null || v === undefined ? null : v),
};

/** Bytes as they are. */
export const bytesSerde: Serde<Buffer> = {
  name: 'bytes',
  serialize: (v) => v ?? null,
  deserialize: (b) => b as Buffer,
};

/** JSON text of any value. */
export function jsonSerde<T = unknown>(): Serde<T> {
  return JSON_SERDE as Serde<T>;
}

function jsonText(v: unknown, topic: string): string | null {
  if (v === null || v === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    throw failure('json', topic, err);
  }
  if (text === undefined) throw failure('json', topic, new TypeError(`${typeof v} has no JSON form`));
  return text;
}

/**
 * The string a JSON string literal without escapes stands for (what JSON.parse returns for it,
 * without the parse); undefined for anything else. Keys after a groupBy are mostly such strings.
 */
function plainJsonString(b: Buffer, start = 0, end = b.length): string | undefined {
  const n = end - start;
  if (n < 2 || b[start] !== 0x22 || b[end - 1] !== 0x22 || n > 256) return undefined;
  let ascii = true;
  for (let i = start + 1; i < end - 1; i++) {
    const c = b[i]!;
    if (c === 0x5c || c === 0x22 || c < 0x20) return undefined;
    if (c >= 0x80) ascii = false;
  }
  return b.toString(ascii ? 'latin1' : 'utf8', start + 1, end - 1);
}

/**
 * `serde.deserialize(buf[at, at + length))` (length −1: null) — for the built-in text serdes
 * without a Buffer view of the range (the runtime reads repartition bundles this way).
 */
export function deserializeRange<T>(
  serde: Serde<T>,
  buf: Buffer,
  at: number,
  length: number,
  topic: string,
): T {
  if (length < 0) return serde.deserialize(null, topic);
  if (serde === (JSON_SERDE as Serde<unknown>)) {
    const text = plainJsonString(buf, at, at + length);
    if (text !== undefined) return text as T;
  } else if (serde === (stringSerde as Serde<unknown>) || serde === (autoSerde as Serde<unknown>)) {
    return buf.toString('utf8', at, at + length) as T;
  }
  return serde.deserialize(buf.subarray(at, at + length), topic);
}

const JSON_SERDE: Serde<unknown> = {
  name: 'json',
  serialize: (v, topic) => {
    const text = jsonText(v, topic);
    return text === null ? null : Buffer.from(text, 'utf8');
  },
  serializeToString: jsonText,
  deserialize: (b, topic) => {
    if (b === null) return null;
    const text = plainJsonString(b);
    if (text !== undefined) return text;
    try {
      return JSON.parse(b.toString('utf8')) as unknown;
    } catch (err) {
      throw failure('json', topic, err);
    }
  },
};

/** A number as its decimal text (what `trib consume` shows as is). */
export const numberSerde: Serde<number> = {
  name: 'number',
  serialize: (v) => (v === null || v === undefined ? null : Buffer.from(String(v), 'utf8')),
  serializeToString: (v) => (v === null || v === undefined ? null : String(v)),
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
  serializeToString: (v, topic) => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return undefined;
    return jsonText(v, topic);
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
