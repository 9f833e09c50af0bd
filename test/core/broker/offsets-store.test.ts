import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../../core/broker/group-coordinator.js';
import { decodeCoordinatorKey } from '../../../core/broker/group-metadata-codec.js';
import {
  type GroupLog,
  loadPartition,
  logGroupStorage,
  MemoryGroupStorage,
  offsetCommitRecord,
  offsetTombstone,
} from '../../../core/broker/offsets-store.js';
import { PartitionLog } from '../../../core/log/log.js';
import { parseLogConfig } from '../../../core/log/log-config.js';
import {
  batchLastOffsetDelta,
  batchRecordCount,
  decodeBatch,
  setBatchBaseOffset,
} from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { ManualClock, stableGroup, startCoordinator } from './group-helpers.js';

/** A partition log in memory: appends assign offsets, reads return whole batches (several per chunk). */
class FakeLog implements GroupLog {
  readonly batches: Buffer[] = [];
  private next = 0;
  flushes = 0;

  append(records: Buffer): void {
    const copy = Buffer.from(records);
    setBatchBaseOffset(copy, 0, this.next);
    this.next += batchLastOffsetDelta(copy, 0) + 1;
    this.batches.push(copy);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  read(fetchOffset: number, maxBytes: number): { records: Buffer[]; logEndOffset: number } {
    const out: Buffer[] = [];
    let size = 0;
    let offset = 0;
    for (const b of this.batches) {
      const last = offset + batchLastOffsetDelta(b, 0);
      if (last >= fetchOffset && (out.length === 0 || size + b.length <= maxBytes)) {
        out.push(b);
        size += b.length;
      }
      offset = last + 1;
    }
    // Concatenated, as segment slices are.
    return { records: out.length > 0 ? [Buffer.concat(out)] : [], logEndOffset: this.next };
  }
}

const offset = (o: number) => ({
  committedOffset: o,
  leaderEpoch: -1,
  metadata: '',
  commitTimestampMs: 1,
  expireTimestampMs: -1,
});

describe('GroupStorage implementations', () => {
  it('logGroupStorage appends one record batch per call, flushes, and reads everything back', async () => {
    const logs = [new FakeLog(), new FakeLog()];
    const storage = logGroupStorage((p) => logs[p]!, { partitionCount: 2, loadBufferBytes: 100 });
    await storage.append(1, [
      offsetCommitRecord('g', 't', 0, offset(5), 10),
      offsetCommitRecord('g', 't', 1, offset(6), 10),
    ]);
    await storage.append(1, [offsetTombstone('g', 't', 0, 11)]);
    expect(logs[1]!.batches).toHaveLength(2);
    expect(logs[1]!.flushes).toBe(2);
    expect(batchRecordCount(logs[1]!.batches[0]!, 0)).toBe(2);
    const decoded = decodeBatch(logs[1]!.batches[1]!, 0);
    expect(decoded.records[0]!.value).toBeNull();

    const read: { offset: number; type: string; tombstone: boolean }[] = [];
    for await (const r of storage.readAll(1)) {
      read.push({ offset: r.offset, type: decodeCoordinatorKey(r.key!).type, tombstone: r.value === null });
    }
    expect(read).toEqual([
      { offset: 0, type: 'offsetCommit', tombstone: false },
      { offset: 1, type: 'offsetCommit', tombstone: false },
      { offset: 2, type: 'offsetCommit', tombstone: true },
    ]);
    const loaded = await loadPartition(storage, 1);
    expect([...loaded.offsets.get('g')!.get('t')!.entries()]).toEqual([[1, offset(6)]]);
    const empty: unknown[] = [];
    for await (const r of storage.readAll(0)) empty.push(r);
    expect(empty).toEqual([]);
  });

  it('a coordinator over logGroupStorage reloads its groups', async () => {
    const logs = Array.from({ length: 3 }, () => new FakeLog());
    const storage = logGroupStorage((p) => logs[p]!, { partitionCount: 3 });
    const clock = new ManualClock();
    const a = await startCoordinator({ storage, clock });
    const { memberIds, generationId } = await stableGroup(a, 2);
    await a.coordinator.offsetCommit(
      {
        groupId: 'g',
        generationIdOrMemberEpoch: generationId,
        memberId: memberIds[0]!,
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 77, committedMetadata: 'x' }] },
        ],
      },
      { apiVersion: 8 },
    );
    a.coordinator.close();
    const b = new GroupCoordinator({ storage, clock });
    await b.load();
    expect(b.groupState('g')).toBe('Stable');
    expect(b.group('g')!.generationId).toBe(generationId);
    expect(b.fetchOffsets('g', null, false).topics[0]!.partitions[0]).toMatchObject({
      committedOffset: 77,
      metadata: 'x',
    });
    b.close();
  });

  it('logGroupStorage over real __consumer_offsets partition logs survives a reopen', async () => {
    const root = tempDir('trib-offsets-');
    const config = parseLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 1024 });
    const open = (p: number) =>
      PartitionLog.open({
        dir: path.join(root, `__consumer_offsets-${p}`),
        topic: '__consumer_offsets',
        partition: p,
        config,
      });
    let logs = [open(0), open(1)];
    const storage = logGroupStorage((p) => logs[p]!, { partitionCount: 2, loadBufferBytes: 512 });
    const clock = new ManualClock();
    const a = new GroupCoordinator({ storage, clock });
    await a.load();
    // Enough commits to span several segments and several reads.
    for (let i = 0; i < 40; i++) {
      const r = await a.offsetCommit(
        {
          groupId: 'g',
          topics: [
            {
              name: 'orders',
              partitions: [{ partitionIndex: i % 4, committedOffset: i, committedMetadata: `m${i}` }],
            },
          ],
        },
        { apiVersion: 8 },
      );
      expect(r.topics[0]!.partitions[0]!.errorCode).toBe(0);
    }
    a.close();
    for (const l of logs) l.close();
    logs = [open(0), open(1)];
    const b = new GroupCoordinator({ storage, clock });
    await b.load();
    expect(
      b
        .fetchOffsets('g', null, false)
        .topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
    ).toEqual([
      [0, 36, 'm36'],
      [1, 37, 'm37'],
      [2, 38, 'm38'],
      [3, 39, 'm39'],
    ]);
    b.close();
    for (const l of logs) l.close();
  });

  it('loadPartition skips undecodable records and reports them', async () => {
    const storage = new MemoryGroupStorage(1);
    await storage.append(0, [
      { key: Buffer.from([0, 9]), value: Buffer.from([1]), timestamp: 0 },
      { key: Buffer.from([0, 1, 0]), value: Buffer.from([1]), timestamp: 0 },
      offsetCommitRecord('g', 't', 0, offset(3), 0),
    ]);
    const loaded = await loadPartition(storage, 0);
    expect(loaded.skipped.map((s) => s.offset)).toEqual([0, 1]);
    expect(loaded.offsets.get('g')!.get('t')!.get(0)!.committedOffset).toBe(3);
  });

  it('MemoryGroupStorage rejects partitions out of range', async () => {
    const storage = new MemoryGroupStorage(2);
    await expect(storage.append(2, [])).rejects.toThrow(RangeError);
    expect(() => new MemoryGroupStorage(0)).toThrow(RangeError);
  });
});
