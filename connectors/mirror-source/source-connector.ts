/**
 * MirrorSourceConnector (MM2's): finds the source topics that pass `topics`/`topics.exclude`
 * (skipping remote topics that came from the target, which would loop), creates their remote
 * topics on the target with the same partition count (and configs), and spreads the partitions
 * over at most `tasks.max` tasks. New topics and partitions are picked up every
 * `refresh.topics.interval.seconds`; topic configs are copied every
 * `sync.topic.configs.interval.seconds`.
 */
import {
  type ConfigDef,
  ConnectError,
  type ConnectorContext,
  type Props,
  type SourceConnector,
  type SourceTask,
} from '../../connect/sdk.js';
import type { Admin, KafkaClient } from '../../core/client/types.js';
import {
  copyableConfigs,
  ensureInternalTopic,
  ensureRemoteTopic,
  openCluster,
  openTarget,
  sourcePartitions,
  syncTopicConfigs,
  type TargetCluster,
} from './clusters.js';
import {
  checkConverters,
  type MirrorSourceConfig,
  mirrorSourceConfigDef,
  parseMirrorSourceConfig,
  VERSION,
} from './config.js';
import { MirrorSourceTask } from './source-task.js';

export class MirrorSourceConnector implements SourceConnector {
  readonly type = 'source';
  private props: Props = {};
  private cfg!: MirrorSourceConfig;
  private source: KafkaClient | null = null;
  private target: TargetCluster | null = null;
  private sourceAdmin: Admin | null = null;
  private targetAdmin: Admin | null = null;
  private partitions = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private context: ConnectorContext | null = null;
  private busy: Promise<void> = Promise.resolve();

  version(): string {
    return VERSION;
  }

  config(): ConfigDef {
    return mirrorSourceConfigDef();
  }

  validate(props: Props): Record<string, string[]> {
    try {
      parseMirrorSourceConfig(props);
      checkConverters(props);
      return {};
    } catch (err) {
      return {
        [(err as { key?: string }).key ?? 'source.cluster.bootstrap.servers']: [
          err instanceof Error ? err.message : String(err),
        ],
      };
    }
  }

  async start(props: Props, context: ConnectorContext): Promise<void> {
    this.cfg = parseMirrorSourceConfig(props);
    checkConverters(props);
    this.props = props;
    this.context = context;
    const { cfg } = this;
    this.target = await openTarget(
      cfg.targetBootstrap,
      `mirror-source-connector-${cfg.targetAlias}`,
      context.cluster,
    );
    this.targetAdmin = this.target.client.admin();
    this.source = await openCluster(cfg.sourceBootstrap, `mirror-source-connector-${cfg.sourceAlias}`);
    this.sourceAdmin = this.source.admin();
    try {
      if (cfg.emitOffsetSyncs)
        await ensureInternalTopic(
          this.targetAdmin,
          cfg.policy.offsetSyncsTopic(cfg.targetAlias),
          cfg.offsetSyncsReplicationFactor,
        );
      this.partitions = await this.refresh();
    } catch (err) {
      await this.stop();
      throw new ConnectError(
        'CONNECT',
        `MirrorSourceConnector could not reach the clusters (source.cluster.bootstrap.servers=${cfg.sourceBootstrap.join(',')}, target.cluster.bootstrap.servers=${cfg.targetBootstrap.join(',') || "(the worker's cluster)"}): ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    if (cfg.refreshTopics)
      this.every(cfg.refreshTopicsIntervalMs, async () => {
        const next = await this.refresh();
        if (!sameMap(next, this.partitions)) {
          this.partitions = next;
          this.context?.requestTaskReconfiguration();
        }
      });
    if (cfg.syncTopicConfigs) this.every(cfg.syncTopicConfigsIntervalMs, () => this.syncConfigs());
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => {
      this.busy = this.busy.then(fn).catch(() => {
        // transient: the next round tries again
      });
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Is this source topic to be mirrored? */
  private accepts(topic: string): boolean {
    const { cfg } = this;
    if (!cfg.topicFilter.matches(topic)) return false;
    // A topic that came from the target (a mirror the other way) would loop back.
    if (cfg.policy.topicSource(topic) === cfg.targetAlias) return false;
    return topic !== cfg.policy.offsetSyncsTopic(cfg.targetAlias);
  }

  /** Source partitions now, with their remote topics created or grown on the target. */
  private async refresh(): Promise<Map<string, number>> {
    const { cfg } = this;
    const sourceAdmin = this.sourceAdmin!;
    const targetAdmin = this.targetAdmin!;
    const found = await sourcePartitions(sourceAdmin, (t) => this.accepts(t));
    for (const [topic, count] of found) {
      const configs = cfg.syncTopicConfigs ? await copyableConfigs(sourceAdmin, topic) : {};
      await ensureRemoteTopic(
        targetAdmin,
        cfg.policy.formatRemoteTopic(cfg.sourceAlias, topic),
        count,
        cfg.replicationFactor,
        configs,
      );
    }
    return found;
  }

  private async syncConfigs(): Promise<void> {
    const { cfg } = this;
    const sourceAdmin = this.sourceAdmin!;
    const targetAdmin = this.targetAdmin!;
    for (const topic of this.partitions.keys()) {
      await syncTopicConfigs(
        targetAdmin,
        cfg.policy.formatRemoteTopic(cfg.sourceAlias, topic),
        await copyableConfigs(sourceAdmin, topic),
      );
    }
  }

  taskConfigs(maxTasks: number): Props[] {
    const all = [...this.partitions].flatMap(([topic, n]) =>
      Array.from({ length: n }, (_, p) => `${topic}-${p}`),
    );
    if (all.length === 0) return [];
    const count = Math.min(maxTasks, all.length);
    const buckets: string[][] = Array.from({ length: count }, () => []);
    for (const [i, tp] of all.entries()) buckets[i % count]!.push(tp);
    return buckets.map((b) => ({ ...this.props, 'task.assigned.partitions': b.join(',') }));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.busy;
    const admins = [this.sourceAdmin, this.targetAdmin];
    const clients = [this.source, this.target?.owned ? this.target.client : null];
    this.source = null;
    this.target = null;
    this.sourceAdmin = null;
    this.targetAdmin = null;
    await Promise.all(admins.map((a) => a?.close().catch(() => {})));
    await Promise.all(clients.map((c) => c?.close().catch(() => {})));
  }

  createTask(): SourceTask {
    return new MirrorSourceTask();
  }
}

function sameMap(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}
