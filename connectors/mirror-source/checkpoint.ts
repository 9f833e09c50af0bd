/**
 * MirrorCheckpointConnector and its task (MM2's): every `emit.checkpoints.interval.seconds` the task
 * reads the offset syncs the source task wrote on the target, asks the source cluster for the
 * committed offsets of its consumer groups (`groups`/`groups.exclude`), translates them and writes
 * checkpoints to `<alias>.checkpoints.internal`. With `sync.group.offsets.enabled`, it also commits
 * the translated offsets to the target's `__consumer_offsets` for each group with no active member
 * there — only moving forward — so consumers fail over to the mirror and continue where they were.
 */
import { createHash } from 'node:crypto';
import {
  type ConfigDef,
  type Props,
  Schemas,
  type SourceConnector,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
} from '../../connect/sdk.js';
import type { Admin, Consumer, KafkaClient, TopicPartitionOffset } from '../../core/client/types.js';
import { ensureInternalTopic, openCluster, openTarget, type TargetCluster } from './clusters.js';
import {
  checkConverters,
  type MirrorCheckpointConfig,
  mirrorCheckpointConfigDef,
  parseMirrorCheckpointConfig,
  VERSION,
} from './config.js';
import { type Checkpoint, decodeOffsetSync, encodeCheckpoint, OffsetSyncStore } from './records.js';

const IDLE_POLL_MS = 200;

export class MirrorCheckpointConnector implements SourceConnector {
  readonly type = 'source';
  private props: Props = {};

  version(): string {
    return VERSION;
  }

  config(): ConfigDef {
    return mirrorCheckpointConfigDef();
  }

  validate(props: Props): Record<string, string[]> {
    try {
      parseMirrorCheckpointConfig(props);
      checkConverters(props);
      return {};
    } catch (err) {
      return {
        [(err as { key?: string }).key ?? 'groups']: [err instanceof Error ? err.message : String(err)],
      };
    }
  }

  start(props: Props): void {
    parseMirrorCheckpointConfig(props);
    checkConverters(props);
    this.props = props;
  }

  /** Groups are shared among tasks by a hash of their id, so new groups need no reconfiguration. */
  taskConfigs(maxTasks: number): Props[] {
    return Array.from({ length: maxTasks }, (_, i) => ({
      ...this.props,
      'task.index': String(i),
      'task.count': String(maxTasks),
    }));
  }

  stop(): void {}

  createTask(): SourceTask {
    return new MirrorCheckpointTask();
  }
}

export class MirrorCheckpointTask implements SourceTask {
  private cfg!: MirrorCheckpointConfig;
  private source: KafkaClient | null = null;
  private target: TargetCluster | null = null;
  private sourceAdmin: Admin | null = null;
  private targetAdmin: Admin | null = null;
  private syncsConsumer: Consumer | null = null;
  private readonly store = new OffsetSyncStore();
  private readonly emitted = new Map<string, string>();
  private nextCheckpointMs = 0;
  private nextGroupSyncMs = 0;
  private checkpointsTopic = '';
  private stopped = false;

  version(): string {
    return VERSION;
  }

  async start(props: Props, context?: SourceTaskContext): Promise<void> {
    this.cfg = parseMirrorCheckpointConfig(props);
    const { cfg } = this;
    this.checkpointsTopic = cfg.policy.checkpointsTopic(cfg.sourceAlias);
    this.target = await openTarget(
      cfg.targetBootstrap,
      `mirror-checkpoint-${cfg.targetAlias}`,
      context?.cluster,
    );
    this.source = await openCluster(cfg.sourceBootstrap, `mirror-checkpoint-${cfg.sourceAlias}`);
    this.sourceAdmin = this.source.admin();
    this.targetAdmin = this.target.client.admin();
    const admin = this.targetAdmin;
    const syncsTopic = cfg.policy.offsetSyncsTopic(cfg.targetAlias);
    await ensureInternalTopic(admin, syncsTopic, cfg.offsetSyncsReplicationFactor);
    await ensureInternalTopic(admin, this.checkpointsTopic, cfg.checkpointsReplicationFactor);
    this.syncsConsumer = this.target.client.consumer({
      'enable.auto.commit': false,
      'auto.offset.reset': 'earliest',
    });
    this.syncsConsumer.assign([{ topic: syncsTopic, partition: 0 }]);
    this.syncsConsumer.seekToBeginning();
  }

  private mine(group: string): boolean {
    if (this.cfg.taskCount <= 1) return true;
    return (
      createHash('md5').update(group).digest().readUInt32BE(0) % this.cfg.taskCount === this.cfg.taskIndex
    );
  }

  /** Reads the offset syncs written since the last call. */
  private async readSyncs(): Promise<void> {
    const c = this.syncsConsumer!;
    const tp = c.assignment()[0]!;
    const [end] = await c.endOffsets([tp]);
    while ((await c.position(tp)) < (end?.offset ?? 0)) {
      const records = await c.poll({ timeoutMs: 500 });
      for (const r of records) if (r.key && r.value) this.store.add(decodeOffsetSync(r.key, r.value));
      if (this.stopped) return;
    }
  }

  async poll(): Promise<SourceRecord[] | null> {
    const now = Date.now();
    const { cfg } = this;
    const checkpointDue = cfg.emitCheckpoints && now >= this.nextCheckpointMs;
    const syncDue = cfg.syncGroupOffsets && now >= this.nextGroupSyncMs;
    if (this.stopped || (!checkpointDue && !syncDue)) {
      await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
      return null;
    }
    await this.readSyncs();
    const checkpoints = await this.checkpoints();
    const out: SourceRecord[] = [];
    if (checkpointDue) {
      this.nextCheckpointMs = now + cfg.emitCheckpointsIntervalMs;
      for (const c of checkpoints) {
        const k = `${c.group}\u0000${c.topic}\u0000${c.partition}`;
        const v = `${c.upstreamOffset}:${c.downstreamOffset}`;
        if (this.emitted.get(k) === v) continue;
        this.emitted.set(k, v);
        const { key, value } = encodeCheckpoint(c);
        out.push({
          topic: this.checkpointsTopic,
          kafkaPartition: 0,
          keySchema: Schemas.OPTIONAL_BYTES,
          key,
          valueSchema: Schemas.OPTIONAL_BYTES,
          value,
          timestamp: null,
          headers: [],
          sourcePartition: null,
          sourceOffset: null,
        });
      }
    }
    if (syncDue) {
      this.nextGroupSyncMs = now + cfg.syncGroupOffsetsIntervalMs;
      await this.syncGroupOffsets(checkpoints);
    }
    return out.length > 0 ? out : null;
  }

  /** Every checkpointed group's offsets on replicated partitions, translated. */
  private async checkpoints(): Promise<Checkpoint[]> {
    const { cfg } = this;
    const admin = this.sourceAdmin!;
    const groups = (await admin.listGroups()).filter(
      (g) =>
        (g.protocolType === 'consumer' || g.protocolType === '') &&
        cfg.groupFilter.matches(g.groupId) &&
        this.mine(g.groupId),
    );
    const out: Checkpoint[] = [];
    for (const g of groups) {
      let offsets: TopicPartitionOffset[];
      try {
        offsets = await admin.listGroupOffsets(g.groupId);
      } catch {
        continue;
      }
      for (const o of offsets) {
        if (o.offset < 0 || !cfg.topicFilter.matches(o.topic)) continue;
        const downstream = this.store.translate(o.topic, o.partition, o.offset);
        if (downstream === null) continue;
        out.push({
          group: g.groupId,
          topic: cfg.policy.formatRemoteTopic(cfg.sourceAlias, o.topic),
          partition: o.partition,
          upstreamOffset: o.offset,
          downstreamOffset: downstream,
          metadata: o.metadata ?? '',
        });
      }
    }
    return out;
  }

  /** Commits translated offsets to target groups that have no active members, never moving one back. */
  private async syncGroupOffsets(checkpoints: Checkpoint[]): Promise<void> {
    const admin = this.targetAdmin!;
    const byGroup = new Map<string, Checkpoint[]>();
    for (const c of checkpoints) {
      const list = byGroup.get(c.group);
      if (list) list.push(c);
      else byGroup.set(c.group, [c]);
    }
    if (byGroup.size === 0) return;
    const described = await admin.describeGroups([...byGroup.keys()]);
    for (const [group, list] of byGroup) {
      const d = described.find((x) => x.groupId === group);
      if (d && d.members.length > 0) continue;
      let current: TopicPartitionOffset[] = [];
      try {
        current = await admin.listGroupOffsets(group);
      } catch {
        current = [];
      }
      const ahead = list.filter((c) => {
        const cur = current.find((o) => o.topic === c.topic && o.partition === c.partition);
        return !cur || cur.offset < c.downstreamOffset;
      });
      if (ahead.length === 0) continue;
      try {
        await admin.alterGroupOffsets(
          group,
          ahead.map((c) => ({ topic: c.topic, partition: c.partition, offset: c.downstreamOffset })),
        );
      } catch {
        // the group became active meanwhile: its members own its offsets now
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const clients = [this.source, this.target?.owned ? this.target.client : null];
    const opened = [this.syncsConsumer, this.sourceAdmin, this.targetAdmin];
    this.source = null;
    this.target = null;
    this.syncsConsumer = null;
    this.sourceAdmin = null;
    this.targetAdmin = null;
    // On the worker's own cluster the client stays open: close what this task opened on it.
    await Promise.all(opened.map((c) => c?.close().catch(() => {})));
    await Promise.all(clients.map((c) => c?.close().catch(() => {})));
  }
}
