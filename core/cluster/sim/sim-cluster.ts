/**
 * A cluster of Raft nodes in one process under simulation: each node has its own SimDisk, a
 * NodeClock over the shared SimClock, and an endpoint on the SimNetwork. crash() kills a node
 * (timers, handles, in-flight fsyncs and its endpoint) and applies the disk's crash semantics;
 * restart() builds a new incarnation that recovers from what its disk kept.
 *
 * step() runs the next timer and then lets pending promise callbacks finish (setImmediate
 * drains the microtask queue — no real time is involved), then the checkers look at every node.
 */
import type { Random } from '../../env/random.js';
import type { RaftConfigInput } from '../raft/config.js';
import type { RaftMessage } from '../raft/messages.js';
import { RaftNode } from '../raft/raft-node.js';
import type { NodeId, RaftStatus } from '../raft/types.js';
import { Checker, SimViolation } from './checker.js';
import { DigestStateMachine } from './digest-state-machine.js';
import { NodeClock, SimClock } from './sim-clock.js';
import { DEFAULT_SIM_DISK, SimDisk, type SimDiskOptions } from './sim-disk.js';
import { type NetworkOptions, QUIET_NETWORK, raftWireCodec, SimNetwork } from './sim-network.js';
import { Trace } from './trace.js';

export interface SimClusterOptions {
  readonly random: Random;
  readonly voters: readonly NodeId[];
  /** Learners that exist from the start (added through addLearner by the test or by joining). */
  readonly learners?: readonly NodeId[];
  readonly raft?: Omit<RaftConfigInput, 'voters'>;
  readonly network?: NetworkOptions;
  readonly disk?: SimDiskOptions;
  /** Clock rate spread: each incarnation runs at 1 ± this. */
  readonly clockDrift?: number;
  readonly snapshotPadBytes?: number;
}

export interface SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  node: RaftNode | null;
  sm: DigestStateMachine | null;
  clock: NodeClock | null;
  incarnation: number;
  /** Entries up to here were checked against the ghost record (this incarnation). */
  checkedCommit: number;
  lastTerm: number;
  lastRole: string;
}

export const DATA_DIR = '/data/raft';

export class SimCluster {
  readonly clock = new SimClock();
  readonly trace = new Trace();
  readonly checker = new Checker();
  readonly network: SimNetwork<RaftMessage>;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly voters: readonly NodeId[];
  readonly random: Random;
  steps = 0;
  private failure: Error | null = null;

  constructor(private readonly opts: SimClusterOptions) {
    this.random = opts.random;
    this.voters = opts.voters;
    this.network = new SimNetwork(
      this.clock,
      this.random,
      opts.network ?? QUIET_NETWORK,
      this.trace,
      raftWireCodec(8 * 1024 * 1024),
    );
    for (const id of [...opts.voters, ...(opts.learners ?? [])]) {
      this.nodes.set(id, {
        id,
        disk: new SimDisk(this.random, opts.disk ?? DEFAULT_SIM_DISK),
        node: null,
        sm: null,
        clock: null,
        incarnation: 0,
        checkedCommit: 0,
        lastTerm: 0,
        lastRole: '',
      });
    }
  }

  get nowMs(): number {
    return this.clock.monotonic();
  }

  log(text: string): void {
    this.trace.line(this.nowMs, text);
  }

  /** The first failure (a checker violation, a node's fatal error), if any. */
  get failed(): Error | null {
    return this.failure;
  }

  fail(err: Error): void {
    if (this.failure === null) {
      this.failure = err;
      this.log(`FAILURE ${err.message}`);
    }
  }

  isUp(id: NodeId): boolean {
    return this.nodes.get(id)?.node !== null;
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.node !== null);
  }

  downNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.node === null);
  }

  node(id: NodeId): RaftNode {
    const n = this.nodes.get(id)?.node;
    if (!n) throw new Error(`node ${id} is down`);
    return n;
  }

  /** The leader with the highest term among live nodes, if any. */
  leader(): RaftNode | null {
    let best: RaftNode | null = null;
    for (const n of this.nodes.values()) {
      const s = n.node?.status();
      if (s?.role === 'leader' && (best === null || s.term > best.status().term)) best = n.node;
    }
    return best;
  }

  start(id: NodeId): void {
    const n = this.nodes.get(id)!;
    if (n.node !== null) return;
    const drift = this.opts.clockDrift ?? 0;
    const rate = drift > 0 ? 1 - drift + this.random.next() * 2 * drift : 1;
    n.clock = new NodeClock(this.clock, rate, 0);
    n.incarnation++;
    n.checkedCommit = 0;
    n.lastRole = '';
    const observer = {
      applied: (index: number, digest: string) => this.guard(() => this.checker.applied(id, index, digest)),
      restored: (index: number, digest: string) => this.guard(() => this.checker.restored(id, index, digest)),
    };
    n.sm = new DigestStateMachine(observer, this.opts.snapshotPadBytes ?? 0);
    try {
      n.node = RaftNode.open({
        id,
        config: { ...this.opts.raft, voters: this.voters },
        dir: DATA_DIR,
        fs: n.disk.mount(n.clock),
        clock: n.clock,
        random: this.random,
        transport: this.network.attach(id),
        stateMachine: n.sm,
        onFatal: (err) => this.fail(new SimViolation(`node ${id} stopped itself: ${(err as Error).message}`)),
      });
    } catch (err) {
      this.fail(new SimViolation(`node ${id} failed to recover: ${(err as Error).stack ?? err}`));
      n.node = null;
      return;
    }
    n.node.start();
    const s = n.node.status();
    this.log(
      `start node ${id}#${n.incarnation} term=${s.term} log=[${s.firstIndex},${s.lastIndex}] snap=${s.snapshotIndex}`,
    );
  }

  startAll(): void {
    for (const id of this.nodes.keys()) this.start(id);
  }

  /** Runs until some node leads (and no other live node claims a higher term's leadership). */
  async waitForLeader(timeoutMs = 30_000): Promise<RaftNode> {
    if (!(await this.runUntil(() => this.leader() !== null, timeoutMs))) {
      throw new Error(
        `no leader within ${timeoutMs} virtual ms${this.failure ? `: ${this.failure.message}` : ''}`,
      );
    }
    return this.leader()!;
  }

  crash(id: NodeId): void {
    const n = this.nodes.get(id)!;
    if (n.node === null) return;
    n.clock!.kill();
    this.network.detach(id);
    n.node = null; // no stop(): a crash gives no chance to clean up
    n.sm = null;
    const what = n.disk.crash();
    this.log(`crash node ${id} (${what})`);
  }

  restart(id: NodeId): void {
    this.crash(id);
    this.start(id);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Runs the next event; false when nothing is scheduled. */
  async step(): Promise<boolean> {
    if (!this.clock.runNext()) return false;
    this.steps++;
    await drainMicrotasks();
    this.check();
    return true;
  }

  /** Runs events until virtual time reaches untilMs (or a failure). */
  async runUntilTime(untilMs: number, maxSteps = Number.POSITIVE_INFINITY): Promise<void> {
    let n = 0;
    while (this.failure === null && this.clock.nextAtMs() <= untilMs && n++ < maxSteps) await this.step();
    if (this.failure === null) this.clock.advanceTo(untilMs);
  }

  async runFor(ms: number, maxSteps?: number): Promise<void> {
    await this.runUntilTime(this.nowMs + ms, maxSteps);
  }

  /** Runs until pred holds (checked after each event) or timeoutMs of virtual time pass. */
  async runUntil(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    const until = this.nowMs + timeoutMs;
    while (this.failure === null && !pred()) {
      if (this.clock.nextAtMs() > until) return false;
      await this.step();
    }
    return pred();
  }

  /** Runs the simulation until p settles (within timeoutMs of virtual time); returns its outcome. */
  async settle<T>(p: Promise<T>, timeoutMs = 60_000): Promise<T> {
    let done = false;
    p.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    await drainMicrotasks();
    if (!(await this.runUntil(() => done, timeoutMs))) {
      throw new Error(
        `not settled within ${timeoutMs} virtual ms${this.failure ? `: ${this.failure.message}` : ''}`,
      );
    }
    return p;
  }

  /** Runs every checker over every live node. */
  check(): void {
    if (this.failure !== null) return;
    try {
      for (const n of this.nodes.values()) if (n.node !== null) this.checkNode(n, n.node.status());
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private checkNode(n: SimNode, s: RaftStatus): void {
    const role = `${s.role}/${s.term}`;
    if (role !== n.lastRole) {
      n.lastRole = role;
      this.log(
        `node ${n.id} ${s.role} term=${s.term} leader=${s.leaderId} commit=${s.commitIndex} last=${s.lastIndex}`,
      );
    }
    if (s.role === 'leader' && this.checker.leader(s.term, n.id)) {
      const node = n.node!;
      this.checker.leaderCompleteness(n.id, s.term, s.lastIndex, (i) => node.entry(i));
    }
    for (let i = Math.max(n.checkedCommit + 1, s.firstIndex); i <= s.commitIndex; i++) {
      const e = n.node!.entry(i);
      if (e !== null) this.checker.committed(n.id, e);
    }
    if (s.commitIndex > n.checkedCommit) n.checkedCommit = s.commitIndex;
  }
}

/** Lets every queued promise callback run (setImmediate fires after the microtask queue drains). */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
