/**
 * Runs one source task (Kafka's WorkerSourceTask): poll → transform → convert → produce, with
 * offsets committed only once Kafka acknowledged every record they cover.
 *
 * Offset tracking (Kafka's SubmittedRecords): each produced record is queued in poll order with its
 * source partition and offset; a commit takes the acknowledged prefix of the queue and writes, for
 * each source partition, the offset of its last record in that prefix. A record dropped by a
 * transform or skipped by `errors.tolerance=all` counts as acknowledged at once. At most
 * MAX_OUTSTANDING_RECORDS are unacknowledged at a time (poll waits beyond that).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Producer, ProducerRecord, RecordHeader } from '../../core/client/types.js';
import { isPromise } from '../converters/converter.js';
import type { SourceMap, SourceRecord } from '../data.js';
import { ConnectError, messageOf, traceOf } from '../errors.js';
import type { OffsetStorageReader, SourceTask } from '../sdk.js';
import { canonicalJson, type OffsetStore } from '../storage/offsets.js';
import { isRetriable } from './error-handler.js';
import { SourceRecovery } from './source-recovery.js';
import type { TaskEnv } from './task-env.js';
import { ensureTopic } from './topics.js';

const MAX_OUTSTANDING_RECORDS = 100_000;

interface Submitted {
  partitionKey: string | null;
  partition: SourceMap | null;
  offset: SourceMap | null;
  acked: boolean;
  /** Where Kafka put it, once acknowledged. */
  landed?: { topic: string; partition: number; offset: number };
}

export class WorkerSourceTask {
  private producer: Producer | null = null;
  private readonly queue: Submitted[] = [];
  private queueHead = 0;
  private outstanding = 0;
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
  /** Records sent so far (for tests and metrics). */
  sent = 0;

  constructor(
    private readonly env: TaskEnv,
    private readonly task: SourceTask,
    private readonly offsets: OffsetStore,
    paused: boolean,
  ) {
    this.paused = paused;
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
      await this.task.start(env.taskProps, { configs: env.taskProps, offsetStorageReader: this.reader() });
      env.onStatus(this.paused ? 'PAUSED' : 'RUNNING');
      const flushIntervalMs = Number(env.worker.values['offset.flush.interval.ms']);
      while (!this.stopping && this.failure === null) {
        if (this.paused) {
          await this.sleepUntilWoken(1000);
          continue;
        }
        if (this.outstanding >= MAX_OUTSTANDING_RECORDS) {
          await this.sleepUntilWoken(50);
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
    const batch: ProducerRecord[] = [];
    const batchEntries: Submitted[] = [];
    const batchOriginals: SourceRecord[] = [];
    for (const original of records) {
      const entry: Submitted = {
        partitionKey: original.sourcePartition ? this.partitionKey(original.sourcePartition) : null,
        partition: original.sourcePartition,
        offset: original.sourceOffset,
        acked: false,
      };
      this.queue.push(entry);
      const ctx = { executingClass: '', sourceRecord: `SourceRecord{topic=${original.topic}}` };
      let record: SourceRecord | null | undefined;
      try {
        record = env.chain.apply(original);
      } catch (err) {
        record = await env.errors.execute(
          () => env.chain.apply(original),
          { ...ctx, stage: 'TRANSFORMATION', executingClass: 'TransformationChain' },
          err,
        );
      }
      if (!record) {
        entry.acked = true;
        this.task.commitRecord?.(original, null);
        continue;
      }
      const r = record;
      type Converted = { key: Buffer | null; value: Buffer | null; headers: RecordHeader[] };
      const convert = (): Converted | Promise<Converted> => {
        const key = env.keyConverter.fromConnectData(r.topic, r.keySchema, r.key);
        const value = env.valueConverter.fromConnectData(r.topic, r.valueSchema, r.value);
        const headers = r.headers.map((h) => ({
          key: h.key,
          value: env.headerConverter.fromConnectHeader(r.topic, h.key, h.schema, h.value),
        }));
        if (isPromise(key) || isPromise(value)) {
          return Promise.all([key, value]).then(([k, v]) => ({ key: k, value: v, headers }));
        }
        return { key, value, headers };
      };
      let bytes: Converted | undefined;
      try {
        const c = convert();
        bytes = isPromise(c) ? await c : c;
      } catch (err) {
        bytes = await env.errors.execute(
          convert,
          { ...ctx, stage: 'VALUE_CONVERTER', executingClass: env.valueConverterClass },
          err,
        );
      }
      if (!bytes) {
        entry.acked = true;
        continue;
      }
      if (!this.knownTopics.has(r.topic)) {
        // New topic: what is batched so far goes first, so that order is kept.
        if (batch.length > 0) this.send(batch.splice(0), batchEntries.splice(0), batchOriginals.splice(0));
        await this.prepareTopic(r.topic);
      }
      if (this.recovery) bytes.headers.push(...this.recovery.headers(original));
      batch.push({
        topic: r.topic,
        ...(r.kafkaPartition !== null ? { partition: r.kafkaPartition } : {}),
        key: bytes.key,
        value: bytes.value,
        headers: bytes.headers,
        ...(r.timestamp !== null ? { timestamp: r.timestamp } : {}),
      });
      batchEntries.push(entry);
      batchOriginals.push(original);
    }
    if (batch.length > 0) this.send(batch, batchEntries, batchOriginals);
  }

  /** One sendBatch per poll: the producer keeps their order; offsets wait for the acknowledgements. */
  private send(batch: ProducerRecord[], entries: Submitted[], originals: SourceRecord[]): void {
    const { env } = this;
    this.outstanding += batch.length;
    this.sent += batch.length;
    this.producer!.sendBatch(batch).then(
      (metas) => {
        for (let i = 0; i < metas.length; i++) {
          const meta = metas[i]!;
          const entry = entries[i]!;
          entry.acked = true;
          entry.landed = { topic: meta.topic, partition: meta.partition, offset: meta.offset };
          this.task.commitRecord?.(originals[i]!, meta);
        }
        this.outstanding -= batch.length;
      },
      (err: unknown) => {
        this.outstanding -= batch.length;
        if (env.errors.cfg.toleranceAll) {
          for (const e of entries) e.acked = true;
          env.log(
            `${env.id.connector}-${env.id.task}: dropping ${batch.length} record(s) that could not be sent: ${messageOf(err)}`,
          );
          return;
        }
        this.failure ??= new ConnectError(
          'CONNECT',
          `Unrecoverable exception from producer send callback: ${messageOf(err)}`,
          { cause: err },
        );
        this.wake?.();
      },
    );
  }

  /** Canonical JSON of a source partition, cached by identity (connectors usually reuse one object). */
  private partitionKey(p: SourceMap): string {
    let k = this.keyCache.get(p);
    if (k === undefined) {
      k = canonicalJson(p);
      this.keyCache.set(p, k);
    }
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

  /** The offsets covered by acknowledged records, removed from the queue. */
  private takeCommittable(): {
    offsets: Map<string, { partition: SourceMap; offset: SourceMap }>;
    covered: Map<string, { topic: string; partition: number; offset: number }>;
  } {
    const offsets = new Map<string, { partition: SourceMap; offset: SourceMap }>();
    const covered = new Map<string, { topic: string; partition: number; offset: number }>();
    while (this.queueHead < this.queue.length && this.queue[this.queueHead]!.acked) {
      const e = this.queue[this.queueHead++]!;
      if (e.partitionKey !== null && e.partition && e.offset)
        offsets.set(e.partitionKey, { partition: e.partition, offset: e.offset });
      if (e.landed) {
        const k = `${e.landed.topic}\u0000${e.landed.partition}`;
        const prev = covered.get(k);
        if (!prev || prev.offset < e.landed.offset) covered.set(k, e.landed);
      }
    }
    if (this.queueHead > 10_000 || this.queueHead === this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return { offsets, covered };
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
    const { offsets, covered } = this.takeCommittable();
    if (offsets.size === 0 && covered.size === 0) return;
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
    this.env.onStatus(paused ? 'PAUSED' : 'RUNNING');
    this.wake?.();
  }

  /** Asks the loop to end; resolves once the task stopped and its offsets were committed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.done;
  }
}
