import { describe, expect, it } from 'vitest';
import {
  BatchBuilder,
  batchAttributes,
  batchBaseOffset,
  batchBaseSequence,
  batchBaseTimestamp,
  batchCompression,
  batchCrc,
  batchIsControl,
  batchIsTransactional,
  batchLastOffset,
  batchLastOffsetDelta,
  batchLength,
  batchMagic,
  batchMaxTimestamp,
  batchPartitionLeaderEpoch,
  batchProducerEpoch,
  batchProducerId,
  batchRecordCount,
  batchSize,
  batchTimestampType,
  Compression,
  ControlRecordType,
  CorruptRecordError,
  controlRecordKey,
  controlRecordType,
  type DecodedRecord,
  decodeBatch,
  decodeBatches,
  encodeBatch,
  endTxnMarkerCoordinatorEpoch,
  endTxnMarkerValue,
  forEachRecord,
  HEADER_SIZE,
  LOG_OVERHEAD,
  RECORDS_COUNT,
  type RecordInput,
  scanBatches,
  setBatchBaseOffset,
  setBatchMaxTimestampAndLogAppendTime,
  setBatchPartitionLeaderEpoch,
  updateBatchCrc,
  validateBatch,
  validateRecords,
} from '../../../core/records/index.js';
import { mulberry32, randomBytes, sameBytes } from './helpers.js';

const CODECS = [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd];
const T = 1_700_000_000_000;
const b = (s: string): Buffer => Buffer.from(s);

const MIXED: RecordInput[] = [
  { key: b('key-0'), value: b('value-0'), timestamp: T },
  { key: null, value: b('no key'), timestamp: T + 10 },
  { key: b('no value'), value: null, timestamp: T - 5 }, // negative delta
  { value: Buffer.alloc(0), timestamp: T + 3_000_000_000 }, // empty value, delta > 2^31
  {
    key: b('headers'),
    value: b('v'),
    headers: [
      { key: 'h1', value: b('a') },
      { key: 'h1', value: b('b') },
      { key: 'null-value', value: null },
      { key: '', value: Buffer.alloc(0) },
      { key: 'ключ 🎉', value: b('значение') },
    ],
    timestamp: T + 1,
  },
  { key: Buffer.alloc(0), value: randomBytes(mulberry32(3), 70_000), timestamp: T + 2 }, // spans codec blocks
];

function expectRecords(actual: DecodedRecord[], inputs: RecordInput[], baseOffset: number): void {
  expect(actual.length).toBe(inputs.length);
  actual.forEach((rec, i) => {
    const input = inputs[i]!;
    expect(rec.offset).toBe(baseOffset + i);
    expect(rec.timestamp).toBe(input.timestamp);
    expect(sameBytes(rec.key, input.key ?? null)).toBe(true);
    expect(sameBytes(rec.value, input.value)).toBe(true);
    expect(rec.headers.length).toBe(input.headers?.length ?? 0);
    rec.headers.forEach((h, j) => {
      expect(h.key).toBe(input.headers![j]!.key);
      expect(sameBytes(h.value, input.headers![j]!.value)).toBe(true);
    });
  });
}

describe.each(CODECS)('encodeBatch / decodeBatch, codec %i', (codec) => {
  it('round-trips keys, null keys, null values, empty values, headers and timestamps', () => {
    const opts = { compression: codec, baseOffset: 1000, partitionLeaderEpoch: 3 };
    const buf = encodeBatch(MIXED, opts);
    expect(validateBatch(buf)).toBeNull();
    expect(validateRecords(buf)).toBeNull();
    const batch = decodeBatch(buf);
    expect(batch).toMatchObject({
      baseOffset: 1000,
      batchLength: buf.length - LOG_OVERHEAD,
      partitionLeaderEpoch: 3,
      magic: 2,
      compression: codec,
      attributes: codec,
      timestampType: 0,
      isTransactional: false,
      isControl: false,
      lastOffsetDelta: MIXED.length - 1,
      baseTimestamp: T,
      maxTimestamp: T + 3_000_000_000,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      recordCount: MIXED.length,
    });
    expectRecords(batch.records, MIXED, 1000);
  });

  it('round-trips 10,000 records', () => {
    const rand = mulberry32(codec + 100);
    const records: RecordInput[] = Array.from({ length: 10_000 }, (_, i) => ({
      key: i % 7 === 0 ? null : b(`key-${i}`),
      value: randomBytes(rand, Math.floor(rand() * 200)),
      headers: i % 10 === 0 ? [{ key: 'i', value: b(String(i)) }] : [],
      timestamp: T + i,
    }));
    const buf = encodeBatch(records, { compression: codec });
    expect(validateRecords(buf)).toBeNull();
    expectRecords(decodeBatch(buf).records, records, 0);
  });

  it('BatchBuilder produces what encodeBatch produces', () => {
    const builder = new BatchBuilder({ compression: codec, baseOffset: 5 }, 64);
    MIXED.forEach((rec, i) => {
      expect(builder.append(rec)).toBe(i);
    });
    const built = builder.build();
    expect(sameBytes(built, encodeBatch(MIXED, { compression: codec, baseOffset: 5 }))).toBe(true);
    expectRecords(decodeBatch(built).records, MIXED, 5);
  });
});

describe('BatchBuilder.buildAsync (compression on the thread pool)', () => {
  const big = Array.from({ length: 2_000 }, (_, i) => ({
    key: b(`key-${i}`),
    value: b(`value-${i}-`.padEnd(100, String(i % 10))),
    timestamp: T + i,
  }));
  const fill = (codec: Compression) => {
    const builder = new BatchBuilder({ compression: codec, baseOffset: 3 }, 1 << 16);
    for (const r of big) builder.append(r);
    return builder;
  };

  it('lz4: the same bytes as build(), computed off the event loop', async () => {
    const building = fill(Compression.Lz4).buildAsync();
    expect(building).toBeInstanceOf(Promise);
    const built = await building!;
    expect(sameBytes(built, fill(Compression.Lz4).build())).toBe(true);
    expect(validateRecords(built)).toBeNull();
    expectRecords(decodeBatch(built).records, big, 3);
  });

  it('other codecs and none: null (build() compresses on the event loop)', () => {
    for (const codec of [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Zstd]) {
      expect(fill(codec).buildAsync()).toBeNull();
    }
  });
});

describe('header accessors and setters', () => {
  const opts = {
    baseOffset: 2 ** 40 + 7,
    partitionLeaderEpoch: 9,
    compression: Compression.Lz4,
    producerId: 2 ** 45 + 1,
    producerEpoch: 12,
    baseSequence: 77,
    transactional: true,
  };
  const buf = Buffer.concat([Buffer.alloc(5, 0xee), encodeBatch(MIXED.slice(0, 3), opts)]);
  const pos = 5;

  it('read every field in place', () => {
    expect(batchBaseOffset(buf, pos)).toBe(2 ** 40 + 7);
    expect(batchLength(buf, pos)).toBe(buf.length - pos - LOG_OVERHEAD);
    expect(batchSize(buf, pos)).toBe(buf.length - pos);
    expect(batchPartitionLeaderEpoch(buf, pos)).toBe(9);
    expect(batchMagic(buf, pos)).toBe(2);
    expect(batchAttributes(buf, pos)).toBe(Compression.Lz4 | 0x10);
    expect(batchCompression(buf, pos)).toBe(Compression.Lz4);
    expect(batchIsTransactional(buf, pos)).toBe(true);
    expect(batchIsControl(buf, pos)).toBe(false);
    expect(batchTimestampType(buf, pos)).toBe(0);
    expect(batchLastOffsetDelta(buf, pos)).toBe(2);
    expect(batchLastOffset(buf, pos)).toBe(2 ** 40 + 9);
    expect(batchBaseTimestamp(buf, pos)).toBe(T);
    expect(batchMaxTimestamp(buf, pos)).toBe(T + 10);
    expect(batchProducerId(buf, pos)).toBe(2 ** 45 + 1);
    expect(batchProducerEpoch(buf, pos)).toBe(12);
    expect(batchBaseSequence(buf, pos)).toBe(77);
    expect(batchRecordCount(buf, pos)).toBe(3);
    expect(validateBatch(buf, pos)).toBeNull();
    expect(decodeBatch(buf, pos).crc).toBe(batchCrc(buf, pos));
  });

  it('rewrite baseOffset and partitionLeaderEpoch without touching the CRC', () => {
    const copy = Buffer.from(buf);
    const crc = batchCrc(copy, pos);
    setBatchBaseOffset(copy, pos, 123_456_789_012);
    setBatchPartitionLeaderEpoch(copy, pos, 41);
    expect(batchCrc(copy, pos)).toBe(crc);
    expect(validateBatch(copy, pos)).toBeNull();
    const batch = decodeBatch(copy, pos);
    expect(batch.partitionLeaderEpoch).toBe(41);
    expect(batch.records.map((r) => r.offset)).toEqual([123_456_789_012, 123_456_789_013, 123_456_789_014]);
  });

  it('stamp LogAppendTime: attribute bit 3, maxTimestamp, recomputed CRC, record timestamps', () => {
    const copy = Buffer.from(buf);
    setBatchMaxTimestampAndLogAppendTime(copy, pos, T + 999);
    expect(validateBatch(copy, pos)).toBeNull();
    expect(batchTimestampType(copy, pos)).toBe(1);
    expect(batchAttributes(copy, pos)).toBe(Compression.Lz4 | 0x10 | 0x08);
    const batch = decodeBatch(copy, pos);
    expect(batch.maxTimestamp).toBe(T + 999);
    expect(batch.records.map((r) => r.timestamp)).toEqual([T + 999, T + 999, T + 999]);
  });
});

describe('encodeBatch options', () => {
  it('defaults: offset 0, epochs and sequence -1, CreateTime, timestamps from now', () => {
    const buf = encodeBatch([{ value: b('a') }, { value: b('b'), timestamp: T + 5 }], { now: T });
    const batch = decodeBatch(buf);
    expect(batch).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      timestampType: 0,
      baseTimestamp: T,
      maxTimestamp: T + 5,
    });
    expect(batch.records.map((r) => r.timestamp)).toEqual([T, T + 5]);
  });

  it('uses Date.now() when neither record nor options give a timestamp', () => {
    const before = Date.now();
    const ts = decodeBatch(encodeBatch([{ value: null }])).records[0]!.timestamp;
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
  });

  it('sets LogAppendTime, transactional and control attributes', () => {
    const buf = encodeBatch([{ value: b('x'), timestamp: T }], {
      timestampType: 1,
      transactional: true,
      control: true,
    });
    expect(batchAttributes(buf, 0)).toBe(0x08 | 0x10 | 0x20);
  });

  it('encodes an empty batch: no records, timestamps -1', () => {
    const buf = encodeBatch([]);
    expect(buf.length).toBe(HEADER_SIZE);
    expect(validateRecords(buf)).toBeNull();
    expect(decodeBatch(buf)).toMatchObject({
      recordCount: 0,
      lastOffsetDelta: 0,
      baseTimestamp: -1,
      records: [],
    });
  });

  it('rejects unknown codecs', () => {
    expect(() => encodeBatch([{ value: null }], { compression: 6 })).toThrow(RangeError);
    expect(() => new BatchBuilder({ compression: 5 })).toThrow(RangeError);
  });

  it('exposes header keys as strings and key/value bytes as views of the batch', () => {
    const buf = encodeBatch([
      { key: b('k'), value: b('v'), headers: [{ key: 'h', value: b('hv') }], timestamp: T },
    ]);
    const rec = decodeBatch(buf).records[0]!;
    expect(rec.key!.buffer).toBe(buf.buffer);
    expect(rec.value!.buffer).toBe(buf.buffer);
    expect(rec.headers).toEqual([{ key: 'h', value: b('hv') }]);
  });
});

describe('BatchBuilder', () => {
  it('tracks size, room and fullness like Kafka (first record always fits)', () => {
    const builder = new BatchBuilder({ now: T });
    expect(builder.sizeInBytes).toBe(HEADER_SIZE);
    const big: RecordInput = { value: Buffer.alloc(500) };
    expect(builder.hasRoomFor(big, 100)).toBe(true);
    builder.append(big);
    expect(builder.sizeInBytes).toBe(HEADER_SIZE + 509); // varint 507 + 507-byte body
    const small: RecordInput = { value: Buffer.alloc(10) };
    expect(builder.recordSizeInBytes(small)).toBe(17);
    expect(builder.hasRoomFor(small, 586)).toBe(false);
    expect(builder.hasRoomFor(small, 587)).toBe(true);
    expect(builder.isFull(builder.sizeInBytes)).toBe(true);
    expect(builder.isFull(builder.sizeInBytes + 1)).toBe(false);
    const built = builder.build();
    expect(built.length).toBe(builder.sizeInBytes);
    expect(builder.recordCount).toBe(1);
  });

  it('grows past its initial capacity and resets for reuse', () => {
    const builder = new BatchBuilder({ now: T }, 16);
    for (let i = 0; i < 1000; i++) builder.append({ value: b(`value-${i}`) });
    expect(decodeBatch(builder.build()).records.length).toBe(1000);
    builder.reset({ baseOffset: 50, compression: Compression.Zstd, now: T });
    expect(builder.recordCount).toBe(0);
    builder.append({ value: b('again') });
    const batch = decodeBatch(builder.build());
    expect(batch.baseOffset).toBe(50);
    expect(batch.compression).toBe(Compression.Zstd);
    expect(batch.records.map((r) => r.value!.toString())).toEqual(['again']);
  });

  it('build() can be called repeatedly, appending in between', () => {
    const builder = new BatchBuilder({ now: T });
    builder.append({ value: b('1') });
    const one = builder.build();
    builder.append({ value: b('2') });
    expect(decodeBatch(one).records.length).toBe(1);
    expect(decodeBatch(builder.build()).records.length).toBe(2);
  });
});

describe('control batches', () => {
  it('carry a COMMIT or ABORT marker record', () => {
    for (const type of [ControlRecordType.Commit, ControlRecordType.Abort]) {
      const buf = encodeBatch([{ key: controlRecordKey(type), value: endTxnMarkerValue(17), timestamp: T }], {
        control: true,
        transactional: true,
        producerId: 4000,
        producerEpoch: 2,
      });
      const batch = decodeBatch(buf);
      expect(batch.isControl).toBe(true);
      expect(batch.isTransactional).toBe(true);
      const rec = batch.records[0]!;
      expect(rec.key).toEqual(Buffer.from([0, 0, 0, type]));
      expect(controlRecordType(rec.key)).toBe(type);
      expect(endTxnMarkerCoordinatorEpoch(rec.value)).toBe(17);
    }
    expect(controlRecordType(null)).toBe(-1);
    expect(controlRecordType(Buffer.from([0, 0]))).toBe(-1);
  });
});

describe('forEachRecord and decodeBatches', () => {
  it('forEachRecord sees what decodeBatch returns', () => {
    const buf = encodeBatch(MIXED, { compression: Compression.Snappy, baseOffset: 9 });
    const seen: DecodedRecord[] = [];
    const header = forEachRecord(buf, 0, (rec) => seen.push(rec));
    expect(header.recordCount).toBe(MIXED.length);
    expect(seen).toEqual(decodeBatch(buf).records);
  });

  it('decodes a concatenation and ignores a partial trailing batch', () => {
    const batches = CODECS.map((codec, i) =>
      encodeBatch(MIXED.slice(0, 3), { compression: codec, baseOffset: i * 3 }),
    );
    const all = Buffer.concat(batches);
    const decoded = decodeBatches(all);
    expect(decoded.map((d) => d.baseOffset)).toEqual([0, 3, 6, 9, 12]);
    expect(decoded.flatMap((d) => d.records.map((r) => r.offset))).toEqual(
      Array.from({ length: 15 }, (_, i) => i),
    );
    expect(decodeBatches(all.subarray(0, all.length - 10)).length).toBe(4);
    expect(decodeBatches(all, batches[0]!.length, all.length - 10).length).toBe(3);
  });

  it('decodeBatches throws on a corrupt batch in the middle', () => {
    const all = Buffer.concat([
      encodeBatch(MIXED.slice(0, 2)),
      encodeBatch(MIXED.slice(0, 2)),
      encodeBatch([]),
    ]);
    all[HEADER_SIZE + 70] ^= 1;
    expect(() => decodeBatches(all)).toThrow(CorruptRecordError);
  });

  it('verifyCrc: false decodes a batch whose CRC is wrong', () => {
    const buf = encodeBatch(MIXED.slice(0, 2));
    buf.writeUInt32BE(0, 17);
    expect(() => decodeBatch(buf)).toThrow(/CRC mismatch/);
    expect(decodeBatch(buf, 0, { verifyCrc: false }).records.length).toBe(2);
  });
});

describe('validateRecords', () => {
  /** Rewrites the record count of an uncompressed batch and fixes its CRC. */
  function withCount(buf: Buffer, count: number): Buffer {
    const copy = Buffer.from(buf);
    copy.writeInt32BE(count, RECORDS_COUNT);
    updateBatchCrc(copy, 0);
    return copy;
  }

  it('finds record counts that do not match the records', () => {
    const buf = encodeBatch(MIXED.slice(0, 3));
    const fewer = withCount(buf, 2);
    expect(validateBatch(fewer)).toBeNull(); // the hot path does not look at records
    expect(validateRecords(fewer)).toMatchObject({ code: 'INVALID_RECORD' });
    expect(validateRecords(fewer)!.message).toMatch(/bytes after its 2 records/);
    expect(validateRecords(withCount(encodeBatch(MIXED.slice(0, 2)), 2))).toBeNull();
  });

  it('finds offset deltas that do not increase', () => {
    const buf = encodeBatch([
      { value: b('a'), timestamp: T },
      { value: b('b'), timestamp: T },
    ]);
    // Second record's offsetDelta (varint 1 = 0x02) lies at a known place: rewrite it to 0.
    const second = HEADER_SIZE + 1 + buf[HEADER_SIZE]! / 2;
    expect(buf[second + 3]).toBe(0x02);
    buf[second + 3] = 0x00;
    updateBatchCrc(buf, 0);
    expect(validateRecords(buf)).toMatchObject({ code: 'INVALID_RECORD' });
    expect(validateRecords(buf)!.message).toMatch(/offset delta 0 follows 0/);
  });

  it('reports what is wrong inside compressed records', () => {
    const buf = encodeBatch(MIXED.slice(0, 3), { compression: Compression.Gzip });
    buf[HEADER_SIZE + 12] ^= 0x55;
    updateBatchCrc(buf, 0);
    expect(validateBatch(buf)).toBeNull();
    expect(validateRecords(buf)?.code).toBe('CORRUPT_MESSAGE');
  });
});

describe('scanBatches', () => {
  const batches = [0, 1, 2].map((i) => encodeBatch(MIXED.slice(0, 2), { baseOffset: i * 2 }));
  const all = Buffer.concat(batches);
  const size = batches[0]!.length;

  it('visits every batch and consumes the range', () => {
    const seen: [number, number][] = [];
    const result = scanBatches(all, 0, all.length, (pos, n) => {
      seen.push([pos, n]);
      return true;
    });
    expect(seen).toEqual([
      [0, size],
      [size, size],
      [2 * size, size],
    ]);
    expect(result).toEqual({ batches: 3, end: all.length, error: null });
  });

  it('stops at a partial trailing batch and says where the good bytes end', () => {
    const result = scanBatches(all, 0, all.length - 1);
    expect(result.batches).toBe(2);
    expect(result.end).toBe(2 * size);
    expect(result.error?.code).toBe('TRUNCATED');
  });

  it('stops at the first corrupt batch', () => {
    const bad = Buffer.from(all);
    bad[size + HEADER_SIZE + 3] ^= 0x10;
    const result = scanBatches(bad);
    expect(result).toMatchObject({ batches: 1, end: size, error: { code: 'CORRUPT_MESSAGE' } });
    expect(scanBatches(bad, 0, bad.length, undefined, false).batches).toBe(3);
  });

  it('stops when the callback says so', () => {
    expect(scanBatches(all, 0, all.length, () => false)).toEqual({ batches: 1, end: size, error: null });
  });
});
