/**
 * Index entries are kept in memory and written at flush, roll, close and when
 * PENDING_WRITE_ENTRIES are pending (sparse-index.ts): lookups see the pending ones, the files
 * get them at those moments, and after a crash that lost them (a real kill -9 of a child that
 * appended without flushing, or index files cut short by hand) opening the log completes the
 * index files from the log: they end up byte-for-byte what indexing the log from scratch gives.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { indexFileName, timeIndexFileName } from '../../../core/log/files.js';
import type { PartitionLog } from '../../../core/log/log.js';
import type { LogSegment } from '../../../core/log/segment.js';
import { PENDING_WRITE_ENTRIES } from '../../../core/log/sparse-index.js';
import {
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchSize,
  decodeBatches,
  readInt64,
} from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { batch, openLog, reopen } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIST = path.join(ROOT, 'dist/core');

type Entries = { oi: [number, number][]; ti: [number, number][] };

/** What indexing a whole .log with index.interval.bytes gives (segment.ts indexBatch's rule). */
function expectedEntries(log: Buffer, baseOffset: number, interval: number, final: boolean): Entries {
  const oi: [number, number][] = [];
  const ti: [number, number][] = [];
  let bytes = 0;
  let maxTs = -1;
  let offMax = -1;
  for (let pos = 0; pos < log.length; pos += batchSize(log, pos)) {
    const last = batchLastOffset(log, pos);
    const ts = batchMaxTimestamp(log, pos);
    if (ts > maxTs) {
      maxTs = ts;
      offMax = last;
    }
    if (bytes > interval && pos > 0) {
      oi.push([last - baseOffset, pos]);
      if (ti.length === 0 || maxTs > ti[ti.length - 1]![0]) ti.push([maxTs, offMax - baseOffset]);
      bytes = 0;
    }
    bytes += batchSize(log, pos);
  }
  if (final && maxTs >= 0 && (ti.length === 0 || maxTs > ti[ti.length - 1]![0])) {
    ti.push([maxTs, offMax - baseOffset]);
  }
  return { oi, ti };
}

function fileEntries(dir: string, baseOffset: number): Entries {
  const o = fs.readFileSync(path.join(dir, indexFileName(baseOffset)));
  const t = fs.readFileSync(path.join(dir, timeIndexFileName(baseOffset)));
  const oi: [number, number][] = [];
  const ti: [number, number][] = [];
  for (let i = 0; i + 8 <= o.length; i += 8) oi.push([o.readInt32BE(i), o.readInt32BE(i + 4)]);
  for (let i = 0; i + 12 <= t.length; i += 12) ti.push([readInt64(t, i), t.readInt32BE(i + 8)]);
  return { oi, ti };
}

function logBytes(dir: string, baseOffset: number): Buffer {
  return fs.readFileSync(path.join(dir, `${String(baseOffset).padStart(20, '0')}.log`));
}

function segmentsOf(log: PartitionLog): LogSegment[] {
  return (log as unknown as { segments: LogSegment[] }).segments;
}

/** Base offsets and max timestamps of the batches of a .log. */
function batchesOf(log: Buffer): { base: number; maxTs: number }[] {
  const out: { base: number; maxTs: number }[] = [];
  for (let pos = 0; pos < log.length; pos += batchSize(log, pos)) {
    out.push({ base: batchBaseOffset(log, pos), maxTs: batchMaxTimestamp(log, pos) });
  }
  return out;
}

/** Every batch reads back from its base offset, and a timestamp search finds its first record. */
function expectLookups(log: PartitionLog, batches: { base: number; maxTs: number }[]): void {
  for (const b of batches) {
    const r = log.read(b.base, 1, { minOneBatch: true });
    expect(batchBaseOffset(r.records[0]!, 0)).toBe(b.base);
  }
  // timestamps increase with offsets here (ts + i per record, ts increasing per batch)
  for (const b of batches) {
    const first = decodeBatches(log.read(b.base, 1, { minOneBatch: true }).records[0]!)[0]!.records[0]!;
    expect(log.offsetForTimestamp(first.timestamp)).toEqual({ offset: b.base, timestamp: first.timestamp });
  }
}

const TS0 = 1_700_000_000_000;
const appendN = (log: PartitionLog, n: number, from = 0): void => {
  for (let i = from; i < from + n; i++)
    log.append(batch(3, { tag: `b${i}`, ts: TS0 + i * 10, valueBytes: 40 }));
};

describe('pending index entries', () => {
  it('are seen by offset and time lookups before they are in the files', () => {
    const log = openLog({ 'index.interval.bytes': 100 });
    appendN(log, 40);
    const seg = segmentsOf(log)[0]!;
    const pending = seg.pendingIndexEntries;
    expect(pending.offsetIndex).toBeGreaterThan(5);
    expect(pending.timeIndex).toBeGreaterThan(5);
    expect(fs.statSync(path.join(log.dir, indexFileName(0))).size).toBe(0);
    expect(fs.statSync(path.join(log.dir, timeIndexFileName(0))).size).toBe(0);
    const batches = batchesOf(logBytes(log.dir, 0));
    // Break the first batch's header in the file: a lookup that did not use the in-memory
    // entries would walk from byte 0 and fail (read) or find nothing (timestamp search).
    const fd = fs.openSync(path.join(log.dir, '00000000000000000000.log'), 'r+');
    fs.writeSync(fd, Buffer.from([0x7f, 0xff, 0xff, 0xff]), 0, 4, 8);
    fs.closeSync(fd);
    expectLookups(log, batches.slice(10));
    expect(() => log.read(0, 1, { minOneBatch: true })).toThrow(/bad batch length/);
    log.close();
  });

  it('are written at flush, and the files then hold exactly the entries', async () => {
    const log = openLog({ 'index.interval.bytes': 100 });
    appendN(log, 40);
    await log.flush();
    expect(segmentsOf(log)[0]!.pendingIndexEntries).toEqual({ offsetIndex: 0, timeIndex: 0 });
    const want = expectedEntries(logBytes(log.dir, 0), 0, 100, false);
    expect(want.oi.length).toBeGreaterThan(5);
    expect(fileEntries(log.dir, 0)).toEqual(want);
    appendN(log, 10, 40);
    expect(fileEntries(log.dir, 0)).toEqual(want);
    log.close();
    // close writes them too (with the time index's final entry)
    expect(fileEntries(log.dir, 0)).toEqual(expectedEntries(logBytes(log.dir, 0), 0, 100, true));
  });

  it('are written by a roll: the finished segment has all of them, without a flush', () => {
    const log = openLog({ 'index.interval.bytes': 100 });
    appendN(log, 40);
    expect(fs.statSync(path.join(log.dir, indexFileName(0))).size).toBe(0);
    log.roll();
    const want = expectedEntries(logBytes(log.dir, 0), 0, 100, true);
    expect(want.oi.length).toBeGreaterThan(5);
    expect(fileEntries(log.dir, 0)).toEqual(want);
    appendN(log, 40, 40);
    const active = segmentsOf(log)[1]!;
    expect(active.pendingIndexEntries.offsetIndex).toBeGreaterThan(5);
    expect(fs.statSync(path.join(log.dir, indexFileName(active.baseOffset))).size).toBe(0);
    log.close();
  });

  it('are written once PENDING_WRITE_ENTRIES are pending', () => {
    const log = openLog({ 'index.interval.bytes': 0, 'segment.index.bytes': 1 << 20 });
    appendN(log, PENDING_WRITE_ENTRIES + 50);
    const seg = segmentsOf(log)[0]!;
    const written = fs.statSync(path.join(log.dir, indexFileName(0))).size / 8;
    expect(written).toBeGreaterThanOrEqual(PENDING_WRITE_ENTRIES);
    expect(written + seg.pendingIndexEntries.offsetIndex).toBe(seg.offsetIndexEntries);
    expect(seg.pendingIndexEntries.offsetIndex).toBeLessThan(PENDING_WRITE_ENTRIES);
    log.close();
  });

  it('lost from the files of a closed segment are completed from the log when it is loaded', () => {
    for (const cut of ['offset index only', 'both']) {
      const log = openLog({ 'index.interval.bytes': 100 });
      appendN(log, 40);
      log.roll();
      appendN(log, 5, 40);
      const dir = log.dir;
      const end = log.logEndOffset;
      log.close();
      const want = expectedEntries(logBytes(dir, 0), 0, 100, true);
      // a crash before the entries were written: the files are a prefix (the time index
      // possibly ahead of the offset index, it is written first)
      const keep = 2;
      fs.truncateSync(path.join(dir, indexFileName(0)), keep * 8);
      if (cut === 'both') {
        const lastKept = want.oi[keep - 1]![0];
        const ti = want.ti.filter(([, rel]) => rel <= lastKept).length;
        fs.truncateSync(path.join(dir, timeIndexFileName(0)), ti * 12);
      }
      expect(fileEntries(dir, 0)).not.toEqual(want);
      const again = reopen(log, { recoveryPoint: end });
      expect(segmentsOf(again)[0]!.isLoaded, cut).toBe(false);
      expectLookups(again, batchesOf(logBytes(dir, 0)));
      expect(fileEntries(dir, 0), cut).toEqual(want);
      again.close();
    }
  });

  it('lost in a kill -9 are rebuilt by recovery: the files match the log', async () => {
    const tmp = tempDir('trib-pending-index-');
    const dir = path.join(tmp, 't-0');
    const script = path.join(tmp, 'child.mjs');
    fs.writeFileSync(
      script,
      `
import { PartitionLog } from ${JSON.stringify(path.join(DIST, 'log/log.js'))};
import { parseLogConfig } from ${JSON.stringify(path.join(DIST, 'log/log-config.js'))};
import { encodeBatch } from ${JSON.stringify(path.join(DIST, 'records/index.js'))};
const log = PartitionLog.open({ dir: process.argv[2], topic: 't', partition: 0,
  config: parseLogConfig({ 'index.interval.bytes': 150 }) });
const append = (i) => {
  const records = [0, 1, 2].map((j) => ({ key: Buffer.from('k' + j), value: Buffer.alloc(40, 'b' + i), timestamp: ${TS0} + i * 10 + j }));
  log.append(encodeBatch(records, { now: ${TS0} }));
};
for (let i = 0; i < 100; i++) append(i);
await log.flush();
process.stdout.write('flushed ' + log.flushedOffset + '\\n');
for (let i = 100; i < 200; i++) append(i);
process.stdout.write('done\\n');
setInterval(() => {}, 1000);
`,
    );
    const flushed = await new Promise<number>((resolve, reject) => {
      const child: ChildProcess = spawn(process.execPath, [script, dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let flushedOffset = -1;
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /flushed (\d+)/.exec(out);
        if (m) flushedOffset = Number(m[1]);
        if (out.includes('done\n')) child.kill('SIGKILL');
      });
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve(flushedOffset);
        else reject(new Error(`child exited with ${code}: ${err}`));
      });
    });
    expect(flushed).toBe(300);
    const log = logBytes(dir, 0);
    expect(batchesOf(log).length).toBe(200); // the page cache kept every appended byte
    const want = expectedEntries(log, 0, 150, false);
    const before = fileEntries(dir, 0);
    // the crash lost the entries appended after the flush; the flushed ones are in the files
    expect(before.oi.length).toBeLessThan(want.oi.length);
    expect(before.oi).toEqual(want.oi.slice(0, before.oi.length));
    expect(before.oi.length).toBeGreaterThan(0);

    // Opened from the flushed offset (the checkpoint), without a recovery point (everything
    // validated), and from the flushed offset with index files that also lost entries below it
    // (a power loss: index files of the active segment are not fsynced).
    const cases = [
      { recoveryPoint: flushed, cutTo: -1 },
      { recoveryPoint: undefined, cutTo: -1 },
      { recoveryPoint: flushed, cutTo: 1 },
    ];
    for (const [i, { recoveryPoint, cutTo }] of cases.entries()) {
      const copy = path.join(tmp, `copy-${i}`, 't-0');
      fs.cpSync(dir, copy, { recursive: true });
      if (cutTo >= 0) {
        fs.truncateSync(path.join(copy, indexFileName(0)), cutTo * 8);
        const ti = want.ti.filter(([, rel]) => rel <= want.oi[cutTo - 1]![0]).length;
        fs.truncateSync(path.join(copy, timeIndexFileName(0)), ti * 12);
      }
      const reopened = openLog({ 'index.interval.bytes': 150 }, { dir: copy, recoveryPoint });
      expect(reopened.logEndOffset).toBe(600);
      expect(fileEntries(copy, 0), `case ${i}`).toEqual(want);
      expectLookups(reopened, batchesOf(log));
      reopened.close();
    }
  }, 60_000);
});
