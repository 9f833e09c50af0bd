import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineSplitter, LineTooLongError, readLines } from '../../core/cli/lines.js';
import { lineToRecord } from '../../core/cli/produce.js';

function split(chunks: (string | Buffer)[], max = 1024): string[] {
  const s = new LineSplitter(max);
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(Buffer.from(c)).map((l) => l.toString('utf8')));
  const last = s.end();
  if (last !== undefined) out.push(last.toString('utf8'));
  return out;
}

describe('produce input lines', () => {
  it('splits on LF, drops one CR before it, and makes no record for a final newline', () => {
    expect(split(['a\nb\n'])).toEqual(['a', 'b']);
    expect(split(['a\nb'])).toEqual(['a', 'b']);
    expect(split(['a\r\nb\r\n'])).toEqual(['a', 'b']);
    expect(split(['a\r\nb\r'])).toEqual(['a', 'b']);
    expect(split([''])).toEqual([]);
    expect(split(['\n'])).toEqual(['']);
  });

  it('keeps empty lines and inner CRs', () => {
    expect(split(['a\n\n\nb\n'])).toEqual(['a', '', '', 'b']);
    expect(split(['x\ry\n'])).toEqual(['x\ry']);
  });

  it('joins lines and UTF-8 characters split across chunks', () => {
    const euro = Buffer.from('€'); // 3 bytes
    expect(split(['ab', 'c\nd', 'e\r', '\nf'])).toEqual(['abc', 'de', 'f']);
    expect(split([euro.subarray(0, 1), euro.subarray(1), '\n'])).toEqual(['€']);
  });

  it('refuses a line longer than the limit, naming its number', () => {
    expect(split(['1234\n12345\n'], 5)).toEqual(['1234', '12345']);
    expect(split(['12345\r\n'], 5)).toEqual(['12345']);
    expect(() => split(['ok\n123456\n'], 5)).toThrow(LineTooLongError);
    expect(() => split(['ok\n123', '456'], 5)).toThrow(/line 2 is longer than 5 bytes/);
  });

  it('reads a stream lazily, chunk by chunk', async () => {
    const input = Readable.from([Buffer.from('a\nb'), Buffer.from('c\n'), Buffer.from('d')]);
    const batches: string[][] = [];
    for await (const lines of readLines(input, 100)) batches.push(lines.map(String));
    expect(batches).toEqual([['a'], ['bc'], ['d']]);
  });
});

describe('produce --key-separator (kcat -K)', () => {
  const sep = { keySeparator: Buffer.from('\t'), nullEmpty: false };
  const str = (r: { key: Buffer | null; value: Buffer | null }) => [
    r.key?.toString() ?? null,
    r.value?.toString() ?? null,
  ];

  it('splits at the first separator', () => {
    expect(str(lineToRecord(Buffer.from('k\tv\tw'), sep))).toEqual(['k', 'v\tw']);
    expect(str(lineToRecord(Buffer.from('\tv'), sep))).toEqual(['', 'v']);
    expect(str(lineToRecord(Buffer.from('k\t'), sep))).toEqual(['k', '']);
  });

  it('gives a line without the separator a null key', () => {
    expect(str(lineToRecord(Buffer.from('just a value'), sep))).toEqual([null, 'just a value']);
    expect(str(lineToRecord(Buffer.from(''), sep))).toEqual([null, '']);
  });

  it('without a separator the whole line is the value', () => {
    expect(str(lineToRecord(Buffer.from('a\tb'), { keySeparator: undefined, nullEmpty: false }))).toEqual([
      null,
      'a\tb',
    ]);
  });

  it('--null-empty makes empty keys and values null (tombstones)', () => {
    const z = { keySeparator: Buffer.from('::'), nullEmpty: true };
    expect(str(lineToRecord(Buffer.from('k::'), z))).toEqual(['k', null]);
    expect(str(lineToRecord(Buffer.from('::v'), z))).toEqual([null, 'v']);
    expect(str(lineToRecord(Buffer.from(''), z))).toEqual([null, null]);
  });
});
