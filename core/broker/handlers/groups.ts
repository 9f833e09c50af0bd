/**
 * FindCoordinator and the group APIs, served by the group coordinator over `__consumer_offsets`.
 * The coordinator's request and response types use Kafka's field names, so requests pass
 * through unchanged.
 *
 * On a single node this broker coordinates every group: `__consumer_offsets` is a local topic
 * (created at start, RF 1), loaded whole at start, and appends are made durable by an fsync.
 *
 * In a cluster (replication on) it is a cluster topic like any other, created through the
 * controller on the first FindCoordinator for a group, and the coordinator of a group is the
 * leader of its partition (`partitionForGroup`, Kafka's abs(hashCode) % partitions):
 * - FindCoordinator answers that leader's endpoint, or COORDINATOR_NOT_AVAILABLE while the
 *   topic is being created or the partition has no leader;
 * - after every metadata change this broker loads the partitions it has started leading
 *   (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and unloads those it stopped leading (their
 *   groups then answer NOT_COORDINATOR). A load waits until the high watermark covers the log
 *   as it was when leadership began, and reads only up to the high watermark;
 * - group writes are produced with acks=all: a commit is acknowledged once every in-sync
 *   replica holds it, so it survives the loss of the coordinator.
 */
import { LogError } from '../../log/errors.js';
import type { PartitionLog } from '../../log/log.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { HandlerTable } from '../broker.js';
import type { PartitionAssignment } from '../cluster-view.js';
import { GroupCoordinator, type GroupCoordinatorConfig } from '../group-coordinator.js';
import {
  type GroupLog,
  type GroupStorage,
  logGroupStorage,
  MemoryGroupStorage,
  OFFSETS_TOPIC,
  partitionForGroup,
} from '../offsets-store.js';
import type { ReplicationManager } from '../replication/replication-manager.js';
import type { CallContext, NodeParts, Req, Res } from './context.js';

/** Kafka's __consumer_offsets settings: compacted, 100 MiB segments. */
const OFFSETS_TOPIC_CONFIGS = { 'cleanup.policy': 'compact', 'segment.bytes': '104857600' };

/** How long a group write waits for the in-sync replicas (Kafka's offsets.commit.timeout.ms default). */
export const OFFSETS_COMMIT_TIMEOUT_MS = 5000;

/** How often a load waiting for the high watermark re-checks that this broker still leads. */
const LOAD_RECHECK_MS = 1000;

/** A replicated group write refused by the partition (its Kafka error code, as the coordinator maps them). */
class GroupWriteError extends Error {
  override readonly name = 'GroupWriteError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What this broker knows about __consumer_offsets in a cluster. */
interface ClusterGroups {
  readonly repl: ReplicationManager;
  readonly unsubscribe: () => void;
  /** Partition count of every topic of the cluster (OffsetCommit's unknown-partition check). */
  topicPartitions: Map<string, number>;
  /** __consumer_offsets partitions by index, as the metadata has them. */
  offsets: PartitionAssignment[];
  /** The partition count the coordinator was built with (0: not built yet). */
  partitionCount: number;
  /** Partitions this broker leads and has loaded (or is loading), with the leader epoch of the load. */
  loaded: Map<number, number>;
  creating: boolean;
  reconcileQueued: boolean;
  /** Whether the log already says that the partition count changed. */
  countWarned: boolean;
}

export class GroupHandlers {
  private coordinator: GroupCoordinator | undefined;
  private cluster: ClusterGroups | undefined;
  private closed = false;

  constructor(
    private readonly node: NodeParts,
    private readonly say: (msg: string) => void = () => {},
  ) {}

  private coordinatorConfig(): Partial<GroupCoordinatorConfig> {
    const pick = (key: keyof GroupCoordinatorConfig): number => this.node.config[key] as number;
    return {
      'group.min.session.timeout.ms': pick('group.min.session.timeout.ms'),
      'group.max.session.timeout.ms': pick('group.max.session.timeout.ms'),
      'group.initial.rebalance.delay.ms': pick('group.initial.rebalance.delay.ms'),
      'group.max.size': pick('group.max.size'),
      'offset.metadata.max.bytes': pick('offset.metadata.max.bytes'),
      'offsets.retention.minutes': pick('offsets.retention.minutes'),
      'offsets.retention.check.interval.ms': pick('offsets.retention.check.interval.ms'),
    };
  }

  // -------------------------------------------------------------------------------------------
  // single node

  private offsetsLog(partition: number): GroupLog {
    const log: PartitionLog = this.node.logs.getLog(OFFSETS_TOPIC, partition);
    return {
      append: (records: Buffer) => {
        const r = log.append(records, { assignOffsets: true });
        log.setHighWatermark(log.logEndOffset);
        return r;
      },
      flush: () => log.flush(),
      read: (offset, maxBytes, opts) => log.read(offset, maxBytes, { ...opts, maxOffset: log.logEndOffset }),
      get logStartOffset() {
        return log.logStartOffset;
      },
    };
  }

  /**
   * Single node: creates __consumer_offsets when missing and loads every group from it.
   * Cluster (the broker's replication is on): follows the metadata and loads the partitions
   * this broker leads (see the file comment).
   */
  async start(): Promise<void> {
    const repl = this.node.replicas.replication;
    if (repl !== null) {
      this.startCluster(repl);
      return;
    }
    const { config, logs } = this.node;
    const partitions = config['offsets.topic.num.partitions'] as number;
    const existing = logs.topic(OFFSETS_TOPIC);
    if (!existing) {
      logs.createTopic(OFFSETS_TOPIC, { partitions, replicationFactor: 1, configs: OFFSETS_TOPIC_CONFIGS });
    }
    const count = logs.topic(OFFSETS_TOPIC)!.partitions;
    this.coordinator = new GroupCoordinator({
      storage: logGroupStorage((p) => this.offsetsLog(p), { partitionCount: count }),
      clock: this.node.clock,
      config: this.coordinatorConfig(),
      partitionExists: (topic, partition) => {
        const t = logs.topic(topic);
        return t !== undefined && partition >= 0 && partition < t.partitions;
      },
    });
    await this.coordinator.load();
  }

  // -------------------------------------------------------------------------------------------
  // cluster

  private startCluster(repl: ReplicationManager): void {
    const c: ClusterGroups = {
      repl,
      unsubscribe: repl.view.onChange(() => this.queueReconcile()),
      topicPartitions: new Map(),
      offsets: [],
      partitionCount: 0,
      loaded: new Map(),
      creating: false,
      reconcileQueued: false,
      countWarned: false,
    };
    this.cluster = c;
    this.reconcile();
  }

  /**
   * After the replication manager applied a change (its listener runs first, and a microtask
   * later every listener of the change has run): roles are read from its partitions.
   */
  private queueReconcile(): void {
    const c = this.cluster;
    if (!c || c.reconcileQueued) return;
    c.reconcileQueued = true;
    queueMicrotask(() => {
      c.reconcileQueued = false;
      this.reconcile();
    });
  }

  /** Loads the __consumer_offsets partitions this broker now leads, unloads those it no longer does. */
  private reconcile(): void {
    const c = this.cluster;
    if (!c || this.closed) return;
    const sizes = new Map<string, number>();
    const offsets: PartitionAssignment[] = [];
    for (const a of c.repl.view.partitions()) {
      sizes.set(a.topic, Math.max(sizes.get(a.topic) ?? 0, a.partition + 1));
      if (a.topic === OFFSETS_TOPIC) offsets[a.partition] = a;
    }
    c.topicPartitions = sizes;
    c.offsets = offsets;
    const count = sizes.get(OFFSETS_TOPIC) ?? 0;
    if (count === 0) {
      // Not created yet (or deleted): nothing to serve.
      for (const p of c.loaded.keys()) this.coordinator?.unloadPartition(p);
      c.loaded.clear();
      return;
    }
    if (c.partitionCount === 0) {
      c.partitionCount = count;
      const coordinator = new GroupCoordinator({
        storage: this.replicatedStorage(c, count),
        clock: this.node.clock,
        config: this.coordinatorConfig(),
        partitionExists: (topic, partition) => {
          const n = c.topicPartitions.get(topic);
          return n !== undefined && partition >= 0 && partition < n;
        },
      });
      this.coordinator = coordinator;
      coordinator.load([]).catch(() => {}); // running, owning nothing yet (cannot fail: nothing to read)
    } else if (count !== c.partitionCount && !c.countWarned) {
      c.countWarned = true;
      this.say(
        `${OFFSETS_TOPIC} has ${count} partitions but its groups were placed over ${c.partitionCount}; ` +
          'restart the broker to use the new count',
      );
    }
    const coordinator = this.coordinator!;
    for (let p = 0; p < c.partitionCount; p++) {
      const part = c.repl.partition(OFFSETS_TOPIC, p);
      const leads = part !== undefined && part.role === 'leader';
      const loadedEpoch = c.loaded.get(p);
      if (leads && loadedEpoch !== part.leaderEpoch) {
        // A new leadership (or a new epoch of ours: another leader may have written meanwhile).
        if (loadedEpoch !== undefined) coordinator.unloadPartition(p);
        const epoch = part.leaderEpoch;
        c.loaded.set(p, epoch);
        this.say(`${OFFSETS_TOPIC}-${p}: loading its groups (leader epoch ${epoch})`);
        coordinator.load([p]).then(
          () => {
            if (c.loaded.get(p) === epoch && coordinator.isLoaded(p))
              this.say(`${OFFSETS_TOPIC}-${p}: groups loaded (leader epoch ${epoch})`);
          },
          (err: unknown) => this.say(`${OFFSETS_TOPIC}-${p}: loading failed: ${(err as Error).message}`),
        );
      } else if (!leads && loadedEpoch !== undefined) {
        c.loaded.delete(p);
        coordinator.unloadPartition(p);
        this.say(`${OFFSETS_TOPIC}-${p}: no longer the leader, its groups are unloaded`);
      }
    }
  }

  /** __consumer_offsets as replicated partitions: acks=all appends, loads up to the high watermark. */
  private replicatedStorage(c: ClusterGroups, partitionCount: number): GroupStorage {
    const partitionOf = (p: number) => {
      const part = c.repl.partition(OFFSETS_TOPIC, p);
      if (!part) {
        throw new LogError(
          'UNKNOWN_TOPIC_OR_PARTITION',
          `${OFFSETS_TOPIC}-${p} has no replica on broker ${c.repl.selfId}`,
        );
      }
      return part;
    };
    return logGroupStorage(
      (p): GroupLog => ({
        append: () => {
          throw new Error('a replicated group log is written with appendReplicated');
        },
        flush: async () => {},
        read: (offset, maxBytes, opts) => partitionOf(p).log.read(offset, maxBytes, opts),
        get logStartOffset() {
          return partitionOf(p).log.logStartOffset;
        },
        appendReplicated: async (records) => {
          const [r] = await this.node.replicas.produce([{ topic: OFFSETS_TOPIC, partition: p, records }], {
            acks: -1,
            timeoutMs: OFFSETS_COMMIT_TIMEOUT_MS,
          });
          if (!r) throw new GroupWriteError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no produce result');
          if (r.errorCode !== 0) {
            throw new GroupWriteError(
              r.errorCode,
              r.errorMessage ?? `writing to ${OFFSETS_TOPIC}-${p} failed (error ${r.errorCode})`,
            );
          }
        },
        loadEnd: () => this.loadEnd(c, p),
      }),
      { partitionCount },
    );
  }

  /**
   * Where loading partition p stops: once the high watermark covers the log end offset as it was
   * when the load began (what the previous leaders acknowledged may still be only in this
   * leader's log), the high watermark. Null when this broker stops leading p meanwhile.
   */
  private async loadEnd(c: ClusterGroups, p: number): Promise<number | null> {
    const part = c.repl.partition(OFFSETS_TOPIC, p);
    if (part?.role !== 'leader') return null;
    const epoch = part.leaderEpoch;
    const target = part.log.logEndOffset;
    while (!this.closed && part.role === 'leader' && part.leaderEpoch === epoch) {
      if (part.log.highWatermark >= target) return part.log.highWatermark;
      const code = await part.waitForHighWatermark(target, LOAD_RECHECK_MS, 1);
      if (code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return null;
    }
    return null;
  }

  /** Creates __consumer_offsets through the controller (once at a time). */
  private ensureOffsetsTopic(c: ClusterGroups): void {
    const view = c.repl.view;
    if (c.creating || !view.createTopic) return;
    c.creating = true;
    const { config } = this.node;
    const partitions = config['offsets.topic.num.partitions'] as number;
    const live = view.brokers().length;
    const rf = Math.max(1, Math.min(config['offsets.topic.replication.factor'] as number, live));
    this.say(`creating ${OFFSETS_TOPIC} (${partitions} partitions, replication factor ${rf})`);
    view
      .createTopic({
        name: OFFSETS_TOPIC,
        numPartitions: partitions,
        replicationFactor: rf,
        assignments: null,
        configs: OFFSETS_TOPIC_CONFIGS,
      })
      .then(
        () => {},
        (err: unknown) => {
          if ((err as { code?: unknown }).code !== 'TOPIC_ALREADY_EXISTS')
            this.say(`could not create ${OFFSETS_TOPIC}: ${(err as Error).message}`);
        },
      )
      .finally(() => {
        c.creating = false;
      });
  }

  // -------------------------------------------------------------------------------------------
  // requests

  private get groups(): GroupCoordinator {
    if (this.coordinator) return this.coordinator;
    if (this.cluster) return notAvailableCoordinator();
    throw new LogError('KAFKA_STORAGE_ERROR', 'the group coordinator is not loaded yet');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cluster?.unsubscribe();
    this.coordinator?.close();
  }

  private findCoordinator(ctx: CallContext, req: Req<'FindCoordinator'>): Res<'FindCoordinator'> {
    const keys = ctx.apiVersion >= 4 ? req.coordinatorKeys : [req.key];
    const unavailable = (key: string, errorMessage: string) => ({
      key,
      nodeId: -1,
      host: '',
      port: -1,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage,
    });
    const answer = (key: string) => {
      // key type 0: group; 1: transaction (not supported yet)
      if (req.keyType !== 0) return unavailable(key, 'transactions are not supported yet');
      const c = this.cluster;
      if (!c) {
        const self = this.node.endpoint();
        return {
          key,
          nodeId: self.nodeId,
          host: self.host,
          port: self.port,
          errorCode: 0,
          errorMessage: null,
        };
      }
      const count = c.partitionCount || c.offsets.length;
      if (count === 0) {
        this.ensureOffsetsTopic(c);
        return unavailable(key, `${OFFSETS_TOPIC} is being created`);
      }
      const p = partitionForGroup(key, count);
      const leader = c.offsets[p]?.leader ?? -1;
      const b = leader >= 0 ? c.repl.view.brokers().find((x) => x.nodeId === leader) : undefined;
      if (!b) return unavailable(key, `${OFFSETS_TOPIC}-${p} has no leader`);
      return { key, nodeId: b.nodeId, host: b.host, port: b.port, errorCode: 0, errorMessage: null };
    };
    if (ctx.apiVersion >= 4) return { coordinators: keys.map(answer) };
    const a = answer(req.key);
    return {
      errorCode: a.errorCode,
      errorMessage: a.errorMessage,
      nodeId: a.nodeId,
      host: a.host,
      port: a.port,
    };
  }

  table(): HandlerTable {
    const ctxOf = (c: CallContext) => ({
      apiVersion: c.apiVersion,
      clientId: c.clientId ?? '',
      clientHost: c.clientHost,
    });
    return {
      [ApiKey.FindCoordinator]: (_n, ctx, req) => this.findCoordinator(ctx, req),
      [ApiKey.JoinGroup]: (_n, ctx, req) => this.groups.joinGroup(req, ctxOf(ctx)),
      [ApiKey.SyncGroup]: (_n, ctx, req) => this.groups.syncGroup(req, ctxOf(ctx)),
      [ApiKey.Heartbeat]: (_n, ctx, req) => this.groups.heartbeat(req, ctxOf(ctx)),
      [ApiKey.LeaveGroup]: (_n, ctx, req) => this.groups.leaveGroup(req, ctxOf(ctx)),
      [ApiKey.OffsetCommit]: (_n, ctx, req) => this.groups.offsetCommit(req, ctxOf(ctx)),
      [ApiKey.OffsetFetch]: (_n, ctx, req) => this.groups.offsetFetch(req, ctxOf(ctx)),
      [ApiKey.ListGroups]: (_n, ctx, req) =>
        this.coordinator || !this.cluster
          ? this.groups.listGroups(req, ctxOf(ctx))
          : { throttleTimeMs: 0, errorCode: 0, groups: [] }, // a cluster broker with no group yet
      [ApiKey.DescribeGroups]: (_n, ctx, req) => this.groups.describeGroups(req, ctxOf(ctx)),
      [ApiKey.DeleteGroups]: (_n, ctx, req) => this.groups.deleteGroups(req, ctxOf(ctx)),
    };
  }
}

let closedCoordinator: GroupCoordinator | undefined;

/** A closed coordinator: every group request answers COORDINATOR_NOT_AVAILABLE (no __consumer_offsets yet). */
function notAvailableCoordinator(): GroupCoordinator {
  if (!closedCoordinator) {
    closedCoordinator = new GroupCoordinator({ storage: new MemoryGroupStorage(1) });
    closedCoordinator.close();
  }
  return closedCoordinator;
}
