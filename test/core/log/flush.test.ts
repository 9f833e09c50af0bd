import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FileHandle, type FileSystem, nodeFileSystem } from '../../../core/env/fs.js';
import { LogError } from '../../../core/log/errors.js';
import { PartitionLog } from '../../../core/log/log.js';
import { tempDir } from '../../helpers/tmp.js';
import { batch, config, readAll } from './helpers.js';

/** The real file system with slow, counted (and optionally failing) fdatasyncs of .log files. */
class SlowSyncFs implements FileSystem {
  syncs = 0;
  fail = false;
  constructor(private readonly delayMs: number) {}
  open(file: string, opts?: { create?: boolean; readOnly?: boolean }): FileHandle {
    const fh = nodeFileSystem.open(file, opts);
    if (!file.endsWith('.log')) return fh;
    const outer = this;
    return {
      path: fh.path,
      write: (b, o, l, p) => fh.write(b, o, l, p),
      read: (b, o, l, p) => fh.read(b, o, l, p),
      size: () => fh.size(),
      truncate: (n) => fh.truncate(n),
      close: () => fh.close(),
      async sync() {
        outer.syncs++;
        await new Promise((r) => setTimeout(r, outer.delayMs));
        if (outer.fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        return fh.sync();
      },
    };
  }
  exists = (f: string) => nodeFileSystem.exists(f);
  mkdirp = (d: string) => nodeFileSystem.mkdirp(d);
  readdir = (d: string) => nodeFileSystem.readdir(d);
  isDirectory = (f: string) => nodeFileSystem.isDirectory(f);
  rename = (a: string, b: string) => nodeFileSystem.rename(a, b);
  unlink = (f: string) => nodeFileSystem.unlink(f);
  rmrf = (f: string) => nodeFileSystem.rmrf(f);
  readFile = (f: string) => nodeFileSystem.readFile(f);
  writeFileAtomic = (f: string, d: Uint8Array) => nodeFileSystem.writeFileAtomic(f, d);
  syncDir = (d: string) => nodeFileSystem.syncDir(d);
}

function open(fs: FileSystem, overrides: Record<string, string | number> = {}): PartitionLog {
  return PartitionLog.open({
    dir: path.join(tempDir(), 't-0'),
    topic: 't',
    partition: 0,
    config: config(overrides),
    fs,
  });
}

describe('flush: group commit and failures', () => {
  it('shares fdatasyncs between concurrent callers', async () => {
    const fs = new SlowSyncFs(20);
    const log = open(fs);
    await log.flush(); // the new segment
    fs.syncs = 0;
    const appenders = Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 5; i++) {
        log.append(batch(1));
        await log.flush();
        expect(log.flushedOffset).toBeGreaterThan(0);
      }
    });
    await Promise.all(appenders);
    expect(log.flushedOffset).toBe(100);
    // 100 flush() calls; each sync covers everyone waiting when it started
    expect(fs.syncs).toBeLessThanOrEqual(12);
    log.close();
  });

  it('resolves only when the caller’s appends are synced', async () => {
    const fs = new SlowSyncFs(30);
    const log = open(fs);
    log.append(batch(1));
    const first = log.flush();
    log.append(batch(1)); // after the first sync started: needs the next one
    const second = log.flush();
    await first;
    expect(log.flushedOffset).toBe(1);
    await second;
    expect(log.flushedOffset).toBe(2);
    await log.flush();
    log.close();
  });

  it('takes the log offline when fdatasync fails', async () => {
    const fs = new SlowSyncFs(1);
    const log = open(fs);
    log.append(batch(3));
    fs.fail = true;
    await expect(log.flush()).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    expect(log.isOffline).toBe(true);
    expect(() => log.append(batch(1))).toThrow(LogError);
    expect(() => log.read(0, 100)).toThrow(/fdatasync/);
    await expect(log.flush()).rejects.toBeInstanceOf(LogError);
    log.close();
    // the data is still there for the next open
    fs.fail = false;
    const again = PartitionLog.open({ dir: log.dir, topic: 't', partition: 0, config: log.config });
    expect(readAll(again).length).toBe(3);
    again.close();
  });

  it('reopens with the flushed offset as recovery point after a clean shutdown', async () => {
    const log = open(nodeFileSystem, { 'segment.bytes': 2000 });
    for (let i = 0; i < 30; i++) log.append(batch(3, { valueBytes: 50 }));
    await log.flush();
    expect(log.flushedOffset).toBe(90);
    log.close();
    const again = PartitionLog.open({
      dir: log.dir,
      topic: 't',
      partition: 0,
      config: log.config,
      recoveryPoint: 90,
    });
    expect(again.flushedOffset).toBe(90);
    expect(again.recovery.truncatedBytes).toBe(0);
    expect(readAll(again).length).toBe(90);
    again.close();
  });
});
