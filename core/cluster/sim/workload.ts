/**
 * Clients of the simulated quorum. Each proposal carries a unique payload; an acknowledged one
 * is handed to the checker (it must be committed, with that payload, forever). Clients follow
 * NOT_LEADER hints; some reads use readIndex and are checked for linearizability.
 */
import type { TimerHandle } from '../../env/clock.js';
import { isRaftError } from '../raft/errors.js';
import type { NodeId, ProposeResult } from '../raft/types.js';
import type { SimCluster } from './sim-cluster.js';

export class Workload {
  private seq = 0;
  private leaderHint: NodeId | null = null;
  private timer: TimerHandle | null = null;
  proposed = 0;
  rejected = 0;

  constructor(
    private readonly c: SimCluster,
    private readonly tag: string,
    private readonly meanIntervalMs: number,
    private readonly readProbability: number,
    private readonly maxPayloadBytes: number,
  ) {}

  start(): void {
    const delay = this.c.random.next() * 2 * this.meanIntervalMs;
    this.timer = this.c.clock.setTimeout(() => {
      this.tick();
      this.start();
    }, delay);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private target(): NodeId | null {
    const { c } = this;
    if (this.leaderHint !== null && c.isUp(this.leaderHint) && c.random.next() < 0.9) return this.leaderHint;
    const up = c.upNodes();
    return up.length === 0 ? null : up[c.random.int(up.length)]!.id;
  }

  private tick(): void {
    const id = this.target();
    if (id === null) return;
    if (this.c.random.next() < this.readProbability) {
      // half the reads go to a node that believes it leads: a deposed leader must not answer
      const leaders = this.c.upNodes().filter((n) => n.node!.status().role === 'leader');
      const pick =
        leaders.length > 0 && this.c.random.next() < 0.5
          ? leaders[this.c.random.int(leaders.length)]!.id
          : id;
      this.read(pick);
    } else void this.propose(id).catch(() => {});
  }

  payload(): Buffer {
    const head = Buffer.from(`${this.tag}-${++this.seq}`);
    const pad = Buffer.alloc(this.c.random.int(Math.max(1, this.maxPayloadBytes - head.length)));
    this.c.random.fill(pad);
    return Buffer.concat([head, pad]);
  }

  /** Proposes one command at node id; the result is checked when acknowledged. */
  propose(id: NodeId, payload = this.payload()): Promise<ProposeResult> {
    const { c } = this;
    this.proposed++;
    const p = c.node(id).propose(payload);
    p.then(
      (r) => {
        try {
          c.checker.ack(r.index, r.term, `1:${payload.toString('latin1')}`);
        } catch (err) {
          c.fail(err as Error);
        }
      },
      (err: unknown) => {
        this.rejected++;
        if (isRaftError(err, 'NOT_LEADER')) this.leaderHint = err.leaderId;
      },
    );
    return p;
  }

  private read(id: NodeId): void {
    const { c } = this;
    const before = c.checker.maxAcked;
    c.node(id)
      .readIndex()
      .then(
        (index) => {
          try {
            c.checker.read(before, index, id);
          } catch (err) {
            c.fail(err as Error);
          }
        },
        (err: unknown) => {
          if (isRaftError(err, 'NOT_LEADER')) this.leaderHint = err.leaderId;
        },
      );
  }
}
