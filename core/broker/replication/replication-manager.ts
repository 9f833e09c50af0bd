/**
 * The broker side of partition replication: follows the cluster view, gives every local replica
 * its role (Partition), runs one fetcher per leader this broker follows, checks the ISR for
 * laggards every replica.lag.time.max.ms / 2, and sends ISR changes to the controller.
 *
 * Only used in a cluster (a ClusterView other than SingleNodeView): the single-node broker keeps
 * its direct path through the replica manager.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';
import { LogError } from '../../log/errors.js';
import type { PartitionLog } from '../../log/log.js';
import type { LogManager } from '../../log/log-manager.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { BrokerEndpoint, ClusterView, PartitionAssignment } from '../cluster-view.js';
import { Partition } from './partition.js';
import { DEFAULT_FETCHER_CONFIG, type FetcherConfig, ReplicaFetcher } from './replica-fetcher.js';

export interface ReplicationOptions {
  view: ClusterView;
  logs: LogManager;
  selfId: number;
  clock: Clock;
  /** replica.lag.time.max.ms */
  lagTimeMaxMs: number;
  fetcher?: Partial<FetcherConfig>;
  /** The high watermark of a led partition moved (wakes waiting consumer fetches). */
  onHighWatermark(log: PartitionLog): void;
  log?: (msg: string) => void;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class ReplicationManager {
  readonly view: ClusterView;
  private readonly parts = new Map<string, Partition>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly unsubscribe: () => void;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly fetcherConfig: FetcherConfig;
  private readonly say: (msg: string) => void;

  constructor(private readonly opts: ReplicationOptions) {
    this.view = opts.view;
    this.fetcherConfig = { ...DEFAULT_FETCHER_CONFIG, ...opts.fetcher };
    this.say = opts.log ?? (() => {});
    this.unsubscribe = opts.view.onChange(() => this.sync());
    this.sync();
    this.scheduleIsrCheck();
  }

  get selfId(): number {
    return this.opts.selfId;
  }

  /** The local replica of a partition, undefined when this broker holds none. */
  partition(topic: string, partition: number): Partition | undefined {
    return this.parts.get(key(topic, partition));
  }

  brokers(): BrokerEndpoint[] {
    return this.view.brokers();
  }

  /** Applies the view: local logs for new replicas, roles, fetchers. */
  sync(): void {
    if (this.closed) return;
    const { logs, selfId } = this.opts;
    const configs = new Map<string, Record<string, string>>();
    for (const t of this.view.topics()) configs.set(t.name, t.configs);
    for (const a of this.view.partitions()) {
      if (!a.replicas.includes(selfId) && !this.parts.has(key(a.topic, a.partition))) continue;
      try {
        this.applyOne(a, logs, configs.get(a.topic) ?? {});
      } catch (err) {
        this.say(`${a.topic}-${a.partition}: could not apply the cluster state: ${(err as Error).message}`);
      }
    }
    for (const b of this.fetchers.values()) b.wake(); // a leader may have moved to a new address
  }

  private applyOne(a: PartitionAssignment, logs: LogManager, configs: Record<string, string>): void {
    let p = this.parts.get(key(a.topic, a.partition));
    if (!p) {
      const log = ensureLog(logs, a, configs);
      p = new Partition(log, this.opts.selfId, this.opts.clock, {
        onHighWatermark: (l) => this.opts.onHighWatermark(l),
        proposeIsr: (part, isr) => this.proposeIsr(part, isr),
      });
      this.parts.set(key(a.topic, a.partition), p);
    }
    const wasLeader = p.leader;
    const change = p.apply(a);
    if (change === 'unchanged') return;
    this.fetchers.get(wasLeader)?.remove(p);
    if (change === 'leader') this.say(`${a.topic}-${a.partition}: leader at epoch ${a.leaderEpoch}`);
    if (change === 'follower' && a.leader >= 0) this.fetcherFor(a.leader).add(p);
    void this.dropIdleFetchers();
  }

  private fetcherFor(leaderId: number): ReplicaFetcher {
    let f = this.fetchers.get(leaderId);
    if (!f) {
      f = new ReplicaFetcher(
        leaderId,
        this.opts.selfId,
        (id) => this.view.brokers().find((b) => b.nodeId === id),
        this.opts.clock,
        this.fetcherConfig,
        this.say,
      );
      this.fetchers.set(leaderId, f);
    }
    return f;
  }

  private async dropIdleFetchers(): Promise<void> {
    for (const [id, f] of [...this.fetchers]) {
      if (f.size > 0) continue;
      this.fetchers.delete(id);
      await f.stop();
    }
  }

  private proposeIsr(p: Partition, newIsr: number[]): void {
    const change = {
      topic: p.topic,
      partition: p.partition,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: p.partitionEpoch,
      newIsr,
    };
    this.say(`${p.topic}-${p.partition}: proposing ISR [${newIsr}] (was [${p.isr}])`);
    this.view.alterPartition(change).then(
      (committed) => {
        if (this.closed) return;
        if (p.pendingIsr === newIsr) p.pendingIsr = null;
        p.apply(committed);
        p.maybeAdvanceHighWatermark();
      },
      (err: unknown) => {
        if (p.pendingIsr === newIsr) p.pendingIsr = null;
        this.say(`${p.topic}-${p.partition}: ISR change refused: ${(err as Error).message}`);
      },
    );
  }

  private scheduleIsrCheck(): void {
    if (this.closed) return;
    const every = Math.max(10, Math.floor(this.opts.lagTimeMaxMs / 2));
    this.timer = this.opts.clock.setTimeout(() => {
      for (const p of this.parts.values()) p.maybeShrinkIsr(this.opts.lagTimeMaxMs);
      this.scheduleIsrCheck();
    }, every);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.timer?.cancel();
    for (const p of this.parts.values()) p.failWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    this.fetchers.clear();
  }
}

/** The local log of an assigned partition, creating the topic or its partitions as needed. */
function ensureLog(logs: LogManager, a: PartitionAssignment, configs: Record<string, string>): PartitionLog {
  const info = logs.topic(a.topic);
  if (!info) {
    try {
      logs.createTopic(a.topic, {
        partitions: a.partition + 1,
        replicationFactor: a.replicas.length,
        configs,
      });
    } catch (err) {
      if (!(err instanceof LogError && err.code === 'TOPIC_ALREADY_EXISTS')) throw err;
    }
  } else if (info.partitions <= a.partition) {
    logs.createPartitions(a.topic, a.partition + 1);
  }
  return logs.getLog(a.topic, a.partition);
}
