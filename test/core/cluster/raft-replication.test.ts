/**
 * Log replication: proposals commit and apply everywhere, NOT_LEADER carries the leader, a
 * deposed leader's divergent entries are truncated and repaired, readIndex is linearizable,
 * learners join a running cluster and follow the log without voting.
 */
import { describe, expect, it } from 'vitest';
import type { RaftConfigInput } from '../../../core/cluster/raft/config.js';
import { EntryType } from '../../../core/cluster/raft/types.js';
import { SimCluster } from '../../../core/cluster/sim/sim-cluster.js';
import { SeededRandom } from '../../../core/env/random.js';

function cluster(
  seed: number,
  voters = [1, 2, 3],
  learners: number[] = [],
  raft: Omit<RaftConfigInput, 'voters'> = {},
) {
  return new SimCluster({
    random: new SeededRandom(seed),
    voters,
    learners,
    raft: { electionTimeoutMs: 200, heartbeatIntervalMs: 40, ...raft },
  });
}

const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString();

describe('raft replication', () => {
  it('commits proposals in order and applies them on every node', async () => {
    const c = cluster(1, [1, 2, 3], [], { maxEntriesPerAppend: 3, maxInflightAppends: 2 });
    c.startAll();
    const leader = await c.waitForLeader();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => c.settle(leader.propose(Buffer.from(`cmd-${i}`)))),
    );
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    await c.runFor(500);
    const digests = c.upNodes().map((n) => n.sm!.digest);
    expect(new Set(digests).size).toBe(1);
    for (const n of c.upNodes()) {
      expect(n.node!.status().lastApplied).toBe(21);
      expect(text(n.node!.entry(21)?.data)).toBe('cmd-19');
    }
    expect(c.failed).toBeNull();
  });

  it('rejects proposals at a follower with NOT_LEADER naming the leader', async () => {
    const c = cluster(2);
    c.startAll();
    const leader = await c.waitForLeader();
    await c.runFor(200);
    const follower = c.upNodes().find((n) => n.id !== leader.id)!.node!;
    await expect(follower.propose(Buffer.from('x'))).rejects.toMatchObject({
      code: 'NOT_LEADER',
      leaderId: leader.id,
      retriable: true,
    });
    await expect(follower.readIndex()).rejects.toMatchObject({ code: 'NOT_LEADER', leaderId: leader.id });
  });

  it('rejects oversized commands and enforces the pending-proposal limit', async () => {
    const c = cluster(3, [1], [], { maxCommandBytes: 100, maxPendingProposals: 2 });
    c.startAll();
    const leader = await c.waitForLeader();
    await expect(leader.propose(new Uint8Array(101))).rejects.toMatchObject({ code: 'PROPOSAL_TOO_LARGE' });
    const a = leader.propose(Buffer.from('a'));
    const b = leader.propose(Buffer.from('b'));
    await expect(leader.propose(Buffer.from('c'))).rejects.toMatchObject({ code: 'TOO_MANY_PENDING' });
    await c.settle(Promise.all([a, b]));
  });

  it("repairs a deposed leader's log: its uncommitted entries are truncated and replaced", async () => {
    const c = cluster(4, [1, 2, 3, 4, 5]);
    c.startAll();
    const old = await c.waitForLeader();
    await c.settle(old.propose(Buffer.from('committed')));
    const others = [1, 2, 3, 4, 5].filter((id) => id !== old.id);
    c.network.partition([[old.id], others]);
    // the isolated leader appends entries no quorum will ever hold
    const doomed = [0, 1, 2].map((i) => old.propose(Buffer.from(`doomed-${i}`)));
    const outcomes = Promise.allSettled(doomed);
    await c.runFor(100);
    const divergentFrom = old.status().lastIndex - 2;
    await c.runUntil(() => c.leader() !== null && c.leader()!.id !== old.id, 5000);
    const next = c.leader()!;
    for (let i = 0; i < 4; i++) await c.settle(next.propose(Buffer.from(`new-${i}`)));
    c.network.heal();
    await c.runFor(1000);
    const settled = await c.settle(outcomes);
    expect(
      settled.every((s) => s.status === 'rejected' && (s.reason as { code: string }).code === 'NOT_LEADER'),
    ).toBe(true);
    expect(old.status().role).toBe('follower');
    for (let i = divergentFrom; i <= next.status().lastIndex; i++) {
      expect(old.entry(i)).toEqual(next.entry(i));
    }
    expect(text(old.entry(divergentFrom)?.data)).not.toMatch(/doomed/);
    expect(old.status().commitIndex).toBe(next.status().commitIndex);
    expect(c.failed).toBeNull();
  });

  it('repairs a follower that lags far behind (fast backup over many entries)', async () => {
    const c = cluster(5, [1, 2, 3], [], { maxEntriesPerAppend: 4 });
    c.startAll();
    const leader = await c.waitForLeader();
    const lagger = [1, 2, 3].find((id) => id !== leader.id)!;
    c.crash(lagger);
    for (let i = 0; i < 50; i++) await c.settle(leader.propose(Buffer.from(`e${i}`)));
    c.start(lagger);
    await c.runUntil(() => c.node(lagger).status().lastApplied === leader.status().commitIndex, 5000);
    expect(c.nodes.get(lagger)!.sm!.digest).toBe(c.nodes.get(leader.id)!.sm!.digest);
  });

  it('readIndex covers every acknowledged write and waits for the leader to commit in its term', async () => {
    const c = cluster(6);
    c.startAll();
    const leader = await c.waitForLeader();
    const { index } = await c.settle(leader.propose(Buffer.from('w1')));
    const read = await c.settle(leader.readIndex());
    expect(read).toBeGreaterThanOrEqual(index);
    expect(c.nodes.get(leader.id)!.sm!.lastIndex).toBeGreaterThanOrEqual(index);
  });

  it('readIndex fails on a leader that lost its quorum', async () => {
    const c = cluster(7, [1, 2, 3], [], { checkQuorum: false, readTimeoutMs: 500 });
    c.startAll();
    const leader = await c.waitForLeader();
    await c.runFor(200);
    c.network.partition([[leader.id], [1, 2, 3].filter((id) => id !== leader.id)]);
    await expect(c.settle(leader.readIndex())).rejects.toMatchObject({
      code: expect.stringMatching(/NOT_LEADER|REQUEST_TIMED_OUT/),
    });
  });

  it('a learner joins a running cluster by itself, follows the log and never votes', async () => {
    const c = cluster(8, [1, 2, 3], [100]);
    for (const id of [1, 2, 3]) c.start(id);
    const leader = await c.waitForLeader();
    for (let i = 0; i < 10; i++) await c.settle(leader.propose(Buffer.from(`before-${i}`)));
    c.start(100); // a broker starting up: it only knows controller.quorum.voters
    await c.runUntil(() => c.node(100).status().lastApplied === leader.status().commitIndex, 5000);
    expect(leader.status().learners).toEqual([100]);
    const learner = c.node(100);
    expect(learner.status()).toMatchObject({ role: 'learner', leaderId: leader.id });
    expect(leader.followers().find((f) => f.id === 100)).toMatchObject({ voter: false });
    // the addLearner entry is in the log
    const entries = Array.from({ length: leader.status().lastIndex }, (_, i) => leader.entry(i + 1)!);
    expect(entries.some((e) => e.type === EntryType.addLearner)).toBe(true);
    // a learner does not count for the quorum: with two voters down nothing commits
    const others = [1, 2, 3].filter((id) => id !== leader.id);
    for (const id of others) c.crash(id);
    const stuck = leader.propose(Buffer.from('needs-quorum'));
    await c.runFor(100);
    expect(leader.status().commitIndex).toBeLessThan(leader.status().lastIndex);
    for (const id of others) c.start(id);
    await c.settle(stuck).catch(() => {});
    await c.runFor(1000);
    // and never becomes leader
    expect(learner.status().role).toBe('learner');
    expect(c.failed).toBeNull();
  });

  it('addLearner on the leader replicates to a learner that has not asked', async () => {
    const c = cluster(9, [1, 2, 3], [100]);
    c.startAll();
    const leader = await c.waitForLeader();
    await c.settle(leader.addLearner(100));
    await expect(leader.addLearner(2)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await c.settle(leader.propose(Buffer.from('x')));
    await c.runFor(500);
    expect(c.node(100).status().lastApplied).toBe(leader.status().commitIndex);
    await c.settle(leader.removeLearner(100));
    expect(leader.status().learners).toEqual([]);
  });
});
