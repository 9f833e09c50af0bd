/**
 * A follower that sees its connection to the leader close (RaftNode.peerLost: a killed process's
 * kernel closes its sockets) campaigns within a fraction of the election timeout instead of
 * waiting one to two election timeouts, the followers taking turns so as not to split the vote; while the leader is in fact alive, nothing changes.
 * Real RaftNodes over the simulator (simulated time), a fault-free network.
 */
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../../core/cluster/sim/sim-cluster.js';
import { SeededRandom } from '../../../core/env/random.js';

const ELECTION_MS = 1000;

function cluster(seed: number): SimCluster {
  return new SimCluster({
    random: new SeededRandom(seed),
    voters: [1, 2, 3],
    raft: { electionTimeoutMs: ELECTION_MS, heartbeatIntervalMs: 100 },
  });
}

describe('raft: the connection to the leader closes', () => {
  it('the followers elect a new leader within half an election timeout of the crash', async () => {
    for (const seed of [11, 12, 13, 14, 15]) {
      const c = cluster(seed);
      c.startAll();
      const first = await c.waitForLeader();
      await c.runFor(500);
      const term = first.status().term;
      c.crash(first.id);
      const crashedAt = c.nowMs;
      // messages it sent before are delivered first (TCP reports the close after the data)
      await c.runFor(50);
      // what the TCP transport reports when the leader's sockets close
      for (const n of c.upNodes()) c.node(n.id).peerLost(first.id);
      const second = await c.waitForLeader();
      // 50 + soon()'s 100 (+ 200 for the second in turn) + < 50 ms + a pre-vote and a vote
      // round trip; without peerLost the
      // followers would wait at least an election timeout less one heartbeat (≥ 900 ms)
      expect(c.nowMs - crashedAt).toBeLessThan(ELECTION_MS / 2);
      expect(second.id).not.toBe(first.id);
      expect(second.status().term).toBe(term + 1);
      expect(c.failed).toBeNull();
    }
  });

  it('a live leader keeps its place: no term change, the early pre-vote is refused', async () => {
    for (const seed of [21, 22, 23]) {
      const c = cluster(seed);
      c.startAll();
      const leader = await c.waitForLeader();
      await c.runFor(500);
      const term = leader.status().term;
      // one follower's connection closed (reset, not a death): it alone loses the lease
      const follower = c.upNodes().find((n) => n.id !== leader.id)!;
      c.node(follower.id).peerLost(leader.id);
      await c.runFor(5 * ELECTION_MS);
      for (const n of c.upNodes()) expect(c.node(n.id).status()).toMatchObject({ term, leaderId: leader.id });
      expect(c.failed).toBeNull();
    }
  });
});
