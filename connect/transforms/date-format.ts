/**
 * The subset of Java's SimpleDateFormat that Kafka's TimestampConverter and TimestampRouter
 * formats use, always in UTC as Kafka does: yyyy yy MM M dd d HH H mm m ss s SSS, 'quoted text',
 * Z / X / XXX (offset, always UTC here) and literal punctuation.
 */
import { DataException } from '../errors.js';

type Token = { kind: 'field'; letter: string; width: number } | { kind: 'text'; text: string };

const cache = new Map<string, Token[]>();

function tokenize(pattern: string): Token[] {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        out.push({ kind: 'text', text: "'" });
        i += 2;
        continue;
      }
      if (end < 0) throw new DataException(`Unterminated quote in date format ${pattern}`);
      out.push({ kind: 'text', text: pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      if (!'yMdHmsSZXa'.includes(c))
        throw new DataException(`Unsupported date format letter '${c}' in ${pattern}`);
      out.push({ kind: 'field', letter: c, width: j - i });
      i = j;
    } else {
      out.push({ kind: 'text', text: c });
      i++;
    }
  }
  cache.set(pattern, out);
  return out;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function formatDate(date: Date, pattern: string): string {
  let s = '';
  for (const t of tokenize(pattern)) {
    if (t.kind === 'text') {
      s += t.text;
      continue;
    }
    switch (t.letter) {
      case 'y':
        s += t.width === 2 ? pad(date.getUTCFullYear() % 100, 2) : pad(date.getUTCFullYear(), t.width);
        break;
      case 'M':
        s += pad(date.getUTCMonth() + 1, t.width);
        break;
      case 'd':
        s += pad(date.getUTCDate(), t.width);
        break;
      case 'H':
        s += pad(date.getUTCHours(), t.width);
        break;
      case 'm':
        s += pad(date.getUTCMinutes(), t.width);
        break;
      case 's':
        s += pad(date.getUTCSeconds(), t.width);
        break;
      case 'S':
        s += pad(date.getUTCMilliseconds(), t.width);
        break;
      case 'Z':
        s += '+0000';
        break;
      case 'X':
        s += 'Z';
        break;
      case 'a':
        s += date.getUTCHours() < 12 ? 'AM' : 'PM';
        break;
    }
  }
  return s;
}

export function parseDate(text: string, pattern: string): Date {
  const parts = { y: 1970, M: 1, d: 1, H: 0, m: 0, s: 0, S: 0 };
  let at = 0;
  const fail = (): never => {
    throw new DataException(`Could not parse timestamp: value (${text}) does not match pattern (${pattern})`);
  };
  const tokens = tokenize(pattern);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'text') {
      if (text.slice(at, at + t.text.length) !== t.text) fail();
      at += t.text.length;
      continue;
    }
    if (t.letter === 'Z' || t.letter === 'X') {
      const m = /^(Z|[+-]\d{2}:?\d{2})/.exec(text.slice(at));
      if (!m) fail();
      at += m![0].length;
      continue;
    }
    if (t.letter === 'a') {
      at += 2;
      continue;
    }
    // Adjacent numeric fields take exactly their width; a lone one takes all digits.
    const next = tokens[i + 1];
    const fixed = next?.kind === 'field' && next.letter !== 'Z' && next.letter !== 'X';
    const m = (fixed ? new RegExp(`^\\d{${t.width}}`) : /^\d+/).exec(text.slice(at));
    if (!m) fail();
    at += m![0].length;
    (parts as Record<string, number>)[t.letter] = Number(m![0]);
  }
  if (at !== text.length) fail();
  return new Date(Date.UTC(parts.y, parts.M - 1, parts.d, parts.H, parts.m, parts.s, parts.S));
}
