import { describe, expect, it } from 'vitest';
import { FormatError, formatRecord, parseFormat, unescapeBytes } from '../../core/cli/format.js';

const record = {
  topic: 'orders',
  partition: 2,
  offset: 41,
  timestamp: 1700000000123,
  key: Buffer.from('k1'),
  value: Buffer.from('héllo'),
  headers: [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
  ],
};

describe('consume --format (kcat tokens)', () => {
  it('renders every token', () => {
    const out = formatRecord('%t|%p|%o|%T|%k|%v|%s|%K|%S|%h|%%', record).toString('utf8');
    expect(out).toBe('orders|2|41|1700000000123|k1|héllo|héllo|2|6|a=1,b=|%');
  });

  it('resolves escapes, including a raw byte from \\xHH', () => {
    expect(formatRecord('%k\\t%v\\r\\n\\\\', record).toString('utf8')).toBe('k1\théllo\r\n\\');
    expect(formatRecord('\\xff%o\\0', record)).toEqual(Buffer.from([0xff, 0x34, 0x31, 0x00]));
    expect(unescapeBytes('→\\t')).toEqual(Buffer.from('→\t'));
  });

  it('prints null key and value as the null text, with length -1', () => {
    const nulls = { ...record, key: null, value: null, headers: [] };
    expect(formatRecord('[%k][%v][%K][%S][%h]\\n', nulls).toString()).toBe('[][][-1][-1][]\n');
    expect(formatRecord('%k=%v', nulls, 'NULL').toString()).toBe('NULL=NULL');
  });

  it('passes binary values through unchanged', () => {
    const bytes = Buffer.from([0, 0xff, 0x0a, 0xc3]);
    expect(formatRecord('%v', { ...record, value: bytes })).toEqual(bytes);
  });

  it('rejects unknown tokens and a lone %', () => {
    expect(() => parseFormat('%x')).toThrow(FormatError);
    expect(() => parseFormat('%x')).toThrow(/unknown token %x; known: %k %v/);
    expect(() => parseFormat('value %')).toThrow(/lone '%'/);
    expect(() => parseFormat('\\xzz')).toThrow(/hex digits/);
  });

  it('merges literal text into one token between fields', () => {
    expect(parseFormat('a\\tb%kc')).toEqual([
      { kind: 'literal', bytes: Buffer.from('a\tb') },
      { kind: 'key' },
      { kind: 'literal', bytes: Buffer.from('c') },
    ]);
  });
});
