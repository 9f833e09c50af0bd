/**
 * MirrorSourceTask: consumes its assigned partitions of the source cluster and returns each record
 * as a source record for the remote topic — same partition, key, value, headers and timestamp, as
 * bytes. The source partition is `{cluster, topic, partition}` and the source offset `{offset}`:
 * the runtime commits them once the target acknowledged the record, and a restarted task resumes
 * right after the last one, so the mirror catches up after being down.
 *
 * Offset syncs (MM2's PartitionState): when a record lands, its upstream → downstream offset pair
 * becomes a sync if it is the first, if the downstream offset drifted `offset.lag.max` from what
 * the last sync predicts, or if offsets jumped; otherwise it is kept as the partition's latest and
 * written after the next offset commit. Syncs go to `mm2-offset-syncs.<target>.internal`.
 */
import {
  type Props,
  type RecordMetadataLike,
  Schemas,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
} from '../../connect/sdk.js';
import type { Consumer, KafkaClient } from '../../core/client/types.js';
import { openCluster, openTarget } from './clusters.js';
import { type MirrorSourceConfig, parseMirrorSourceConfig, VERSION } from './config.js';
import { encodeOffsetSync, type OffsetSync } from './records.js';
import { type Recovered, type RecoveryInput, recoveredFor, recoverPositions } from './recovery.js';

interface PartitionState {
  previousUpstream: number;
  previousDownstream: number;
  lastSyncUpstream: number;
  lastSyncDownstream: number;
  /** The latest pair not yet written as a sync. */
  delayed: OffsetSync | null;
}

const MAX_POLL_RECORDS = 2000;
/** Past this many unsent syncs, only the newest of each partition is kept. */
const MAX_PENDING_SYNCS = 10_000;

export class MirrorSourceTask implements SourceTask {
  private cfg!: MirrorSourceConfig;
  private source: KafkaClient | null = null;
  private consumer: Consumer | null = null;
  private syncsTopic = '';
  private readonly remote = new Map<string, string>();
  private readonly states = new Map<string, PartitionState>();
  private pendingSyncs: OffsetSync[] = [];
  private stopped = false;

  version(): string {
    return VERSION;
  }

  async start(props: Props, context: SourceTaskContext): Promise<void> {
    this.cfg = parseMirrorSourceConfig(props);
    const { cfg } = this;
    this.syncsTopic = cfg.policy.offsetSyncsTopic(cfg.targetAlias);
    this.source = await openCluster(cfg.sourceBootstrap, `mirror-source-${cfg.sourceAlias}`);
    this.consumer = this.source.consumer({
      'enable.auto.commit': false,
      'auto.offset.reset': 'earliest',
      'max.poll.records': MAX_POLL_RECORDS,
    });
    const tps = cfg.assigned;
    for (const tp of tps) this.remote.set(tp.topic, cfg.policy.formatRemoteTopic(cfg.sourceAlias, tp.topic));
    const keys = tps.map((tp) => this.sourcePartition(tp.topic, tp.partition));
    const offsets = await context.offsetStorageReader.offsets(keys);
    const committedAt = tps.map((_, i) => {
      const stored = offsets.get(keys[i]!);
      const last = stored ? Number(stored.offset) : Number.NaN;
      return Number.isInteger(last) && last >= 0 ? last + 1 : null;
    });
    const recovered = await this.recover(
      context,
      tps.map((tp) => ({ ...tp, remoteTopic: this.remote.get(tp.topic)! })),
    );
    this.consumer.assign(tps);
    const toBeginning = [];
    for (const [i, tp] of tps.entries()) {
      const committed = committedAt[i]!;
      const r = recoveredFor(recovered, tp.topic, tp.partition);
      if (r && r.resumeAt >= (committed ?? 0)) {
        this.consumer.seek(tp, r.resumeAt);
      } else if (committed !== null) this.consumer.seek(tp, committed);
      else toBeginning.push(tp);
    }
    if (toBeginning.length > 0) this.consumer.seekToBeginning(toBeginning);
  }

  /**
   * Where each partition is mirrored up to, from the target itself (see recovery.ts): records
   * acknowledged after the last offset commit are not copied again after a crash.
   */
  private async recover(
    context: SourceTaskContext,
    partitions: RecoveryInput[],
  ): Promise<Map<string, Recovered>> {
    const { cfg } = this;
    if (!cfg.emitOffsetSyncs || partitions.length === 0) return new Map();
    const target = await openTarget(
      cfg.targetBootstrap,
      `mirror-source-recovery-${cfg.targetAlias}`,
      context.cluster,
    );
    try {
      // Records found in both logs count as mirrored by this run: their syncs are written as if
      // they had just been acknowledged (translation as exact as offset.lag.max makes it), and each
      // partition's last one right away.
      const recovered = await recoverPositions(
        this.source!,
        target.client,
        this.syncsTopic,
        partitions,
        (pair) => this.track(pair),
      );
      this.commit();
      return recovered;
    } finally {
      if (target.owned) await target.client.close();
    }
  }

  private sourcePartition(topic: string, partition: number): Record<string, unknown> {
    return { cluster: this.cfg.sourceAlias, topic, partition };
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped || !this.consumer) return null;
    const out: SourceRecord[] = this.takeSyncs();
    const records = await this.consumer.poll({
      timeoutMs: Math.min(this.cfg.pollTimeoutMs, 1000),
      maxRecords: MAX_POLL_RECORDS,
    });
    for (const r of records) {
      out.push({
        topic: this.remote.get(r.topic) ?? this.cfg.policy.formatRemoteTopic(this.cfg.sourceAlias, r.topic),
        kafkaPartition: r.partition,
        keySchema: Schemas.OPTIONAL_BYTES,
        key: r.key,
        valueSchema: Schemas.OPTIONAL_BYTES,
        value: r.value,
        timestamp: r.timestamp,
        headers: r.headers.map((h) => ({ key: h.key, schema: Schemas.OPTIONAL_BYTES, value: h.value })),
        sourcePartition: this.sourcePartition(r.topic, r.partition),
        sourceOffset: { offset: r.offset },
      });
    }
    return out.length > 0 ? out : null;
  }

  private takeSyncs(): SourceRecord[] {
    if (this.pendingSyncs.length === 0) return [];
    const out: SourceRecord[] = [];
    for (const s of this.pendingSyncs) {
      const { key, value } = encodeOffsetSync(s);
      out.push({
        topic: this.syncsTopic,
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
    this.pendingSyncs = [];
    return out;
  }

  commitRecord(record: SourceRecord, metadata: RecordMetadataLike | null): void {
    if (
      !this.cfg.emitOffsetSyncs ||
      metadata === null ||
      record.sourcePartition === null ||
      record.sourceOffset === null
    )
      return;
    this.track({
      topic: String(record.sourcePartition.topic),
      partition: Number(record.sourcePartition.partition),
      upstreamOffset: Number(record.sourceOffset.offset),
      downstreamOffset: metadata.offset,
    });
  }

  /** A record is in the target at `downstreamOffset`: a sync now, or the partition's latest pair. */
  private track(sync: OffsetSync): void {
    const { topic, partition, upstreamOffset: upstream, downstreamOffset: downstream } = sync;
    const k = `${topic}\u0000${partition}`;
    let s = this.states.get(k);
    if (!s) {
      s = {
        previousUpstream: -1,
        previousDownstream: -1,
        lastSyncUpstream: -1,
        lastSyncDownstream: -1,
        delayed: null,
      };
      this.states.set(k, s);
    }
    const predicted = s.lastSyncDownstream + (upstream - s.lastSyncUpstream);
    const due =
      s.lastSyncDownstream === -1 ||
      downstream - predicted >= this.cfg.offsetLagMax ||
      upstream - s.previousUpstream !== 1 ||
      downstream < s.previousDownstream;
    s.previousUpstream = upstream;
    s.previousDownstream = downstream;
    if (due) {
      s.lastSyncUpstream = upstream;
      s.lastSyncDownstream = downstream;
      s.delayed = null;
      this.queueSync(sync);
    } else {
      s.delayed = sync;
    }
  }

  /** After an offset commit: the latest pair of each partition becomes a sync too (MM2's delayed syncs). */
  commit(): void {
    for (const s of this.states.values()) {
      if (!s.delayed) continue;
      s.lastSyncUpstream = s.delayed.upstreamOffset;
      s.lastSyncDownstream = s.delayed.downstreamOffset;
      this.queueSync(s.delayed);
      s.delayed = null;
    }
  }

  private queueSync(sync: OffsetSync): void {
    this.pendingSyncs.push(sync);
    if (this.pendingSyncs.length > MAX_PENDING_SYNCS) {
      const newest = new Map<string, OffsetSync>();
      for (const x of this.pendingSyncs) newest.set(`${x.topic}\u0000${x.partition}`, x);
      this.pendingSyncs = [...newest.values()];
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const source = this.source;
    this.source = null;
    this.consumer = null;
    await source?.close();
  }
}
