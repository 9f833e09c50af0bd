/**
 * Snapshots: taken every snapshotIntervalEntries, the log compacted behind them, restored on
 * restart, and installed (in chunks) on a follower that is behind the compacted prefix.
 */
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../../core/cluster/sim/sim-cluster.js';
import { SeededRandom } from '../../../core/env/random.js';

function cluster(seed: number, learners: number[] = []) {
  return new SimCluster({
    random: new SeededRandom(seed),
    voters: [1, 2, 3],
    learners,
    raft: {
      electionTimeoutMs: 200,
      heartbeatIntervalMs: 40,
      snapshotIntervalEntries: 20,
      retainEntriesAfterSnapshot: 5,
      segmentBytes: 300,
      snapshotChunkBytes: 128,
    },
    snapshotPadBytes: 1000, // snapshots span several chunks
  });
}

async function proposeMany(c: SimCluster, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) await c.settle(c.leader()!.propose(Buffer.from(`${tag}-${i}`)));
}

describe('raft snapshots', () => {
  it('takes snapshots and compacts the log behind them', async () => {
    const c = cluster(1);
    c.startAll();
    await c.waitForLeader();
    await proposeMany(c, 100, 'a');
    await c.runFor(300);
    for (const n of c.upNodes()) {
      const s = n.node!.status();
      expect(s.snapshotIndex).toBeGreaterThanOrEqual(80);
      expect(s.firstIndex).toBeGreaterThan(1);
      expect(s.firstIndex).toBeLessThanOrEqual(s.snapshotIndex + 1);
      expect(n.node!.entry(1)).toBeNull();
      const files = n.disk.mount(n.clock!).readdir('/data/raft');
      expect(files.filter((f) => f.endsWith('.raftsnap'))).toHaveLength(1);
      expect(files.filter((f) => f.endsWith('.raftlog')).length).toBeLessThan(20);
    }
  });

  it('a restarted node restores its state machine from its snapshot and the log after it', async () => {
    const c = cluster(2);
    c.startAll();
    const leader = await c.waitForLeader();
    await proposeMany(c, 45, 'b');
    await c.runFor(300);
    const id = [1, 2, 3].find((x) => x !== leader.id)!;
    const before = c.nodes.get(id)!.sm!.digest;
    const snapBefore = c.node(id).status().snapshotIndex;
    c.restart(id);
    const restarted = c.node(id).status();
    expect(restarted.snapshotIndex).toBe(snapBefore);
    expect(restarted.lastApplied).toBe(snapBefore); // commit index is volatile: learnt again from the leader
    await c.runUntil(() => c.node(id).status().lastApplied === leader.status().commitIndex, 2000);
    expect(c.nodes.get(id)!.sm!.digest).toBe(before);
    expect(c.failed).toBeNull();
  });

  it('sends a snapshot in chunks to a follower behind the compacted prefix', async () => {
    const c = cluster(3);
    c.startAll();
    const leader = await c.waitForLeader();
    const lagger = [1, 2, 3].find((x) => x !== leader.id)!;
    c.crash(lagger);
    await proposeMany(c, 80, 'c');
    expect(leader.status().firstIndex).toBeGreaterThan(2); // what it needs is gone
    const chunksBefore = c.network.sentOf('snapshot');
    c.start(lagger);
    await c.runUntil(() => c.node(lagger).status().lastApplied === leader.status().commitIndex, 5000);
    expect(c.network.sentOf('snapshot') - chunksBefore).toBeGreaterThan(3);
    expect(c.node(lagger).status().snapshotIndex).toBeGreaterThan(0);
    expect(c.nodes.get(lagger)!.sm!.digest).toBe(c.nodes.get(leader.id)!.sm!.digest);
    // and keeps following with ordinary AppendEntries afterwards
    await proposeMany(c, 5, 'd');
    await c.runFor(300);
    expect(c.nodes.get(lagger)!.sm!.digest).toBe(c.nodes.get(leader.id)!.sm!.digest);
    expect(c.failed).toBeNull();
  });

  it('a learner joining late gets a snapshot with the learner set in it', async () => {
    const c = cluster(4, [100, 101]);
    for (const id of [1, 2, 3, 100]) c.start(id);
    await c.waitForLeader();
    await proposeMany(c, 60, 'e');
    c.start(101);
    await c.runUntil(
      () => c.upNodes().every((n) => n.node!.status().lastApplied === c.leader()!.status().commitIndex),
      5000,
    );
    expect(c.node(101).status().snapshotIndex).toBeGreaterThan(0);
    expect(c.node(101).status().learners).toEqual([100, 101]);
    // membership survives a restart from a snapshot (and the log re-fetched after it)
    c.restart(101);
    await c.runUntil(() => c.node(101).status().lastApplied === c.leader()!.status().commitIndex, 5000);
    expect(c.node(101).status().learners).toEqual([100, 101]);
    expect(c.failed).toBeNull();
  });
});
