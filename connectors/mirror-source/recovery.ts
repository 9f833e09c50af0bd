/**
 * Catching up after a crash without copying a record twice, and without transactions or extra
 * headers.
 *
 * The runtime commits a task's source offsets every `offset.flush.interval.ms`; a task killed in
 * between has had records acknowledged by the target after its last commit, and resuming from
 * the commit would copy them again. But a remote partition holds exactly the records of its
 * source partition, in order, and the offset syncs say where the two logs line up. So, per
 * partition, from the latest offset sync (upstream U, downstream D): the record at D must be the
 * record at U (else the sync is not trusted and nothing is skipped), and then the remote records
 * after D are matched one by one with the source records after U — same key, value, timestamp and
 * headers. Every matched source record is in the target already: the task resumes after the last
 * one. A mismatch ends the walk there, so a remote topic that other writers touched costs
 * duplicates, never a lost record.
 *
 * A partition without any sync is walked from the start of both logs. That is short: a task writes
 * a partition's first sync right after its first records, so only a task stopped or killed within
 * its first batches leaves none (or someone deleted the syncs topic).
 */
import type { Consumer, ConsumerRecord, KafkaClient, TopicPartition } from '../../core/client/types.js';
import { decodeOffsetSync, type OffsetSync } from './records.js';

const POLL_RECORDS = 2000;
/** A read that makes no progress for this long ends the walk (nothing is skipped past it). */
const STALL_MS = 30_000;

export interface RecoveryInput {
  topic: string;
  partition: number;
  remoteTopic: string;
}

export interface Recovered {
  /** The first source offset not yet in the target. */
  resumeAt: number;
  /** The last pair of records found in both logs. */
  sync: OffsetSync;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The latest offset sync of every partition in the syncs topic (empty when there is none). */
export async function readLatestSyncs(
  target: KafkaClient,
  syncsTopic: string,
): Promise<Map<string, OffsetSync>> {
  const out = new Map<string, OffsetSync>();
  const admin = target.admin();
  let end: number;
  try {
    if (!(await admin.listTopics({ includeInternal: true })).includes(syncsTopic)) return out;
    const [e] = await admin.listOffsets([{ topic: syncsTopic, partition: 0, spec: 'latest' }]);
    end = e?.offset ?? 0;
  } finally {
    await admin.close();
  }
  if (end === 0) return out;
  const consumer = target.consumer({ 'enable.auto.commit': false, 'auto.offset.reset': 'earliest' });
  try {
    const reader = new PartitionReader(consumer, { topic: syncsTopic, partition: 0 }, null, end);
    for (let r = await reader.next(); r !== null; r = await reader.next()) {
      if (!r.key || !r.value) continue;
      const s = decodeOffsetSync(r.key, r.value);
      out.set(key(s.topic, s.partition), s);
    }
  } finally {
    await consumer.close();
  }
  return out;
}

/** Where the two logs are known (or, from their starts, hoped) to line up. */
interface Anchor {
  upstreamOffset: number;
  downstreamOffset: number;
  /** An offset sync: the records at exactly these offsets must match. */
  exact: boolean;
}

/** For each partition whose remote records can be matched with the source's: where to resume. */
export async function recoverPositions(
  source: KafkaClient,
  target: KafkaClient,
  syncsTopic: string,
  partitions: readonly RecoveryInput[],
  /** Called with every pair of records found in both logs, in order per partition. */
  onMatched: (pair: OffsetSync) => void = () => {},
): Promise<Map<string, Recovered>> {
  const out = new Map<string, Recovered>();
  if (partitions.length === 0) return out;
  const syncs = await readLatestSyncs(target, syncsTopic);
  const targetAdmin = target.admin();
  const sourceAdmin = source.admin();
  try {
    const offsets = async (admin: typeof targetAdmin, remote: boolean, spec: 'earliest' | 'latest') => {
      const got = await admin.listOffsets(
        partitions.map((p) => ({ topic: remote ? p.remoteTopic : p.topic, partition: p.partition, spec })),
      );
      return (p: RecoveryInput) =>
        got.find((e) => e.topic === (remote ? p.remoteTopic : p.topic) && e.partition === p.partition)
          ?.offset;
    };
    const remoteEnd = await offsets(targetAdmin, true, 'latest');
    const remoteStart = await offsets(targetAdmin, true, 'earliest');
    const sourceEnd = await offsets(sourceAdmin, false, 'latest');
    const sourceStart = await offsets(sourceAdmin, false, 'earliest');
    for (const p of partitions) {
      const sync = syncs.get(key(p.topic, p.partition));
      const rStart = remoteStart(p);
      const sStart = sourceStart(p);
      const anchor: Anchor | null = sync
        ? { upstreamOffset: sync.upstreamOffset, downstreamOffset: sync.downstreamOffset, exact: true }
        : rStart !== undefined && sStart !== undefined
          ? { upstreamOffset: sStart, downstreamOffset: rStart, exact: false }
          : null;
      const rEnd = remoteEnd(p);
      const sEnd = sourceEnd(p);
      if (anchor === null || rEnd === undefined || sEnd === undefined || rEnd <= anchor.downstreamOffset)
        continue;
      // Unreadable logs (deleted records, a broker gone): nothing is skipped, the committed offset holds.
      const last = await walk(source, target, p, anchor, rEnd, sEnd, onMatched).catch(() => null);
      if (last !== null)
        out.set(key(p.topic, p.partition), { resumeAt: last.upstreamOffset + 1, sync: last });
    }
  } finally {
    await Promise.all([targetAdmin.close(), sourceAdmin.close()]);
  }
  return out;
}

/** Matches remote records from the anchor's downstream offset with source records from its upstream one. */
async function walk(
  source: KafkaClient,
  target: KafkaClient,
  p: RecoveryInput,
  anchor: Anchor,
  remoteEnd: number,
  sourceEnd: number,
  onMatched: (pair: OffsetSync) => void,
): Promise<OffsetSync | null> {
  const config = { 'enable.auto.commit': false, 'auto.offset.reset': 'none' } as const;
  const sourceConsumer = source.consumer(config);
  const targetConsumer = target.consumer(config);
  try {
    const remote = new PartitionReader(
      targetConsumer,
      { topic: p.remoteTopic, partition: p.partition },
      anchor.downstreamOffset,
      remoteEnd,
    );
    const upstream = new PartitionReader(
      sourceConsumer,
      { topic: p.topic, partition: p.partition },
      anchor.upstreamOffset,
      sourceEnd,
    );
    let last: OffsetSync | null = null;
    for (;;) {
      const d = await remote.next();
      if (d === null) break;
      const u = await upstream.next();
      if (u === null || !sameRecord(u, d)) break;
      // A sync's own pair must match: otherwise the sync belongs to other data.
      if (
        last === null &&
        anchor.exact &&
        (u.offset !== anchor.upstreamOffset || d.offset !== anchor.downstreamOffset)
      )
        break;
      last = { topic: p.topic, partition: p.partition, upstreamOffset: u.offset, downstreamOffset: d.offset };
      onMatched(last);
    }
    return last;
  } finally {
    await Promise.all([sourceConsumer.close(), targetConsumer.close()]);
  }
}

export function recoveredFor(
  recovered: Map<string, Recovered>,
  topic: string,
  partition: number,
): Recovered | undefined {
  return recovered.get(key(topic, partition));
}

/** A mirrored record: the source's key, value and timestamp, and its headers first (the runtime may add some). */
function sameRecord(u: ConsumerRecord, d: ConsumerRecord): boolean {
  if (u.timestamp !== d.timestamp || !sameBytes(u.key, d.key) || !sameBytes(u.value, d.value)) return false;
  if (d.headers.length < u.headers.length) return false;
  for (let i = 0; i < u.headers.length; i++) {
    const a = u.headers[i]!;
    const b = d.headers[i]!;
    if (a.key !== b.key || !sameBytes(a.value, b.value)) return false;
  }
  return true;
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

/** One partition's records in order from `from` (or the beginning) up to `end`, through a consumer of its own. */
class PartitionReader {
  private buffer: ConsumerRecord[] = [];
  private at = 0;
  private started = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly tp: TopicPartition,
    private readonly from: number | null,
    private readonly end: number,
  ) {}

  async next(): Promise<ConsumerRecord | null> {
    if (!this.started) {
      this.started = true;
      this.consumer.assign([this.tp]);
      if (this.from === null) this.consumer.seekToBeginning([this.tp]);
      else this.consumer.seek(this.tp, this.from);
    }
    let stalledSince = Date.now();
    while (this.at >= this.buffer.length) {
      if (this.buffer.length > 0 && this.buffer[this.buffer.length - 1]!.offset + 1 >= this.end) return null;
      if ((await this.consumer.position(this.tp)) >= this.end) return null;
      const records = await this.consumer.poll({ timeoutMs: 500, maxRecords: POLL_RECORDS });
      this.buffer = records.filter((r) => r.topic === this.tp.topic && r.partition === this.tp.partition);
      this.at = 0;
      if (this.buffer.length > 0) stalledSince = Date.now();
      else if (Date.now() - stalledSince > STALL_MS)
        throw new Error(`no progress reading ${this.tp.topic}-${this.tp.partition} for ${STALL_MS} ms`);
    }
    return this.buffer[this.at++]!;
  }
}
