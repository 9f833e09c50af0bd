/**
 * The broker side of partition replication: follows the cluster view, gives every local replica
 * its role (Partition), runs one fetcher per leader this broker follows, checks the ISR for
 * laggards every replica.lag.time.max.ms / 2, and sends ISR changes to the controller.
 *
 * Only used in a cluster (a ClusterView other than SingleNodeView): the single-node broker keeps
 * its direct path through the replica manager.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';
import { type FileSystem, nodeFileSystem } from '../../env/fs.js';
import { LogError } from '../../log/errors.js';
import type { PartitionLog } from '../../log/log.js';
import type { LogManager } from '../../log/log-manager.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  AlterPartitionError,
  type BrokerEndpoint,
  type ClusterView,
  type PartitionAssignment,
} from '../cluster-view.js';
import { DEFAULT_HW_CHECKPOINT_INTERVAL_MS, HighWatermarkCheckpoint } from './hw-checkpoint.js';
import { Partition } from './partition.js';
import {
  DEFAULT_FETCHER_CONFIG,
  type FetcherConfig,
  type PeerConnector,
  ReplicaFetcher,
  tcpPeerConnector,
} from './replica-fetcher.js';

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
  /** How followers reach leaders (default TCP; the simulation passes its network). */
  connect?: PeerConnector;
  /** The file system of the data directory, for the high-watermark checkpoint (default: node's). */
  fs?: FileSystem;
  /** replica.high.watermark.checkpoint.interval.ms (default 5000). */
  hwCheckpointIntervalMs?: number;
  /**
   * Keep the high-watermark checkpoint (default true). false only for the simulation's proof that
   * its checkers notice a broker restarting with its high watermark at the log end.
   */
  highWatermarkCheckpoint?: boolean;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Pause before asking the controller again about an unanswered ISR change. */
const ISR_RETRY_BACKOFF_MS = 100;

export class ReplicationManager {
  readonly view: ClusterView;
  private readonly parts = new Map<string, Partition>();
  /** Quarantined local logs already reported (topic, local id, cluster id). */
  private readonly quarantineNoted = new Set<string>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly unsubscribe: () => void;
  private timer: TimerHandle | undefined;
  private hwTimer: TimerHandle | undefined;
  private readonly hwCheckpoint: HighWatermarkCheckpoint | null;
  private closed = false;
  private readonly fetcherConfig: FetcherConfig;
  private readonly say: (msg: string) => void;

  constructor(private readonly opts: ReplicationOptions) {
    this.view = opts.view;
    this.fetcherConfig = { ...DEFAULT_FETCHER_CONFIG, ...opts.fetcher };
    this.say = opts.log ?? (() => {});
    this.hwCheckpoint =
      opts.highWatermarkCheckpoint === false
        ? null
        : new HighWatermarkCheckpoint(opts.fs ?? nodeFileSystem, opts.logs.dataDir, this.say);
    this.unsubscribe = opts.view.onChange(() => this.sync());
    this.sync();
    this.scheduleIsrCheck();
    this.scheduleHwCheckpoint();
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
    const topics = new Map<string, { topicId: string; configs: Record<string, string> }>();
    for (const t of this.view.topics()) topics.set(t.name, t);
    const localIds = new Map<string, string | undefined>();
    const localId = (topic: string): string | undefined => {
      if (!localIds.has(topic)) localIds.set(topic, logs.topic(topic)?.topicId);
      return localIds.get(topic);
    };
    for (const a of this.view.partitions()) {
      if (!a.replicas.includes(selfId) && !this.parts.has(key(a.topic, a.partition))) continue;
      try {
        const t = topics.get(a.topic);
        if (t !== undefined && this.quarantined(a, localId(a.topic), t.topicId)) continue;
        this.applyOne(a, logs, t?.configs ?? {}, t?.topicId);
      } catch (err) {
        this.say(`${a.topic}-${a.partition}: could not apply the cluster state: ${(err as Error).message}`);
      }
    }
    for (const b of this.fetchers.values()) b.wake(); // a leader may have moved to a new address
  }

  /**
   * A local log of another topic id than the cluster's topic of that name (an earlier topic of
   * the name, or a log of unknown origin) is quarantined: no replica role, no fetching, no
   * produce, until ClusterLogSync has removed or set it aside; then the next sync starts the
   * partition empty. A replica already running on it stops.
   */
  private quarantined(a: PartitionAssignment, localId: string | undefined, topicId: string): boolean {
    if (localId === undefined || localId === topicId) return false;
    const k = key(a.topic, a.partition);
    const p = this.parts.get(k);
    if (p !== undefined) {
      this.parts.delete(k);
      for (const f of this.fetchers.values()) f.remove(p);
      p.failWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      void this.dropIdleFetchers();
    }
    const note = `${a.topic}\u0000${localId}\u0000${topicId}`;
    if (!this.quarantineNoted.has(note)) {
      this.quarantineNoted.add(note);
      this.say(
        `${a.topic}: the local log belongs to topic id ${localId}, the cluster's topic is ${topicId}: not serving it until it is removed`,
      );
    }
    return true;
  }

  private applyOne(
    a: PartitionAssignment,
    logs: LogManager,
    configs: Record<string, string>,
    topicId: string | undefined,
  ): void {
    let p = this.parts.get(key(a.topic, a.partition));
    if (!p) {
      const log = ensureLog(logs, a, configs, topicId);
      if (this.hwCheckpoint !== null) {
        // Start from the last checkpointed high watermark, never from the log end: a replica's
        // log may hold records that were never committed.
        log.setHighWatermark(this.hwCheckpoint.get(a.topic, a.partition) ?? log.logStartOffset);
      }
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

  /**
   * Stops replicating every local partition of a topic (deleted, recreated, or no longer held
   * here) before its log is deleted: no fetcher touches it afterwards, acks=all waiters fail.
   * The next sync() starts afresh with whatever the view then assigns.
   */
  forget(topic: string): void {
    for (const [k, p] of [...this.parts]) {
      if (p.topic !== topic) continue;
      this.parts.delete(k);
      for (const f of this.fetchers.values()) f.remove(p);
      p.failWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
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
        this.opts.connect ?? tcpPeerConnector,
        () => this.opts.logs.checkpoint(),
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
        if (this.closed) return;
        if (!(err instanceof AlterPartitionError)) {
          // No answer (timeout, no controller): it may have been committed or not. Like Kafka, ask
          // again until answered; meanwhile the proposal stays pending and the high watermark
          // counts its members. Newer metadata (a new partition epoch) ends the retries.
          this.say(`${p.topic}-${p.partition}: ISR change unanswered (${(err as Error).message}), retrying`);
          this.opts.clock.setTimeout(() => {
            if (!this.closed && p.pendingIsr === newIsr && p.role === 'leader') this.proposeIsr(p, newIsr);
          }, ISR_RETRY_BACKOFF_MS);
          return;
        }
        this.say(`${p.topic}-${p.partition}: ISR change refused: ${err.message}`);
        if (err.code === 'INVALID_UPDATE_VERSION' || err.code === 'FENCED_LEADER_EPOCH') {
          // The partition moved on — maybe through an earlier copy of this very request: its members
          // count until the metadata of the newer partition epoch arrives.
          p.proposalFailed(newIsr);
        } else if (p.pendingIsr === newIsr) {
          p.pendingIsr = null; // refused at the current epoch: not committed
        }
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

  private scheduleHwCheckpoint(): void {
    if (this.closed || this.hwCheckpoint === null) return;
    this.hwTimer = this.opts.clock.setTimeout(() => {
      this.checkpointHighWatermarks();
      this.scheduleHwCheckpoint();
    }, this.opts.hwCheckpointIntervalMs ?? DEFAULT_HW_CHECKPOINT_INTERVAL_MS);
  }

  /** Writes every local replica's high watermark to replication-offset-checkpoint. */
  checkpointHighWatermarks(): void {
    const cp = this.hwCheckpoint;
    if (cp === null) return;
    const { logs } = this.opts;
    const exists = (topic: string, partition: number): boolean =>
      (logs.topic(topic)?.partitions ?? 0) > partition;
    try {
      cp.write(
        [...this.parts.values()]
          .filter((p) => exists(p.topic, p.partition))
          .map((p) => ({ topic: p.topic, partition: p.partition, offset: p.log.highWatermark })),
        exists,
      );
    } catch (err) {
      this.say(`writing ${cp.file} failed: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.timer?.cancel();
    this.hwTimer?.cancel();
    for (const p of this.parts.values()) p.failWaiters(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    this.fetchers.clear();
    this.checkpointHighWatermarks();
  }
}

/** The local log of an assigned partition, creating the topic or its partitions as needed. */
function ensureLog(
  logs: LogManager,
  a: PartitionAssignment,
  configs: Record<string, string>,
  topicId: string | undefined,
): PartitionLog {
  const info = logs.topic(a.topic);
  if (!info) {
    try {
      // the cluster's topic id, recorded in every partition directory (partition.metadata)
      logs.createTopic(a.topic, {
        partitions: a.partition + 1,
        replicationFactor: a.replicas.length,
        configs,
        ...(topicId !== undefined ? { topicId } : {}),
      });
    } catch (err) {
      if (!(err instanceof LogError && err.code === 'TOPIC_ALREADY_EXISTS')) throw err;
    }
  } else if (info.partitions <= a.partition) {
    logs.createPartitions(a.topic, a.partition + 1);
  }
  return logs.getLog(a.topic, a.partition);
}
