/** Shared helpers of the log tests: batches, a fake clock, opening logs in temp dirs. */

import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import type { Clock, TimerHandle } from '../../../core/env/clock.js';
import { type FileSystem, nodeFileSystem } from '../../../core/env/fs.js';
import { PartitionLog, type PartitionLogOptions } from '../../../core/log/log.js';
import { DEFAULT_LOG_CONFIG, type LogConfig, parseLogConfig } from '../../../core/log/log-config.js';
import { type BatchOptions, decodeBatches, encodeBatch } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';

export class FakeClock implements Clock {
  constructor(public nowMs = 1_700_000_000_000) {}
  now(): number {
    return this.nowMs;
  }
  monotonic(): number {
    return this.nowMs;
  }
  setTimeout(_fn: () => void, _delayMs: number): TimerHandle {
    return { cancel: () => {} };
  }
  sleep(_delayMs: number): Promise<void> {
    return Promise.resolve();
  }
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export function config(overrides: Record<string, string | number | boolean> = {}): LogConfig {
  return parseLogConfig(overrides, DEFAULT_LOG_CONFIG);
}

/** A batch of n records "<tag>-<i>" (values), timestamps ts + i. */
export function batch(
  n: number,
  opts: BatchOptions & { tag?: string; ts?: number; valueBytes?: number } = {},
): Buffer {
  const tag = opts.tag ?? 'r';
  const ts = opts.ts ?? 1_700_000_000_000;
  const records = [];
  for (let i = 0; i < n; i++) {
    const v = `${tag}-${i}`;
    const value = opts.valueBytes === undefined ? Buffer.from(v) : Buffer.alloc(opts.valueBytes, v);
    records.push({ key: Buffer.from(`k${i}`), value, timestamp: ts + i });
  }
  return encodeBatch(records, { now: ts, ...opts });
}

/** Opens a log in a fresh temp dir (removed after the test). */
export function openLog(
  overrides: Record<string, string | number | boolean> = {},
  opts: Partial<PartitionLogOptions> = {},
): PartitionLog {
  const dir = opts.dir ?? path.join(tempDir('trib-log-'), 'topic-0');
  return PartitionLog.open({ dir, topic: 'topic', partition: 0, config: config(overrides), ...opts });
}

export function reopen(log: PartitionLog, opts: Partial<PartitionLogOptions> = {}): PartitionLog {
  return PartitionLog.open({
    dir: log.dir,
    topic: log.topic,
    partition: log.partition,
    config: log.config,
    ...opts,
  });
}

/** Values (as strings) and offsets of every record in a read result. */
export function recordsOf(bufs: Buffer[]): { offset: number; value: string }[] {
  const out: { offset: number; value: string }[] = [];
  for (const b of bufs) {
    for (const batch of decodeBatches(b)) {
      for (const r of batch.records) out.push({ offset: r.offset, value: r.value?.toString() ?? '<null>' });
    }
  }
  return out;
}

/** Every record of the log from offset `from`. */
export function readAll(log: PartitionLog, from = log.logStartOffset): { offset: number; value: string }[] {
  const out: { offset: number; value: string }[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1024 * 1024, { minOneBatch: true });
    if (r.sizeBytes === 0) break;
    const recs = recordsOf(r.records);
    for (const rec of recs) if (rec.offset >= offset) out.push(rec);
    offset = recs[recs.length - 1]!.offset + 1;
  }
  return out;
}

/** Base offsets of the batches in a read result. */
export function batchBases(bufs: Buffer[]): number[] {
  return bufs.flatMap((b) => decodeBatches(b).map((x) => x.baseOffset));
}

/**
 * The real file system without fsyncs (tests that simulate crashes by damaging files do not
 * need durability, and fsync dominates their run time on a busy disk).
 */
export const noSyncFs: FileSystem = {
  ...bindAll(nodeFileSystem),
  open(file, opts) {
    const fh = nodeFileSystem.open(file, opts);
    return {
      path: fh.path,
      write: (b, o, l, p) => fh.write(b, o, l, p),
      read: (b, o, l, p) => fh.read(b, o, l, p),
      size: () => fh.size(),
      truncate: (n) => fh.truncate(n),
      close: () => fh.close(),
      sync: () => Promise.resolve(),
    };
  },
  writeFileAtomic(file, data) {
    nodeFs.writeFileSync(`${file}.tmp`, data);
    nodeFs.renameSync(`${file}.tmp`, file);
  },
  syncDir() {},
};

function bindAll(fs: FileSystem): FileSystem {
  return {
    open: fs.open.bind(fs),
    exists: fs.exists.bind(fs),
    mkdirp: fs.mkdirp.bind(fs),
    readdir: fs.readdir.bind(fs),
    isDirectory: fs.isDirectory.bind(fs),
    rename: fs.rename.bind(fs),
    unlink: fs.unlink.bind(fs),
    rmrf: fs.rmrf.bind(fs),
    readFile: fs.readFile.bind(fs),
    writeFileAtomic: fs.writeFileAtomic.bind(fs),
    syncDir: fs.syncDir.bind(fs),
  };
}
