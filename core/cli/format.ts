/**
 * `trib consume --format`: kcat's output format strings.
 *
 * Tokens: %k key, %v or %s value, %t topic, %p partition, %o offset, %T timestamp (ms since
 * the epoch), %h headers as `k=v,k=v`, %K / %S the key / value length in bytes (-1 when null),
 * %% a percent sign. Escapes: \t \n \r \\ \0 and \xHH; any other escaped character stands for
 * itself (as in kcat).
 *
 * A null key or value prints as the `null` text (empty by default, as kcat without -Z; kcat -Z
 * prints `NULL`). Keys, values and header values are written as their raw bytes.
 *
 * The format is parsed once into tokens; records are then rendered into a list of Buffers that
 * the caller writes in one go (no string round trip, so binary data passes through unchanged).
 */

export type FieldToken =
  | 'key'
  | 'value'
  | 'topic'
  | 'partition'
  | 'offset'
  | 'timestamp'
  | 'headers'
  | 'keyLength'
  | 'valueLength';

export type FormatToken = { kind: 'literal'; bytes: Buffer } | { kind: FieldToken };

/** What rendering needs of a record (a ConsumerRecord has all of it). */
export interface FormattableRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly { key: string; value: Buffer | null }[];
}

export const DEFAULT_FORMAT = '%v\\n';

const FIELDS: Readonly<Record<string, FieldToken>> = {
  k: 'key',
  v: 'value',
  s: 'value',
  t: 'topic',
  p: 'partition',
  o: 'offset',
  T: 'timestamp',
  h: 'headers',
  K: 'keyLength',
  S: 'valueLength',
};

/** Thrown for a malformed format string; the message says which token and what is known. */
export class FormatError extends Error {}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { t: 0x09, n: 0x0a, r: 0x0d, '0': 0x00 };

/** The bytes of `text` as UTF-8, escapes resolved (\xHH is one raw byte). */
export function unescapeBytes(text: string): Buffer {
  const bytes: number[] = [];
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c !== '\\' || i === chars.length - 1) {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = chars[++i]!;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      bytes.push(simple);
    } else if (next === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(chars.slice(i + 1, i + 3).join(''));
      if (!hex) throw new FormatError("'\\x' must be followed by hex digits, as in \\x1f");
      bytes.push(Number.parseInt(hex[0], 16));
      i += hex[0].length;
    } else {
      bytes.push(...Buffer.from(next, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function literal(text: string): FormatToken {
  return { kind: 'literal', bytes: unescapeBytes(text) };
}

/** Parses a kcat format string; throws FormatError naming the bad token. */
export function parseFormat(format: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  let text = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '\\' && i + 1 < format.length) {
      // An escape and the character it escapes stay together; literal() resolves them.
      text += c + format[++i];
      continue;
    }
    if (c !== '%') {
      text += c;
      continue;
    }
    const t = format[++i];
    if (t === undefined)
      throw new FormatError("the format ends with a lone '%' (write %% for a percent sign)");
    if (t === '%') {
      text += '%';
      continue;
    }
    const field = FIELDS[t];
    if (!field) {
      throw new FormatError(`unknown token %${t}; known: %k %v %s %t %p %o %T %h %K %S %%`);
    }
    if (text) tokens.push(literal(text));
    text = '';
    tokens.push({ kind: field });
  }
  if (text) tokens.push(literal(text));
  return tokens;
}

function headersText(headers: FormattableRecord['headers'], nullText: Buffer, out: Buffer[]): number {
  let size = 0;
  headers.forEach((h, i) => {
    const parts = [Buffer.from(`${i > 0 ? ',' : ''}${h.key}=`), h.value ?? nullText];
    for (const p of parts) {
      out.push(p);
      size += p.length;
    }
  });
  return size;
}

/**
 * Appends the bytes of one formatted record to `out` and returns how many bytes were added.
 * `nullText` is printed for a null key or value.
 */
export function renderRecord(
  tokens: readonly FormatToken[],
  record: FormattableRecord,
  nullText: Buffer,
  out: Buffer[],
): number {
  let size = 0;
  for (const token of tokens) {
    let piece: Buffer;
    switch (token.kind) {
      case 'literal':
        piece = token.bytes;
        break;
      case 'key':
        piece = record.key ?? nullText;
        break;
      case 'value':
        piece = record.value ?? nullText;
        break;
      case 'topic':
        piece = Buffer.from(record.topic);
        break;
      case 'partition':
        piece = Buffer.from(String(record.partition));
        break;
      case 'offset':
        piece = Buffer.from(String(record.offset));
        break;
      case 'timestamp':
        piece = Buffer.from(String(record.timestamp));
        break;
      case 'keyLength':
        piece = Buffer.from(String(record.key ? record.key.length : -1));
        break;
      case 'valueLength':
        piece = Buffer.from(String(record.value ? record.value.length : -1));
        break;
      case 'headers':
        size += headersText(record.headers, nullText, out);
        continue;
    }
    if (piece.length > 0) {
      out.push(piece);
      size += piece.length;
    }
  }
  return size;
}

/** Convenience for tests and one-off rendering. */
export function formatRecord(format: string, record: FormattableRecord, nullText = ''): Buffer {
  const out: Buffer[] = [];
  renderRecord(parseFormat(format), record, Buffer.from(nullText), out);
  return Buffer.concat(out);
}
