/**
 * Log engine benchmark (core/log): append, durable append with group commit, catch-up reads,
 * against baselines measured in the same run on the same disk:
 *
 *   1. the disk: sequential 1 MiB writes into the page cache; with fdatasync after every 1 MiB
 *      and after every 64 KiB;
 *   2. append of 100 B records in pre-encoded batches of 1000, no fsync (goal >= 2,000,000 records/s);
 *   3. durable append of 1 KiB records: concurrent appenders each awaiting flush() (group
 *      commit), as a ratio of the fdatasync-every-1-MiB baseline (goal >= 50%);
 *   4. catch-up reads with maxBytes 1 MiB (goal >= 1 GB/s);
 *   5. append and read rates when the log already holds 100 MB vs a large size (10 GB, 1 GB
 *      with --quick; `largeBytes` to choose).
 *
 *   npm run build && node dist/bench/log.js [--quick] [--dir DIR] [--large-bytes N]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PartitionLog } from '../core/log/log.js';
import { parseLogConfig } from '../core/log/log-config.js';
import { batchLastOffset, batchSize, encodeBatch } from '../core/records/index.js';
import type { BenchResult } from './types.js';

export type { BenchResult } from './types.js';

const MiB = 1024 * 1024;
const MB = 1e6;

export interface LogBenchOptions {
  /** Directory to write in (a fresh subdirectory is created and removed). */
  dir: string;
  quick?: boolean;
  /** Size of the "large log" of figure 5; default 10 GB, 1 GB with quick. */
  largeBytes?: number;
}

function pseudoRandomBytes(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = 97 + ((x >>> 0) % 26);
  }
  return b;
}

/** Pre-encoded batches of `records` records of `valueBytes` each (cycled by the append loops). */
function makeBatches(count: number, records: number, valueBytes: number): Buffer[] {
  const out: Buffer[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const recs = Array.from({ length: records }, (_, j) => ({
      value: pseudoRandomBytes(valueBytes, i * records + j),
      timestamp: now + j,
    }));
    out.push(encodeBatch(recs, { now }));
  }
  return out;
}

function freshDir(root: string, name: string): string {
  const d = path.join(root, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function openLog(dir: string, overrides: Record<string, string | number> = {}): PartitionLog {
  return PartitionLog.open({
    dir: path.join(dir, 'bench-0'),
    topic: 'bench',
    partition: 0,
    config: parseLogConfig({ 'retention.ms': -1, ...overrides }),
  });
}

/** 1. The disk's own rates: sequential writes of `chunk` bytes for up to ms, optionally fdatasync after each. */
function diskRate(dir: string, chunk: number, sync: boolean, maxBytes: number, ms: number): number {
  const file = path.join(dir, 'baseline.dat');
  const buf = pseudoRandomBytes(chunk, 7);
  const fd = fs.openSync(file, 'w');
  try {
    const start = performance.now();
    let written = 0;
    let elapsed = 0;
    while (written < maxBytes && elapsed < ms) {
      fs.writeSync(fd, buf, 0, chunk, written);
      written += chunk;
      if (sync) fs.fdatasyncSync(fd);
      elapsed = performance.now() - start;
    }
    return written / MB / (elapsed / 1000);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

/** 2. Appends without fsync: records/s and MB/s. */
function appendRate(
  log: PartitionLog,
  batches: Buffer[],
  recordsPerBatch: number,
  ms: number,
  maxBytes = Number.POSITIVE_INFINITY,
) {
  let i = 0;
  let bytes = 0;
  let records = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms && bytes < maxBytes) {
    for (let k = 0; k < 8; k++) {
      const b = batches[i++ % batches.length]!;
      log.append(b);
      bytes += b.length;
      records += recordsPerBatch;
    }
    elapsed = performance.now() - start;
  }
  return { recordsPerSec: records / (elapsed / 1000), mbPerSec: bytes / MB / (elapsed / 1000), bytes };
}

/** 3. Durable appends: `appenders` concurrent loops of append + await flush(). */
async function durableRate(log: PartitionLog, appenders: number, batches: Buffer[], ms: number) {
  let bytes = 0;
  let flushes = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  const loop = async (k: number): Promise<void> => {
    let i = k;
    while (performance.now() < end) {
      const b = batches[i % batches.length]!;
      i += appenders;
      log.append(b);
      bytes += b.length;
      await log.flush();
      flushes++;
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, k) => loop(k)));
  const elapsed = performance.now() - start;
  return { mbPerSec: bytes / MB / (elapsed / 1000), flushes };
}

/** 4. Catch-up reads from `from`, 1 MiB at a time: GB/s of batch bytes returned. */
function readRate(
  log: PartitionLog,
  from: number,
  ms: number,
  maxBytes = 1 << 20,
  until = Number.POSITIVE_INFINITY,
): number {
  let offset = from;
  let bytes = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    if (offset >= Math.min(until, log.logEndOffset)) offset = from;
    const r = log.read(offset, maxBytes, { minOneBatch: true });
    offset = nextOffset(r.records);
    bytes += r.sizeBytes;
    elapsed = performance.now() - start;
  }
  return bytes / 1e9 / (elapsed / 1000);
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export async function runLogBench(opts: LogBenchOptions): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const root = fs.mkdtempSync(path.join(opts.dir, 'trib-log-bench-'));
  const results: BenchResult[] = [];
  const timeMs = quick ? 1000 : 3000;
  try {
    // 1. baselines
    const limit = (quick ? 1024 : 4096) * MiB;
    diskRate(root, MiB, false, 64 * MiB, 200); // warm-up
    const disk = {
      pageCache: diskRate(root, MiB, false, limit, timeMs),
      pageCache128K: diskRate(root, 128 * 1024, false, limit, timeMs),
      sync1M: diskRate(root, MiB, true, limit, timeMs),
      sync64K: diskRate(root, 64 * 1024, true, limit, timeMs),
    };
    results.push({
      name: 'disk: sequential 1 MiB writes (page cache)',
      value: round(disk.pageCache),
      unit: 'MB/s',
    });
    results.push({
      name: 'disk: sequential 128 KiB writes (page cache)',
      value: round(disk.pageCache128K),
      unit: 'MB/s',
      note: 'the size of one append below; Linux copies these faster than 1 MiB writes',
    });
    results.push({ name: 'disk: 1 MiB writes + fdatasync each', value: round(disk.sync1M), unit: 'MB/s' });
    results.push({ name: 'disk: 64 KiB writes + fdatasync each', value: round(disk.sync64K), unit: 'MB/s' });

    // 2. append 100 B records, batches of 1000, no fsync
    const small = makeBatches(16, 1000, 100);
    const dir2 = freshDir(root, 'append');
    const log2 = openLog(dir2);
    appendRate(log2, small, 1000, 200); // warm-up
    const a = appendRate(log2, small, 1000, timeMs, (quick ? 1024 : 4096) * MiB);
    results.push({
      name: 'append 100 B records, batches of 1000, no fsync',
      value: round(a.recordsPerSec),
      unit: 'records/s',
      goal: { value: 2_000_000, of: 'value' },
      note: `${round(a.mbPerSec)} MB/s of batch bytes`,
    });
    results.push({
      name: 'append 100 B records, no fsync (bytes)',
      value: round(a.mbPerSec),
      unit: 'MB/s',
      ratio: {
        of: 'disk: sequential 128 KiB writes (page cache)',
        value: round(a.mbPerSec / disk.pageCache128K, 2),
      },
    });

    // 4. catch-up reads of what was just written
    const gbps = readRate(log2, 0, timeMs);
    results.push({
      name: 'catch-up read, maxBytes 1 MiB',
      value: round(gbps, 2),
      unit: 'GB/s',
      goal: { value: 1, of: 'value' },
      note: `${round(log2.sizeBytes / MB)} MB log`,
    });
    await log2.flush();
    log2.close();
    fs.rmSync(dir2, { recursive: true, force: true });

    // 3. durable appends, group commit
    const kb = makeBatches(32, 64, 1024); // 64 KiB batches of 1 KiB records
    for (const appenders of [16, 4]) {
      const dir3 = freshDir(root, `durable-${appenders}`);
      const log3 = openLog(dir3);
      await durableRate(log3, appenders, kb, 200);
      const d = await durableRate(log3, appenders, kb, timeMs);
      results.push({
        name: `durable append 1 KiB records, ${appenders} appenders x 64 KiB batches, group commit`,
        value: round(d.mbPerSec),
        unit: 'MB/s',
        ratio: { of: 'disk: 1 MiB writes + fdatasync each', value: round(d.mbPerSec / disk.sync1M, 2) },
        ...(appenders === 16 ? { goal: { value: 0.5, of: 'ratio' as const } } : {}),
        note: `${d.flushes} flush() calls`,
      });
      log3.close();
      fs.rmSync(dir3, { recursive: true, force: true });
    }

    // 5. small vs large log
    const largeBytes = opts.largeBytes ?? (quick ? 1e9 : 10e9);
    const free = freeBytes(root);
    for (const [label, size] of [
      ['100 MB', 100e6],
      [`${round(largeBytes / 1e9, 1)} GB`, largeBytes],
    ] as const) {
      if (size * 1.2 > free) {
        results.push({
          name: `log holding ${label}`,
          value: 0,
          unit: 'skipped',
          note: `only ${round(free / 1e9, 1)} GB free`,
        });
        continue;
      }
      const dir5 = freshDir(root, 'sized');
      const log5 = openLog(dir5);
      const big = makeBatches(16, 1000, 100);
      let filled = 0;
      let i = 0;
      while (filled < size) {
        const b = big[i++ % big.length]!;
        log5.append(b);
        filled += b.length;
        if (i % 2000 === 0) await log5.flush(); // keep dirty pages bounded while filling
      }
      await log5.flush();
      // Both sizes are measured from the same memory state: a log that just wrote 10 GB has filled
      // the page cache, and every later write then pays for reclaim — the kernel's cost, not the
      // log's. Dropping the (clean, just flushed) cache needs root; without it the note says so.
      const dropped = dropPageCache();
      const ap = appendRate(log5, big, 1000, timeMs / 2);
      // Reads are measured warm: the first pass brings the range into the page cache (a cold pass
      // measures the disk, whatever the log's size), the second measures the log.
      const from = Math.floor(log5.logEndOffset / 2);
      const until = warmRange(log5, from, 48 * MiB); // the same range size for both logs
      readRate(log5, from, timeMs / 4, 1 << 20, until); // warm-up: JIT, and the allocator's pages
      const rd = readRate(log5, from, timeMs / 2, 1 << 20, until);
      results.push({
        name: `append 100 B records, log holding ${label}`,
        value: round(ap.recordsPerSec),
        unit: 'records/s',
        note: dropped ? 'page cache dropped first' : 'page cache not dropped (needs root)',
      });
      results.push({
        name: `catch-up read from the middle, log holding ${label}`,
        value: round(rd, 2),
        unit: 'GB/s',
        note: 'a 48 MiB range read once first (in the page cache), then measured',
      });
      log5.close();
      fs.rmSync(dir5, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return results;
}

/** The offset after what a read returned: the last batch's lastOffset + 1 (what a consumer computes). */
function nextOffset(records: readonly Buffer[]): number {
  const last = records[records.length - 1]!;
  let pos = 0;
  let lastPos = 0;
  while (pos < last.length) {
    lastPos = pos;
    pos += batchSize(last, pos);
  }
  return batchLastOffset(last, lastPos) + 1;
}

/** Reads about `bytes` from `from` once (into the page cache); returns the offset it reached. */
function warmRange(log: PartitionLog, from: number, bytes: number): number {
  let offset = from;
  let read = 0;
  while (read < bytes && offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20, { minOneBatch: true });
    if (r.sizeBytes === 0) break;
    offset = nextOffset(r.records);
    read += r.sizeBytes;
  }
  return offset;
}

/** Drops clean page-cache pages (Linux, root only); false when that is not possible here. */
function dropPageCache(): boolean {
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch {
    return false;
  }
}

function freeBytes(dir: string): number {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const largeArg = argValue('--large-bytes');
  const results = await runLogBench({
    dir: argValue('--dir') ?? os.tmpdir(),
    quick,
    ...(largeArg === undefined ? {} : { largeBytes: Number(largeArg) }),
  });
  for (const r of results) {
    const ratio = r.ratio === undefined ? '' : `  (${Math.round(r.ratio.value * 100)}% of ${r.ratio.of})`;
    const goal =
      r.goal === undefined
        ? ''
        : `  goal ${r.goal.of === 'ratio' ? `${r.goal.value * 100}%` : r.goal.value}: ${
            (r.goal.of === 'ratio' ? (r.ratio?.value ?? 0) : r.value) >= r.goal.value ? 'met' : 'MISSED'
          }`;
    console.log(
      `${r.name.padEnd(80)} ${String(r.value).padStart(12)} ${r.unit}${ratio}${goal}${r.note ? `  [${r.note}]` : ''}`,
    );
  }
}
