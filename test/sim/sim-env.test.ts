/** The simulator's own parts: virtual time, the lossy disk, the faulty network. */
import { describe, expect, it } from 'vitest';
import type { RaftMessage } from '../../core/cluster/raft/messages.js';
import { NodeClock, SimClock } from '../../core/cluster/sim/sim-clock.js';
import { drainMicrotasks } from '../../core/cluster/sim/sim-cluster.js';
import { SimDisk } from '../../core/cluster/sim/sim-disk.js';
import { QUIET_NETWORK, raftWireCodec, SimNetwork } from '../../core/cluster/sim/sim-network.js';
import { Trace } from '../../core/cluster/sim/trace.js';
import { SeededRandom } from '../../core/env/random.js';

const quietDisk = { tornWriteProbability: 0, minSyncMs: 1, maxSyncMs: 1, stallProbability: 0, stallMaxMs: 0 };

describe('SimClock', () => {
  it('runs timers in due order (ties in creation order) and jumps virtual time', () => {
    const c = new SimClock();
    const seen: string[] = [];
    c.setTimeout(() => seen.push('b@10'), 10);
    c.setTimeout(() => seen.push('a@5'), 5);
    c.setTimeout(() => seen.push('c@10'), 10);
    const cancelled = c.setTimeout(() => seen.push('never'), 7);
    cancelled.cancel();
    while (c.runNext());
    expect(seen).toEqual(['a@5', 'b@10', 'c@10']);
    expect(c.monotonic()).toBe(10);
  });

  it('a killed NodeClock runs none of its timers', () => {
    const c = new SimClock();
    const n = new NodeClock(c);
    let ran = false;
    n.setTimeout(() => {
      ran = true;
    }, 5);
    n.kill();
    n.setTimeout(() => {
      ran = true;
    }, 1);
    while (c.runNext());
    expect(ran).toBe(false);
  });
});

describe('SimDisk', () => {
  it('keeps what was fsynced across a crash, drops or tears the rest', async () => {
    let sawLoss = false;
    let sawTorn = false;
    for (let seed = 1; seed <= 40; seed++) {
      const clock = new SimClock();
      const disk = new SimDisk(new SeededRandom(seed), { ...quietDisk, tornWriteProbability: 0.5 });
      const fs = disk.mount(new NodeClock(clock));
      fs.mkdirp('/d');
      const h = fs.open('/d/f', { create: true });
      h.write(Buffer.from('durable|'), 0, 8, 0);
      let synced = false;
      h.sync().then(() => {
        synced = true;
      });
      while (clock.runNext());
      await drainMicrotasks();
      expect(synced).toBe(true);
      h.write(Buffer.from('volatile'), 0, 8, 8);
      expect(fs.readFile('/d/f').toString()).toBe('durable|volatile');
      disk.crash();
      expect(() => h.size()).toThrow(/dead/);
      const after = disk.mount(new NodeClock(clock)).readFile('/d/f').toString();
      expect(after.startsWith('durable|')).toBe(true);
      expect('durable|volatile'.startsWith(after)).toBe(true);
      if (after === 'durable|') sawLoss = true;
      if (after.length > 8 && after.length < 16) sawTorn = true;
    }
    expect(sawLoss).toBe(true);
    expect(sawTorn).toBe(true);
  });

  it('an fsync in flight when the process dies never completes', async () => {
    const clock = new SimClock();
    const disk = new SimDisk(new SeededRandom(1), quietDisk);
    const fs = disk.mount(new NodeClock(clock));
    const h = fs.open('/f', { create: true });
    h.write(Buffer.from('x'), 0, 1, 0);
    let synced = false;
    h.sync().then(() => {
      synced = true;
    });
    disk.crash();
    while (clock.runNext());
    await drainMicrotasks();
    expect(synced).toBe(false);
  });

  it('writeFileAtomic is durable at once; readdir lists names', () => {
    const disk = new SimDisk(new SeededRandom(1), quietDisk);
    const fs = disk.mount(new SimClock());
    fs.mkdirp('/a/b');
    fs.writeFileAtomic('/a/b/snap', Buffer.from('s'));
    disk.crash();
    const fs2 = disk.mount(new SimClock());
    expect(fs2.readFile('/a/b/snap').toString()).toBe('s');
    expect(fs2.readdir('/a')).toEqual(['b']);
    expect(fs2.readdir('/a/b')).toEqual(['snap']);
  });
});

describe('SimNetwork', () => {
  const msg: RaftMessage = { type: 'learnerJoin', from: 1, term: 3 };

  it('delivers decoded copies, drops across a partition, heals', () => {
    const clock = new SimClock();
    const net = new SimNetwork(
      clock,
      new SeededRandom(1),
      QUIET_NETWORK,
      new Trace(),
      raftWireCodec(1 << 20),
    );
    const a = net.attach(1);
    const b = net.attach(2);
    const got: RaftMessage[] = [];
    b.onMessage((m) => got.push(m));
    a.send(2, msg);
    while (clock.runNext());
    expect(got).toEqual([msg]);
    expect(got[0]).not.toBe(msg);
    net.partition([[1], [2]]);
    a.send(2, msg);
    while (clock.runNext());
    expect(got).toHaveLength(1);
    net.heal();
    net.cutOneWay(2, 1);
    a.send(2, msg);
    while (clock.runNext());
    expect(got).toHaveLength(2);
  });

  it('duplicates and reorders when told to', () => {
    const clock = new SimClock();
    const net = new SimNetwork(
      clock,
      new SeededRandom(7),
      { ...QUIET_NETWORK, duplicateProbability: 0.5, longDelayProbability: 0.3, longDelayMaxMs: 100 },
      new Trace(),
      raftWireCodec(1 << 20),
    );
    const a = net.attach(1);
    const b = net.attach(2);
    const terms: number[] = [];
    b.onMessage((m) => terms.push(m.term));
    for (let t = 1; t <= 50; t++) a.send(2, { ...msg, term: t });
    while (clock.runNext());
    expect(terms.length).toBeGreaterThan(50);
    expect(terms).not.toEqual([...terms].sort((x, y) => x - y));
  });
});
