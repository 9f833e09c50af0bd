import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../../core/env/fs.js';
import { OffsetIndex } from '../../../core/log/offset-index.js';
import { TimeIndex } from '../../../core/log/time-index.js';
import { tempDir } from '../../helpers/tmp.js';
import { batch, openLog, readAll, reopen } from './helpers.js';

describe('OffsetIndex', () => {
  it('looks up the greatest entry <= target and writes through', () => {
    const file = path.join(tempDir(), 'x.index');
    const fh = nodeFileSystem.open(file, { create: true });
    const idx = new OffsetIndex(100, 1024, fh);
    expect(idx.lookup(150)).toEqual({ offset: 100, position: 0 });
    idx.append(110, 4000);
    idx.append(130, 9000);
    idx.append(131, 9500);
    idx.writePending();
    expect(fs.statSync(file).size).toBe(24);
    expect(idx.lookup(109)).toEqual({ offset: 100, position: 0 });
    expect(idx.lookup(110)).toEqual({ offset: 110, position: 4000 });
    expect(idx.lookup(129)).toEqual({ offset: 110, position: 4000 });
    expect(idx.lookup(1000)).toEqual({ offset: 131, position: 9500 });
    expect(() => idx.append(131, 9999)).toThrow();
    idx.truncateToOffset(130);
    expect(idx.entries).toBe(1);
    expect(fs.statSync(file).size).toBe(8);
    idx.append(120, 5000);
    idx.truncateToPosition(5000);
    expect(idx.entries).toBe(1);
    idx.close();
    const again = OffsetIndex.load(nodeFileSystem.open(file), 100, 1024, 10_000);
    expect(again.index?.lookup(200)).toEqual({ offset: 110, position: 4000 });
    again.index?.close();
  });

  it('answers lookups from entries not yet in the file; the file is always a prefix', () => {
    const file = path.join(tempDir(), 'p.index');
    const idx = new OffsetIndex(0, 1024, nodeFileSystem.open(file, { create: true }));
    idx.append(10, 100);
    idx.append(20, 200);
    expect(idx.pendingEntries).toBe(2);
    expect(fs.statSync(file).size).toBe(0);
    expect(idx.lookup(25)).toEqual({ offset: 20, position: 200 });
    idx.writePending();
    idx.append(30, 300);
    idx.append(40, 400);
    expect(idx.lookup(35)).toEqual({ offset: 30, position: 300 });
    expect(fs.statSync(file).size).toBe(16);
    // cutting pending entries leaves the file alone, cutting written ones shortens it
    idx.truncateToOffset(40);
    expect(fs.statSync(file).size).toBe(16);
    idx.truncateToOffset(20);
    expect(fs.statSync(file).size).toBe(8);
    expect(idx.pendingEntries).toBe(0);
    idx.append(25, 250);
    idx.writePending();
    expect([...fs.readFileSync(file)]).toEqual([0, 0, 0, 10, 0, 0, 0, 100, 0, 0, 0, 25, 0, 0, 0, 250]);
    idx.close();

    const tfile = path.join(tempDir(), 'p.timeindex');
    const ti = new TimeIndex(0, 1200, nodeFileSystem.open(tfile, { create: true }));
    ti.maybeAppend(1000, 10);
    ti.maybeAppend(2000, 20);
    expect(fs.statSync(tfile).size).toBe(0);
    expect(ti.lookup(1500)).toEqual({ timestamp: 1000, offset: 10 });
    ti.writePending();
    expect(fs.statSync(tfile).size).toBe(24);
    ti.close();
  });

  it('reports corruption: odd size, non-monotonic entries, positions beyond the log', () => {
    const dir = tempDir();
    const write = (name: string, bytes: number[]): string => {
      const f = path.join(dir, name);
      const b = Buffer.alloc(bytes.length * 4);
      for (const [i, v] of bytes.entries()) b.writeInt32BE(v, i * 4);
      fs.writeFileSync(f, bytes.length === 3 ? b.subarray(0, 11) : b);
      return f;
    };
    const load = (f: string, logSize = 100_000) => {
      const fh = nodeFileSystem.open(f);
      const r = OffsetIndex.load(fh, 0, 1 << 20, logSize);
      fh.close();
      return r.problem;
    };
    expect(load(write('a', [1, 100, 2]))).toMatch(/multiple of 8/);
    expect(load(write('b', [5, 100, 4, 200]))).toMatch(/does not follow/);
    expect(load(write('c', [0, 0, 0, 0]))).toMatch(/does not follow/);
    expect(load(write('d', [5, 100, 6, 200]), 150)).toMatch(/beyond the log/);
    expect(load(write('e', [5, 100, 6, 200]))).toBeNull();
  });
});

describe('TimeIndex', () => {
  it('appends only growing timestamps and looks up the greatest entry <= ts', () => {
    const fh = nodeFileSystem.open(path.join(tempDir(), 'x.timeindex'), { create: true });
    const idx = new TimeIndex(0, 12 * 10, fh);
    expect(idx.lookup(5)).toEqual({ timestamp: -1, offset: 0 });
    idx.maybeAppend(1000, 5);
    idx.maybeAppend(900, 6);
    idx.maybeAppend(1000, 7);
    idx.maybeAppend(2000, 9);
    idx.writePending();
    expect(idx.entries).toBe(2);
    expect(idx.lookup(999)).toEqual({ timestamp: -1, offset: 0 });
    expect(idx.lookup(1500)).toEqual({ timestamp: 1000, offset: 5 });
    expect(idx.lookup(5000)).toEqual({ timestamp: 2000, offset: 9 });
    idx.truncateToOffset(9);
    expect(idx.lastEntry()).toEqual({ timestamp: 1000, offset: 5 });
    idx.close();
  });
});

describe('index corruption in a log', () => {
  it('rebuilds missing and corrupt indexes of closed and active segments', () => {
    const log = openLog({ 'segment.bytes': 3000, 'index.interval.bytes': 100 });
    for (let i = 0; i < 60; i++) log.append(batch(3, { valueBytes: 40, ts: 5000 + i * 10 }));
    const before = readAll(log);
    const ts = log.offsetForTimestamp(5301);
    log.close();
    const names = fs.readdirSync(log.dir).filter((n) => n.endsWith('index'));
    names.forEach((n, i) => {
      const f = path.join(log.dir, n);
      if (i % 3 === 0) fs.unlinkSync(f);
      else if (i % 3 === 1) fs.writeFileSync(f, Buffer.alloc(fs.statSync(f).size + 5, 0xff));
      else fs.writeFileSync(f, Buffer.alloc(fs.statSync(f).size));
    });
    // clean-shutdown recovery point: nothing is validated, indexes are checked lazily
    const again = reopen(log, { recoveryPoint: Number.MAX_SAFE_INTEGER });
    expect(readAll(again)).toEqual(before);
    expect(again.offsetForTimestamp(5301)).toEqual(ts);
    for (let o = 0; o < 180; o += 13)
      expect(again.read(o, 1, { minOneBatch: true }).sizeBytes).toBeGreaterThan(0);
    again.close();
    for (const n of names) {
      const size = fs.statSync(path.join(log.dir, n)).size;
      expect(size % (n.endsWith('.timeindex') ? 12 : 8)).toBe(0);
    }
  });
});
