import { describe, expect, it } from 'vitest';
import {
  BatchBuilder,
  Compression,
  CorruptRecordError,
  type DecodedRecord,
  decodeBatches,
  encodeBatch,
  RecordSetReader,
  type TextRecordInput,
} from '../../../core/records/index.js';

const T = 1_700_000_000_000;

/** Keys and values around the short-string path (≤ 21 UTF-16 units) and past it, ASCII or not. */
const TEXTS = [
  '',
  'a',
  'x'.repeat(21),
  'x'.repeat(22),
  'é',
  'é'.repeat(21),
  'é'.repeat(22),
  '🎉 party',
  'ключ '.repeat(30),
  'lone \ud800 surrogate',
  'y'.repeat(70_000),
];

describe('string keys and values are written as their UTF-8 bytes', () => {
  it.each([Compression.None, Compression.Gzip])('codec %i: the same bytes as Buffers', (codec) => {
    const text: TextRecordInput[] = TEXTS.map((s, i) => ({
      key: s,
      value: TEXTS.at(-1 - i)!,
      timestamp: T + i,
    }));
    const bytes = text.map((r) => ({
      key: Buffer.from(r.key as string),
      value: Buffer.from(r.value as string),
      timestamp: r.timestamp,
    }));
    const fromBytes = encodeBatch(bytes, { compression: codec, now: T });
    const builder = new BatchBuilder({ compression: codec, now: T });
    for (const r of text) builder.append(r);
    expect(builder.build().equals(fromBytes)).toBe(true);
    // With the measured body size handed in, as the producer does.
    const measured = new BatchBuilder({ compression: codec, now: T });
    for (const r of text) measured.append(r, measured.recordBodySizeOf(r));
    expect(measured.build().equals(fromBytes)).toBe(true);
    // Unmeasured, each record's size learnt as it is written (bodies under and over 64 bytes).
    const sized = new BatchBuilder({ compression: codec, now: T });
    for (const r of text) {
      const expected = sized.recordSizeInBytes(r);
      expect(sized.appendSized(r)).toBe(expected);
    }
    expect(sized.build().equals(fromBytes)).toBe(true);
  });

  it('appendSized() writes what append() does, headers, bytes and nulls too; undoAppend() takes it back', () => {
    const records: TextRecordInput[] = [
      { key: null, value: null, timestamp: T + 5 },
      { key: Buffer.from([1, 2, 3]), value: 'v'.repeat(63), timestamp: T },
      { key: 'k', value: Buffer.alloc(200, 7), timestamp: T + 9 },
      {
        key: 'with headers',
        value: 'é'.repeat(40),
        headers: [
          { key: 'h1', value: Buffer.from('x') },
          { key: 'ключ', value: null },
        ],
        timestamp: T + 2,
      },
      { key: 'x'.repeat(8000), value: 'y', timestamp: T + 1 },
    ];
    const expected = new BatchBuilder({ now: T });
    const sized = new BatchBuilder({ now: T });
    for (const r of records) {
      const size = expected.recordSizeInBytes(r);
      expected.append(r);
      // Each one appended, taken back, and appended again: the batch is as if appended once.
      const before = sized.sizeInBytes;
      expect(sized.appendSized(r)).toBe(size);
      sized.undoAppend();
      expect(sized.sizeInBytes).toBe(before);
      expect(sized.appendSized(r)).toBe(size);
    }
    expect(sized.build().equals(expected.build())).toBe(true);
    // Taking back the only record leaves an empty batch, timestamps included.
    const one = new BatchBuilder({ now: T });
    one.appendSized({ key: 'a', value: 'b', timestamp: T + 100 });
    one.undoAppend();
    one.appendSized({ key: 'c', value: 'd', timestamp: T });
    const direct = new BatchBuilder({ now: T });
    direct.append({ key: 'c', value: 'd', timestamp: T });
    expect(one.build().equals(direct.build())).toBe(true);
    one.undoAppend();
    expect(() => one.undoAppend()).toThrow(RangeError);
  });
});

function batchOf(base: number, n: number, codec: number = Compression.None): Buffer {
  const records = Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${base + i}`),
    value: Buffer.from(`v${base + i}`),
    timestamp: T + base + i,
  }));
  return encodeBatch(records, { baseOffset: base, compression: codec, now: T });
}

describe('RecordSetReader', () => {
  const set = Buffer.concat([batchOf(0, 5), batchOf(5, 7, Compression.Gzip), batchOf(12, 3)]);

  it('reads records in order, in steps of any size, as decodeBatches does', () => {
    const all = decodeBatches(set).flatMap((b) => b.records);
    for (const step of [1, 2, 4, 5, 100]) {
      const reader = new RecordSetReader(set);
      const read: DecodedRecord[] = [];
      while (!reader.done) {
        const n = reader.read(step, (r) => read.push(r));
        expect(n).toBeLessThanOrEqual(step);
      }
      expect(read.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString()])).toEqual(
        all.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString()]),
      );
    }
  });

  it('checks every batch up front and ignores a partial trailing batch', () => {
    const cut = set.subarray(0, set.length - 10);
    const reader = new RecordSetReader(cut);
    expect(reader.batches.map((b) => b.baseOffset)).toEqual([0, 5]);
    const corrupt = Buffer.from(set);
    corrupt[corrupt.length - 1]! ^= 0xff; // in the last batch's records: its CRC fails
    expect(() => new RecordSetReader(corrupt)).toThrow(CorruptRecordError);
    expect(() => new RecordSetReader(corrupt, 0, corrupt.length, { verifyCrc: false })).not.toThrow();
  });
});
