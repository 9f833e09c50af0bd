import { describe, expect, it } from 'vitest';
import { join, joinNew, stableGroup, startCoordinator } from './group-helpers.js';

const NONE = 0;
const NON_EMPTY_GROUP = 68;
const GROUP_ID_NOT_FOUND = 69;
const NOT_COORDINATOR = 16;

describe('group coordinator: ListGroups, DescribeGroups, DeleteGroups', () => {
  it('ListGroups lists every group with its state; the states filter is case-insensitive', async () => {
    const h = await startCoordinator();
    await stableGroup(h, 1, { groupId: 'stable' });
    void join(h, { groupId: 'preparing', apiVersion: 3 });
    await h.coordinator.offsetCommit(
      {
        groupId: 'empty',
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        ],
      },
      { apiVersion: 2 },
    );
    const all = await h.coordinator.listGroups({});
    expect(all.errorCode).toBe(NONE);
    expect(all.groups.map((g) => [g.groupId, g.groupState, g.protocolType]).sort()).toEqual([
      ['empty', 'Empty', ''],
      ['preparing', 'PreparingRebalance', 'consumer'],
      ['stable', 'Stable', 'consumer'],
    ]);
    const filtered = await h.coordinator.listGroups({ statesFilter: ['stable', 'EMPTY'] });
    expect(filtered.groups.map((g) => g.groupId).sort()).toEqual(['empty', 'stable']);
    expect((await h.coordinator.listGroups({ typesFilter: ['consumer'] })).groups).toEqual([]);
    expect((await h.coordinator.listGroups({ typesFilter: ['Classic'] })).groups).toHaveLength(3);
  });

  it('DescribeGroups shows members with metadata and assignments when Stable, not while rebalancing', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 2);
    const d = await h.coordinator.describeGroups({ groups: ['g', 'missing'] });
    expect(d.groups[0]).toEqual({
      errorCode: NONE,
      groupId: 'g',
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
      members: memberIds.map((id, i) => ({
        memberId: id,
        groupInstanceId: null,
        clientId: `c${i}`,
        clientHost: '/127.0.0.1',
        memberMetadata: Buffer.from('meta:range'),
        memberAssignment: Buffer.from(`a:${id}`),
      })),
      authorizedOperations: -2147483648,
    });
    expect(d.groups[1]).toMatchObject({
      errorCode: NONE,
      groupId: 'missing',
      groupState: 'Dead',
      members: [],
    });

    await joinNew(h, { clientId: 'late' });
    const during = (await h.coordinator.describeGroups({ groups: ['g'] })).groups[0]!;
    expect(during.groupState).toBe('PreparingRebalance');
    expect(during.protocolData).toBe('');
    expect(during.members).toHaveLength(3);
    expect(
      during.members.every((m) => m.memberMetadata.length === 0 && m.memberAssignment.length === 0),
    ).toBe(true);
  });

  it('DeleteGroups deletes only empty groups', async () => {
    const h = await startCoordinator();
    await stableGroup(h, 1, { groupId: 'busy' });
    await h.coordinator.offsetCommit(
      {
        groupId: 'idle',
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        ],
      },
      { apiVersion: 2 },
    );
    const r = await h.coordinator.deleteGroups({ groupsNames: ['busy', 'idle', 'never', 'idle'] });
    expect(r.results).toEqual([
      { groupId: 'busy', errorCode: NON_EMPTY_GROUP },
      { groupId: 'idle', errorCode: NONE },
      { groupId: 'never', errorCode: GROUP_ID_NOT_FOUND },
    ]);
    expect(h.coordinator.groupState('idle')).toBeNull();
    expect(
      h.coordinator.fetchOffsets('idle', [{ name: 't', partitionIndexes: [0] }], false).topics[0]!
        .partitions[0]!.committedOffset,
    ).toBe(-1);
    expect(h.coordinator.groupState('busy')).toBe('Stable');
  });

  it('DeleteGroups for a group of a partition not owned answers NOT_COORDINATOR', async () => {
    const h = await startCoordinator();
    h.coordinator.unloadPartition(h.coordinator.partitionFor('x'));
    expect((await h.coordinator.deleteGroups({ groupsNames: ['x'] })).results).toEqual([
      { groupId: 'x', errorCode: NOT_COORDINATOR },
    ]);
  });

  it('deleted topics take their offsets with them', async () => {
    const h = await startCoordinator();
    await h.coordinator.offsetCommit(
      {
        groupId: 'g',
        topics: [
          { name: 'keep', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
          { name: 'drop', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        ],
      },
      { apiVersion: 2 },
    );
    expect(await h.coordinator.onTopicsDeleted(['drop'])).toBe(1);
    expect(h.coordinator.fetchOffsets('g', null, false).topics.map((t) => t.name)).toEqual(['keep']);
  });
});
