/**
 * File formats (Confluent's `format.class`): how the records of one file become its bytes.
 *
 * - JSON (`.json`): each value as JSON on its own line (as JsonConverter with schemas disabled:
 *   bytes in base64, times as epoch milliseconds).
 * - Avro (`.avro`): an Avro object container file of the values (the Connect value schema turned
 *   into an Avro schema as Confluent's AvroData does), in blocks of at most AVRO_BLOCK_BYTES.
 *   The sync marker is derived from the object name, so a replay writes identical bytes.
 * - Bytes (`.bin` or `format.bytearray.extension`): the raw value bytes, each followed by
 *   `format.bytearray.separator`.
 *
 * An encoder hands back bytes as soon as they are final, so what it holds itself stays small. The
 * JSON format writes each line straight into the file's buffer (json-writer.ts).
 */
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { DataException, LOGICAL, type Schema, type SinkRecord } from '../../connect/sdk.js';
import type { S3SinkConfig } from './config.js';
import { NO_ROOM, NOT_PLAIN, writeJson } from './json-writer.js';
import type { LineEncoder } from './storage.js';

const AVRO_BLOCK_BYTES = 64 * 1024;
const AVRO_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

export interface FileEncoder {
  /**
   * Bytes to append for this record, or a line of text (written in UTF-8 followed by a newline);
   * possibly nothing yet (Avro collects a block).
   */
  write(record: SinkRecord): Buffer | string | null;
  /** A format of lines may write them straight into the file's buffer instead of write(). */
  readonly lines?: LineEncoder<SinkRecord>;
  /** The file's remaining bytes. */
  finish(): Buffer | null;
  /** Bytes held inside the encoder (an Avro block being built). */
  readonly bufferedBytes: number;
}

export interface RecordFormat {
  readonly extension: string;
  /** A new file; `objectKey` seeds anything that must be the same on a replay. */
  open(objectKey: string, first: SinkRecord): FileEncoder;
  /** True when `record` cannot go into the file that began with `first` (Avro: another schema). */
  needsNewFile?(first: SinkRecord, record: SinkRecord): boolean;
}

export function createFormat(cfg: S3SinkConfig): RecordFormat {
  switch (cfg.format) {
    case 'json':
      return { extension: '.json', open: () => JSON_LINES };
    case 'bytes':
      return {
        extension: cfg.bytesExtension,
        open: () => ({
          bufferedBytes: 0,
          write: (r) => {
            const v = r.value;
            if (v === null || v === undefined) return cfg.bytesSeparator;
            const body = Buffer.isBuffer(v)
              ? v
              : v instanceof Uint8Array
                ? Buffer.from(v)
                : typeof v === 'string'
                  ? Buffer.from(v)
                  : null;
            if (body === null) {
              throw new DataException(
                `ByteArrayFormat needs bytes values (use value.converter=ByteArrayConverter); record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} has a ${typeof v}`,
              );
            }
            return Buffer.concat([body, cfg.bytesSeparator]);
          },
          finish: () => null,
        }),
      };
    case 'avro':
      return {
        extension: '.avro',
        open: (key, first) => new AvroFileEncoder(key, avroTypeOf(first), cfg.avroCodec),
        needsNewFile: (first, r) => avroTypeOf(first).schemaJson !== avroTypeOf(r).schemaJson,
      };
  }
}

/** JSON lines: holds nothing between records, so one serves every file. */
const JSON_LINES: FileEncoder = {
  bufferedBytes: 0,
  write: (r) => recordJson(r, jsonText),
  finish: () => null,
  lines: {
    line: (r) => recordJson(r, jsonText),
    encodeInto: (r, buf, pos, end) => {
      // end - 1: room for the newline.
      let at = writeJson(r.value, buf, pos, end - 1);
      if (at === NOT_PLAIN) {
        const text = recordJson(r, (v) => JSON.stringify(v, jsonReplacer) ?? 'null');
        if (pos + text.length * 3 >= end && pos + Buffer.byteLength(text, 'utf8') >= end) return NO_ROOM;
        at = pos + buf.write(text, pos, 'utf8');
      }
      if (at < 0) return NO_ROOM;
      buf[at] = 0x0a;
      return at + 1;
    },
  },
};

/** The record's value as JSON text by `text`; a value JSON cannot hold (a cycle) fails naming the record. */
function recordJson(r: SinkRecord, text: (v: unknown) => string): string {
  try {
    return text(r.value);
  } catch (err) {
    throw new DataException(
      `record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} has a value JsonFormat cannot write: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/**
 * A Connect value as JSON text, as JsonConverter (schemas.enable=false) writes it: bytes in base64,
 * dates as epoch ms, maps as objects. The replacer sees each raw value through `this[key]` (before
 * toJSON), so plain values cost no copy.
 */
export function jsonText(v: unknown): string {
  // Without a replacer JSON.stringify takes V8's fast path (several times faster); the replacer
  // only matters when something in the value is not plain JSON data.
  return (plainJson(v) ? JSON.stringify(v) : JSON.stringify(v, jsonReplacer)) ?? 'null';
}

/**
 * True when `v` holds only what JSON.stringify writes as the replacer would: primitives, arrays,
 * plain objects (to a depth past which the replacer's stringify reports a cycle clearly).
 */
function plainJson(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object') return typeof v !== 'bigint';
  if (depth >= 64) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!plainJson(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k in v) if (!plainJson((v as Record<string, unknown>)[k], depth + 1)) return false;
  return true;
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw === null || (typeof raw !== 'object' && typeof raw !== 'bigint')) return value;
  if (typeof raw === 'bigint') return Number(raw);
  if (raw instanceof Date) return raw.getTime();
  if (Buffer.isBuffer(raw)) return raw.toString('base64');
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
  if (raw instanceof Map) return Object.fromEntries([...raw].map(([k, x]) => [String(k), x]));
  return value;
}

// ─── Avro ───────────────────────────────────────────────────────────────────────────────────────

interface AvroTypeInfo {
  type: avro.Type;
  schemaJson: string;
  toAvro(v: unknown): unknown;
}

const avroTypes = new WeakMap<Schema, AvroTypeInfo>();

function avroTypeOf(r: SinkRecord): AvroTypeInfo {
  const schema = r.valueSchema;
  if (!schema) {
    throw new DataException(
      `AvroFormat needs a value schema (a converter with schemas, e.g. AvroConverter or JsonConverter with schemas.enable=true); record ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} has none`,
    );
  }
  let info = avroTypes.get(schema);
  if (!info) {
    const names = new Set<string>();
    const avroSchema = toAvroSchema(schema, names, true);
    info = {
      type: avro.Type.forSchema(avroSchema as avro.Schema),
      schemaJson: JSON.stringify(avroSchema),
      toAvro: (v) => toAvroValue(schema, v),
    };
    avroTypes.set(schema, info);
  }
  return info;
}

const CONNECT_NS = 'io.confluent.connect.avro';

function toAvroSchema(s: Schema, names: Set<string>, top: boolean): unknown {
  const base = baseAvroSchema(s, names, top);
  return s.optional ? ['null', base] : base;
}

function baseAvroSchema(s: Schema, names: Set<string>, top: boolean): unknown {
  if (s.name === LOGICAL.timestamp) return { type: 'long', logicalType: 'timestamp-millis' };
  if (s.name === LOGICAL.date) return { type: 'int', logicalType: 'date' };
  if (s.name === LOGICAL.time) return { type: 'int', logicalType: 'time-millis' };
  switch (s.type) {
    case 'int8':
    case 'int16':
      return { type: 'int', 'connect.type': s.type };
    case 'int32':
      return 'int';
    case 'int64':
      return 'long';
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'bytes':
      return 'bytes';
    case 'array':
      return { type: 'array', items: toAvroSchema(s.valueSchema!, names, false) };
    case 'map':
      if (s.keySchema?.type === 'string' && !s.keySchema.optional)
        return { type: 'map', values: toAvroSchema(s.valueSchema!, names, false) };
      return {
        type: 'array',
        items: {
          type: 'record',
          name: uniqueName('MapEntry', names),
          namespace: CONNECT_NS,
          fields: [
            { name: 'key', type: toAvroSchema(s.keySchema!, names, false) },
            { name: 'value', type: toAvroSchema(s.valueSchema!, names, false) },
          ],
        },
      };
    case 'struct': {
      const full =
        s.name ?? (top ? `${CONNECT_NS}.ConnectDefault` : `${CONNECT_NS}.ConnectDefault${names.size + 1}`);
      const dot = full.lastIndexOf('.');
      return {
        type: 'record',
        name: uniqueName(dot >= 0 ? full.slice(dot + 1) : full, names),
        ...(dot >= 0 ? { namespace: full.slice(0, dot) } : {}),
        ...(s.doc ? { doc: s.doc } : {}),
        fields: (s.fields ?? []).map((f) => ({
          name: f.name,
          type: toAvroSchema(f.schema, names, false),
          ...(f.schema.optional ? { default: null } : {}),
        })),
      };
    }
  }
}

function uniqueName(name: string, names: Set<string>): string {
  let n = name;
  for (let i = 2; names.has(n); i++) n = `${name}${i}`;
  names.add(n);
  return n;
}

function toAvroValue(s: Schema, v: unknown): unknown {
  if (v === null || v === undefined) {
    if (s.optional) return null;
    if (s.defaultValue !== undefined) return toAvroValue(s, s.defaultValue);
    throw new DataException(`a null value for the required ${s.type} ${s.name ?? ''}`.trim());
  }
  const out = baseAvroValue(s, v);
  return out;
}

function baseAvroValue(s: Schema, v: unknown): unknown {
  // avsc without logical type classes: timestamp-millis as epoch ms, date as days since the epoch.
  if (s.name === LOGICAL.timestamp) return v instanceof Date ? v.getTime() : Number(v);
  if (s.name === LOGICAL.date) return v instanceof Date ? Math.floor(v.getTime() / 86_400_000) : Number(v);
  if (s.name === LOGICAL.time) return v instanceof Date ? v.getTime() % 86_400_000 : Number(v);
  switch (s.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
      return typeof v === 'bigint' ? Number(v) : Number(v);
    case 'boolean':
      return Boolean(v);
    case 'string':
      return String(v);
    case 'bytes':
      return Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v));
    case 'array':
      return (v as unknown[]).map((x) => toAvroValue(s.valueSchema!, x));
    case 'map': {
      const entries: [unknown, unknown][] = v instanceof Map ? [...v] : Object.entries(v as object);
      if (s.keySchema?.type === 'string' && !s.keySchema.optional)
        return Object.fromEntries(entries.map(([k, x]) => [String(k), toAvroValue(s.valueSchema!, x)]));
      return entries.map(([k, x]) => ({
        key: toAvroValue(s.keySchema!, k),
        value: toAvroValue(s.valueSchema!, x),
      }));
    }
    case 'struct': {
      const obj = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of s.fields ?? []) out[f.name] = toAvroValue(f.schema, obj[f.name]);
      return out;
    }
  }
}

const metaType = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const longType = avro.Type.forSchema('long');

/** An Avro object container file, written block by block. */
class AvroFileEncoder implements FileEncoder {
  private readonly sync: Buffer;
  private header: Buffer | null;
  private block: Buffer[] = [];
  private blockBytes = 0;
  private blockCount = 0;

  constructor(
    objectKey: string,
    private readonly info: AvroTypeInfo,
    private readonly codec: 'null' | 'deflate',
  ) {
    this.sync = createHash('md5').update(objectKey).digest();
    this.header = Buffer.concat([
      AVRO_MAGIC,
      metaType.toBuffer({ 'avro.schema': Buffer.from(info.schemaJson), 'avro.codec': Buffer.from(codec) }),
      this.sync,
    ]);
  }

  get bufferedBytes(): number {
    return this.blockBytes;
  }

  write(record: SinkRecord): Buffer | null {
    let bytes: Buffer;
    try {
      bytes = this.info.type.toBuffer(this.info.toAvro(record.value));
    } catch (err) {
      throw new DataException(
        `record ${record.topic}-${record.kafkaPartition}@${record.kafkaOffset} does not fit its Avro schema: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    this.block.push(bytes);
    this.blockBytes += bytes.length;
    this.blockCount++;
    if (this.blockBytes >= AVRO_BLOCK_BYTES) return this.takeBlock();
    const h = this.header;
    this.header = null;
    return h;
  }

  finish(): Buffer | null {
    return this.blockCount > 0 || this.header ? this.takeBlock() : null;
  }

  private takeBlock(): Buffer {
    const parts: Buffer[] = [];
    if (this.header) parts.push(this.header);
    this.header = null;
    if (this.blockCount > 0) {
      let data = Buffer.concat(this.block);
      if (this.codec === 'deflate') data = deflateRawSync(data);
      parts.push(longType.toBuffer(this.blockCount), longType.toBuffer(data.length), data, this.sync);
    }
    this.block = [];
    this.blockBytes = 0;
    this.blockCount = 0;
    return Buffer.concat(parts);
  }
}
