/**
 * Leader election: one leader per term, re-election after a crash, the log up-to-date check in
 * votes, pre-vote (a partitioned node cannot disrupt on rejoin) and check-quorum.
 * Runs real RaftNodes over the simulator with a fault-free network.
 */
import { describe, expect, it } from 'vitest';
import type { RaftConfigInput } from '../../../core/cluster/raft/config.js';
import { SimCluster } from '../../../core/cluster/sim/sim-cluster.js';
import { SeededRandom } from '../../../core/env/random.js';

function cluster(seed: number, voters = [1, 2, 3], raft: Omit<RaftConfigInput, 'voters'> = {}): SimCluster {
  return new SimCluster({
    random: new SeededRandom(seed),
    voters,
    raft: { electionTimeoutMs: 200, heartbeatIntervalMs: 40, ...raft },
  });
}

describe('raft election', () => {
  it('elects exactly one leader, which commits a no-op of its term', async () => {
    const c = cluster(1);
    c.startAll();
    const leader = await c.waitForLeader();
    await c.runFor(1000);
    const statuses = c.upNodes().map((n) => n.node!.status());
    expect(statuses.filter((s) => s.role === 'leader')).toHaveLength(1);
    const { term } = leader.status();
    for (const s of statuses) {
      expect(s.term).toBe(term);
      expect(s.leaderId).toBe(leader.id);
      expect(s.commitIndex).toBe(1);
    }
    expect(leader.entry(1)).toMatchObject({ index: 1, term, type: 0 });
    expect(c.failed).toBeNull();
  });

  it('a single voter elects itself', async () => {
    const c = cluster(2, [7]);
    c.startAll();
    const leader = await c.waitForLeader();
    expect(leader.id).toBe(7);
    const r = await c.settle(leader.propose(Buffer.from('x')));
    expect(r.index).toBe(2);
  });

  it('elects a new leader in a higher term when the leader crashes', async () => {
    for (const seed of [3, 4, 5]) {
      const c = cluster(seed);
      c.startAll();
      const first = await c.waitForLeader();
      const firstTerm = first.status().term;
      c.crash(first.id);
      const second = await c.waitForLeader();
      expect(second.id).not.toBe(first.id);
      expect(second.status().term).toBeGreaterThan(firstTerm);
      c.start(first.id);
      await c.runFor(1000);
      expect(c.node(first.id).status()).toMatchObject({ role: 'follower', leaderId: second.id });
      expect(c.failed).toBeNull();
    }
  });

  it('never elects a candidate whose log lacks committed entries', async () => {
    let staleWon = 0;
    for (let seed = 10; seed < 30; seed++) {
      const c = cluster(seed);
      c.startAll();
      const leader = await c.waitForLeader();
      const stale = [1, 2, 3].find((id) => id !== leader.id)!;
      const current = [1, 2, 3].find((id) => id !== leader.id && id !== stale)!;
      c.crash(stale);
      for (let i = 0; i < 5; i++) await c.settle(leader.propose(Buffer.from(`e${i}`)));
      c.crash(leader.id);
      await c.runFor(50); // let the dead leader's in-flight messages drain (they would update `stale`)
      c.start(stale); // only `stale` and `current` are up: `current` alone can win
      const next = await c.waitForLeader();
      if (next.id === stale) staleWon++;
      expect(next.id).toBe(current);
      expect(next.status().lastIndex).toBeGreaterThanOrEqual(6);
      expect(c.failed).toBeNull();
    }
    expect(staleWon).toBe(0);
  });

  it('with the up-to-date check disabled, a stale candidate can win (the check is what prevents it)', async () => {
    let staleWon = 0;
    for (let seed = 10; seed < 30; seed++) {
      const c = cluster(seed, [1, 2, 3], { unsafe: { skipVoteLogCheck: true } });
      c.startAll();
      const leader = await c.waitForLeader();
      const stale = [1, 2, 3].find((id) => id !== leader.id)!;
      c.crash(stale);
      for (let i = 0; i < 5; i++) await c.settle(leader.propose(Buffer.from(`e${i}`)));
      c.crash(leader.id);
      await c.runFor(50);
      c.start(stale);
      const next = await c.waitForLeader();
      if (next.id === stale) staleWon++;
    }
    expect(staleWon).toBeGreaterThan(0);
  });

  it('pre-vote: a partitioned node does not bump its term and does not disrupt the leader when it returns', async () => {
    const c = cluster(40);
    c.startAll();
    const leader = await c.waitForLeader();
    const term = leader.status().term;
    const loner = [1, 2, 3].find((id) => id !== leader.id)!;
    c.network.partition([[loner], [1, 2, 3].filter((id) => id !== loner)]);
    await c.runFor(5000); // many election timeouts
    expect(c.node(loner).status().term).toBe(term);
    expect(c.node(loner).status().role).toBe('preCandidate');
    c.network.heal();
    await c.runFor(2000);
    expect(c.leader()!.id).toBe(leader.id);
    expect(leader.status().term).toBe(term);
    expect(c.node(loner).status()).toMatchObject({ role: 'follower', term, leaderId: leader.id });
  });

  it('without pre-vote, the returning node forces a new term (what pre-vote prevents)', async () => {
    const c = cluster(40, [1, 2, 3], { preVote: false, checkQuorum: false });
    c.startAll();
    const leader = await c.waitForLeader();
    const term = leader.status().term;
    const loner = [1, 2, 3].find((id) => id !== leader.id)!;
    c.network.partition([[loner], [1, 2, 3].filter((id) => id !== loner)]);
    await c.runFor(5000);
    expect(c.node(loner).status().term).toBeGreaterThan(term + 3);
    c.network.heal();
    await c.runFor(3000);
    expect(c.leader()!.status().term).toBeGreaterThan(term);
  });

  it('check-quorum: a leader cut off from the quorum steps down; the majority elects another', async () => {
    const c = cluster(50, [1, 2, 3, 4, 5]);
    c.startAll();
    const leader = await c.waitForLeader();
    const others = [1, 2, 3, 4, 5].filter((id) => id !== leader.id);
    c.network.partition([[leader.id], others]);
    await c.runFor(2000);
    expect(leader.status().role).not.toBe('leader');
    const next = c.leader()!;
    expect(others).toContain(next.id);
    await expect(leader.propose(Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_LEADER' });
    c.network.heal();
    await c.runFor(1000);
    expect(leader.status()).toMatchObject({ role: 'follower', leaderId: next.id });
    expect(c.failed).toBeNull();
  });

  it('persists term and vote: a restarted node remembers them', async () => {
    const c = cluster(60);
    c.startAll();
    const leader = await c.waitForLeader();
    const follower = [1, 2, 3].find((id) => id !== leader.id)!;
    const before = c.node(follower).status();
    c.restart(follower);
    const after = c.node(follower).status();
    expect(after.term).toBe(before.term);
    expect(after.votedFor).toBe(before.votedFor);
  });
});
