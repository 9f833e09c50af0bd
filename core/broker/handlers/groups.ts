/**
 * FindCoordinator and the group APIs, served by the group coordinator over `__consumer_offsets`.
 * The coordinator's request and response types use Kafka's field names, so requests pass
 * through unchanged.
 */
import { LogError } from '../../log/errors.js';
import type { PartitionLog } from '../../log/log.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { HandlerTable } from '../broker.js';
import { GroupCoordinator, type GroupCoordinatorConfig } from '../group-coordinator.js';
import { type GroupLog, logGroupStorage, OFFSETS_TOPIC } from '../offsets-store.js';
import type { CallContext, NodeParts, Req, Res } from './context.js';

/** Kafka's __consumer_offsets settings: compacted, 100 MiB segments. */
const OFFSETS_TOPIC_CONFIGS = { 'cleanup.policy': 'compact', 'segment.bytes': '104857600' };

export class GroupHandlers {
  private coordinator: GroupCoordinator | undefined;

  constructor(private readonly node: NodeParts) {}

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

  /** Creates __consumer_offsets when missing and loads every group from it. */
  async start(): Promise<void> {
    const { config, logs } = this.node;
    const partitions = config['offsets.topic.num.partitions'] as number;
    const existing = logs.topic(OFFSETS_TOPIC);
    if (!existing) {
      logs.createTopic(OFFSETS_TOPIC, { partitions, replicationFactor: 1, configs: OFFSETS_TOPIC_CONFIGS });
    }
    const count = logs.topic(OFFSETS_TOPIC)!.partitions;
    const pick = (key: keyof GroupCoordinatorConfig): number => config[key] as number;
    this.coordinator = new GroupCoordinator({
      storage: logGroupStorage((p) => this.offsetsLog(p), { partitionCount: count }),
      clock: this.node.clock,
      config: {
        'group.min.session.timeout.ms': pick('group.min.session.timeout.ms'),
        'group.max.session.timeout.ms': pick('group.max.session.timeout.ms'),
        'group.initial.rebalance.delay.ms': pick('group.initial.rebalance.delay.ms'),
        'group.max.size': pick('group.max.size'),
        'offset.metadata.max.bytes': pick('offset.metadata.max.bytes'),
        'offsets.retention.minutes': pick('offsets.retention.minutes'),
        'offsets.retention.check.interval.ms': pick('offsets.retention.check.interval.ms'),
      },
      partitionExists: (topic, partition) => {
        const t = logs.topic(topic);
        return t !== undefined && partition >= 0 && partition < t.partitions;
      },
    });
    await this.coordinator.load();
  }

  private get groups(): GroupCoordinator {
    if (!this.coordinator)
      throw new LogError('KAFKA_STORAGE_ERROR', 'the group coordinator is not loaded yet');
    return this.coordinator;
  }

  async close(): Promise<void> {
    this.coordinator?.close();
  }

  private findCoordinator(ctx: CallContext, req: Req<'FindCoordinator'>): Res<'FindCoordinator'> {
    const self = this.node.endpoint();
    const keys = ctx.apiVersion >= 4 ? req.coordinatorKeys : [req.key];
    const answer = (key: string) => {
      // key type 0: group; 1: transaction (not supported yet)
      if (req.keyType !== 0) {
        return {
          key,
          nodeId: -1,
          host: '',
          port: -1,
          errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
          errorMessage: 'transactions are not supported yet',
        };
      }
      return { key, nodeId: self.nodeId, host: self.host, port: self.port, errorCode: 0, errorMessage: null };
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
      [ApiKey.ListGroups]: (_n, ctx, req) => this.groups.listGroups(req, ctxOf(ctx)),
      [ApiKey.DescribeGroups]: (_n, ctx, req) => this.groups.describeGroups(req, ctxOf(ctx)),
      [ApiKey.DeleteGroups]: (_n, ctx, req) => this.groups.deleteGroups(req, ctxOf(ctx)),
    };
  }
}
