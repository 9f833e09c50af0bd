import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FileSystem, nodeFileSystem } from '../../../core/env/fs.js';
import { cleanableRange, cleanLog, OffsetMap } from '../../../core/log/cleaner.js';
import { PartitionLog } from '../../../core/log/log.js';
import { LogManager } from '../../../core/log/log-manager.js';
import {
  batchCompression,
  batchHasDeleteHorizon,
  Compression,
  decodeBatches,
  encodeBatch,
} from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { config, FakeClock } from './helpers.js';

const T0 = 1_700_000_000_000;
type KV = [key: string | null, value: string | null];

interface Read {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

function openCompacted(
  overrides: Record<string, string | number> = {},
  fs?: FileSystem,
  dir?: string,
): PartitionLog {
  return PartitionLog.open({
    dir: dir ?? path.join(tempDir('trib-clean-'), 't-0'),
    topic: 't',
    partition: 0,
    config: config({
      'cleanup.policy': 'compact',
      'segment.bytes': 4096,
      'min.cleanable.dirty.ratio': 0.01,
      'delete.retention.ms': 1000,
      ...overrides,
    }),
    ...(fs === undefined ? {} : { fs }),
  });
}

function put(
  log: PartitionLog,
  entries: KV[],
  opts: {
    ts?: number;
    compression?: number;
    producerId?: number;
    producerEpoch?: number;
    baseSequence?: number;
  } = {},
): void {
  const ts = opts.ts ?? T0;
  const records = entries.map(([k, v], i) => ({
    key: k === null ? null : Buffer.from(k),
    value: v === null ? null : Buffer.from(v),
    timestamp: ts + i,
  }));
  log.append(encodeBatch(records, { now: ts, ...opts }));
  log.setHighWatermark(log.logEndOffset);
}

function readKV(log: PartitionLog, from = log.logStartOffset): Read[] {
  const out: Read[] = [];
  const r = log.read(from, 64 * 1024 * 1024);
  for (const buf of r.records) {
    for (const b of decodeBatches(buf)) {
      for (const rec of b.records) {
        if (rec.offset < from) continue;
        out.push({
          offset: rec.offset,
          key: rec.key?.toString() ?? null,
          value: rec.value?.toString() ?? null,
          timestamp: rec.timestamp,
        });
      }
    }
  }
  return out;
}

/** What a consumer of the compacted log must see: each key's last record, in offset order. */
function latestPerKey(records: Read[]): Read[] {
  const last = new Map<string | null, Read>();
  const nullKeyed: Read[] = [];
  for (const r of records) {
    if (r.key === null) nullKeyed.push(r);
    else last.set(r.key, r);
  }
  return [...last.values(), ...nullKeyed].sort((a, b) => a.offset - b.offset);
}

describe('cleanLog', () => {
  it('keeps the latest value of every key at its original offset and leaves the active segment alone', () => {
    const log = openCompacted();
    put(log, [
      ['k1', 'a'],
      ['k2', 'b'],
    ]); // 0, 1
    put(log, [['k1', 'c']]); // 2
    log.roll();
    put(log, [
      ['k3', 'd'],
      ['k2', 'e'],
    ]); // 3, 4
    put(log, [['k4', 'f']]); // 5
    log.roll();
    put(log, [
      ['k1', 'active-1'],
      ['k1', 'active-2'],
    ]); // 6, 7: active segment
    const before = readKV(log);
    const activeBefore = log.segmentInfos().at(-1)!;

    const stats = cleanLog(log, T0 + 10_000);
    expect(stats.cleaned).toBe(true);
    expect(stats.firstDirtyOffset).toBe(0);
    expect(stats.endOffset).toBe(6);
    const after = readKV(log);
    expect(after.map((r) => [r.offset, r.key, r.value])).toEqual([
      [2, 'k1', 'c'], // superseded in the active segment, but the active segment is not in the map
      [3, 'k3', 'd'],
      [4, 'k2', 'e'],
      [5, 'k4', 'f'],
      [6, 'k1', 'active-1'],
      [7, 'k1', 'active-2'],
    ]);
    // timestamps survive, offsets are original; the active segment is the same
    for (const r of after) expect(r.timestamp).toBe(before.find((b) => b.offset === r.offset)!.timestamp);
    expect(log.segmentInfos().at(-1)).toEqual(activeBefore);
    expect(log.logEndOffset).toBe(8);
    // fetching a removed offset returns the next batch
    expect(readKV(log, 1)[0]!.offset).toBe(2);
    // the two closed segments were merged into one (both fit in segment.bytes)
    expect(log.segmentInfos().map((s) => s.baseOffset)).toEqual([0, 6]);
  });

  it('reading from offset 0 gives each key its latest value, in offset order, after many updates', () => {
    const log = openCompacted({ 'segment.bytes': 1024 });
    let n = 0;
    for (let round = 0; round < 30; round++) {
      const entries: KV[] = [];
      for (let i = 0; i < 5; i++) entries.push([`key-${(round * 7 + i * 3) % 11}`, `v${n++}`]);
      put(log, entries, { ts: T0 + round });
    }
    log.roll();
    const expected = latestPerKey(readKV(log));
    const stats = cleanLog(log, T0 + 100_000);
    expect(stats.cleaned).toBe(true);
    expect(stats.recordsRead).toBe(150);
    expect(stats.recordsRetained).toBe(11);
    expect(readKV(log, 0)).toEqual(expected);
    expect(new Set(readKV(log).map((r) => r.key)).size).toBe(11);
    // a second clean has nothing to do, and says why
    const again = cleanLog(log, T0 + 100_000, { firstDirtyOffset: stats.endOffset });
    expect(again.cleaned).toBe(false);
    expect(again.reason).toMatch(/no cleanable segments/);
    // the log reopens to the same content (indexes and recovery agree with the swapped segments)
    log.close();
    const reopened = PartitionLog.open({ dir: log.dir, topic: 't', partition: 0, config: log.config });
    expect(readKV(reopened, 0)).toEqual(expected);
    expect(reopened.recovery.truncatedBytes).toBe(0);
    reopened.close();
  });

  it('removes tombstones only after delete.retention.ms has passed since the first clean (KIP-534)', () => {
    const log = openCompacted({ 'delete.retention.ms': 1000 });
    put(log, [
      ['k1', 'a'],
      ['k2', 'b'],
    ]);
    put(log, [['k1', null]]); // offset 2: tombstone for k1
    log.roll();
    put(log, [['k3', 'active']]);

    const t1 = T0 + 50_000;
    const first = cleanLog(log, t1);
    expect(first.cleaned).toBe(true);
    expect(first.nextDeleteHorizonMs).toBe(t1 + 1000);
    expect(readKV(log).map((r) => [r.offset, r.key, r.value])).toEqual([
      [1, 'k2', 'b'],
      [2, 'k1', null],
      [3, 'k3', 'active'],
    ]);
    // the tombstone's batch carries the horizon; its record timestamp is unchanged
    const seg = log.readSegment(0);
    const batches = decodeBatches(seg);
    const tombstoneBatch = batches.find((b) => b.records.some((r) => r.value === null))!;
    const flags: boolean[] = [];
    for (let pos = 0; pos < seg.length; pos += 12 + seg.readInt32BE(pos + 8))
      flags.push(batchHasDeleteHorizon(seg, pos));
    expect(flags).toEqual(batches.map((b) => b === tombstoneBatch));
    expect(tombstoneBatch.baseTimestamp).toBe(t1 + 1000);
    expect(tombstoneBatch.records[0]!.timestamp).toBe(T0);

    // before the horizon: kept, even by a forced clean
    const early = cleanLog(log, t1 + 999, { force: true, firstDirtyOffset: first.endOffset });
    expect(early.tombstonesRemoved).toBe(0);
    expect(readKV(log).some((r) => r.value === null)).toBe(true);
    // from the horizon on: removed
    const late = cleanLog(log, t1 + 1000, { force: true, firstDirtyOffset: first.endOffset });
    expect(late.tombstonesRemoved).toBe(1);
    expect(late.nextDeleteHorizonMs).toBe(-1);
    expect(readKV(log).map((r) => [r.offset, r.key, r.value])).toEqual([
      [1, 'k2', 'b'],
      [3, 'k3', 'active'],
    ]);
  });

  it.each([
    ['gzip', Compression.Gzip],
    ['snappy', Compression.Snappy],
    ['lz4', Compression.Lz4],
    ['zstd', Compression.Zstd],
  ])('re-compresses %s batches with the same codec', (_name, codec) => {
    const log = openCompacted();
    put(
      log,
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
        ['d', '4'],
      ],
      { compression: codec },
    );
    put(
      log,
      [
        ['b', '5'],
        ['d', '6'],
      ],
      { compression: codec },
    );
    log.roll();
    put(log, [['z', 'active']]);
    cleanLog(log, T0 + 10_000);
    const seg = log.readSegment(0);
    const codecs: number[] = [];
    for (let pos = 0; pos < seg.length; pos += 12 + seg.readInt32BE(pos + 8))
      codecs.push(batchCompression(seg, pos));
    expect(codecs).toEqual([codec, codec]);
    expect(readKV(log).map((r) => [r.offset, r.key, r.value])).toEqual([
      [0, 'a', '1'],
      [2, 'c', '3'],
      [4, 'b', '5'],
      [5, 'd', '6'],
      [6, 'z', 'active'],
    ]);
  });

  it('keeps records without a key and control-free batches intact', () => {
    const log = openCompacted();
    put(log, [
      [null, 'no-key-1'],
      ['k', 'old'],
    ]);
    put(log, [
      ['k', 'new'],
      [null, 'no-key-2'],
    ]);
    log.roll();
    put(log, [['x', 'active']]);
    cleanLog(log, T0 + 10_000);
    expect(readKV(log).map((r) => r.value)).toEqual(['no-key-1', 'new', 'no-key-2', 'active']);
  });

  it("keeps an idempotent producer's last batch as an empty batch so its sequence survives", () => {
    const log = openCompacted();
    put(
      log,
      [
        ['k', 'p0'],
        ['k', 'p1'],
      ],
      { producerId: 42, producerEpoch: 3, baseSequence: 0 },
    ); // 0, 1: the producer's last batch
    put(log, [['k', 'plain']]); // 2 supersedes both
    log.roll();
    put(log, [['z', 'active']]);
    cleanLog(log, T0 + 10_000);
    expect(readKV(log).map((r) => [r.offset, r.value])).toEqual([
      [2, 'plain'],
      [3, 'active'],
    ]);
    const batches = decodeBatches(log.readSegment(0));
    expect(batches[0]).toMatchObject({
      baseOffset: 0,
      lastOffsetDelta: 1,
      recordCount: 0,
      producerId: 42,
      producerEpoch: 3,
      baseSequence: 0,
    });
    // after a restart without producer snapshots, the producer's state is rebuilt from the batch
    // headers, that one included: a retry of the batch is recognised as a duplicate
    log.close();
    for (const f of nodeFs.readdirSync(log.dir))
      if (f.endsWith('.snapshot')) nodeFs.unlinkSync(path.join(log.dir, f));
    const reopened = PartitionLog.open({
      dir: log.dir,
      topic: 't',
      partition: 0,
      config: log.config,
      clock: new FakeClock(T0 + 10_000),
    });
    const retry = encodeBatch(
      [
        { key: Buffer.from('k'), value: Buffer.from('p0'), timestamp: T0 },
        { key: Buffer.from('k'), value: Buffer.from('p1'), timestamp: T0 + 1 },
      ],
      { now: T0, producerId: 42, producerEpoch: 3, baseSequence: 0 },
    );
    expect(reopened.append(retry)).toMatchObject({ duplicate: true, firstOffset: 0, lastOffset: 1 });
    reopened.close();
  });

  it('drops the empty batch of a producer idle longer than producer.id.expiration.ms', () => {
    const log = openCompacted();
    put(log, [['k', 'p0']], { producerId: 42, producerEpoch: 0, baseSequence: 0 });
    put(log, [['k', 'plain']]);
    log.roll();
    put(log, [['z', 'active']]);
    cleanLog(log, T0 + 10_000, { producerIdExpirationMs: 5000 });
    expect(decodeBatches(log.readSegment(0)).map((b) => b.baseOffset)).toEqual([1]);
  });

  it('does not clean below min.cleanable.dirty.ratio, nor records younger than min.compaction.lag.ms', () => {
    const lazy = openCompacted({ 'min.cleanable.dirty.ratio': 0.9 });
    for (let i = 0; i < 4; i++) put(lazy, [[`k${i}`, 'v']]);
    lazy.roll();
    put(lazy, [['k0', 'w']]);
    lazy.roll();
    put(lazy, [['x', 'active']]);
    // the first 4 records were cleaned before (checkpoint 4): 1 dirty segment of 2 closed
    const r = cleanableRange(lazy, T0 + 10_000, { firstDirtyOffset: 4 });
    expect(r.dirtyRatio).toBeGreaterThan(0);
    expect(r.dirtyRatio).toBeLessThan(0.9);
    const stats = cleanLog(lazy, T0 + 10_000, { firstDirtyOffset: 4 });
    expect(stats.cleaned).toBe(false);
    expect(stats.reason).toMatch(/dirty ratio .* <= min.cleanable.dirty.ratio 0.9/);
    expect(readKV(lazy)).toHaveLength(6);

    const young = openCompacted({ 'min.compaction.lag.ms': 60_000 });
    put(young, [['k', 'a']], { ts: T0 });
    young.roll();
    put(young, [['k', 'b']], { ts: T0 + 50_000 });
    young.roll();
    put(young, [['x', 'active']], { ts: T0 + 50_000 });
    // at T0 + 70 s the first segment is old enough, the second is not: only [0, 1) is cleanable
    const range = cleanableRange(young, T0 + 70_000);
    expect(range.firstUncleanableOffset).toBe(1);
    cleanLog(young, T0 + 70_000);
    expect(readKV(young).map((x) => x.value)).toEqual(['a', 'b', 'active']);
    cleanLog(young, T0 + 120_000, { firstDirtyOffset: 1 });
    expect(readKV(young).map((x) => x.value)).toEqual(['b', 'active']);
  });

  it('max.compaction.lag.ms forces a clean below the dirty ratio', () => {
    const log = openCompacted({ 'min.cleanable.dirty.ratio': 0.99, 'max.compaction.lag.ms': 10_000 });
    for (let i = 0; i < 8; i++) put(log, [[`k${i}`, 'v']], { ts: T0 });
    log.roll();
    put(log, [['k0', 'w']], { ts: T0 });
    log.roll();
    put(log, [['x', 'active']], { ts: T0 });
    expect(cleanLog(log, T0 + 5_000, { firstDirtyOffset: 8 }).cleaned).toBe(false);
    const stats = cleanLog(log, T0 + 20_000, { firstDirtyOffset: 8 });
    expect(stats.needCompactionNow).toBe(true);
    expect(stats.cleaned).toBe(true);
    expect(
      readKV(log)
        .filter((r) => r.key === 'k0')
        .map((r) => r.value),
    ).toEqual(['w']);
  });

  it('never cleans at or above the high watermark', () => {
    const log = openCompacted();
    put(log, [['k', 'a']]);
    put(log, [['k', 'b']]);
    log.roll();
    put(log, [['x', 'active']]);
    log.setHighWatermark(1);
    const stats = cleanLog(log, T0 + 10_000);
    expect(stats.firstUncleanableOffset).toBe(1);
    expect(readKV(log).map((r) => r.value)).toEqual(['a', 'b', 'active']);
  });

  it('cleans in several passes when the offset map is smaller than the dirty keys', () => {
    const log = openCompacted({ 'segment.bytes': 64 * 1024 });
    const keys = 6000;
    for (let round = 0; round < 2; round++) {
      for (let start = 0; start < keys; start += 500) {
        const entries: KV[] = [];
        for (let i = start; i < start + 500; i++) entries.push([`key-${i}`, `r${round}-${i}`]);
        put(log, entries);
      }
    }
    log.roll();
    put(log, [['x', 'active']]);
    const map = new OffsetMap(64 * 1024);
    expect(map.maxEntries).toBeLessThan(keys);
    const stats = cleanLog(log, T0 + 10_000, { dedupeBufferBytes: 64 * 1024 });
    expect(stats.passes).toBeGreaterThan(2);
    expect(stats.endOffset).toBe(2 * keys);
    const after = readKV(log);
    expect(after).toHaveLength(keys + 1);
    expect(after.slice(0, keys).every((r) => r.value === `r1-${r.key!.slice(4)}`)).toBe(true);
  });

  it('recovers to a consistent log after a crash at any step of the segment swap', () => {
    const dir0 = tempDir('trib-clean-');
    // Build one log, copy it for every crash point.
    const template = openCompacted({ 'segment.bytes': 300 }, undefined, path.join(dir0, 'template', 't-0'));
    for (let i = 0; i < 12; i++) put(template, [[`k${i % 4}`, `v${i}`]], { ts: T0 + i });
    template.roll();
    put(template, [['x', 'active']]);
    const before = readKV(template);
    const expected = latestPerKey(before);
    template.close();

    let completed = false;
    let crashes = 0;
    let swapsCompleted = 0;
    for (let crashAt = 1; crashAt < 200 && !completed; crashAt++) {
      const dir = path.join(dir0, `crash-${crashAt}`, 't-0');
      nodeFs.cpSync(path.join(dir0, 'template', 't-0'), dir, { recursive: true });
      const fs = crashingFs(crashAt);
      const log = openCompacted({ 'segment.bytes': 300 }, fs.fs, dir);
      fs.arm();
      try {
        cleanLog(log, T0 + 100_000);
        completed = true;
      } catch (err) {
        expect(fs.crashed).toBe(true);
        void err;
      }
      // "restart": a new process opens the directory with the real file system, recovering
      const recovered = PartitionLog.open({ dir, topic: 't', partition: 0, config: log.config });
      crashes += fs.crashed ? 1 : 0;
      swapsCompleted += recovered.recovery.completedSwaps;
      const content = readKV(recovered, 0);
      expect(recovered.logEndOffset).toBe(13);
      // every key's latest value is there, offsets strictly increase, nothing is invented
      expect(latestPerKey(content)).toEqual(expected);
      for (let i = 1; i < content.length; i++)
        expect(content[i]!.offset).toBeGreaterThan(content[i - 1]!.offset);
      for (const r of content) expect(before).toContainEqual(r);
      // and it cleans to the expected result
      cleanLog(recovered, T0 + 100_000);
      expect(readKV(recovered, 0)).toEqual(expected);
      recovered.close();
      const leftovers = nodeFs.readdirSync(dir).filter((f) => /\.(cleaned|swap|deleted|tmp)$/.test(f));
      expect(leftovers).toEqual([]);
    }
    expect(completed).toBe(true);
    expect(crashes).toBeGreaterThan(3);
    expect(swapsCompleted).toBeGreaterThan(0); // some crashes came after the swap file was complete
  });
});

describe('OffsetMap', () => {
  it('keeps the latest offset per key, grows, and refuses new keys when full', () => {
    const map = new OffsetMap(64 * 1024);
    expect(map.get(Buffer.from('missing'))).toBe(-1);
    for (let i = 0; i < map.maxEntries; i++) expect(map.put(Buffer.from(`key-${i}`), i)).toBe(true);
    expect(map.size).toBe(map.maxEntries);
    expect(map.put(Buffer.from('one-more'), 1)).toBe(false);
    expect(map.put(Buffer.from('key-7'), 99_999)).toBe(true); // an update needs no new slot
    expect(map.get(Buffer.from('key-7'))).toBe(99_999);
    expect(map.get(Buffer.from('key-8'))).toBe(8);
    expect(map.get(Buffer.from('one-more'))).toBe(-1);
  });
});

describe('LogManager and the cleaner', () => {
  it('cleans compacted topics incrementally, checkpoints the cleaned point, and drops tombstones when due', async () => {
    const dir = tempDir('trib-clean-');
    const quiet = { info: () => {}, warn: () => {} };
    let now = T0;
    const clock = {
      now: () => now,
      monotonic: () => now,
      setTimeout: () => ({ cancel: () => {} }),
      sleep: () => Promise.resolve(),
    };
    let m = LogManager.open({ dataDir: dir, logger: quiet, clock });
    m.createTopic('kv', {
      configs: {
        'cleanup.policy': 'compact',
        'segment.bytes': '4096',
        'delete.retention.ms': '1000',
        'min.cleanable.dirty.ratio': '0.01',
      },
    });
    m.createTopic('plain');
    const log = m.getLog('kv', 0);
    put(log, [
      ['a', '1'],
      ['b', '2'],
    ]);
    put(log, [
      ['a', '3'],
      ['b', null],
    ]);
    log.roll();
    put(log, [['c', 'active']]);

    const first = m.runCleaner();
    expect(first).toHaveLength(1); // only the compacted topic
    expect(first[0]).toMatchObject({ topic: 'kv', cleaned: true, endOffset: 4 });
    expect(m.cleanerOffset('kv', 0)).toBe(4);
    const file = nodeFs.readFileSync(path.join(dir, 'cleaner-offset-checkpoint'), 'utf8');
    expect(file).toBe('0\n1\nkv 0 4\n');
    expect(readKV(log).map((r) => [r.key, r.value])).toEqual([
      ['a', '3'],
      ['b', null],
      ['c', 'active'],
    ]);
    // nothing dirty: nothing to do
    expect(m.runCleaner()[0]!.cleaned).toBe(false);
    // the tombstone's horizon passes: the manager cleans again to drop it
    now += 1000;
    const third = m.runCleaner();
    expect(third[0]).toMatchObject({ cleaned: true, tombstonesRemoved: 1 });
    expect(readKV(log).map((r) => r.key)).toEqual(['a', 'c']);

    await m.close();
    m = LogManager.open({ dataDir: dir, logger: quiet, clock });
    expect(m.cleanerOffset('kv', 0)).toBe(4);
    await m.close();
  });

  it('compact,delete topics are compacted and also lose old segments to retention', async () => {
    const dir = tempDir('trib-clean-');
    let now = T0;
    const clock = {
      now: () => now,
      monotonic: () => now,
      setTimeout: () => ({ cancel: () => {} }),
      sleep: () => Promise.resolve(),
    };
    const m = LogManager.open({ dataDir: dir, logger: { info: () => {}, warn: () => {} }, clock });
    m.createTopic('both', {
      configs: {
        'cleanup.policy': 'compact,delete',
        'segment.bytes': '150',
        'retention.ms': '60000',
        'min.cleanable.dirty.ratio': '0.01',
      },
    });
    const log = m.getLog('both', 0);
    put(log, [['old', 'x']], { ts: now });
    put(log, [['old', 'y']], { ts: now });
    now += 50_000;
    put(log, [['k', '1']], { ts: now });
    put(log, [['k', '2']], { ts: now });
    put(log, [['z', 'active']], { ts: now });
    expect(log.segmentInfos().length).toBeGreaterThanOrEqual(3);
    const cleaned = m.runCleaner();
    expect(cleaned[0]!.cleaned).toBe(true);
    expect(readKV(log).map((r) => r.value)).toEqual(['y', '2', 'active']);
    now += 10_001;
    expect(m.runRetention()).toBeGreaterThan(0);
    expect(readKV(log).map((r) => r.value)).toEqual(['2', 'active']);
    expect(log.logStartOffset).toBeGreaterThan(1);
    await m.close();
  });
});

/** The real file system, failing every mutation from the n-th on after arm() (a crash mid-swap). */
function crashingFs(n: number): { fs: FileSystem; arm(): void; readonly crashed: boolean } {
  let armed = false;
  let count = 0;
  let crashed = false;
  const step = (what: string): void => {
    if (!armed) return;
    count++;
    if (count >= n) {
      crashed = true;
      throw new Error(`simulated crash before ${what}`);
    }
  };
  const fs: FileSystem = {
    open: (file, opts) => {
      const h = nodeFileSystem.open(file, opts);
      return {
        path: h.path,
        write: (buf, offset, length, position) => {
          step(`write ${file}`);
          return h.write(buf, offset, length, position);
        },
        read: (buf, offset, length, position) => h.read(buf, offset, length, position),
        size: () => h.size(),
        truncate: (length) => {
          step(`truncate ${file}`);
          h.truncate(length);
        },
        sync: () => h.sync(),
        close: () => h.close(),
      };
    },
    exists: (f) => nodeFileSystem.exists(f),
    mkdirp: (d) => nodeFileSystem.mkdirp(d),
    readdir: (d) => nodeFileSystem.readdir(d),
    isDirectory: (f) => nodeFileSystem.isDirectory(f),
    rename: (a, b) => {
      step(`rename ${a}`);
      nodeFileSystem.rename(a, b);
    },
    unlink: (f) => {
      step(`unlink ${f}`);
      nodeFileSystem.unlink(f);
    },
    rmrf: (f) => {
      step(`rmrf ${f}`);
      nodeFileSystem.rmrf(f);
    },
    readFile: (f) => nodeFileSystem.readFile(f),
    writeFileAtomic: (f, data) => {
      step(`write ${f}`);
      nodeFileSystem.writeFileAtomic(f, data);
    },
    syncDir: (d) => nodeFileSystem.syncDir(d),
  };
  return {
    fs,
    arm: () => {
      armed = true;
    },
    get crashed() {
      return crashed;
    },
  };
}
