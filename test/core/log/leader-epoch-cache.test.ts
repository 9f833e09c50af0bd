import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../../core/env/fs.js';
import { LeaderEpochFileCache } from '../../../core/log/leader-epoch-cache.js';
import { tempDir } from '../../helpers/tmp.js';
import { batch, openLog, reopen } from './helpers.js';

function cache(): LeaderEpochFileCache {
  return LeaderEpochFileCache.load(nodeFileSystem, tempDir()).cache;
}

describe('LeaderEpochFileCache', () => {
  it('answers endOffsetFor with Kafka semantics', () => {
    const c = cache();
    expect(c.endOffsetFor(0, 100)).toEqual({ epoch: -1, endOffset: -1 });
    c.assign(2, 10);
    c.assign(4, 20);
    c.assign(7, 35);
    expect(c.endOffsetFor(7, 50)).toEqual({ epoch: 7, endOffset: 50 }); // latest: the log end
    expect(c.endOffsetFor(4, 50)).toEqual({ epoch: 4, endOffset: 35 }); // start of the next epoch
    expect(c.endOffsetFor(5, 50)).toEqual({ epoch: 4, endOffset: 35 }); // between: the epoch below
    expect(c.endOffsetFor(1, 50)).toEqual({ epoch: 1, endOffset: 10 }); // below all: first start
    expect(c.endOffsetFor(9, 50)).toEqual({ epoch: -1, endOffset: -1 }); // above all
    expect(c.endOffsetFor(-1, 50)).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('keeps epochs and offsets monotonic on assign', () => {
    const c = cache();
    c.assign(1, 0);
    c.assign(3, 10);
    expect(c.assign(3, 12)).toBe(false);
    c.assign(3, 8); // same epoch, earlier start: replaces
    expect(c.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 8 },
    ]);
    c.assign(2, 5); // an older epoch removes the newer ones
    expect(c.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 5 },
    ]);
  });

  it('truncates from the end and from the start', () => {
    const c = cache();
    c.assign(1, 0);
    c.assign(2, 10);
    c.assign(3, 20);
    c.truncateFromEnd(20);
    expect(c.latestEpoch).toBe(2);
    c.truncateFromEnd(25);
    expect(c.latestEpoch).toBe(2);
    c.assign(3, 30);
    c.truncateFromStart(15);
    expect(c.epochEntries()).toEqual([
      { epoch: 2, startOffset: 15 },
      { epoch: 3, startOffset: 30 },
    ]);
    c.truncateFromStart(30);
    expect(c.epochEntries()).toEqual([{ epoch: 3, startOffset: 30 }]);
  });

  it("persists in Kafka's checkpoint format and reloads", () => {
    const dir = tempDir();
    const c = LeaderEpochFileCache.load(nodeFileSystem, dir).cache;
    c.assign(0, 0);
    c.assign(5, 123);
    expect(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n0 0\n5 123\n');
    const again = LeaderEpochFileCache.load(nodeFileSystem, dir);
    expect(again.intact).toBe(true);
    expect(again.cache.epochEntries()).toEqual(c.epochEntries());
    fs.writeFileSync(path.join(dir, 'leader-epoch-checkpoint'), '0\n3\n0 0\n');
    const bad = LeaderEpochFileCache.load(nodeFileSystem, dir);
    expect(bad.intact).toBe(false);
    expect(bad.problem).toMatch(/corrupt/);
  });
});

describe('PartitionLog leader epochs', () => {
  it('assigns epochs from appends and explicitly, truncates them with the log', () => {
    const log = openLog();
    log.append(batch(5), { leaderEpoch: 1 });
    log.assignEpochStartOffset(3, 5);
    log.append(batch(5), { leaderEpoch: 3 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 5 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 5 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 10 });
    log.truncateTo(5);
    expect(log.latestEpoch).toBe(1);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 5 });
    log.close();
  });

  it('rebuilds a missing checkpoint from the batches', () => {
    const log = openLog();
    log.append(batch(5), { leaderEpoch: 1 });
    log.append(batch(5), { leaderEpoch: 4 });
    log.close();
    fs.unlinkSync(path.join(log.dir, 'leader-epoch-checkpoint'));
    const again = reopen(log);
    expect(again.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 4, startOffset: 5 },
    ]);
    again.close();
  });

  it('moves the first entry up with the log start', () => {
    const log = openLog();
    log.append(batch(5), { leaderEpoch: 1 });
    log.append(batch(5), { leaderEpoch: 2 });
    log.setHighWatermark(10);
    log.deleteRecordsBefore(3);
    expect(log.epochEntries()).toEqual([
      { epoch: 1, startOffset: 3 },
      { epoch: 2, startOffset: 5 },
    ]);
    log.close();
  });
});
