/**
 * Recovery after a power loss that kept a later segment's bytes but not an earlier one's tail
 * (unsynced writes are lost per file, in any order): the log must end where the surviving data
 * stops being contiguous, not keep the later segment behind a hole. Found by the replication
 * simulation (test/sim/replication.sim.test.ts): a follower served a log with 92 offsets missing
 * below its high watermark. And a recovery cut (a truncation) is not trusted before an fsync.
 */
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logFileName } from '../../../core/log/files.js';
import { batch, openLog, readAll, reopen } from './helpers.js';

/** A log of 9 batches × 2 records in three segments: [0..8), [8..16), [16..18). */
function threeSegments(compact = false) {
  const log = openLog({ 'segment.bytes': 400, ...(compact ? { 'cleanup.policy': 'compact' } : {}) });
  for (let i = 0; i < 9; i++) log.append(batch(2, { tag: `b${i}` }), { assignOffsets: true });
  const segs = log.segmentInfos();
  expect(segs.map((s) => s.baseOffset)).toEqual([0, 8, 16]);
  log.close();
  return { log, segs };
}

/** Cuts the middle segment's file after its first batch, as a power loss that lost its tail would. */
function loseMiddleTail(dir: string, firstBatchBytes: number): void {
  const file = path.join(dir, logFileName(8));
  nodeFs.truncateSync(file, firstBatchBytes);
}

describe('recovery of a log whose earlier segment lost its tail', () => {
  it('drops the later segments instead of leaving a hole (recovery point below the loss)', () => {
    const { log, segs } = threeSegments();
    loseMiddleTail(log.dir, segs[1]!.sizeBytes / 4);
    const after = reopen(log, { recoveryPoint: 8 });
    expect(after.logEndOffset).toBe(10);
    const offsets = readAll(after).map((r) => r.offset);
    expect(offsets).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(after.recovery.problems.join(' ')).toMatch(/before the next segment's base 16/);
    after.close();
  });

  it('keeps the gap below the recovery point, and in compacted logs (cleaned segments end early)', () => {
    const { log, segs } = threeSegments();
    loseMiddleTail(log.dir, segs[1]!.sizeBytes / 4);
    const trusted = reopen(log, { recoveryPoint: 16 });
    expect(trusted.logEndOffset).toBe(18);
    trusted.close();

    const c = threeSegments(true);
    loseMiddleTail(c.log.dir, c.segs[1]!.sizeBytes / 4);
    const compacted = reopen(c.log, { recoveryPoint: 0 });
    expect(compacted.logEndOffset).toBe(18);
    compacted.close();
  });

  it('after cutting a torn tail, the recovery point stays at the cut segment until an fsync', async () => {
    const { log } = threeSegments();
    // a torn write at the end of the last segment
    nodeFs.appendFileSync(path.join(log.dir, logFileName(16)), Buffer.alloc(40, 7));
    const after = reopen(log, { recoveryPoint: 17 });
    expect(after.recovery.truncatedBytes).toBe(40);
    expect(after.logEndOffset).toBe(18);
    // the cut is not durable yet: were it lost, the next recovery must look at the segment again
    expect(after.flushedOffset).toBe(16);
    await after.flush();
    expect(after.flushedOffset).toBe(18);
    after.close();
  });
});
