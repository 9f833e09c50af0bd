import { describe, expect, it } from 'vitest';
import {
  advanceUntil,
  heartbeat,
  isSettled,
  join,
  joinNew,
  protocols,
  stableGroup,
  startCoordinator,
  sync,
} from './group-helpers.js';

const NONE = 0;
const ILLEGAL_GENERATION = 22;
const INCONSISTENT_GROUP_PROTOCOL = 23;
const UNKNOWN_MEMBER_ID = 25;
const INVALID_SESSION_TIMEOUT = 26;
const REBALANCE_IN_PROGRESS = 27;
const MEMBER_ID_REQUIRED = 79;
const GROUP_MAX_SIZE_REACHED = 81;
const INVALID_GROUP_ID = 24;

describe('group coordinator: join, sync, heartbeat', () => {
  it('one member (v3): waits the initial rebalance delay, leads generation 1, gets its assignment', async () => {
    const h = await startCoordinator();
    const joined = join(h, { apiVersion: 3, clientId: 'app' });
    expect(await isSettled(joined)).toBe(false);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    await h.clock.advance(2999);
    expect(await isSettled(joined)).toBe(false);
    await h.clock.advance(1);
    const j = await joined;
    expect(j.errorCode).toBe(NONE);
    expect(j.memberId).toMatch(/^app-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(j.generationId).toBe(1);
    expect(j.leader).toBe(j.memberId);
    expect(j.protocolName).toBe('range');
    expect(j.protocolType).toBe('consumer');
    expect(j.members).toEqual([
      { memberId: j.memberId, groupInstanceId: null, metadata: Buffer.from('meta:range') },
    ]);
    expect(h.coordinator.groupState('g')).toBe('CompletingRebalance');

    const s = await sync(h, j.memberId, 1, { [j.memberId]: 'all-partitions' });
    expect(s.errorCode).toBe(NONE);
    expect(s.assignment.toString()).toBe('all-partitions');
    expect(s.protocolName).toBe('range');
    expect(h.coordinator.groupState('g')).toBe('Stable');
    expect(await heartbeat(h, j.memberId, 1)).toBe(NONE);
  });

  it('MEMBER_ID_REQUIRED round trip for v4+: the id is <clientId>-<uuid> and the rejoin is accepted', async () => {
    const h = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    const first = await join(h, { apiVersion: 4, clientId: 'rdkafka' });
    expect(first.errorCode).toBe(MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^rdkafka-[0-9a-f-]{36}$/);
    expect(first.generationId).toBe(-1);
    // A v4–v6 response carries a non-null protocol name.
    expect(first.protocolName).toBe('');
    const second = await join(h, { apiVersion: 4, memberId: first.memberId });
    expect(second.errorCode).toBe(NONE);
    expect(second.memberId).toBe(first.memberId);
    expect(second.generationId).toBe(1);
  });

  it('a pending member id that is never used expires with the session timeout', async () => {
    const h = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    const first = await join(h, { apiVersion: 7, sessionTimeoutMs: 10_000 });
    expect(first.errorCode).toBe(MEMBER_ID_REQUIRED);
    expect(first.protocolName).toBeNull();
    await h.clock.advance(10_000);
    const late = await join(h, { apiVersion: 7, memberId: first.memberId });
    expect(late.errorCode).toBe(UNKNOWN_MEMBER_ID);
  });

  it('two members: joins during the initial delay extend it; the leader gets both, the follower none', async () => {
    const h = await startCoordinator();
    const a = await joinNew(h, { clientId: 'a' });
    await h.clock.advance(1000);
    const b = await joinNew(h, { clientId: 'b', protocols: protocols('range') });
    // First delay ends at 3000 with a new member added: another delay (until 6000).
    await h.clock.advance(2000);
    expect(await isSettled(a.joined)).toBe(false);
    await h.clock.advance(2999);
    expect(await isSettled(a.joined)).toBe(false);
    await h.clock.advance(1);
    const [ja, jb] = await Promise.all([a.joined, b.joined]);
    expect(ja.generationId).toBe(1);
    expect(jb.generationId).toBe(1);
    expect(ja.leader).toBe(a.memberId);
    expect(jb.leader).toBe(a.memberId);
    expect(ja.members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId]);
    expect(jb.members).toEqual([]);

    // The follower's SyncGroup waits for the leader's.
    const sb = sync(h, b.memberId, 1);
    expect(await isSettled(sb)).toBe(false);
    const sa = await sync(h, a.memberId, 1, { [a.memberId]: 'p0', [b.memberId]: 'p1' });
    expect(sa.assignment.toString()).toBe('p0');
    expect((await sb).assignment.toString()).toBe('p1');
    expect(h.coordinator.groupState('g')).toBe('Stable');
    // A SyncGroup in Stable returns the current assignment.
    expect((await sync(h, b.memberId, 1)).assignment.toString()).toBe('p1');
  });

  it('three members; a member leaving triggers a rebalance the others rejoin', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId, leader } = await stableGroup(h, 3);
    expect(generationId).toBe(1);
    expect(memberIds).toHaveLength(3);
    expect(leader).toBe(memberIds[0]);
    for (const id of memberIds) expect(await heartbeat(h, id, 1)).toBe(NONE);

    const [m0, m1, m2] = memberIds as [string, string, string];
    const left = await h.coordinator.leaveGroup(
      { groupId: 'g', members: [{ memberId: m2, groupInstanceId: null }] },
      { apiVersion: 3 },
    );
    expect(left.errorCode).toBe(NONE);
    expect(left.members).toEqual([{ memberId: m2, groupInstanceId: null, errorCode: NONE }]);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    expect(await heartbeat(h, m0, 1)).toBe(REBALANCE_IN_PROGRESS);
    expect(await heartbeat(h, m2, 1)).toBe(UNKNOWN_MEMBER_ID);

    const r0 = join(h, { memberId: m0 });
    expect(await isSettled(r0)).toBe(false);
    const r1 = join(h, { memberId: m1 });
    const [j0, j1] = await Promise.all([r0, r1]);
    expect(j0.generationId).toBe(2);
    expect(j1.generationId).toBe(2);
    expect(j0.members.map((m) => m.memberId).sort()).toEqual([m0, m1].sort());
    expect(j1.members).toEqual([]);
  });

  it('a new member joining a Stable group makes everyone rejoin into the next generation', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 2);
    const [m0, m1] = memberIds as [string, string];
    const c = await joinNew(h, { clientId: 'c' });
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    expect(await heartbeat(h, m1, 1)).toBe(REBALANCE_IN_PROGRESS);
    // A commit from the old generation is still accepted while preparing.
    const commit = await h.coordinator.offsetCommit(
      {
        groupId: 'g',
        generationIdOrMemberEpoch: 1,
        memberId: m1,
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5, committedMetadata: null }] },
        ],
      },
      { apiVersion: 8 },
    );
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(NONE);
    const [j0, j1, jc] = await Promise.all([join(h, { memberId: m0 }), join(h, { memberId: m1 }), c.joined]);
    expect([j0.generationId, j1.generationId, jc.generationId]).toEqual([2, 2, 2]);
    expect(j0.leader).toBe(m0);
    expect(j0.members).toHaveLength(3);
  });

  it('session timeout: a member that stops heartbeating is removed and the group rebalances', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 2, { sessionTimeoutMs: 10_000 });
    const [m0, m1] = memberIds as [string, string];
    for (let t = 0; t < 2; t++) {
      await h.clock.advance(4000);
      expect(await heartbeat(h, m0, 1)).toBe(NONE);
    }
    await h.clock.advance(4000);
    // m1 has been silent for 12 s.
    expect(h.coordinator.group('g')!.has(m1)).toBe(false);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    expect(await heartbeat(h, m0, 1)).toBe(REBALANCE_IN_PROGRESS);
    const j0 = await join(h, { memberId: m0 });
    expect(j0.generationId).toBe(2);
    expect(j0.members.map((m) => m.memberId)).toEqual([m0]);
  });

  it('rebalance timeout: a member that does not rejoin in time is dropped from the new generation', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 2, { sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 20_000 });
    const [m0, m1] = memberIds as [string, string];
    // The leader rejoining starts a rebalance.
    const r0 = join(h, { memberId: m0, sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 20_000 });
    await h.clock.advance(19_999);
    expect(await isSettled(r0)).toBe(false);
    await h.clock.advance(1);
    const j0 = await r0;
    expect(j0.generationId).toBe(2);
    expect(j0.members.map((m) => m.memberId)).toEqual([m0]);
    expect(await heartbeat(h, m1, 1)).toBe(UNKNOWN_MEMBER_ID);
  });

  it('members that never send SyncGroup are removed after the rebalance timeout', async () => {
    const h = await startCoordinator();
    const a = await joinNew(h, { clientId: 'a', rebalanceTimeoutMs: 10_000, sessionTimeoutMs: 30_000 });
    const b = await joinNew(h, { clientId: 'b', rebalanceTimeoutMs: 10_000, sessionTimeoutMs: 30_000 });
    const [ja] = await advanceUntil(h, Promise.all([a.joined, b.joined]));
    await sync(h, a.memberId, ja.generationId, { [a.memberId]: 'x', [b.memberId]: 'y' });
    await h.clock.advance(10_000);
    expect(h.coordinator.group('g')!.has(b.memberId)).toBe(false);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
  });

  it('ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 1);
    const m0 = memberIds[0]!;
    expect(await heartbeat(h, m0, 7)).toBe(ILLEGAL_GENERATION);
    expect((await sync(h, m0, 7)).errorCode).toBe(ILLEGAL_GENERATION);
    expect(await heartbeat(h, 'nobody', 1)).toBe(UNKNOWN_MEMBER_ID);
    expect((await sync(h, 'nobody', 1)).errorCode).toBe(UNKNOWN_MEMBER_ID);
    expect(await heartbeat(h, m0, 1, 'no-such-group')).toBe(UNKNOWN_MEMBER_ID);
    // A join with a member id to a group that does not exist.
    expect((await join(h, { groupId: 'other', memberId: 'stale-id' })).errorCode).toBe(UNKNOWN_MEMBER_ID);
    expect((await join(h, { memberId: 'stale-id' })).errorCode).toBe(UNKNOWN_MEMBER_ID);
    expect((await join(h, { groupId: '' })).errorCode).toBe(INVALID_GROUP_ID);
  });

  it('session timeouts outside group.min/max.session.timeout.ms are refused', async () => {
    const h = await startCoordinator();
    expect((await join(h, { sessionTimeoutMs: 5999 })).errorCode).toBe(INVALID_SESSION_TIMEOUT);
    expect((await join(h, { sessionTimeoutMs: 1_800_001 })).errorCode).toBe(INVALID_SESSION_TIMEOUT);
  });

  it('group.max.size turns away members beyond the limit', async () => {
    const h = await startCoordinator({ config: { 'group.max.size': 2 } });
    await stableGroup(h, 2);
    const third = await join(h, { apiVersion: 3 });
    expect(third.errorCode).toBe(GROUP_MAX_SIZE_REACHED);
    expect(third.memberId).toBe('');
  });

  it('chooses the protocol all members support, by vote; refuses incompatible members', async () => {
    const h = await startCoordinator();
    const a = await joinNew(h, { clientId: 'a', protocols: protocols('range', 'sticky', 'roundrobin') });
    const b = await joinNew(h, { clientId: 'b', protocols: protocols('sticky', 'roundrobin') });
    const c = await joinNew(h, { clientId: 'c', protocols: protocols('roundrobin', 'sticky') });
    // A member rejoining with another protocol type, a new member with no protocol in common.
    const wrongType = await join(h, { memberId: c.memberId, protocolType: 'connect' });
    expect(wrongType.errorCode).toBe(INCONSISTENT_GROUP_PROTOCOL);
    const noCommon = await join(h, { apiVersion: 3, protocols: protocols('cooperative') });
    expect(noCommon.errorCode).toBe(INCONSISTENT_GROUP_PROTOCOL);
    const [ja] = await advanceUntil(h, Promise.all([a.joined, b.joined, c.joined]));
    // Candidates {roundrobin, sticky}: a votes sticky (its first candidate), b sticky, c roundrobin.
    expect(ja.protocolName).toBe('sticky');
    expect(ja.members.map((m) => m.metadata.toString())).toEqual([
      'meta:sticky',
      'meta:sticky',
      'meta:sticky',
    ]);
  });

  it('an empty group refuses an empty protocol type or list', async () => {
    const h = await startCoordinator();
    expect((await join(h, { apiVersion: 3, protocolType: '' })).errorCode).toBe(INCONSISTENT_GROUP_PROTOCOL);
    expect((await join(h, { apiVersion: 3, protocols: [] })).errorCode).toBe(INCONSISTENT_GROUP_PROTOCOL);
  });

  it('serves other protocol types the same way (Connect workers)', async () => {
    const h = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    const j = await join(h, {
      groupId: 'connect-cluster',
      apiVersion: 3,
      protocolType: 'connect',
      protocols: protocols('sessioned', 'compatible', 'default'),
    });
    expect(j.errorCode).toBe(NONE);
    expect(j.protocolType).toBe('connect');
    expect(j.protocolName).toBe('sessioned');
    const listed = await h.coordinator.listGroups();
    expect(listed.groups).toEqual([
      {
        groupId: 'connect-cluster',
        protocolType: 'connect',
        groupState: 'CompletingRebalance',
        groupType: 'classic',
      },
    ]);
  });

  it('a follower rejoining a Stable group with the same metadata gets the current generation', async () => {
    const h = await startCoordinator();
    const { memberIds, leader } = await stableGroup(h, 2);
    const follower = memberIds[1]!;
    const j = await join(h, { memberId: follower });
    expect(j.errorCode).toBe(NONE);
    expect(j.generationId).toBe(1);
    expect(j.leader).toBe(leader);
    expect(h.coordinator.groupState('g')).toBe('Stable');
    // With other metadata, it forces a rebalance.
    const changed = join(h, { memberId: follower, protocols: protocols('range', 'sticky') });
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    const jl = await join(h, { memberId: leader });
    expect((await changed).generationId).toBe(2);
    expect(jl.generationId).toBe(2);
  });

  it('LeaveGroup v0–2 reports the member error at the top level', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 1);
    const bad = await h.coordinator.leaveGroup({ groupId: 'g', memberId: 'nobody' }, { apiVersion: 1 });
    expect(bad).toEqual({ throttleTimeMs: 0, errorCode: UNKNOWN_MEMBER_ID, members: [] });
    const ok = await h.coordinator.leaveGroup({ groupId: 'g', memberId: memberIds[0]! }, { apiVersion: 1 });
    expect(ok.errorCode).toBe(NONE);
    // The last member left: the next generation is empty.
    expect(h.coordinator.groupState('g')).toBe('Empty');
    expect(h.coordinator.group('g')!.generationId).toBe(2);
  });
});
