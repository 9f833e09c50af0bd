/**
 * Connect values written as JSON in UTF-8 straight into a buffer, byte for byte what
 * `jsonText` (format.ts) writes, without the intermediate string (the JSON format's hot path:
 * no per-record string to encode again and collect).
 *
 * Written here: null, booleans, numbers, strings, arrays, objects whose prototype is
 * Object.prototype or null with no toJSON method, and as JsonConverter writes them, dates (epoch
 * ms), bytes (base64) and bigints (numbers). Anything else (a Map, a class instance, nesting past
 * MAX_DEPTH — a cycle) makes {@link writeJson} answer {@link NOT_PLAIN}, and the caller takes
 * jsonText's general path.
 *
 * Strings of printable ASCII without `"` or `\` (most text in records, and all of base64 and
 * decimal) are copied as they are; any other string is escaped by JSON.stringify itself. Long
 * strings are checked and copied natively, which is what makes this faster than JSON.stringify
 * for records with long text fields.
 */

/** The value is not plain JSON data (nothing useful was written). */
export const NOT_PLAIN = -2;
/** The value does not fit before `end` (what was written past `pos` is to be overwritten). */
export const NO_ROOM = -1;

const MAX_DEPTH = 64;
/** Strings at least this long are checked and copied natively; shorter ones in a loop. */
const LONG_STRING = 48;
/** A control character (JSON.stringify escapes them). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\x00-\x1f]/;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const ZERO = 0x30;

/**
 * Writes `v` as JSON into `buf` from `pos`, staying before `end`. Returns the position after it,
 * {@link NO_ROOM} or {@link NOT_PLAIN}. A top-level value JSON.stringify leaves out (undefined, a
 * function, a symbol) is written as `null`.
 */
export function writeJson(v: unknown, buf: Buffer, pos: number, end: number): number {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol')
    return writeAscii('null', buf, pos, end);
  return writeValue(v, buf, pos, end, 0);
}

function writeValue(v: unknown, buf: Buffer, pos: number, end: number, depth: number): number {
  switch (typeof v) {
    case 'string':
      return writeString(v, buf, pos, end);
    case 'number':
      return writeNumber(v, buf, pos, end);
    case 'boolean':
      return writeAscii(v ? 'true' : 'false', buf, pos, end);
    case 'object':
      if (v === null) return writeAscii('null', buf, pos, end);
      if (depth >= MAX_DEPTH) return NOT_PLAIN;
      // Before the toJSON test (both have one): as jsonText's replacer writes them.
      if (v instanceof Date) return writeNumber(v.getTime(), buf, pos, end);
      if (v instanceof Uint8Array) return writeBase64(v, buf, pos, end);
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
      if (Array.isArray(v)) return writeArray(v, buf, pos, end, depth + 1);
      {
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      }
      return writeObject(v as Record<string, unknown>, buf, pos, end, depth + 1);
    case 'bigint':
      return writeNumber(Number(v), buf, pos, end);
    default:
      return NOT_PLAIN;
  }
}

/** A value JSON.stringify leaves out of objects and writes as null in arrays. */
function omitted(x: unknown): boolean {
  return x === undefined || typeof x === 'function' || typeof x === 'symbol';
}

function writeArray(v: unknown[], buf: Buffer, pos: number, end: number, depth: number): number {
  if (pos >= end) return NO_ROOM;
  buf[pos++] = 0x5b; // [
  for (let i = 0; i < v.length; i++) {
    if (i > 0) {
      if (pos >= end) return NO_ROOM;
      buf[pos++] = COMMA;
    }
    const x = v[i];
    pos = omitted(x) ? writeAscii('null', buf, pos, end) : writeValue(x, buf, pos, end, depth);
    if (pos < 0) return pos;
  }
  if (pos >= end) return NO_ROOM;
  buf[pos++] = 0x5d; // ]
  return pos;
}

function writeObject(
  v: Record<string, unknown>,
  buf: Buffer,
  pos: number,
  end: number,
  depth: number,
): number {
  if (pos >= end) return NO_ROOM;
  buf[pos++] = 0x7b; // {
  let first = true;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (omitted(x)) continue;
    if (!first) {
      if (pos >= end) return NO_ROOM;
      buf[pos++] = COMMA;
    }
    first = false;
    pos = writeString(k, buf, pos, end);
    if (pos < 0) return pos;
    if (pos >= end) return NO_ROOM;
    buf[pos++] = COLON;
    pos = writeValue(x, buf, pos, end, depth);
    if (pos < 0) return pos;
  }
  if (pos >= end) return NO_ROOM;
  buf[pos++] = 0x7d; // }
  return pos;
}

function writeString(s: string, buf: Buffer, pos: number, end: number): number {
  const n = s.length;
  // Every UTF-16 unit takes at least a byte: n + 2 bytes at the least.
  if (pos + n + 2 > end) return NO_ROOM;
  const start = pos;
  buf[pos++] = QUOTE;
  if (n < LONG_STRING) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === QUOTE || c === 0x5c || c > 0x7f) return writeEscaped(s, buf, start, end);
      buf[pos++] = c;
    }
  } else {
    // ASCII (as many UTF-8 bytes as units), no quote or backslash, no control character: four
    // native scans, together faster than one regular expression for the characters to escape.
    if (
      Buffer.byteLength(s, 'utf8') !== n ||
      s.indexOf('"') !== -1 ||
      s.indexOf('\\') !== -1 ||
      CONTROL.test(s)
    )
      return writeEscaped(s, buf, start, end);
    pos += buf.write(s, pos, n, 'latin1');
  }
  buf[pos++] = QUOTE;
  return pos;
}

/** A string as JSON.stringify escapes it (control characters, quotes, lone surrogates), in UTF-8. */
function writeEscaped(s: string, buf: Buffer, pos: number, end: number): number {
  const json = JSON.stringify(s);
  if (pos + json.length * 3 > end && pos + Buffer.byteLength(json, 'utf8') > end) return NO_ROOM;
  return pos + buf.write(json, pos, 'utf8');
}

function writeNumber(v: number, buf: Buffer, pos: number, end: number): number {
  if (v >= 0 && v < 1e9 && Number.isInteger(v)) {
    // Small non-negative integers (-0 included, written "0" as JSON.stringify does): the digits,
    // in 32-bit integer arithmetic.
    let x = v | 0;
    const digits =
      x < 10
        ? 1
        : x < 100
          ? 2
          : x < 1e4
            ? x < 1e3
              ? 3
              : 4
            : x < 1e6
              ? x < 1e5
                ? 5
                : 6
              : x < 1e7
                ? 7
                : x < 1e8
                  ? 8
                  : 9;
    if (pos + digits > end) return NO_ROOM;
    for (let at = pos + digits - 1; at > pos; at--) {
      const q = (x / 10) | 0;
      buf[at] = ZERO + x - q * 10;
      x = q;
    }
    buf[pos] = ZERO + x;
    return pos + digits;
  }
  return writeAscii(Number.isFinite(v) ? String(v) : 'null', buf, pos, end);
}

function writeBase64(v: Uint8Array, buf: Buffer, pos: number, end: number): number {
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (pos + Math.ceil(b.length / 3) * 4 + 2 > end) return NO_ROOM;
  buf[pos++] = QUOTE;
  pos += buf.write(b.toString('base64'), pos, 'latin1');
  buf[pos++] = QUOTE;
  return pos;
}

/** A string of ASCII characters, as they are. */
function writeAscii(s: string, buf: Buffer, pos: number, end: number): number {
  const n = s.length;
  if (pos + n > end) return NO_ROOM;
  for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + n;
}
