/**
 * Runs one source task (Kafka's WorkerSourceTask): poll → transform → convert → produce, with
 * offsets committed only once Kafka acknowledged every record they cover.
 *
 * Offset tracking (Kafka's SubmittedRecords): a poll's records go to the producer in parts of up
 * to SEND_CHUNK_RECORDS (one producer call each), queued in poll order as segments that hold, for
 * each source partition, the offset of its last record in the part (not an entry per record). A
 * commit takes the acknowledged prefix of the queue and writes, for each source partition, its last
 * offset in that prefix. The prefix is folded into those per-partition offsets as acknowledgements
 * arrive (not only at commit time), so that the queue holds what is in flight, not everything since
 * the last commit (a minute's worth by default, which the garbage collector would otherwise walk
 * again and again). A record dropped by a transform or skipped by `errors.tolerance=all` counts as
 * done at once: the task's `commitRecord(record, null)` is called for it (as Kafka does), so that a
 * source tracking its positions per record (the CDC source's LSNs) can move past it, and its offset
 * is committed with the part of the poll it is in. Only a task that implements commitRecord() has
 * its records kept until they are acknowledged (to hand them back); for the others, only the bytes
 * of keys and values are in flight, in the producer's batches.
 *
 * At most MAX_OUTSTANDING_RECORDS, and at most the producer's `buffer.memory` (32 MiB by default)
 * of keys and values, are unacknowledged at a time: poll waits beyond that until half of it is
 * acknowledged. (The bytes bound keeps large records — Debezium events with schemas are a few KB — from piling up
 * by the hundred megabytes, which costs more in garbage collection than it gains in batching.)
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Producer, ProducerRecord, RecordHeader } from '../../core/client/types.js';
import { isPromise } from '../converters/converter.js';
import type { SourceMap, SourceRecord } from '../data.js';
import { ConnectError, messageOf, traceOf } from '../errors.js';
import type { OffsetStorageReader, RecordMetadataLike, SourceTask, TaskStatusMetrics } from '../sdk.js';
import { canonicalJson, type OffsetStore } from '../storage/offsets.js';
import { type ErrorContext, isRetriable } from './error-handler.js';
import { SourceRecovery } from './source-recovery.js';
import { statusHookReader, type TaskEnv } from './task-env.js';
import { ensureTopic } from './topics.js';

const MAX_OUTSTANDING_RECORDS = 100_000;
/**
 * Records of a poll handed to the producer before the loop lets I/O in. (The CDC source polls 2048
 * at a time; sent at once, each event-loop turn took ~12 ms, and records stayed unacknowledged
 * for ~60 ms: long enough for the garbage collector to copy and promote every one of them.)
 */
const SEND_CHUNK_RECORDS = 256;
const DEFAULT_MAX_OUTSTANDING_BYTES = 33_554_432;

/**
 * The records of one producer call, and the records dropped among them, in poll order: for each
 * source partition the offset of its last record here. Acknowledged as a whole.
 */
interface Segment {
  offsets: Map<string, { partition: SourceMap; offset: SourceMap }>;
  /** Records (sent and dropped). */
  count: number;
  acked: boolean;
  /** Where its records went in Kafka, per topic-partition the last one (kept only for exactly-once recovery). */
  landed: Map<string, Landed> | null;
}

const newSegment = (): Segment => ({ offsets: new Map(), count: 0, acked: false, landed: null });

interface Landed {
  topic: string;
  partition: number;
  offset: number;
}

/** What the acknowledged prefix of the queue covers: per source partition its last offset, per topic-partition the last record written (for exactly-once recovery). */
interface Committable {
  offsets: Map<string, { partition: SourceMap; offset: SourceMap }>;
  covered: Map<string, Landed>;
  /** Records in the prefix (with or without offsets). */
  records: number;
}

const newCommittable = (): Committable => ({ offsets: new Map(), covered: new Map(), records: 0 });

export class WorkerSourceTask {
  private producer: Producer | null = null;
  private readonly queue: Segment[] = [];
  private queueHead = 0;
  /** The acknowledged prefix taken off the queue since the last commit. */
  private committable: Committable = newCommittable();
  private outstanding = 0;
  private outstandingBytes = 0;
  private waitingForAcks = false;
  /** Whether PAUSED was reported (by the loop, once it stopped polling). */
  private pausedReported = false;
  private readonly maxOutstandingBytes: number;
  private stopping = false;
  private paused = false;
  private wake: (() => void) | null = null;
  private lastCommitMs = Date.now();
  private readonly knownTopics = new Set<string>();
  private failure: Error | null = null;
  private done: Promise<void> | null = null;
  private committing: Promise<void> = Promise.resolve();
  private recovery: SourceRecovery | null = null;
  private readonly keyCache = new WeakMap<object, string>();
  private lastPartition: SourceMap | null = null;
  private lastPartitionKey = '';
  /** Records sent so far (for tests and metrics). */
  sent = 0;
  /** What the task reports about itself (its status() hook), or null. */
  readonly statusMetrics: () => TaskStatusMetrics | null;

  constructor(
    private readonly env: TaskEnv,
    private readonly task: SourceTask,
    private readonly offsets: OffsetStore,
    paused: boolean,
  ) {
    this.paused = paused;
    this.statusMetrics = statusHookReader(task, env);
    const memory = Number(env.producerConfig['buffer.memory'] ?? DEFAULT_MAX_OUTSTANDING_BYTES);
    this.maxOutstandingBytes = memory > 0 ? memory : DEFAULT_MAX_OUTSTANDING_BYTES;
  }

  /** Starts the task loop; resolves when it has ended (stopped or failed). */
  start(): Promise<void> {
    this.done = this.run();
    return this.done;
  }

  private reader(): OffsetStorageReader {
    const name = this.env.id.connector;
    return {
      offset: async (p) => this.offsets.get(name, p),
      offsets: async (ps) => new Map(ps.map((p) => [p, this.offsets.get(name, p)])),
    };
  }

  private async run(): Promise<void> {
    const { env } = this;
    try {
      await this.offsets.refresh();
      if (String(env.worker.values['exactly.once.source.support']) === 'enabled') {
        this.recovery = new SourceRecovery(env, this.offsets);
        await this.recovery.recover();
      }
      this.producer = env.client.producer({
        acks: 'all',
        'client.id': `connector-producer-${env.id.connector}-${env.id.task}`,
        'linger.ms': 5,
        ...env.producerConfig,
      });
      await this.task.start(env.taskProps, {
        configs: env.taskProps,
        offsetStorageReader: this.reader(),
        cluster: env.client,
      });
      this.pausedReported = this.paused;
      env.onStatus(this.paused ? 'PAUSED' : 'RUNNING');
      const flushIntervalMs = Number(env.worker.values['offset.flush.interval.ms']);
      while (!this.stopping && this.failure === null) {
        if (this.paused) {
          // PAUSED is reported here, once no poll() is in progress any more (as Kafka's task
          // thread does): from then on the task really produces nothing.
          if (!this.pausedReported) {
            this.pausedReported = true;
            env.onStatus('PAUSED');
          }
          await this.sleepUntilWoken(1000);
          continue;
        }
        if (this.tooMuchOutstanding(1)) {
          this.waitingForAcks = true;
          await this.sleepUntilWoken(100);
          this.waitingForAcks = false;
          continue;
        }
        let records: SourceRecord[] | null;
        try {
          records = await this.task.poll();
        } catch (err) {
          if (isRetriable(err)) {
            env.log(`${env.id.connector}-${env.id.task}: poll failed, retrying: ${messageOf(err)}`);
            continue;
          }
          throw err;
        }
        if (records && records.length > 0 && !this.stopping) await this.sendRecords(records);
        // A poll() that resolves at once must not starve timers and I/O (heartbeats, acks, REST).
        await yieldToEventLoop();
        if (Date.now() - this.lastCommitMs >= flushIntervalMs) this.commitInBackground();
      }
      if (this.failure) throw this.failure;
      await this.finish();
    } catch (err) {
      env.log(`task ${env.id.connector}-${env.id.task} failed: ${traceOf(err)}`);
      env.onStatus('FAILED', traceOf(err));
      await this.close();
    }
  }

  private sleepUntilWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async sendRecords(records: SourceRecord[]): Promise<void> {
    const { env } = this;
    const chain = env.chain;
    // The task's records are kept until acknowledged only when it asks for them back.
    const keepOriginals = this.task.commitRecord !== undefined;
    let batch: ProducerRecord[] = [];
    let originals: SourceRecord[] = [];
    let segment = newSegment();
    /** Sends the part gathered so far and starts the next. */
    const sendPart = (): void => {
      this.send(batch, segment, originals);
      batch = [];
      originals = [];
      segment = newSegment();
    };
    let sinceYield = 0;
    for (const original of records) {
      if (++sinceYield > SEND_CHUNK_RECORDS && batch.length > 0) {
        // A large poll goes to the producer in parts, with I/O let in between (the producer's
        // requests and compression, fsyncs, acknowledgements): its records are acknowledged, and
        // released, in a few milliseconds instead of after the whole poll and the next ones.
        sendPart();
        sinceYield = 0;
        await yieldToEventLoop();
        // A part failed meanwhile: the task fails; sending more would only put records past the
        // gap, to come again when it restarts from its last committed offsets.
        if (this.failure) return;
      }
      let record: SourceRecord | null | undefined;
      try {
        record = chain.apply(original);
      } catch (err) {
        record = await env.errors.execute(
          () => chain.apply(original),
          errorContext(original, 'TRANSFORMATION', 'TransformationChain'),
          err,
        );
      }
      if (!record) {
        // Dropped by a transform or predicate (or skipped by errors.tolerance=all): done, as Kafka
        // counts it, so the task may release what it holds for it.
        this.note(segment, original);
        this.commitRecord(original, null);
        continue;
      }
      const r = record;
      let out: ProducerRecord | undefined;
      try {
        const c = this.convert(r);
        out = isPromise(c) ? await c : c;
      } catch (err) {
        out = await env.errors.execute(
          () => this.convert(r),
          errorContext(original, 'VALUE_CONVERTER', env.valueConverterClass),
          err,
        );
      }
      if (!out) {
        this.note(segment, original);
        this.commitRecord(original, null);
        continue;
      }
      if (!this.knownTopics.has(r.topic)) {
        // New topic: what is batched so far goes first, so that order is kept.
        if (batch.length > 0) sendPart();
        await this.prepareTopic(r.topic);
      }
      if (this.recovery) (out.headers as RecordHeader[]).push(...this.recovery.headers(original));
      this.note(segment, original);
      batch.push(out);
      if (keepOriginals) originals.push(original);
    }
    if (batch.length > 0) this.send(batch, segment, originals);
    else if (segment.count > 0) {
      // Only dropped records: done now (committed once what was polled before them is).
      this.queue.push(segment);
      this.acknowledge(segment);
    }
  }

  /** Counts `original` into `segment`: its offset is now its source partition's last there. */
  private note(segment: Segment, original: SourceRecord): void {
    segment.count++;
    const p = original.sourcePartition;
    const o = original.sourceOffset;
    if (!p || !o) return;
    keepLast(segment.offsets, this.partitionKey(p), p, o);
  }

  /** `segment` is done (its records acknowledged or dropped): the acknowledged prefix moves on. */
  private acknowledge(segment: Segment): void {
    segment.acked = true;
    this.foldAcknowledged();
  }

  private commitRecord(original: SourceRecord, meta: RecordMetadataLike | null): void {
    if (!this.task.commitRecord) return;
    try {
      this.task.commitRecord(original, meta);
    } catch (err) {
      this.env.log(`${this.env.id.connector}-${this.env.id.task}: commitRecord() failed: ${messageOf(err)}`);
    }
  }

  /** The producer record of a (transformed) record: key, value and headers through the converters. */
  private convert(r: SourceRecord): ProducerRecord | Promise<ProducerRecord> {
    const { env } = this;
    const key = env.keyConverter.fromConnectData(r.topic, r.keySchema, r.key);
    const value = env.valueConverter.fromConnectData(r.topic, r.valueSchema, r.value);
    let headers: RecordHeader[] = NO_HEADERS;
    if (r.headers.length > 0 || this.recovery) {
      headers = [];
      for (const h of r.headers)
        headers.push({
          key: h.key,
          value: env.headerConverter.fromConnectHeader(r.topic, h.key, h.schema, h.value),
        });
    }
    if (isPromise(key) || isPromise(value))
      return Promise.all([key, value]).then(([k, v]) => producerRecord(r, k, v, headers));
    return producerRecord(r, key, value, headers);
  }

  /** Whether unacknowledged records are at the limits (`fraction` of them). */
  private tooMuchOutstanding(fraction: number): boolean {
    return (
      this.outstanding >= MAX_OUTSTANDING_RECORDS * fraction ||
      this.outstandingBytes >= this.maxOutstandingBytes * fraction
    );
  }

  private released(count: number, bytes: number): void {
    this.outstanding -= count;
    this.outstandingBytes -= bytes;
    if (this.waitingForAcks && !this.tooMuchOutstanding(0.5)) this.wake?.();
  }

  /**
   * Sends a poll's records (one producer call, which keeps their order) as `segment`; `originals`
   * (when the task implements commitRecord) are handed back to it once acknowledged.
   */
  private send(batch: ProducerRecord[], segment: Segment, originals: SourceRecord[]): void {
    const { env } = this;
    const count = batch.length;
    let bytes = 0;
    for (const r of batch) bytes += byteSize(r.key) + byteSize(r.value);
    this.outstanding += count;
    this.outstandingBytes += bytes;
    this.sent += count;
    this.queue.push(segment);
    const acknowledged = (metas: RecordMetadataLike[] | null): void => {
      if (metas && this.recovery) segment.landed = landedOf(metas);
      if (metas && originals.length > 0)
        for (let i = 0; i < metas.length; i++) this.commitRecord(originals[i]!, metas[i]!);
      this.acknowledge(segment);
      this.released(count, bytes);
    };
    const failed = (err: unknown): void => {
      if (env.errors.cfg.toleranceAll) {
        // Which of the part's records made it is unknown (those before a bad one may have; those
        // after it were never sent): each is sent again on its own, and only those that fail
        // alone are dropped — at least once, as Kafka Connect sends each record on its own.
        void this.resendEach(batch, originals).then((dropped) => {
          this.acknowledge(segment);
          this.released(count, bytes);
          if (dropped > 0)
            env.log(
              `${env.id.connector}-${env.id.task}: dropping ${dropped} record(s) that could not be sent: ${messageOf(err)}`,
            );
        });
        return;
      }
      this.released(count, bytes);
      this.failure ??= new ConnectError(
        'CONNECT',
        `Unrecoverable exception from producer send callback: ${messageOf(err)}`,
        { cause: err },
      );
      this.wake?.();
    };
    // Metadata only when something reads it: commitRecord(), exactly-once recovery.
    if (originals.length > 0 || this.recovery) this.producer!.sendBatch(batch).then(acknowledged, failed);
    else this.producer!.sendAll(batch).then(() => acknowledged(null), failed);
  }

  /**
   * errors.tolerance=all after a part failed: sends each record of it on its own, reports each to
   * commitRecord() (null for one that failed again), and returns how many failed.
   */
  private async resendEach(batch: ProducerRecord[], originals: SourceRecord[]): Promise<number> {
    const results = await Promise.allSettled(batch.map((r) => this.producer!.send(r)));
    let dropped = 0;
    results.forEach((result, i) => {
      if (result.status === 'rejected') dropped++;
      if (originals.length > 0)
        this.commitRecord(originals[i]!, result.status === 'fulfilled' ? result.value : null);
    });
    return dropped;
  }

  /** Canonical JSON of a source partition, cached by identity (connectors usually reuse one object). */
  private partitionKey(p: SourceMap): string {
    if (p === this.lastPartition) return this.lastPartitionKey;
    let k = this.keyCache.get(p);
    if (k === undefined) {
      k = canonicalJson(p);
      this.keyCache.set(p, k);
    }
    this.lastPartition = p;
    this.lastPartitionKey = k;
    return k;
  }

  private async prepareTopic(topic: string): Promise<void> {
    const { env } = this;
    if (env.worker.values['topic.creation.enable'] !== false) {
      const partitions = Number(env.connectorProps['topic.creation.default.partitions'] ?? -1);
      const rf = Number(env.connectorProps['topic.creation.default.replication.factor'] ?? -1);
      await ensureTopic(env.admin, topic, partitions, rf);
    }
    await this.recovery?.prepareTopic(topic);
    this.knownTopics.add(topic);
    env.onTopic(topic);
  }

  /** Takes the acknowledged prefix off the queue, into what the next commit writes. */
  private foldAcknowledged(): void {
    const { queue } = this;
    const { offsets, covered } = this.committable;
    let head = this.queueHead;
    let records = 0;
    while (head < queue.length && queue[head]!.acked) {
      const seg = queue[head]!;
      queue[head++] = DONE;
      records += seg.count;
      for (const [key, o] of seg.offsets) keepLast(offsets, key, o.partition, o.offset);
      if (seg.landed) {
        for (const [k, l] of seg.landed) {
          const prev = covered.get(k);
          if (!prev || prev.offset < l.offset) covered.set(k, l);
        }
      }
    }
    this.committable.records += records;
    this.queueHead = head;
    if (head > 1024 || head === queue.length) {
      queue.splice(0, head);
      this.queueHead = 0;
    }
  }

  /** The offsets covered by acknowledged records, for a commit: what was folded since the last one. */
  private takeCommittable(): Committable {
    this.foldAcknowledged();
    const taken = this.committable;
    this.committable = newCommittable();
    return taken;
  }

  private commitInBackground(): void {
    this.lastCommitMs = Date.now();
    this.committing = this.committing
      .then(() => this.commitOffsets())
      .catch((err: unknown) => {
        this.env.log(
          `${this.env.id.connector}-${this.env.id.task}: offset commit failed (retried at the next interval): ${messageOf(err)}`,
        );
      });
  }

  /** Commits what is acknowledged now; resolves once the offsets are durable. */
  async commitOffsets(): Promise<void> {
    const { offsets, covered, records } = this.takeCommittable();
    if (records === 0) return;
    if (offsets.size > 0) await this.offsets.set(this.env.id.connector, [...offsets.values()]);
    await this.recovery?.committed(covered);
    await this.task.commit?.();
  }

  /** Waits (up to offset.flush.timeout.ms) for outstanding records, then commits. */
  private async finish(): Promise<void> {
    const deadline = Date.now() + Number(this.env.worker.values['offset.flush.timeout.ms']);
    try {
      await this.producer?.flush();
    } catch {
      // failures are reported through the send callbacks
    }
    while (this.outstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.committing;
    await this.commitOffsets().catch((err: unknown) =>
      this.env.log(
        `final offset commit of ${this.env.id.connector}-${this.env.id.task} failed: ${messageOf(err)}`,
      ),
    );
    await this.close();
  }

  private async close(): Promise<void> {
    try {
      await this.task.stop();
    } catch (err) {
      this.env.log(`stopping task ${this.env.id.connector}-${this.env.id.task} failed: ${messageOf(err)}`);
    }
    this.env.chain.close();
    await this.producer?.close().catch(() => {});
    this.producer = null;
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    if (!paused && this.pausedReported) {
      this.pausedReported = false;
      this.env.onStatus('RUNNING');
    }
    this.wake?.();
  }

  /** Asks the loop to end; resolves once the task stopped and its offsets were committed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.done;
  }
}

/** Where a failing record was, for errors.log.enable and the error handler (built only on failure). */
function errorContext(
  original: SourceRecord,
  stage: ErrorContext['stage'],
  executingClass: string,
): ErrorContext {
  return { stage, executingClass, sourceRecord: `SourceRecord{topic=${original.topic}}` };
}

/** Records without headers share this (nothing appends to it: exactly-once recovery's headers go to a fresh array). */
const NO_HEADERS: RecordHeader[] = [];
Object.freeze(NO_HEADERS);

function producerRecord(
  r: SourceRecord,
  key: Buffer | null,
  value: Buffer | null,
  headers: RecordHeader[],
): ProducerRecord {
  const out: ProducerRecord = { topic: r.topic, key, value, headers };
  if (r.kafkaPartition !== null) out.partition = r.kafkaPartition;
  if (r.timestamp !== null) out.timestamp = r.timestamp;
  return out;
}

/** What takes a folded segment's place in the queue until the queue is compacted. */
/** Records `offset` as the last of `partition` (by its key) in `offsets`. */
function keepLast(
  offsets: Map<string, { partition: SourceMap; offset: SourceMap }>,
  key: string,
  partition: SourceMap,
  offset: SourceMap,
): void {
  const prev = offsets.get(key);
  if (prev) {
    prev.partition = partition;
    prev.offset = offset;
  } else offsets.set(key, { partition, offset });
}

const DONE: Segment = { offsets: new Map(), count: 0, acked: true, landed: null };

/** Per topic-partition, the last record of `metas` there. */
function landedOf(metas: readonly RecordMetadataLike[]): Map<string, Landed> {
  const out = new Map<string, Landed>();
  for (const m of metas) {
    const k = `${m.topic}\u0000${m.partition}`;
    const prev = out.get(k);
    if (!prev || prev.offset < m.offset)
      out.set(k, { topic: m.topic, partition: m.partition, offset: m.offset });
  }
  return out;
}

function byteSize(b: Buffer | string | null | undefined): number {
  return b == null ? 0 : b.length;
}
