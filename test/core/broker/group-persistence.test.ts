import { describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../../core/broker/group-coordinator.js';
import { decodeCoordinatorKey, decodeGroupMetadataValue } from '../../../core/broker/group-metadata-codec.js';
import {
  MemoryGroupStorage,
  type StorageRecord,
  type StoredRecord,
} from '../../../core/broker/offsets-store.js';
import { heartbeat, ManualClock, stableGroup, startCoordinator, sync } from './group-helpers.js';

const NONE = 0;
const COORDINATOR_LOAD_IN_PROGRESS = 14;
const COORDINATOR_NOT_AVAILABLE = 15;
const NOT_COORDINATOR = 16;
const REBALANCE_IN_PROGRESS = 27;
const GROUP_ID_NOT_FOUND = 69;

describe('group coordinator: persistence in __consumer_offsets', () => {
  it('a new coordinator over the same storage sees the same offsets and group metadata', async () => {
    const storage = new MemoryGroupStorage(8);
    const clock = new ManualClock();
    const a = await startCoordinator({ storage, clock });
    const { memberIds, generationId, leader } = await stableGroup(a, 2, { sessionTimeoutMs: 30_000 });
    await a.coordinator.offsetCommit(
      {
        groupId: 'g',
        generationIdOrMemberEpoch: generationId,
        memberId: memberIds[0]!,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partitionIndex: 0, committedOffset: 100, committedLeaderEpoch: 4, committedMetadata: 'meta' },
              { partitionIndex: 1, committedOffset: 200, committedMetadata: null },
            ],
          },
        ],
      },
      { apiVersion: 8 },
    );
    await a.coordinator.offsetCommit(
      {
        groupId: 'simple',
        topics: [
          { name: 't', partitions: [{ partitionIndex: 3, committedOffset: 9, committedMetadata: '' }] },
        ],
      },
      { apiVersion: 2 },
    );
    const before = await a.coordinator.describeGroups({ groups: ['g', 'simple'] });
    a.coordinator.close();

    const b = await startCoordinator({ storage, clock });
    const after = await b.coordinator.describeGroups({ groups: ['g', 'simple'] });
    expect(after).toEqual(before);
    const g = after.groups[0]!;
    expect(g.groupState).toBe('Stable');
    expect(g.protocolType).toBe('consumer');
    expect(g.protocolData).toBe('range');
    expect(g.members.map((m) => [m.memberId, m.clientId, m.memberAssignment.toString()])).toEqual([
      [memberIds[0], 'c0', `a:${memberIds[0]}`],
      [memberIds[1], 'c1', `a:${memberIds[1]}`],
    ]);
    expect(after.groups[1]!.groupState).toBe('Empty');

    expect(b.coordinator.fetchOffsets('g', null, true)).toEqual({
      groupId: 'g',
      errorCode: NONE,
      topics: [
        {
          name: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 100,
              committedLeaderEpoch: 4,
              metadata: 'meta',
              errorCode: NONE,
            },
            {
              partitionIndex: 1,
              committedOffset: 200,
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: NONE,
            },
          ],
        },
      ],
    });
    expect(b.coordinator.fetchOffsets('simple', null, false).topics[0]!.partitions[0]!.committedOffset).toBe(
      9,
    );

    // The members carry on in the same generation with the new coordinator.
    const group = b.coordinator.group('g')!;
    expect(group.generationId).toBe(generationId);
    expect(group.leaderId).toBe(leader);
    expect(await heartbeat(b, memberIds[1]!, generationId)).toBe(NONE);
    expect((await sync(b, memberIds[1]!, generationId)).assignment.toString()).toBe(`a:${memberIds[1]}`);
    // Sessions restart at load: a member that does not heartbeat to the new coordinator expires.
    await b.clock.advance(15_000);
    expect(await heartbeat(b, memberIds[1]!, generationId)).toBe(NONE);
    await b.clock.advance(15_000);
    expect(b.coordinator.group('g')!.has(memberIds[0]!)).toBe(false);
    expect(b.coordinator.groupState('g')).toBe('PreparingRebalance');
  });

  it('writes Kafka record formats: a group record per completed generation, one per commit', async () => {
    const storage = new MemoryGroupStorage(8);
    const h = await startCoordinator({ storage });
    const { memberIds, generationId } = await stableGroup(h, 1);
    const p = h.coordinator.partitionFor('g');
    const records = storage.records(p);
    const groupRecords = records.filter((r) => decodeCoordinatorKey(r.key!).type === 'groupMetadata');
    expect(groupRecords).toHaveLength(1);
    expect(groupRecords[0]!.value!.readInt16BE(0)).toBe(3);
    const value = decodeGroupMetadataValue(groupRecords[0]!.value!);
    expect(value).toMatchObject({
      protocolType: 'consumer',
      generation: generationId,
      protocol: 'range',
      leader: memberIds[0],
    });
    expect(value.members[0]).toMatchObject({
      memberId: memberIds[0],
      clientId: 'c0',
      clientHost: '/127.0.0.1',
      sessionTimeout: 10_000,
      rebalanceTimeout: 30_000,
    });
    expect(value.members[0]!.assignment.toString()).toBe(`a:${memberIds[0]}`);
    expect(value.members[0]!.subscription.toString()).toBe('meta:range');
  });

  it('DeleteGroups writes tombstones: a reloaded coordinator no longer knows the group or its offsets', async () => {
    const storage = new MemoryGroupStorage(8);
    const clock = new ManualClock();
    const a = await startCoordinator({ storage, clock });
    const { memberIds, generationId } = await stableGroup(a, 1);
    await a.coordinator.offsetCommit(
      {
        groupId: 'g',
        generationIdOrMemberEpoch: generationId,
        memberId: memberIds[0]!,
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5, committedMetadata: null }] },
        ],
      },
      { apiVersion: 8 },
    );
    await a.coordinator.leaveGroup(
      { groupId: 'g', members: [{ memberId: memberIds[0]! }] },
      { apiVersion: 3 },
    );
    expect(a.coordinator.groupState('g')).toBe('Empty');
    const deleted = await a.coordinator.deleteGroups({ groupsNames: ['g'] });
    expect(deleted.results).toEqual([{ groupId: 'g', errorCode: NONE }]);
    const tail = storage.records(a.coordinator.partitionFor('g')).slice(-2);
    expect(tail.map((r) => [decodeCoordinatorKey(r.key!).type, r.value])).toEqual([
      ['offsetCommit', null],
      ['groupMetadata', null],
    ]);
    a.coordinator.close();

    const b = await startCoordinator({ storage, clock });
    expect(b.coordinator.groupState('g')).toBeNull();
    expect(
      b.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }], false).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(-1);
    expect((await b.coordinator.deleteGroups({ groupsNames: ['g'] })).results[0]!.errorCode).toBe(
      GROUP_ID_NOT_FOUND,
    );
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS while loading (SyncGroup: REBALANCE_IN_PROGRESS, Heartbeat: NONE)', async () => {
    const storage = new MemoryGroupStorage(2);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = {
      partitionCount: 2,
      append: (p: number, r: StorageRecord[]) => storage.append(p, r),
      async *readAll(p: number): AsyncIterable<StoredRecord> {
        await gate;
        yield* storage.readAll(p);
      },
    };
    const gc = new GroupCoordinator({ storage: slow, clock: new ManualClock() });
    const loading = gc.load();
    const join = await gc.joinGroup(
      { groupId: 'g', sessionTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [] },
      { apiVersion: 5 },
    );
    expect(join.errorCode).toBe(COORDINATOR_LOAD_IN_PROGRESS);
    expect(
      (await gc.syncGroup({ groupId: 'g', generationId: 1, memberId: 'm', assignments: [] })).errorCode,
    ).toBe(REBALANCE_IN_PROGRESS);
    expect((await gc.heartbeat({ groupId: 'g', generationId: 1, memberId: 'm' })).errorCode).toBe(NONE);
    expect((await gc.listGroups()).errorCode).toBe(COORDINATOR_LOAD_IN_PROGRESS);
    release();
    await loading;
    expect((await gc.listGroups()).errorCode).toBe(NONE);
    gc.close();
    expect((await gc.heartbeat({ groupId: 'g', generationId: 1, memberId: 'm' })).errorCode).toBe(
      COORDINATOR_NOT_AVAILABLE,
    );
    expect((await gc.listGroups()).errorCode).toBe(COORDINATOR_NOT_AVAILABLE);
  });

  it('groups of partitions this coordinator does not own answer NOT_COORDINATOR', async () => {
    const storage = new MemoryGroupStorage(4);
    const gc = new GroupCoordinator({ storage, clock: new ManualClock() });
    const mine = gc.partitionFor('g');
    await gc.load([mine]);
    const other = ['a', 'b', 'c', 'd', 'e', 'f'].find((id) => gc.partitionFor(id) !== mine)!;
    expect(gc.fetchOffsets('g', null, false).errorCode).toBe(NONE);
    expect(gc.fetchOffsets(other, null, false).errorCode).toBe(NOT_COORDINATOR);
    gc.unloadPartition(mine);
    expect(gc.fetchOffsets('g', null, false).errorCode).toBe(NOT_COORDINATOR);
    gc.close();
  });

  it('unloading a partition answers parked requests with NOT_COORDINATOR', async () => {
    const h = await startCoordinator();
    const parked = h.coordinator.joinGroup(
      {
        groupId: 'g',
        sessionTimeoutMs: 10_000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'r', metadata: Buffer.alloc(0) }],
      },
      { apiVersion: 3 },
    );
    h.coordinator.unloadPartition(h.coordinator.partitionFor('g'));
    expect((await parked).errorCode).toBe(NOT_COORDINATOR);
    expect(h.clock.pendingTimers).toBe(1); // only the offset expiration task
  });
});
