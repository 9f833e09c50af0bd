/**
 * The fault schedule of the faulty phase, drawn from the run's PRNG: crashes (one node, or
 * several at once: a power cut) with delayed restarts, immediate restarts, network partitions
 * (random splits, an isolated leader, one-way cuts), heals, network storms (heavy loss,
 * duplication and long delays for a while) and fsync stalls. stop() ends the faults: links
 * heal, the network and disks turn quiet, every node is started.
 */
import type { TimerHandle } from '../../env/clock.js';
import type { NodeId } from '../raft/types.js';
import type { Scenario } from './scenario.js';
import type { SimCluster } from './sim-cluster.js';
import { QUIET_NETWORK } from './sim-network.js';

type Action =
  | 'crash'
  | 'crashMidWrite'
  | 'powerCut'
  | 'restart'
  | 'partition'
  | 'isolateLeader'
  | 'cutOneWay'
  | 'heal'
  | 'storm'
  | 'stall';

const WEIGHTS: readonly [Action, number][] = [
  ['crash', 3],
  ['crashMidWrite', 2],
  ['powerCut', 1],
  ['restart', 2],
  ['partition', 3],
  ['isolateLeader', 2],
  ['cutOneWay', 1],
  ['heal', 4],
  ['storm', 1],
  ['stall', 1],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((a, [, w]) => a + w, 0);

export class FaultInjector {
  private readonly timers = new Set<TimerHandle>();
  private stopped = false;
  faults = 0;

  constructor(
    private readonly c: SimCluster,
    private readonly s: Scenario,
  ) {}

  start(): void {
    this.scheduleNext();
  }

  private later(delayMs: number, fn: () => void): void {
    const h = this.c.clock.setTimeout(() => {
      this.timers.delete(h);
      if (!this.stopped) fn();
    }, delayMs);
    this.timers.add(h);
  }

  private scheduleNext(): void {
    const r = this.c.random;
    this.later(r.next() * 2 * this.s.faultMeanIntervalMs, () => {
      this.inject();
      this.scheduleNext();
    });
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.c.random.int(items.length)];
  }

  private allIds(): NodeId[] {
    return [...this.c.nodes.keys()].filter((id) => this.c.isUp(id) || this.c.nodes.get(id)!.incarnation > 0);
  }

  private restartLater(id: NodeId): void {
    const downMs = 20 + this.c.random.next() * 6 * (this.s.raft.electionTimeoutMs ?? 300);
    this.later(downMs, () => {
      if (!this.c.isUp(id)) this.c.start(id);
    });
  }

  private inject(): void {
    const { c } = this;
    const r = c.random;
    let roll = r.next() * TOTAL_WEIGHT;
    let action: Action = 'heal';
    for (const [a, w] of WEIGHTS) {
      roll -= w;
      if (roll < 0) {
        action = a;
        break;
      }
    }
    this.faults++;
    switch (action) {
      case 'crash': {
        // half the time, a node with writes in flight: the crashes that lose and tear data
        const busy = c.upNodes().filter((u) => u.disk.unsyncedOps > 0);
        const n = this.pick(busy.length > 0 && r.next() < 0.5 ? busy : c.upNodes());
        if (!n) return;
        c.crash(n.id);
        if (r.next() < 0.85) this.restartLater(n.id);
        return;
      }
      case 'crashMidWrite': {
        const n = this.pick(c.upNodes());
        if (!n) return;
        const id = n.id;
        const incarnation = n.incarnation;
        n.disk.armCrash(1 + r.int(30), () => {
          // the next event, before any fsync (whose latency is > 0) completes
          c.clock.setTimeout(() => {
            const now = c.nodes.get(id)!;
            if (this.stopped || now.node === null || now.incarnation !== incarnation) return;
            c.log(`node ${id} crashes in the middle of writing`);
            c.crash(id);
            this.restartLater(id);
          }, 0);
        });
        return;
      }
      case 'powerCut': {
        const up = c.upNodes();
        const victims = up.filter(() => r.next() < 0.6);
        c.log(`power cut: ${victims.map((v) => v.id).join(',') || 'nobody'}`);
        for (const v of victims) {
          c.crash(v.id);
          this.restartLater(v.id);
        }
        return;
      }
      case 'restart': {
        const n = this.pick(c.upNodes());
        if (n) c.restart(n.id);
        const down = this.pick(c.downNodes().filter((d) => d.incarnation > 0));
        if (down && r.next() < 0.5) c.start(down.id);
        return;
      }
      case 'partition': {
        const ids = this.allIds();
        for (let i = ids.length - 1; i > 0; i--) {
          const j = r.int(i + 1);
          [ids[i], ids[j]] = [ids[j]!, ids[i]!];
        }
        const cut = 1 + r.int(Math.max(1, ids.length - 1));
        const groups = [ids.slice(0, cut), ids.slice(cut)];
        c.network.heal();
        c.network.partition(groups);
        c.log(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}`);
        return;
      }
      case 'isolateLeader': {
        const leader = c.leader();
        if (!leader) return;
        const others = this.allIds().filter((id) => id !== leader.id);
        c.network.partition([[leader.id], others]);
        c.log(`isolate leader ${leader.id}`);
        return;
      }
      case 'cutOneWay': {
        const ids = this.allIds();
        const a = this.pick(ids)!;
        const b = this.pick(ids.filter((x) => x !== a));
        if (b === undefined) return;
        c.network.cutOneWay(a, b);
        c.log(`cut link ${a} -> ${b}`);
        return;
      }
      case 'heal':
        if (c.network.cutLinks > 0) c.log('heal network');
        c.network.heal();
        if (r.next() < 0.5) {
          const down = this.pick(c.downNodes().filter((d) => d.incarnation > 0));
          if (down) c.start(down.id);
        }
        return;
      case 'storm': {
        const base = this.s.network;
        const e = this.s.raft.electionTimeoutMs ?? 300;
        c.network.options = {
          dropProbability: 0.2 + r.next() * 0.4,
          duplicateProbability: r.next() * 0.3,
          minDelayMs: base.minDelayMs,
          maxDelayMs: base.maxDelayMs * 3,
          longDelayProbability: 0.2,
          longDelayMaxMs: 3 * e,
        };
        c.log('network storm begins');
        this.later(r.next() * 4 * e, () => {
          c.network.options = base;
          c.log('network storm ends');
        });
        return;
      }
      case 'stall': {
        const n = this.pick([...c.nodes.values()]);
        if (!n) return;
        const base = n.disk.options;
        const e = this.s.raft.electionTimeoutMs ?? 300;
        n.disk.options = { ...base, stallProbability: 0.5, stallMaxMs: 2 * e };
        c.log(`disk of node ${n.id} stalls`);
        this.later(r.next() * 4 * e, () => {
          n.disk.options = base;
        });
        return;
      }
    }
  }

  /** No more faults (nothing is repaired). */
  halt(): void {
    this.stopped = true;
    for (const h of this.timers) h.cancel();
    this.timers.clear();
  }

  /** Faults end: heal everything, quiet network and disks, start every node. */
  stop(): void {
    this.halt();
    const { c } = this;
    c.network.heal();
    c.network.options = QUIET_NETWORK;
    for (const n of c.nodes.values()) {
      n.disk.options = { ...this.s.disk, stallProbability: 0 };
      if (n.node === null && n.incarnation > 0) c.start(n.id);
    }
    c.log('faults stop: network healed, all nodes up');
  }
}
