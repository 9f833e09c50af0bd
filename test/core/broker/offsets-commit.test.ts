import { describe, expect, it } from 'vitest';
import type { OffsetCommitRequestTopic } from '../../../core/broker/group-coordinator.js';
import { MemoryGroupStorage, type StorageRecord } from '../../../core/broker/offsets-store.js';
import {
  advanceUntil,
  type Harness,
  join,
  joinNew,
  stableGroup,
  startCoordinator,
  sync,
} from './group-helpers.js';

const NONE = 0;
const OFFSET_METADATA_TOO_LARGE = 12;
const ILLEGAL_GENERATION = 22;
const UNKNOWN_MEMBER_ID = 25;
const REBALANCE_IN_PROGRESS = 27;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const UNSTABLE_OFFSET_COMMIT = 88;
const COORDINATOR_LOAD_IN_PROGRESS = 14;

function topics(
  spec: Record<string, Record<number, number>>,
  metadata: string | null = null,
): OffsetCommitRequestTopic[] {
  return Object.entries(spec).map(([name, parts]) => ({
    name,
    partitions: Object.entries(parts).map(([p, offset]) => ({
      partitionIndex: Number(p),
      committedOffset: offset,
      committedLeaderEpoch: 3,
      committedMetadata: metadata,
    })),
  }));
}

async function commit(
  h: Harness,
  spec: Record<string, Record<number, number>>,
  opts: {
    groupId?: string;
    generationId?: number;
    memberId?: string;
    metadata?: string | null;
    apiVersion?: number;
  } = {},
): Promise<number[]> {
  const r = await h.coordinator.offsetCommit(
    {
      groupId: opts.groupId ?? 'g',
      generationIdOrMemberEpoch: opts.generationId ?? -1,
      memberId: opts.memberId ?? '',
      groupInstanceId: null,
      topics: topics(spec, opts.metadata ?? null),
    },
    { apiVersion: opts.apiVersion ?? 8 },
  );
  return r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
}

async function fetchAll(h: Harness, groupId = 'g') {
  return h.coordinator.fetchOffsets(groupId, null, false);
}

describe('offset commits and fetches', () => {
  it('a member of the current generation commits; OffsetFetch returns the offsets, -1 where none', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 2);
    const errors = await commit(
      h,
      { t: { 0: 10, 1: 20 }, u: { 0: 5 } },
      { generationId, memberId: memberIds[1]!, metadata: 'm' },
    );
    expect(errors).toEqual([NONE, NONE, NONE]);

    const r = await h.coordinator.offsetFetch(
      {
        groupId: 'g',
        topics: [
          { name: 't', partitionIndexes: [0, 1, 2] },
          { name: 'x', partitionIndexes: [0] },
        ],
      },
      { apiVersion: 5 },
    );
    expect(r.errorCode).toBe(NONE);
    expect(r.topics).toEqual([
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 3, metadata: 'm', errorCode: NONE },
          { partitionIndex: 1, committedOffset: 20, committedLeaderEpoch: 3, metadata: 'm', errorCode: NONE },
          { partitionIndex: 2, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: NONE },
        ],
      },
      {
        name: 'x',
        partitions: [
          { partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: NONE },
        ],
      },
    ]);

    // Null topics: every committed partition.
    const all = await fetchAll(h);
    expect(
      all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])]),
    ).toEqual([
      [
        't',
        [
          [0, 10],
          [1, 20],
        ],
      ],
      ['u', [[0, 5]]],
    ]);

    // v8+: several groups per request.
    const v8 = await h.coordinator.offsetFetch(
      {
        groups: [
          { groupId: 'g', topics: null },
          { groupId: 'unknown', topics: [{ name: 't', partitionIndexes: [0] }] },
        ],
      },
      { apiVersion: 8 },
    );
    expect(v8.groups.map((g) => [g.groupId, g.errorCode, g.topics.length])).toEqual([
      ['g', NONE, 2],
      ['unknown', NONE, 1],
    ]);
    expect(v8.groups[1]!.topics[0]!.partitions[0]!.committedOffset).toBe(-1);
  });

  it('commits from other generations or non-members are refused', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1);
    expect(
      await commit(h, { t: { 0: 1 } }, { generationId: generationId + 1, memberId: memberIds[0]! }),
    ).toEqual([ILLEGAL_GENERATION]);
    expect(await commit(h, { t: { 0: 1 } }, { generationId, memberId: 'stranger' })).toEqual([
      UNKNOWN_MEMBER_ID,
    ]);
    // A simple (generation -1) commit to a group that has members.
    expect(await commit(h, { t: { 0: 1 } })).toEqual([UNKNOWN_MEMBER_ID]);
    // A generation for a group that does not exist.
    expect(await commit(h, { t: { 0: 1 } }, { groupId: 'gone', generationId: 3, memberId: 'm' })).toEqual([
      ILLEGAL_GENERATION,
    ]);
    expect((await fetchAll(h)).topics).toEqual([]);
  });

  it('generation -1 commits create a simple group with no members (manual assignment)', async () => {
    const h = await startCoordinator();
    expect(await commit(h, { t: { 0: 42 } }, { groupId: 'simple' })).toEqual([NONE]);
    expect(h.coordinator.groupState('simple')).toBe('Empty');
    expect((await fetchAll(h, 'simple')).topics[0]!.partitions[0]!.committedOffset).toBe(42);
    expect(await commit(h, { t: { 0: 43 } }, { groupId: 'simple' })).toEqual([NONE]);
    expect((await fetchAll(h, 'simple')).topics[0]!.partitions[0]!.committedOffset).toBe(43);
    const listed = await h.coordinator.listGroups();
    expect(listed.groups).toEqual([
      { groupId: 'simple', protocolType: '', groupState: 'Empty', groupType: 'classic' },
    ]);
  });

  it('commits while the group completes a rebalance answer REBALANCE_IN_PROGRESS', async () => {
    const h = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    const j = await join(h, { apiVersion: 3 });
    expect(h.coordinator.groupState('g')).toBe('CompletingRebalance');
    expect(await commit(h, { t: { 0: 1 } }, { generationId: j.generationId, memberId: j.memberId })).toEqual([
      REBALANCE_IN_PROGRESS,
    ]);
    await sync(h, j.memberId, j.generationId, { [j.memberId]: 'x' });
    expect(await commit(h, { t: { 0: 1 } }, { generationId: j.generationId, memberId: j.memberId })).toEqual([
      NONE,
    ]);
  });

  it('metadata over offset.metadata.max.bytes is refused per partition', async () => {
    const h = await startCoordinator({ config: { 'offset.metadata.max.bytes': 8 } });
    const r = await h.coordinator.offsetCommit(
      {
        groupId: 'g',
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, committedOffset: 1, committedMetadata: '12345678' },
              { partitionIndex: 1, committedOffset: 2, committedMetadata: '123456789' },
            ],
          },
        ],
      },
      { apiVersion: 2 },
    );
    expect(r.topics[0]!.partitions).toEqual([
      { partitionIndex: 0, errorCode: NONE },
      { partitionIndex: 1, errorCode: OFFSET_METADATA_TOO_LARGE },
    ]);
    const all = await fetchAll(h);
    expect(all.topics[0]!.partitions.map((p) => p.partitionIndex)).toEqual([0]);
  });

  it('partitions that do not exist are refused with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const h = await startCoordinator({ partitionExists: (t, p) => t === 't' && p < 2 });
    expect(await commit(h, { t: { 0: 1, 2: 1 }, nope: { 0: 1 } })).toEqual([
      NONE,
      UNKNOWN_TOPIC_OR_PARTITION,
      UNKNOWN_TOPIC_OR_PARTITION,
    ]);
  });

  it('requireStable: a commit still being written answers UNSTABLE_OFFSET_COMMIT; the response waits for durability', async () => {
    const storage = new MemoryGroupStorage(4);
    let release: () => void = () => {};
    let block = false;
    const slow = {
      partitionCount: storage.partitionCount,
      append: async (p: number, r: StorageRecord[]) => {
        if (block) await new Promise<void>((resolve) => (release = resolve));
        return storage.append(p, r);
      },
      readAll: (p: number) => storage.readAll(p),
    };
    const h = await startCoordinator({ storage: slow });
    expect(await commit(h, { t: { 0: 1 } })).toEqual([NONE]);
    block = true;
    let done = false;
    const pending = commit(h, { t: { 0: 2 } }).then((e) => {
      done = true;
      return e;
    });
    await advanceUntil(h, Promise.resolve());
    expect(done).toBe(false);
    const stable = h.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }], true);
    expect(stable.topics[0]!.partitions[0]!.errorCode).toBe(UNSTABLE_OFFSET_COMMIT);
    const unstable = h.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }], false);
    expect(unstable.topics[0]!.partitions[0]!.committedOffset).toBe(1);
    release();
    expect(await pending).toEqual([NONE]);
    expect(
      h.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }], true).topics[0]!.partitions[0],
    ).toMatchObject({
      committedOffset: 2,
      errorCode: NONE,
    });
  });

  it('a failed append fails the commit and keeps the previous offset', async () => {
    const storage = new MemoryGroupStorage(4);
    let fail = false;
    const flaky = {
      partitionCount: storage.partitionCount,
      append: (p: number, r: StorageRecord[]) =>
        fail
          ? Promise.reject(Object.assign(new Error('too big'), { code: 'RECORD_LIST_TOO_LARGE' }))
          : storage.append(p, r),
      readAll: (p: number) => storage.readAll(p),
    };
    const h = await startCoordinator({ storage: flaky });
    await commit(h, { t: { 0: 1 } });
    fail = true;
    expect(await commit(h, { t: { 0: 2 } })).toEqual([28]); // INVALID_COMMIT_OFFSET_SIZE
    expect((await fetchAll(h)).topics[0]!.partitions[0]!.committedOffset).toBe(1);
  });

  it('before the coordinator is loaded, offsets answer COORDINATOR_LOAD_IN_PROGRESS (v1: in every partition)', async () => {
    const { GroupCoordinator } = await import('../../../core/broker/group-coordinator.js');
    const gc = new GroupCoordinator({ storage: new MemoryGroupStorage(2) });
    const v3 = await gc.offsetFetch(
      { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }] },
      { apiVersion: 3 },
    );
    expect(v3.errorCode).toBe(COORDINATOR_LOAD_IN_PROGRESS);
    const c = await gc.offsetCommit({ groupId: 'g', topics: topics({ t: { 0: 1 } }) }, { apiVersion: 2 });
    expect(c.topics[0]!.partitions[0]!.errorCode).toBe(COORDINATOR_LOAD_IN_PROGRESS);
    gc.close();
  });

  it('commits from a member keep its session alive', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1, { sessionTimeoutMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      await h.clock.advance(6000);
      expect(await commit(h, { t: { 0: i } }, { generationId, memberId: memberIds[0]! })).toEqual([NONE]);
    }
    expect(h.coordinator.groupState('g')).toBe('Stable');
  });

  it('offsets of an empty group expire after offsets.retention.minutes; the group goes with them', async () => {
    const h = await startCoordinator({
      config: { 'offsets.retention.minutes': 10, 'offsets.retention.check.interval.ms': 60_000 },
    });
    await commit(h, { t: { 0: 1 } }, { groupId: 'simple' });
    await h.clock.advance(9 * 60_000);
    expect(h.coordinator.groupState('simple')).toBe('Empty');
    await commit(h, { t: { 1: 1 } }, { groupId: 'simple' });
    await h.clock.advance(60_000);
    // Partition 0 (committed 10 minutes ago) is gone, partition 1 (1 minute ago) stays.
    expect((await fetchAll(h, 'simple')).topics[0]!.partitions.map((p) => p.partitionIndex)).toEqual([1]);
    await h.clock.advance(9 * 60_000);
    expect(h.coordinator.groupState('simple')).toBeNull();
    expect(await h.coordinator.deleteGroups({ groupsNames: ['simple'] })).toMatchObject({
      results: [{ groupId: 'simple', errorCode: 69 }],
    });
  });

  it('a v4+ dynamic member commits with the member id from the MEMBER_ID_REQUIRED round trip', async () => {
    const h = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    const { memberId, joined } = await joinNew(h, { apiVersion: 7 });
    const j = await joined;
    await sync(h, memberId, j.generationId, { [memberId]: 'x' });
    expect(await commit(h, { t: { 0: 7 } }, { generationId: j.generationId, memberId })).toEqual([NONE]);
  });
});
