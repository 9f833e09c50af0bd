import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../../core/log/errors.js';
import {
  batchBaseOffset,
  batchPartitionLeaderEpoch,
  batchSize,
  decodeBatches,
  encodeBatch,
} from '../../../core/records/index.js';
import { batch, batchBases, FakeClock, openLog, readAll, recordsOf, reopen } from './helpers.js';

function expectLogError(fn: () => unknown, code: string, message?: RegExp): LogError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LogError);
    expect((err as LogError).code).toBe(code);
    if (message) expect((err as LogError).message).toMatch(message);
    return err as LogError;
  }
  throw new Error(`expected LogError ${code}`);
}

describe('PartitionLog append and read', () => {
  it('round-trips batches with contiguous offsets', () => {
    const log = openLog();
    const r1 = log.append(batch(3, { tag: 'a' }));
    const r2 = log.append(batch(2, { tag: 'b' }));
    expect(r1).toMatchObject({
      firstOffset: 0,
      lastOffset: 2,
      recordCount: 3,
      batchCount: 1,
      duplicate: false,
    });
    expect(r2).toMatchObject({ firstOffset: 3, lastOffset: 4 });
    expect(log.logEndOffset).toBe(5);
    expect(readAll(log)).toEqual([
      { offset: 0, value: 'a-0' },
      { offset: 1, value: 'a-1' },
      { offset: 2, value: 'a-2' },
      { offset: 3, value: 'b-0' },
      { offset: 4, value: 'b-1' },
    ]);
    log.close();
  });

  it('appends several batches of one buffer with one call and patches offsets and epochs', () => {
    const log = openLog();
    log.append(batch(1));
    const buf = Buffer.concat([batch(2, { tag: 'x' }), batch(3, { tag: 'y' }), batch(1, { tag: 'z' })]);
    const r = log.append(buf, { leaderEpoch: 7 });
    expect(r).toMatchObject({ firstOffset: 1, lastOffset: 6, recordCount: 6, batchCount: 3 });
    const read = log.read(0, 1 << 20);
    expect(batchBases(read.records)).toEqual([0, 1, 3, 6]);
    const bytes = Buffer.concat(read.records);
    let pos = batchSize(bytes, 0);
    expect(batchPartitionLeaderEpoch(bytes, pos)).toBe(7);
    pos += batchSize(bytes, pos);
    expect(batchBaseOffset(bytes, pos)).toBe(3);
    expect(log.latestEpoch).toBe(7);
    expect(log.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 7, startOffset: 1 },
    ]);
    log.close();
  });

  it('returns data in equal to data out, byte for byte after the header patch', () => {
    const log = openLog();
    const b = batch(10, { valueBytes: 500 });
    const copy = Buffer.from(b);
    log.append(b);
    const read = Buffer.concat(log.read(0, 1 << 20).records);
    expect(read.length).toBe(copy.length);
    // everything but baseOffset (0..8) and partitionLeaderEpoch (12..16) is untouched
    expect(read.subarray(16)).toEqual(copy.subarray(16));
    expect(read.subarray(8, 12)).toEqual(copy.subarray(8, 12));
    log.close();
  });

  it('returns the whole batch for a fetch that starts inside it', () => {
    const log = openLog();
    log.append(batch(5, { tag: 'a' }));
    log.append(batch(5, { tag: 'b' }));
    const r = log.read(7, 1 << 20);
    expect(batchBases(r.records)).toEqual([5]);
    expect(recordsOf(r.records).map((x) => x.offset)).toEqual([5, 6, 7, 8, 9]);
    log.close();
  });

  it('honours maxBytes with whole batches, and minOneBatch', () => {
    const log = openLog();
    for (let i = 0; i < 5; i++) log.append(batch(10, { valueBytes: 100 }));
    const size = log.sizeBytes / 5;
    const two = log.read(0, size * 2 + size / 2);
    expect(batchBases(two.records)).toEqual([0, 10]);
    expect(two.sizeBytes).toBe(size * 2);
    expect(log.read(0, size - 1).sizeBytes).toBe(0);
    const one = log.read(0, size - 1, { minOneBatch: true });
    expect(batchBases(one.records)).toEqual([0]);
    expect(log.read(0, 0, { minOneBatch: true }).sizeBytes).toBe(size);
    log.close();
  });

  it('never returns batches at or beyond maxOffset', () => {
    const log = openLog();
    log.append(batch(5));
    log.append(batch(5));
    log.append(batch(5));
    expect(batchBases(log.read(0, 1 << 20, { maxOffset: 10 }).records)).toEqual([0, 5]);
    expect(batchBases(log.read(0, 1 << 20, { maxOffset: 9 }).records)).toEqual([0]);
    expect(log.read(5, 1 << 20, { maxOffset: 5 }).sizeBytes).toBe(0);
    expect(log.read(0, 1 << 20, { maxOffset: 3, minOneBatch: true }).sizeBytes).toBe(0);
    log.setHighWatermark(10);
    expect(log.highWatermark).toBe(10);
    expect(log.read(0, 1).highWatermark).toBe(10);
    log.setHighWatermark(99);
    expect(log.highWatermark).toBe(15);
    log.close();
  });

  it('answers OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset]', () => {
    const log = openLog();
    log.append(batch(5));
    expect(log.read(5, 100).sizeBytes).toBe(0);
    expectLogError(() => log.read(6, 100), 'OFFSET_OUT_OF_RANGE', /\[0, 5\)/);
    log.setHighWatermark(5);
    log.deleteRecordsBefore(3);
    expectLogError(() => log.read(2, 100), 'OFFSET_OUT_OF_RANGE');
    expect(batchBases(log.read(3, 1 << 20).records)).toEqual([0]);
    log.close();
  });

  it('rolls segments by size and reads across them', () => {
    const log = openLog({ 'segment.bytes': 4096 });
    for (let i = 0; i < 50; i++) log.append(batch(4, { tag: `b${i}`, valueBytes: 100 }));
    expect(log.numberOfSegments).toBeGreaterThan(5);
    const infos = log.segmentInfos();
    for (let i = 1; i < infos.length; i++) expect(infos[i]!.baseOffset).toBe(infos[i - 1]!.nextOffset);
    expect(infos.at(-1)!.active).toBe(true);
    for (const info of infos) expect(info.sizeBytes).toBeLessThanOrEqual(4096);
    const all = readAll(log);
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // one read spanning segments returns consecutive batches
    const r = log.read(0, 1 << 20);
    expect(recordsOf(r.records).length).toBe(200);
    for (let o = 0; o < 200; o += 7) {
      const x = log.read(o, 1, { minOneBatch: true });
      const recs = recordsOf(x.records);
      expect(recs[0]!.offset).toBeLessThanOrEqual(o);
      expect(recs.at(-1)!.offset).toBeGreaterThanOrEqual(o);
    }
    log.close();
  });

  it('rolls segments by age (segment.ms) with an injected clock', () => {
    const clock = new FakeClock();
    const log = openLog({ 'segment.ms': 60_000 }, { clock });
    log.append(batch(1));
    clock.advance(30_000);
    log.append(batch(1));
    expect(log.numberOfSegments).toBe(1);
    clock.advance(31_000);
    log.append(batch(1));
    expect(log.numberOfSegments).toBe(2);
    expect(log.segmentInfos()[1]!.baseOffset).toBe(2);
    log.close();
  });

  it('rolls when the offset index is full', () => {
    const log = openLog({ 'segment.index.bytes': 8 * 4, 'index.interval.bytes': 1 });
    for (let i = 0; i < 40; i++) log.append(batch(1));
    expect(log.numberOfSegments).toBeGreaterThan(4);
    expect(readAll(log).length).toBe(40);
    log.close();
  });

  it('stamps LogAppendTime when configured', () => {
    const clock = new FakeClock(1_800_000_000_000);
    const log = openLog({ 'message.timestamp.type': 'LogAppendTime' }, { clock });
    const r = log.append(batch(3, { ts: 1000 }));
    expect(r.logAppendTime).toBe(1_800_000_000_000);
    expect(r.maxTimestamp).toBe(1_800_000_000_000);
    const [b] = decodeBatches(Buffer.concat(log.read(0, 1 << 20).records));
    expect(b!.timestampType).toBe(1);
    expect(b!.records.map((x) => x.timestamp)).toEqual([
      1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_000,
    ]);
    log.close();
  });

  it('makes a batch a client marked LogAppendTime CreateTime on a CreateTime topic, as Kafka does', () => {
    const log = openLog();
    const r = log.append(batch(3, { ts: 5_000, timestampType: 1 }));
    expect(r.maxTimestamp).toBe(5_002);
    // decodeBatches checks the CRC: it was recomputed
    const [b] = decodeBatches(Buffer.concat(log.read(0, 1 << 20).records));
    expect(b!.timestampType).toBe(0);
    expect(b!.maxTimestamp).toBe(5_002);
    expect(b!.records.map((x) => x.timestamp)).toEqual([5_000, 5_001, 5_002]);
    log.close();
  });

  it('keeps offsets on the follower path and refuses going backwards', () => {
    const log = openLog();
    const b = batch(3, { baseOffset: 10, partitionLeaderEpoch: 4 });
    const r = log.append(b, { assignOffsets: false });
    expect(r).toMatchObject({ firstOffset: 10, lastOffset: 12 });
    expect(log.logEndOffset).toBe(13);
    expect(log.latestEpoch).toBe(4);
    expectLogError(
      () => log.append(batch(1, { baseOffset: 12 }), { assignOffsets: false }),
      'INVALID_RECORD',
    );
    log.append(batch(1, { baseOffset: 20, partitionLeaderEpoch: 4 }), { assignOffsets: false });
    expect(log.logEndOffset).toBe(21);
    expect(batchBases(log.read(13, 1 << 20).records)).toEqual([20]);
    log.close();
  });

  it('reopens after close with the same contents and offsets', () => {
    const log = openLog({ 'segment.bytes': 2000 });
    for (let i = 0; i < 30; i++) log.append(batch(3, { tag: `t${i}`, valueBytes: 50 }));
    const before = readAll(log);
    const leo = log.logEndOffset;
    const segs = log.segmentInfos();
    log.close();
    const again = reopen(log);
    expect(again.logEndOffset).toBe(leo);
    const strip = (x: typeof segs) => x.map(({ createdMs: _, ...rest }) => rest);
    expect(strip(again.segmentInfos())).toEqual(strip(segs));
    expect(readAll(again)).toEqual(before);
    expect(again.append(batch(1)).firstOffset).toBe(leo);
    again.close();
  });

  it('finds offsets by timestamp, decoding only the batch that holds it', () => {
    const log = openLog({ 'segment.bytes': 3000, 'index.interval.bytes': 200 });
    for (let i = 0; i < 40; i++) log.append(batch(5, { ts: 10_000 + i * 100, valueBytes: 40 }));
    expect(log.numberOfSegments).toBeGreaterThan(2);
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 10_000 });
    expect(log.offsetForTimestamp(10_000)).toEqual({ offset: 0, timestamp: 10_000 });
    expect(log.offsetForTimestamp(10_003)).toEqual({ offset: 3, timestamp: 10_003 });
    expect(log.offsetForTimestamp(10_005)).toEqual({ offset: 5, timestamp: 10_100 });
    expect(log.offsetForTimestamp(12_502)).toEqual({ offset: 127, timestamp: 12_502 });
    expect(log.offsetForTimestamp(13_904)).toEqual({ offset: 199, timestamp: 13_904 });
    expect(log.offsetForTimestamp(13_905)).toBeNull();
    log.close();
    const again = reopen(log);
    expect(again.offsetForTimestamp(12_502)).toEqual({ offset: 127, timestamp: 12_502 });
    again.close();
  });

  it('truncates to an offset, across segments, and appends again', () => {
    const log = openLog({ 'segment.bytes': 2000 });
    for (let i = 0; i < 30; i++) log.append(batch(2, { valueBytes: 60 }), { leaderEpoch: i < 20 ? 1 : 2 });
    log.setHighWatermark(60);
    const n = log.numberOfSegments;
    log.truncateTo(24);
    expect(log.logEndOffset).toBe(24);
    expect(log.highWatermark).toBe(24);
    expect(log.numberOfSegments).toBeLessThan(n);
    expect(readAll(log).map((r) => r.offset)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(log.latestEpoch).toBe(1);
    // truncating inside a batch removes the whole batch
    log.truncateTo(21);
    expect(log.logEndOffset).toBe(20);
    expect(log.append(batch(1)).firstOffset).toBe(20);
    log.close();
    const again = reopen(log);
    expect(again.logEndOffset).toBe(21);
    expect(readAll(again).length).toBe(21);
    again.close();
  });

  it('truncates fully and starts at a new offset', () => {
    const log = openLog();
    log.append(batch(5));
    log.truncateFullyAndStartAt(100);
    expect(log.logStartOffset).toBe(100);
    expect(log.logEndOffset).toBe(100);
    expect(log.append(batch(2)).firstOffset).toBe(100);
    log.close();
    const again = reopen(log);
    expect(again.logStartOffset).toBe(100);
    expect(again.logEndOffset).toBe(102);
    again.close();
  });

  it('moves the log start with deleteRecordsBefore, persisted, and deletes segments below it', () => {
    const log = openLog({ 'segment.bytes': 1500, 'retention.ms': -1 });
    for (let i = 0; i < 20; i++) log.append(batch(2, { valueBytes: 60 }));
    log.setHighWatermark(30);
    expectLogError(() => log.deleteRecordsBefore(31), 'OFFSET_OUT_OF_RANGE');
    log.deleteRecordsBefore(25);
    expect(log.logStartOffset).toBe(25);
    const n = log.deleteOldSegments(Date.now());
    expect(n).toBeGreaterThan(0);
    expect(log.segmentInfos()[0]!.baseOffset).toBeLessThanOrEqual(25);
    expect(log.logStartOffset).toBe(25);
    log.close();
    const again = reopen(log);
    expect(again.logStartOffset).toBe(25);
    expect(readAll(again)[0]!.offset).toBe(25);
    again.close();
  });

  it('deletes segments by retention.ms and retention.bytes, never the active one nor above the high watermark', () => {
    const clock = new FakeClock(1_000_000);
    const log = openLog({ 'segment.bytes': 700, 'retention.ms': 10_000 }, { clock });
    for (let i = 0; i < 20; i++) log.append(batch(2, { ts: 1_000_000 + i * 1000, valueBytes: 60 }));
    expect(log.numberOfSegments).toBeGreaterThan(5);
    const segs = log.segmentInfos();
    log.setHighWatermark(0);
    expect(log.deleteOldSegments(10_000_000)).toBe(0);
    log.setHighWatermark(log.logEndOffset);
    const now = segs[2]!.largestTimestamp + 10_001;
    expect(log.deleteOldSegments(now)).toBe(3);
    expect(log.logStartOffset).toBe(segs[3]!.baseOffset);
    expect(log.deleteOldSegments(Number.MAX_SAFE_INTEGER)).toBe(segs.length - 4);
    expect(log.numberOfSegments).toBe(1);
    log.close();

    // retention.bytes deletes whole segments while at least retention.bytes remain (Kafka's rule)
    const log2 = openLog({ 'segment.bytes': 700, 'retention.bytes': 2500, 'retention.ms': -1 });
    for (let i = 0; i < 40; i++) log2.append(batch(2, { valueBytes: 60 }));
    log2.setHighWatermark(log2.logEndOffset);
    expect(log2.deleteOldSegments(Date.now())).toBeGreaterThan(0);
    expect(log2.sizeBytes).toBeGreaterThanOrEqual(2500);
    expect(log2.sizeBytes - log2.segmentInfos()[0]!.sizeBytes).toBeLessThan(2500);
    log2.close();
  });

  it('writes index entries at flush: an entry every index.interval.bytes', async () => {
    const log = openLog({ 'index.interval.bytes': 1000 });
    for (let i = 0; i < 20; i++) log.append(batch(5, { valueBytes: 100 }));
    await log.flush();
    const index = fs.statSync(path.join(log.dir, '00000000000000000000.index')).size;
    expect(index).toBeGreaterThan(0);
    expect(index % 8).toBe(0);
    expect(index / 8).toBeLessThanOrEqual(Math.ceil(log.sizeBytes / 1000));
    log.close();
  });

  it('refuses writes after close', () => {
    const log = openLog();
    log.close();
    expectLogError(() => log.append(batch(1)), 'KAFKA_STORAGE_ERROR', /closed/);
  });

  it('handles an empty append as a no-op', () => {
    const log = openLog();
    expect(log.append(Buffer.alloc(0))).toMatchObject({ batchCount: 0, recordCount: 0 });
    expect(log.logEndOffset).toBe(0);
    log.close();
  });

  it('flushes with group commit: concurrent callers share fdatasyncs', async () => {
    const log = openLog();
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      log.append(batch(1));
      waits.push(log.flush());
    }
    await Promise.all(waits);
    expect(log.flushedOffset).toBe(50);
    await log.flush();
    log.close();
  });

  it('flushes by itself after flush.messages', async () => {
    const log = openLog({ 'flush.messages': 10 });
    for (let i = 0; i < 9; i++) log.append(batch(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(log.flushedOffset).toBe(0);
    log.append(batch(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(log.flushedOffset).toBe(10);
    log.close();
  });

  it('stores compressed batches as they came', () => {
    const log = openLog();
    const b = encodeBatch(
      Array.from({ length: 50 }, (_, i) => ({ value: Buffer.from(`value-${i}`), timestamp: 5000 + i })),
      { compression: 1, now: 5000 },
    );
    log.append(b);
    expect(readAll(log).map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => `value-${i}`));
    expect(log.offsetForTimestamp(5010)).toEqual({ offset: 10, timestamp: 5010 });
    log.close();
  });
});
