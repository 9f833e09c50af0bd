import { describe, expect, it } from 'vitest';
import type { JoinGroupResponse } from '../../../core/broker/group-coordinator.js';
import { MemoryGroupStorage, type StorageRecord } from '../../../core/broker/offsets-store.js';
import {
  advanceUntil,
  type Harness,
  heartbeat,
  isSettled,
  join,
  protocols,
  startCoordinator,
  sync,
} from './group-helpers.js';

const NONE = 0;
const UNKNOWN_MEMBER_ID = 25;
const FENCED_INSTANCE_ID = 82;
const NOT_COORDINATOR = 16;

/** Two static members (instance ids i0, i1) in a Stable group, generation 1. */
async function staticGroup(
  h: Harness,
  apiVersion = 5,
): Promise<{ j0: JoinGroupResponse; j1: JoinGroupResponse }> {
  const r0 = join(h, { groupInstanceId: 'i0', clientId: 'c0', apiVersion });
  const r1 = join(h, { groupInstanceId: 'i1', clientId: 'c1', apiVersion });
  const [j0, j1] = await advanceUntil(h, Promise.all([r0, r1]));
  const assignments = { [j0.memberId]: 'a0', [j1.memberId]: 'a1' };
  await Promise.all([
    sync(h, j0.memberId, 1, assignments, 'g', 'i0'),
    sync(h, j1.memberId, 1, {}, 'g', 'i1'),
  ]);
  return { j0, j1 };
}

describe('group coordinator: static membership', () => {
  it('static members join without the MEMBER_ID_REQUIRED round trip; ids are prefixed by the instance id', async () => {
    const h = await startCoordinator();
    const { j0, j1 } = await staticGroup(h);
    expect(j0.memberId).toMatch(/^i0-/);
    expect(j1.memberId).toMatch(/^i1-/);
    expect(j0.members.map((m) => m.groupInstanceId)).toEqual(['i0', 'i1']);
    expect(h.coordinator.groupState('g')).toBe('Stable');
  });

  it('a restarted static member takes over its old place without a rebalance; the old id is fenced', async () => {
    const h = await startCoordinator();
    const { j0, j1 } = await staticGroup(h);
    const rejoined = await join(h, { groupInstanceId: 'i1', clientId: 'c1' });
    expect(rejoined.errorCode).toBe(NONE);
    expect(rejoined.memberId).not.toBe(j1.memberId);
    expect(rejoined.memberId).toMatch(/^i1-/);
    expect(rejoined.generationId).toBe(1);
    expect(rejoined.leader).toBe(j0.memberId);
    expect(rejoined.members).toEqual([]);
    expect(h.coordinator.groupState('g')).toBe('Stable');

    // Same generation: the new id syncs and gets the old assignment; the old id is fenced.
    const s = await sync(h, rejoined.memberId, 1, {}, 'g', 'i1');
    expect(s.errorCode).toBe(NONE);
    expect(s.assignment.toString()).toBe('a1');
    expect(await heartbeat(h, rejoined.memberId, 1, 'g', 'i1')).toBe(NONE);
    expect(await heartbeat(h, j1.memberId, 1, 'g', 'i1')).toBe(FENCED_INSTANCE_ID);
    expect(await heartbeat(h, j1.memberId, 1)).toBe(UNKNOWN_MEMBER_ID);
    expect(await heartbeat(h, j0.memberId, 1, 'g', 'i0')).toBe(NONE);
    expect((await sync(h, j1.memberId, 1, {}, 'g', 'i1')).errorCode).toBe(FENCED_INSTANCE_ID);

    // The replacement is persisted: the group record names the new member id.
    const storage = h.storage as MemoryGroupStorage;
    const p = h.coordinator.partitionFor('g');
    const last = storage.records(p).at(-1)!;
    expect(last.value!.includes(Buffer.from(rejoined.memberId))).toBe(true);
  });

  it('a restarted static leader (v9) is told it leads but must skip the assignment', async () => {
    const h = await startCoordinator();
    const { j0 } = await staticGroup(h, 9);
    const rejoined = await join(h, { groupInstanceId: 'i0', apiVersion: 9 });
    expect(rejoined.errorCode).toBe(NONE);
    expect(rejoined.leader).toBe(rejoined.memberId);
    expect(rejoined.skipAssignment).toBe(true);
    expect(rejoined.members.map((m) => m.groupInstanceId)).toEqual(['i1', 'i0']);
    expect(rejoined.memberId).not.toBe(j0.memberId);
    expect(h.coordinator.groupState('g')).toBe('Stable');
  });

  it('before v9 the restarted static leader is answered with the old leader id', async () => {
    const h = await startCoordinator();
    const { j0 } = await staticGroup(h, 5);
    const rejoined = await join(h, { groupInstanceId: 'i0', apiVersion: 5 });
    expect(rejoined.leader).toBe(j0.memberId);
    expect(rejoined.skipAssignment).toBe(false);
  });

  it('a static member rejoining with protocols that change the group protocol triggers a rebalance', async () => {
    const h = await startCoordinator();
    await staticGroup(h);
    const rejoined = join(h, { groupInstanceId: 'i1', protocols: protocols('sticky', 'range') });
    // i0 supports only range: range stays the only candidate, no rebalance.
    expect((await rejoined).generationId).toBe(1);
    expect(h.coordinator.groupState('g')).toBe('Stable');

    const h2 = await startCoordinator();
    const both = protocols('sticky', 'range');
    const r0 = join(h2, { groupInstanceId: 'i0', protocols: both });
    const r1 = join(h2, { groupInstanceId: 'i1', protocols: both });
    const [k0, k1] = await advanceUntil(h2, Promise.all([r0, r1]));
    expect(k0.protocolName).toBe('sticky');
    await Promise.all([
      sync(h2, k0.memberId, 1, { [k0.memberId]: 'x', [k1.memberId]: 'y' }),
      sync(h2, k1.memberId, 1),
    ]);
    // i1 now supports only range: range becomes the only candidate, so the group rebalances.
    const changed = join(h2, { groupInstanceId: 'i1', protocols: protocols('range') });
    expect(h2.coordinator.groupState('g')).toBe('PreparingRebalance');
    expect(await isSettled(changed)).toBe(false);
  });

  it('a static member leaving by instance id (admin removal) triggers a rebalance', async () => {
    const h = await startCoordinator();
    const { j1 } = await staticGroup(h);
    const left = await h.coordinator.leaveGroup(
      {
        groupId: 'g',
        members: [
          { memberId: '', groupInstanceId: 'i1' },
          { memberId: '', groupInstanceId: 'nope' },
        ],
      },
      { apiVersion: 4 },
    );
    expect(left.members).toEqual([
      { memberId: '', groupInstanceId: 'i1', errorCode: NONE },
      { memberId: '', groupInstanceId: 'nope', errorCode: UNKNOWN_MEMBER_ID },
    ]);
    expect(h.coordinator.group('g')!.has(j1.memberId)).toBe(false);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
  });

  it('a leave with a fenced member id is refused', async () => {
    const h = await startCoordinator();
    const { j1 } = await staticGroup(h);
    await join(h, { groupInstanceId: 'i1' });
    const left = await h.coordinator.leaveGroup(
      { groupId: 'g', members: [{ memberId: j1.memberId, groupInstanceId: 'i1' }] },
      { apiVersion: 3 },
    );
    expect(left.members[0]!.errorCode).toBe(FENCED_INSTANCE_ID);
  });

  it('if persisting the replacement fails, the old member id stays and the join gets the error', async () => {
    const storage = new MemoryGroupStorage(4);
    let failAppends = false;
    const flaky = {
      partitionCount: storage.partitionCount,
      append: (p: number, r: StorageRecord[]) =>
        failAppends
          ? Promise.reject(Object.assign(new Error('disk'), { code: 'KAFKA_STORAGE_ERROR' }))
          : storage.append(p, r),
      readAll: (p: number) => storage.readAll(p),
    };
    const h = await startCoordinator({ storage: flaky });
    const { j1 } = await staticGroup(h);
    failAppends = true;
    const rejoined = await join(h, { groupInstanceId: 'i1' });
    expect(rejoined.errorCode).toBe(NOT_COORDINATOR);
    expect(rejoined.memberId).toBe('');
    expect(await heartbeat(h, j1.memberId, 1, 'g', 'i1')).toBe(NONE);
  });

  it('static members keep their place when they miss a rebalance, until their session expires', async () => {
    const h = await startCoordinator();
    const r0 = join(h, { groupInstanceId: 'i0', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 });
    const r1 = join(h, { groupInstanceId: 'i1', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 });
    const [j0, j1] = await advanceUntil(h, Promise.all([r0, r1]));
    await Promise.all([
      sync(h, j0.memberId, 1, { [j0.memberId]: 'a', [j1.memberId]: 'b' }),
      sync(h, j1.memberId, 1),
    ]);
    // The leader rejoins (new generation); i1 does not, within the rebalance timeout.
    const again = join(h, {
      memberId: j0.memberId,
      groupInstanceId: 'i0',
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 10_000,
    });
    await h.clock.advance(10_000);
    const a = await again;
    expect(a.generationId).toBe(2);
    expect(a.members.map((m) => m.memberId)).toEqual([j0.memberId, j1.memberId]);
  });
});
