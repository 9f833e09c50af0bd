/**
 * Exactly-once source delivery without transactions (`exactly.once.source.support=enabled`).
 *
 * Kafka Connect makes source records and their offsets atomic with a transaction. Our client has
 * no transactions yet, so instead every record carries its source position in a header,
 * `__connect.source.offset` = `{"connector", "partition", "offset"}`, and each task keeps, in the
 * offset store, where in each topic-partition it wrote after its last offset commit (its
 * "positions": written before the first record goes to a new topic-partition, and moved forward
 * after each commit). A task starting after a crash scans its topic-partitions from those
 * positions to their ends and takes, per source partition, the offset of the last record that
 * made it into the log — records acknowledged after the last commit are therefore not sent again,
 * and records never acknowledged are. Requires that the task's records keep their poll order per
 * topic-partition (the idempotent producer does) and that nothing deletes them before recovery.
 */
import type { ConsumerRecord, RecordHeader } from '../../core/client/types.js';
import type { SourceMap, SourceRecord } from '../data.js';
import { canonicalJson, type OffsetStore } from '../storage/offsets.js';
import type { TaskEnv } from './task-env.js';

export const OFFSET_HEADER = '__connect.source.offset';
/** The key under which a task's positions live in the offset store (hidden from the REST API). */
export const POSITIONS_KEY = '__tributary.recovery.task';
const SCAN_POLL_RECORDS = 5000;

type Positions = Record<string, Record<string, number>>;

export class SourceRecovery {
  private positions: Positions = {};
  /**
   * A task's records are spread over topic-partitions, so log order says nothing across them:
   * each record carries a sequence number, increasing across the task's runs (a hybrid clock:
   * max(now in µs, last + 1), started above anything recovery saw).
   */
  private lastSeq = 0;

  constructor(
    private readonly env: TaskEnv,
    private readonly offsets: OffsetStore,
  ) {}

  private get key(): SourceMap {
    return { [POSITIONS_KEY]: this.env.id.task };
  }

  headers(record: SourceRecord): RecordHeader[] {
    if (!record.sourcePartition || !record.sourceOffset) return [];
    this.lastSeq = Math.max(Date.now() * 1000, this.lastSeq + 1);
    return [
      {
        key: OFFSET_HEADER,
        value: Buffer.from(
          JSON.stringify({
            connector: this.env.id.connector,
            seq: this.lastSeq,
            partition: record.sourcePartition,
            offset: record.sourceOffset,
          }),
        ),
      },
    ];
  }

  /** Finds records acknowledged after the last commit and commits their offsets. */
  async recover(): Promise<void> {
    const name = this.env.id.connector;
    const stored = this.offsets.get(name, this.key);
    this.positions = ((stored?.positions as Positions | undefined) ?? {}) as Positions;
    this.lastSeq = Math.max(this.lastSeq, Number(stored?.seq ?? 0));
    const tps = Object.entries(this.positions).flatMap(([topic, parts]) =>
      Object.entries(parts).map(([p, start]) => ({ topic, partition: Number(p), start })),
    );
    if (tps.length === 0) return;
    const ends = await this.env.admin.listOffsets(
      tps.map((t) => ({ topic: t.topic, partition: t.partition, spec: 'latest' as const })),
    );
    const latest = new Map<string, { partition: SourceMap; offset: SourceMap; seq: number }>();
    const consumer = this.env.client.consumer({
      'enable.auto.commit': false,
      'client.id': `connector-recovery-${name}-${this.env.id.task}`,
    });
    try {
      for (const t of tps) {
        const end = ends.find((e) => e.topic === t.topic && e.partition === t.partition)?.offset ?? t.start;
        if (end <= t.start) continue;
        const tp = { topic: t.topic, partition: t.partition };
        consumer.assign([tp]);
        consumer.seek(tp, t.start);
        let position = t.start;
        while (position < end) {
          const records = await consumer.poll({ timeoutMs: 500, maxRecords: SCAN_POLL_RECORDS });
          for (const r of records) {
            position = r.offset + 1;
            this.take(r, latest);
          }
          if (records.length === 0) position = await consumer.position(tp);
        }
        this.positions[t.topic]![String(t.partition)] = end;
      }
    } finally {
      await consumer.close();
    }
    if (latest.size > 0) {
      this.env.log(
        `${name}-${this.env.id.task}: recovered the offsets of ${latest.size} source partition(s) from records written after the last commit`,
      );
      await this.offsets.set(
        name,
        [...latest.values()].map((l) => ({ partition: l.partition, offset: l.offset })),
      );
    }
    await this.writePositions();
  }

  private take(
    r: ConsumerRecord,
    latest: Map<string, { partition: SourceMap; offset: SourceMap; seq: number }>,
  ): void {
    const h = r.headers.find((x) => x.key === OFFSET_HEADER);
    if (!h?.value) return;
    try {
      const v = JSON.parse(h.value.toString('utf8')) as {
        connector?: string;
        seq?: number;
        partition?: SourceMap;
        offset?: SourceMap;
      };
      if (v.connector !== this.env.id.connector || !v.partition || !v.offset || typeof v.seq !== 'number')
        return;
      this.lastSeq = Math.max(this.lastSeq, v.seq);
      const key = canonicalJson(v.partition);
      const prev = latest.get(key);
      if (!prev || prev.seq < v.seq)
        latest.set(key, { partition: v.partition, offset: v.offset, seq: v.seq });
    } catch {
      // not ours
    }
  }

  /** Before the first record goes to `topic`: remember where its partitions end now. */
  async prepareTopic(topic: string): Promise<void> {
    const [desc] = await this.env.admin.describeTopics([topic]);
    const parts = (desc?.partitions ?? []).map((p) => p.partition);
    const known = this.positions[topic] ?? {};
    const missing = parts.filter((p) => known[String(p)] === undefined);
    if (missing.length === 0) return;
    const ends = await this.env.admin.listOffsets(
      missing.map((partition) => ({ topic, partition, spec: 'latest' as const })),
    );
    for (const e of ends) known[String(e.partition)] = e.offset;
    this.positions[topic] = known;
    await this.writePositions();
  }

  /**
   * After an offset commit that covered every record acknowledged up to `covered` (per
   * topic-partition, the highest offset of a covered record): scans may start after them.
   */
  async committed(covered: Map<string, { topic: string; partition: number; offset: number }>): Promise<void> {
    let moved = false;
    for (const { topic, partition, offset } of covered.values()) {
      const parts = this.positions[topic] ?? {};
      this.positions[topic] = parts;
      if ((parts[String(partition)] ?? -1) < offset + 1) {
        parts[String(partition)] = offset + 1;
        moved = true;
      }
    }
    if (moved) await this.writePositions();
  }

  private async writePositions(): Promise<void> {
    await this.offsets.set(this.env.id.connector, [
      { partition: this.key, offset: { positions: this.positions, seq: this.lastSeq } },
    ]);
  }
}
