/**
 * The schema compiler: turns a message schema into one decoder and one encoder per version
 * (closures built once and cached), and the entry points `decodeMessage`/`encodeMessage`.
 * Semantics are described in schema.ts.
 *
 * Decoders only ever throw ProtocolError: every read is bounds-checked, counts are checked
 * against the bytes left before allocation, and errors collect the field path on their way
 * out (`topicData[0].partitionData[2].records`) at the cost of a try/catch per field.
 */
import { ProtocolError, type ProtocolErrorCode, withContext, withPath } from './errors.js';
import { type RawTaggedField, Reader, ZERO_UUID } from './reader.js';
import type { Data, Field, Fields, Input, MessageSchema, ScalarField, ScalarType } from './schema.js';
import { Writer } from './writer.js';

// ---------------------------------------------------------------------------------------------
// Versions and unknown tagged fields

export interface VersionRange {
  readonly min: number;
  /** Infinity for "N+"; below `min` for "none". */
  readonly max: number;
}

const rangeCache = new Map<string, VersionRange>();

/** Parses "0+", "3-5", "2" or "none". */
export function parseVersions(spec: string): VersionRange {
  let r = rangeCache.get(spec);
  if (r) return r;
  const s = spec.trim();
  const m = /^(\d+)(\+|-(\d+))?$/.exec(s);
  if (s === 'none') r = { min: 0, max: -1 };
  else if (!m) throw new ProtocolError('INVALID_VALUE', `bad version range ${JSON.stringify(spec)}`);
  else if (m[2] === '+') r = { min: Number(m[1]), max: Number.POSITIVE_INFINITY };
  else r = { min: Number(m[1]), max: m[3] === undefined ? Number(m[1]) : Number(m[3]) };
  rangeCache.set(spec, r);
  return r;
}

export function inVersions(spec: string | undefined, version: number): boolean {
  if (spec === undefined) return false;
  const r = parseVersions(spec);
  return version >= r.min && version <= r.max;
}

/** Whether a message version uses the flexible (KIP-482) encoding. */
export function isFlexible(schema: MessageSchema, version: number): boolean {
  return inVersions(schema.flexibleVersions, version);
}

/**
 * Unknown tagged fields of a decoded struct live under this symbol (only when there are some,
 * as a non-enumerable property), and are written back by the encoder.
 */
export const unknownTaggedFields: unique symbol = Symbol('unknownTaggedFields');

/** The unknown tagged fields kept on a decoded struct, if any. */
export function getUnknownTaggedFields(struct: object): readonly RawTaggedField[] | undefined {
  return (struct as { [unknownTaggedFields]?: RawTaggedField[] })[unknownTaggedFields];
}

// ---------------------------------------------------------------------------------------------
// Compilation

interface Codec {
  read(r: Reader): unknown;
  write(w: Writer, v: unknown): void;
  /** Fewest bytes one value takes (bounds array counts before allocation). */
  readonly minBytes: number;
}

interface CompiledField {
  readonly name: string;
  readonly present: boolean;
  readonly tagged: boolean;
  readonly tag: number;
  readonly codec: Codec;
  makeDefault(): unknown;
  isDefault(v: unknown): boolean;
}

type Struct = Record<string | symbol, unknown>;

const EMPTY = Buffer.alloc(0);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (Buffer.isBuffer(v)) return 'a Buffer';
  return typeof v === 'string'
    ? `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
    : `${typeof v} ${String(v)}`;
}

function invalid(expected: string, v: unknown): ProtocolError {
  return new ProtocolError('INVALID_VALUE', `expected ${expected}, got ${describe(v)}`);
}

function intCodec(
  name: string,
  min: number,
  max: number,
  bytes: number,
  read: (r: Reader) => number,
  write: (w: Writer, v: number) => void,
): Codec {
  return {
    read,
    write(w, v) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(name, v);
      write(w, v);
    },
    minBytes: bytes,
  };
}

const INT_CODECS: Record<'int8' | 'int16' | 'int32' | 'int64' | 'uint16' | 'uint32', Codec> = {
  int8: intCodec(
    'int8',
    -128,
    127,
    1,
    (r) => r.int8(),
    (w, v) => w.int8(v),
  ),
  int16: intCodec(
    'int16',
    -32768,
    32767,
    2,
    (r) => r.int16(),
    (w, v) => w.int16(v),
  ),
  int32: intCodec(
    'int32',
    -2147483648,
    2147483647,
    4,
    (r) => r.int32(),
    (w, v) => w.int32(v),
  ),
  int64: intCodec(
    'int64',
    -(2 ** 63),
    2 ** 63,
    8,
    (r) => r.int64(),
    (w, v) => w.int64(v),
  ),
  uint16: intCodec(
    'uint16',
    0,
    65535,
    2,
    (r) => r.uint16(),
    (w, v) => w.uint16(v),
  ),
  uint32: intCodec(
    'uint32',
    0,
    4294967295,
    4,
    (r) => r.uint32(),
    (w, v) => w.uint32(v),
  ),
};

const FLOAT64: Codec = {
  read: (r) => r.float64(),
  write(w, v) {
    if (typeof v !== 'number') throw invalid('float64', v);
    w.float64(v);
  },
  minBytes: 8,
};

const BOOL: Codec = {
  read: (r) => r.bool(),
  write(w, v) {
    if (typeof v !== 'boolean') throw invalid('bool', v);
    w.bool(v);
  },
  minBytes: 1,
};

const UUID: Codec = {
  read: (r) => r.uuid(),
  write(w, v) {
    if (typeof v !== 'string') throw invalid('uuid string', v);
    w.uuid(v);
  },
  minBytes: 16,
};

function stringCodec(nullable: boolean, compact: boolean): Codec {
  const minBytes = compact ? 1 : 2;
  const read = compact
    ? nullable
      ? (r: Reader) => r.compactNullableString()
      : (r: Reader) => r.compactString()
    : nullable
      ? (r: Reader) => r.nullableString()
      : (r: Reader) => r.string();
  return {
    read,
    write(w, v) {
      if (typeof v === 'string') {
        if (compact) w.compactString(v);
        else w.string(v);
      } else if (v === null && nullable) {
        if (compact) w.uvarint(0);
        else w.int16(-1);
      } else throw invalid(nullable ? 'string or null' : 'string', v);
    },
    minBytes,
  };
}

function totalLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

function bytesCodec(nullable: boolean, compact: boolean, records: boolean): Codec {
  const read = compact
    ? nullable
      ? (r: Reader) => r.compactNullableBytes()
      : (r: Reader) => r.compactBytes()
    : nullable
      ? (r: Reader) => r.nullableBytes()
      : (r: Reader) => r.bytes();
  return {
    read,
    write(w, v) {
      if (v instanceof Uint8Array) {
        if (compact) w.uvarint(v.length + 1);
        else w.int32(v.length);
        w.raw(v);
      } else if (records && Array.isArray(v)) {
        const chunks = v as readonly unknown[];
        for (const c of chunks) if (!(c instanceof Uint8Array)) throw invalid('Buffer chunks', c);
        const n = totalLength(chunks as readonly Uint8Array[]);
        if (compact) w.uvarint(n + 1);
        else w.int32(n);
        for (const c of chunks as readonly Uint8Array[]) w.raw(c);
      } else if (v === null && nullable) {
        if (compact) w.uvarint(0);
        else w.int32(-1);
      } else throw invalid(nullable ? 'Buffer or null' : 'Buffer', v);
    },
    minBytes: compact ? 1 : 4,
  };
}

function scalarCodec(type: ScalarType, nullable: boolean, flexible: boolean): Codec {
  switch (type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint16':
    case 'uint32':
      return INT_CODECS[type];
    case 'float64':
      return FLOAT64;
    case 'bool':
      return BOOL;
    case 'uuid':
      return UUID;
    case 'string':
      return stringCodec(nullable, flexible);
    case 'bytes':
      return bytesCodec(nullable, flexible, false);
    case 'records':
      return bytesCodec(nullable, flexible, true);
  }
}

function scalarDefault(field: ScalarField): unknown {
  if (field.default !== undefined) return field.default;
  switch (field.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return EMPTY;
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

function arrayCodec(items: Codec, nullable: boolean, compact: boolean): Codec {
  return {
    read(r) {
      const n = compact
        ? r.compactArrayLength(items.minBytes, nullable)
        : r.arrayLength(items.minBytes, nullable);
      if (n < 0) return null;
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        try {
          out[i] = items.read(r);
        } catch (e) {
          throw withPath(e, `[${i}]`, 'CORRUPT_MESSAGE');
        }
      }
      return out;
    },
    write(w, v) {
      if (Array.isArray(v)) {
        if (compact) w.uvarint(v.length + 1);
        else w.int32(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            items.write(w, v[i]);
          } catch (e) {
            throw withPath(e, `[${i}]`, 'INVALID_VALUE');
          }
        }
      } else if (v === null && nullable) {
        if (compact) w.uvarint(0);
        else w.int32(-1);
      } else throw invalid(nullable ? 'array or null' : 'array', v);
    },
    minBytes: compact ? 1 : 4,
  };
}

/** A compiled struct: the codec plus default construction. */
interface StructCodec extends Codec {
  readonly fields: readonly CompiledField[];
  makeDefault(): Struct;
  isDefault(v: unknown): boolean;
}

function nullableStructCodec(inner: StructCodec): Codec {
  return {
    read(r) {
      return r.int8() < 0 ? null : inner.read(r);
    },
    write(w, v) {
      if (v === null) w.int8(-1);
      else {
        w.int8(1);
        inner.write(w, v);
      }
    },
    minBytes: 1,
  };
}

function compileField(name: string, field: Field, version: number, flexible: boolean): CompiledField {
  const present = inVersions(field.versions, version);
  const tagged = present && inVersions(field.taggedVersions, version);
  if (tagged && field.tag === undefined) {
    throw new ProtocolError('INVALID_VALUE', `field ${name} is tagged in v${version} but has no tag`);
  }
  const nullable = inVersions(field.nullableVersions, version);
  const compact =
    flexible && !(field.flexibleVersions !== undefined && !inVersions(field.flexibleVersions, version));
  const defaultIsNull = field.default === null;
  switch (field.kind) {
    case 'scalar': {
      const def = scalarDefault(field);
      const isBytes = field.type === 'bytes' || field.type === 'records';
      return {
        name,
        present,
        tagged,
        tag: field.tag ?? -1,
        codec: scalarCodec(field.type, nullable, compact),
        makeDefault: () => def,
        isDefault: isBytes
          ? (v) => (def === null ? v === null : v instanceof Uint8Array && v.length === 0)
          : (v) => v === def,
      };
    }
    case 'array': {
      const items =
        typeof field.items === 'string'
          ? scalarCodec(field.items, false, compact)
          : compileStruct(field.items, version, compact);
      return {
        name,
        present,
        tagged,
        tag: field.tag ?? -1,
        codec: arrayCodec(items, nullable, compact),
        makeDefault: defaultIsNull ? () => null : () => [],
        isDefault: defaultIsNull ? (v) => v === null : (v) => Array.isArray(v) && v.length === 0,
      };
    }
    case 'struct': {
      const inner = compileStruct(field.fields, version, compact);
      return {
        name,
        present,
        tagged,
        tag: field.tag ?? -1,
        codec: nullable ? nullableStructCodec(inner) : inner,
        makeDefault: defaultIsNull ? () => null : () => inner.makeDefault(),
        isDefault: defaultIsNull ? (v) => v === null : (v) => inner.isDefault(v),
      };
    }
  }
}

function compileStruct(fields: Fields, version: number, flexible: boolean): StructCodec {
  const all = Object.entries(fields).map(([name, f]) => compileField(name, f, version, flexible));
  const regular = all.filter((f) => f.present && !f.tagged);
  const tagged = all.filter((f) => f.tagged).sort((a, b) => a.tag - b.tag);
  const byTag = new Map(tagged.map((f) => [f.tag, f]));
  let minBytes = flexible ? 1 : 0;
  for (const f of regular) minBytes += f.codec.minBytes;
  const n = all.length;

  const makeDefault = (): Struct => {
    const o: Struct = {};
    for (let i = 0; i < n; i++) {
      const f = all[i]!;
      o[f.name] = f.makeDefault();
    }
    return o;
  };

  const readTagged = (r: Reader, o: Struct): void => {
    const count = r.uvarint();
    if (count === 0) return;
    r.checkCount(count, 2, 'tagged fields');
    let last = -1;
    for (let i = 0; i < count; i++) {
      const tag = r.uvarint();
      if (tag <= last) {
        throw new ProtocolError(
          'CORRUPT_MESSAGE',
          `tagged field ${tag} follows tag ${last}; tags must ascend`,
        );
      }
      last = tag;
      const size = r.uvarint();
      const sub = r.sub(size, `tagged field ${tag}`);
      const f = byTag.get(tag);
      if (f === undefined) {
        let unknown = o[unknownTaggedFields] as RawTaggedField[] | undefined;
        if (unknown === undefined) {
          unknown = [];
          // Non-enumerable: invisible to spreads, JSON and deep equality; still re-encoded.
          Object.defineProperty(o, unknownTaggedFields, {
            value: unknown,
            configurable: true,
            writable: true,
          });
        }
        unknown.push({ tag, data: sub.buf.subarray(sub.pos, sub.end) });
        continue;
      }
      try {
        o[f.name] = f.codec.read(sub);
      } catch (e) {
        throw withPath(e, f.name, 'CORRUPT_MESSAGE');
      }
    }
  };

  const writeTagged = (w: Writer, o: Struct): void => {
    const unknown = o[unknownTaggedFields] as readonly RawTaggedField[] | undefined;
    if (tagged.length === 0 && unknown === undefined) {
      w.uvarint(0);
      return;
    }
    const out: { tag: number; data: Writer | Uint8Array }[] = [];
    for (const f of tagged) {
      const v = o[f.name];
      if (v === undefined || f.isDefault(v)) continue;
      const sub = new Writer(64);
      try {
        f.codec.write(sub, v);
      } catch (e) {
        sub.abandon();
        throw withPath(e, f.name, 'INVALID_VALUE');
      }
      out.push({ tag: f.tag, data: sub });
    }
    if (unknown) {
      for (const u of unknown) if (!byTag.has(u.tag)) out.push({ tag: u.tag, data: u.data });
    }
    if (out.length === 0) {
      w.uvarint(0);
      return;
    }
    out.sort((a, b) => a.tag - b.tag);
    w.uvarint(out.length);
    for (const { tag, data } of out) {
      w.uvarint(tag);
      if (data instanceof Writer) {
        w.uvarint(data.length);
        w.append(data);
      } else {
        w.uvarint(data.length);
        w.raw(data);
      }
    }
  };

  return {
    fields: all,
    minBytes,
    makeDefault,
    isDefault(v) {
      if (v === null || typeof v !== 'object') return false;
      const o = v as Struct;
      for (const f of all) {
        const x = o[f.name];
        if (x !== undefined && !f.isDefault(x)) return false;
      }
      return true;
    },
    read(r) {
      const o: Struct = {};
      for (let i = 0; i < n; i++) {
        const f = all[i]!;
        if (f.present && !f.tagged) {
          try {
            o[f.name] = f.codec.read(r);
          } catch (e) {
            throw withPath(e, f.name, 'CORRUPT_MESSAGE');
          }
        } else {
          o[f.name] = f.makeDefault();
        }
      }
      if (flexible) readTagged(r, o);
      return o;
    },
    write(w, v) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('an object', v);
      const o = v as Struct;
      for (let i = 0; i < regular.length; i++) {
        const f = regular[i]!;
        const x = o[f.name];
        try {
          f.codec.write(w, x === undefined ? f.makeDefault() : x);
        } catch (e) {
          throw withPath(e, f.name, 'INVALID_VALUE');
        }
      }
      if (flexible) writeTagged(w, o);
    },
  };
}

const compiled = new WeakMap<MessageSchema, Map<number, StructCodec>>();

/** Throws UNSUPPORTED_VERSION unless the schema declares `version`. */
export function checkVersion(schema: MessageSchema, version: number): void {
  if (!Number.isInteger(version) || !inVersions(schema.validVersions, version)) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      `${schema.api} ${schema.type} v${version} is not one of the versions ${schema.validVersions}`,
    );
  }
}

/** The compiled codec of one message version (built once, then cached). */
function codecFor(schema: MessageSchema, version: number): StructCodec {
  let byVersion = compiled.get(schema);
  if (!byVersion) {
    byVersion = new Map();
    compiled.set(schema, byVersion);
  }
  let codec = byVersion.get(version);
  if (!codec) {
    checkVersion(schema, version);
    codec = compileStruct(schema.fields, version, isFlexible(schema, version));
    byVersion.set(version, codec);
  }
  return codec;
}

function context(schema: MessageSchema, version: number): string {
  return `${schema.api} v${version} ${schema.type}`;
}

/**
 * Decodes a message body. `input` is a Buffer holding exactly the body or a Reader positioned
 * at it (left after the body). Only ever throws ProtocolError: CORRUPT_REQUEST /
 * CORRUPT_RESPONSE, TRUNCATED or UNSUPPORTED_VERSION.
 */
export function decodeMessage<F extends Fields>(
  schema: MessageSchema<F>,
  version: number,
  input: Buffer | Reader,
): Data<F> {
  const corrupt: ProtocolErrorCode = schema.type === 'request' ? 'CORRUPT_REQUEST' : 'CORRUPT_RESPONSE';
  try {
    const codec = codecFor(schema, version);
    const r = input instanceof Reader ? input : new Reader(input);
    return codec.read(r) as Data<F>;
  } catch (e) {
    throw withContext(e, context(schema, version), 'CORRUPT_MESSAGE', corrupt);
  }
}

/**
 * Encodes a message body into `writer` (a new one by default) and returns the writer; take
 * the bytes with `toChunks()` or `toBuffer()`. Throws ProtocolError INVALID_VALUE naming the
 * field path for a value that does not fit its field.
 */
export function encodeMessage<F extends Fields>(
  schema: MessageSchema<F>,
  version: number,
  data: Input<F>,
  writer?: Writer,
): Writer {
  const w = writer ?? new Writer();
  try {
    codecFor(schema, version).write(w, data);
    return w;
  } catch (e) {
    if (!writer) w.abandon();
    throw withContext(e, context(schema, version), 'INVALID_VALUE');
  }
}

/** A struct of defaults, as a decoder would produce for a message with no fields present. */
export function defaults<F extends Fields>(schema: MessageSchema<F>, version: number): Data<F> {
  return codecFor(schema, version).makeDefault() as Data<F>;
}
