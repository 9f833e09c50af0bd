/**
 * The producer: records are appended to one open batch per partition (RecordBatch v2, built
 * incrementally), a batch is sent when it reaches batch.size or has waited linger.ms, and one
 * Produce request per leader carries at most one batch per partition, as Kafka's sender does.
 *
 * Idempotence (default on with acks=all): the producer gets a producer id and epoch
 * (InitProducerId) and numbers each partition's batches with sequence numbers, so a retry the
 * broker already has is acknowledged without a second append. Batches of a partition are sent
 * in order and retried in order; up to max.in.flight.requests.per.connection batches of one
 * partition are in flight at once.
 *
 * Back-pressure: buffered bytes are bounded by buffer.memory; send() waits (up to max.block.ms)
 * for room instead of growing the heap.
 */
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  BASE_SEQUENCE,
  BatchBuilder,
  type BatchOptions,
  compressionFromName,
  type RecordHeaderInput,
  updateBatchCrc,
} from '../records/index.js';
import type { Cluster } from './cluster.js';
import { PRODUCER_KEYS, validateConfig } from './config.js';
import { brokerError, isRetriable, KafkaClientError } from './errors.js';
import { createPartitioner, type PartitionFn, StickyPartitionCache } from './partitioner.js';
import type { HeadersInit, Producer, ProducerConfig, ProducerRecord, RecordMetadata } from './types.js';

interface Pending {
  resolve(m: RecordMetadata): void;
  reject(err: Error): void;
  offsetDelta: number;
  timestamp: number;
}

interface Batch {
  readonly topic: string;
  readonly partition: number;
  /** null once the batch was encoded for sending. */
  builder: BatchBuilder | null;
  pending: Pending[];
  readonly createdAt: number;
  /** Bytes counted against buffer.memory. */
  sizeBytes: number;
  /** The encoded batch once closed. */
  bytes?: Buffer;
  baseSequence: number;
  attempts: number;
}

interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  open: Batch | null;
  /** Closed batches waiting to be sent, oldest first. */
  ready: Batch[];
  inFlight: number;
  nextSequence: number;
  /** A batch of this partition is being retried: later ones wait. */
  retrying: boolean;
  /**
   * A batch failed and is being resent: until every resent batch is acknowledged, one batch of
   * this partition is in flight at a time, so a later batch cannot overtake an earlier one
   * (which the broker would refuse as OUT_OF_ORDER_SEQUENCE_NUMBER).
   */
  recovering: boolean;
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function toHeaders(h: HeadersInit | undefined): RecordHeaderInput[] | undefined {
  if (!h) return undefined;
  if (Array.isArray(h)) return h as RecordHeaderInput[];
  return Object.entries(h as Record<string, string | Buffer | null>).map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? Buffer.from(value) : value,
  }));
}

export class ProducerImpl implements Producer {
  private readonly acks: number;
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly compression: number;
  private readonly idempotent: boolean;
  private readonly maxInFlight: number;
  private readonly requestTimeoutMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly retries: number;
  private readonly bufferMemory: number;
  private readonly maxRequestSize: number;
  private readonly maxBlockMs: number;
  private readonly partitionFn: PartitionFn;
  private readonly sticky: StickyPartitionCache;
  private readonly queues = new Map<string, PartitionQueue>();
  private producerId = -1;
  private producerEpoch = -1;
  private initializing: Promise<void> | undefined;
  private bufferedBytes = 0;
  private readonly roomWaiters: (() => void)[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private drainAgain = false;
  private readonly unsettled = new Set<Promise<unknown>>();
  private appendChain: Promise<void> = Promise.resolve();
  /** sendBatch calls queued behind one that waits: later calls must queue too, to keep order. */
  private waitingAppends = 0;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    config: ProducerConfig = {},
    private readonly onClose?: () => void,
  ) {
    validateConfig('producer', config, PRODUCER_KEYS);
    if (config['transactional.id'] !== undefined) {
      throw new KafkaClientError(
        'UNSUPPORTED',
        'transactions are not supported yet: remove transactional.id (idempotence already prevents duplicates)',
      );
    }
    const acks = config.acks ?? 'all';
    this.acks = acks === 'all' || acks === -1 ? -1 : acks;
    this.lingerMs = config['linger.ms'] ?? 5;
    this.batchSize = config['batch.size'] ?? 16384;
    this.compression = compressionFromName(config['compression.type'] ?? 'none');
    if (config['enable.idempotence'] === true && this.acks !== -1) {
      throw new KafkaClientError('INVALID_CONFIG', 'enable.idempotence=true requires acks=all');
    }
    this.idempotent = config['enable.idempotence'] ?? this.acks === -1;
    this.maxInFlight = config['max.in.flight.requests.per.connection'] ?? 5;
    if (this.idempotent && this.maxInFlight > 5) {
      throw new KafkaClientError(
        'INVALID_CONFIG',
        'max.in.flight.requests.per.connection must be ≤ 5 with idempotence',
      );
    }
    this.requestTimeoutMs = config['request.timeout.ms'] ?? cluster.options.requestTimeoutMs;
    this.deliveryTimeoutMs = config['delivery.timeout.ms'] ?? 120_000;
    this.retries = config.retries ?? Number.MAX_SAFE_INTEGER;
    this.bufferMemory = config['buffer.memory'] ?? 33_554_432;
    this.maxRequestSize = config['max.request.size'] ?? 1_048_576;
    this.maxBlockMs = config['max.block.ms'] ?? 60_000;
    this.sticky = new StickyPartitionCache({ batchSizeBytes: this.batchSize });
    this.partitionFn = createPartitioner(config.partitioner, { sticky: this.sticky });
  }

  async send(record: ProducerRecord): Promise<RecordMetadata> {
    return (await this.sendBatch([record]))[0]!;
  }

  async sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (this.closed) throw new KafkaClientError('CLIENT_CLOSED', 'the producer was closed');
    // The fast path: nothing to wait for, so every record is appended now, in order.
    const acks: Promise<RecordMetadata>[] = [];
    let i = 0;
    if (this.waitingAppends === 0 && (!this.idempotent || this.producerId >= 0)) {
      for (; i < records.length; i++) {
        const acked = this.appendNow(records[i]!);
        if (!acked) break;
        acks.push(acked);
      }
      if (i === records.length) return Promise.all(acks);
    }
    // Something must be awaited (producer id, metadata, buffer space): the rest of this call and
    // every later one queue behind it, so records keep the order in which send() was called.
    const rest = records.slice(i);
    this.waitingAppends++;
    const appended = this.appendChain.then(async () => {
      if (this.idempotent && this.producerId < 0) await this.initProducerId();
      const more: Promise<RecordMetadata>[] = [];
      for (const r of rest) more.push((await this.append(r)).acked);
      return more;
    });
    this.appendChain = appended.then(
      () => {
        this.waitingAppends--;
      },
      () => {
        this.waitingAppends--;
      },
    );
    return Promise.all([...acks, ...(await appended)]);
  }

  private async initProducerId(): Promise<void> {
    if (!this.initializing) {
      this.initializing = (async () => {
        const deadline = Date.now() + this.maxBlockMs;
        const res = await this.cluster.withRetries('InitProducerId', deadline, async () => {
          const conn = await this.cluster.anyConnection();
          const r = await conn.request(ApiKey.InitProducerId, {
            transactionalId: null,
            transactionTimeoutMs: 60_000,
          });
          if (r.errorCode !== 0) throw brokerError(r.errorCode, 'getting a producer id');
          return r;
        });
        this.producerId = res.producerId;
        this.producerEpoch = res.producerEpoch;
      })();
      this.initializing.catch(() => {
        this.initializing = undefined;
      });
    }
    await this.initializing;
  }

  /**
   * Appends one record when nothing needs waiting for: the topic's metadata is known and the
   * buffer has room. Returns the promise of its acknowledgement, or undefined to go the slow way.
   */
  private appendNow(r: ProducerRecord): Promise<RecordMetadata> | undefined {
    if (typeof r.topic !== 'string' || r.topic === '') {
      throw new KafkaClientError('INVALID_ARGUMENT', 'a record needs a topic');
    }
    const meta = this.cluster.topics.get(r.topic);
    if (!meta) return undefined;
    const key = toBuffer(r.key);
    const value = toBuffer(r.value);
    const headers = toHeaders(r.headers);
    const timestamp = r.timestamp ?? Date.now();
    const count = meta.partitions.length;
    let partition = r.partition;
    if (partition === undefined) {
      partition = this.partitionFn(r.topic, key, value, count);
    } else if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new KafkaClientError(
        'INVALID_ARGUMENT',
        `partition ${partition} does not exist: topic ${r.topic} has ${count} partitions`,
      );
    }
    const input = { key, value, headers, timestamp };
    const q = this.queue(r.topic, partition);
    let batch = q.open;
    if (batch && !batch.builder!.hasRoomFor(input, this.batchSize)) {
      this.closeBatch(q);
      if (key === null && r.partition === undefined) {
        partition = this.sticky.onNewBatch(r.topic, partition);
        return this.appendNow({ ...r, partition, key, value, timestamp });
      }
      batch = null;
    }
    if (!batch) batch = this.openBatch(q);
    const builder = batch.builder!;
    const before = builder.sizeInBytes;
    const size = builder.recordSizeInBytes(input);
    if (size + 61 > this.maxRequestSize) {
      throw new KafkaClientError(
        'RECORD_TOO_LARGE',
        `a record of ${size} bytes is larger than max.request.size (${this.maxRequestSize})`,
      );
    }
    if (this.bufferedBytes + size > this.bufferMemory && this.bufferedBytes > 0) return undefined;
    this.bufferedBytes += size;
    const offsetDelta = builder.append(input);
    batch.sizeBytes += size;
    if (key === null) this.sticky.onAppend(r.topic, partition, builder.sizeInBytes - before);
    const pending = batch.pending;
    const promise = new Promise<RecordMetadata>((resolve, reject) => {
      pending.push({ resolve, reject, offsetDelta, timestamp });
    });
    if (builder.isFull(this.batchSize)) {
      this.closeBatch(q);
      this.scheduleDrain(0);
    } else {
      this.scheduleDrain(this.lingerMs);
    }
    return promise;
  }

  /** Appends one record, waiting for metadata or buffer space (up to max.block.ms) when needed. */
  private async append(r: ProducerRecord): Promise<{ acked: Promise<RecordMetadata> }> {
    const deadline = Date.now() + this.maxBlockMs;
    for (;;) {
      const acked = this.appendNow(r);
      if (acked) return { acked };
      if (!this.cluster.topics.has(r.topic)) {
        await this.cluster.topic(r.topic);
        continue;
      }
      await this.waitForRoom(deadline);
    }
  }

  private queue(topic: string, partition: number): PartitionQueue {
    const k = `${topic}\u0000${partition}`;
    let q = this.queues.get(k);
    if (!q) {
      q = {
        topic,
        partition,
        open: null,
        ready: [],
        inFlight: 0,
        nextSequence: 0,
        retrying: false,
        recovering: false,
      };
      this.queues.set(k, q);
    }
    return q;
  }

  private openBatch(q: PartitionQueue): Batch {
    const opts: BatchOptions = this.idempotent
      ? {
          compression: this.compression,
          producerId: this.producerId,
          producerEpoch: this.producerEpoch,
          baseSequence: 0,
        }
      : { compression: this.compression };
    const b: Batch = {
      topic: q.topic,
      partition: q.partition,
      builder: new BatchBuilder(opts, Math.min(this.batchSize + 1024, 1 << 20)),
      pending: [],
      createdAt: Date.now(),
      sizeBytes: 0,
      baseSequence: -1,
      attempts: 0,
    };
    q.open = b;
    return b;
  }

  private closeBatch(q: PartitionQueue): void {
    const b = q.open;
    if (!b) return;
    q.open = null;
    if (b.pending.length === 0) return;
    q.ready.push(b);
  }

  /** Waits until sent batches free buffer.memory; BUFFER_EXHAUSTED after max.block.ms. */
  private async waitForRoom(deadline: number): Promise<void> {
    this.scheduleDrain(0);
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new KafkaClientError(
        'BUFFER_EXHAUSTED',
        `buffer.memory (${this.bufferMemory} bytes) stayed full for max.block.ms (${this.maxBlockMs} ms): ` +
          'the cluster is not keeping up; slow down, or raise buffer.memory / max.block.ms',
        { retriable: true },
      );
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      this.roomWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private release(bytes: number): void {
    this.bufferedBytes -= bytes;
    const waiters = this.roomWaiters.splice(0);
    for (const w of waiters) w();
  }

  private scheduleDrain(delayMs: number): void {
    if (delayMs <= 0) {
      if (this.lingerTimer) {
        clearTimeout(this.lingerTimer);
        this.lingerTimer = undefined;
      }
      queueMicrotask(() => void this.drain());
      return;
    }
    if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        void this.drain();
      }, delayMs);
    }
  }

  /** Sends every batch that is ready (full, lingered long enough, or flushed). */
  private async drain(force = false): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        const now = Date.now();
        const byLeader = new Map<number, Batch[]>();
        let lingering = Number.POSITIVE_INFINITY;
        for (const q of this.queues.values()) {
          if (q.open && q.open.pending.length > 0) {
            const waited = now - q.open.createdAt;
            // A lingered batch closes only when it can leave now; while the partition's requests
            // are all in flight it keeps filling (up to batch.size), as Kafka's accumulator does,
            // instead of queueing many small batches behind them.
            const canLeave =
              q.ready.length === 0 && !q.retrying && q.inFlight < (q.recovering ? 1 : this.maxInFlight);
            if (force || (waited >= this.lingerMs && canLeave)) this.closeBatch(q);
            else if (waited < this.lingerMs) lingering = Math.min(lingering, this.lingerMs - waited);
          }
          if (q.ready.length === 0 || q.retrying || q.inFlight >= (q.recovering ? 1 : this.maxInFlight))
            continue;
          if (!this.idempotent && q.inFlight > 0 && this.maxInFlight === 1) continue;
          const leader = this.cluster.leaderFor(q.topic, q.partition);
          const batch = q.ready.shift()!;
          if (leader < 0) {
            q.ready.unshift(batch);
            this.refreshSoon();
            continue;
          }
          let list = byLeader.get(leader);
          if (!list) {
            list = [];
            byLeader.set(leader, list);
          }
          list.push(batch);
          q.inFlight++;
        }
        for (const [leader, batches] of byLeader) this.track(this.sendToLeader(leader, batches));
        if (lingering !== Number.POSITIVE_INFINITY) this.scheduleDrain(Math.max(1, lingering));
      } while (this.drainAgain);
    } finally {
      this.draining = false;
    }
  }

  private refreshTimer: NodeJS.Timeout | undefined;

  private refreshSoon(): void {
    if (this.refreshTimer || this.closed) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.cluster
        .refreshMetadata([...new Set([...this.queues.values()].map((q) => q.topic))])
        .catch(() => undefined)
        .finally(() => this.scheduleDrain(0));
    }, this.cluster.options.retryBackoffMs);
  }

  private track(p: Promise<unknown>): void {
    this.unsettled.add(p);
    p.finally(() => this.unsettled.delete(p)).catch(() => undefined);
  }

  private async sendToLeader(leader: number, batches: Batch[]): Promise<void> {
    const byTopic = new Map<string, { index: number; records: Buffer }[]>();
    for (const b of batches) {
      b.attempts++;
      let list = byTopic.get(b.topic);
      if (!list) {
        list = [];
        byTopic.set(b.topic, list);
      }
      list.push({ index: b.partition, records: this.batchBytes(b) });
    }
    const body = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
    };
    try {
      const conn = await this.cluster.connectionTo(leader);
      if (this.acks === 0) {
        await conn.send(ApiKey.Produce, body);
        for (const b of batches) this.complete(b, -1, -1);
        return;
      }
      const res = await conn.request(ApiKey.Produce, body, { timeoutMs: this.requestTimeoutMs + 5000 });
      const answers = new Map<
        string,
        { errorCode: number; errorMessage: string | null; baseOffset: number; logAppendTimeMs: number }
      >();
      for (const t of res.responses) {
        for (const p of t.partitionResponses) answers.set(`${t.name}\u0000${p.index}`, p);
      }
      for (const b of batches) {
        const a = answers.get(`${b.topic}\u0000${b.partition}`);
        if (!a)
          this.fail(
            b,
            new KafkaClientError('NETWORK_EXCEPTION', 'the broker left a partition out of its answer', {
              retriable: true,
            }),
          );
        else if (a.errorCode === 0) this.complete(b, a.baseOffset, a.logAppendTimeMs);
        else if (a.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) this.complete(b, -1, -1);
        else this.fail(b, brokerError(a.errorCode, `producing to ${b.topic}-${b.partition}`, a.errorMessage));
      }
    } catch (err) {
      for (const b of batches) this.fail(b, err as Error);
    } finally {
      this.scheduleDrain(0);
    }
  }

  private batchBytes(b: Batch): Buffer {
    if (b.bytes) return b.bytes;
    const q = this.queue(b.topic, b.partition);
    let bytes = b.builder!.build();
    if (this.idempotent) {
      b.baseSequence = q.nextSequence;
      q.nextSequence = (q.nextSequence + b.pending.length) % 2 ** 31;
      bytes = stampSequence(bytes, b.baseSequence);
    }
    b.bytes = bytes;
    b.builder = null; // its scratch memory is no longer needed
    return bytes;
  }

  private complete(b: Batch, baseOffset: number, logAppendTime: number): void {
    const q = this.queue(b.topic, b.partition);
    q.inFlight--;
    q.retrying = false;
    if (q.recovering && !q.ready.some((x) => x.baseSequence >= 0)) q.recovering = false;
    this.release(b.sizeBytes);
    for (const p of b.pending) {
      p.resolve({
        topic: b.topic,
        partition: b.partition,
        offset: baseOffset < 0 ? -1 : baseOffset + p.offsetDelta,
        timestamp: logAppendTime >= 0 ? logAppendTime : p.timestamp,
      });
    }
  }

  private fail(b: Batch, err: Error): void {
    const q = this.queue(b.topic, b.partition);
    q.inFlight--;
    const expired = Date.now() - b.createdAt >= this.deliveryTimeoutMs;
    // A batch that overtook an earlier one being resent: it is resent too, after it.
    const outOfOrderBehindRetry =
      (q.retrying || q.recovering) && (err as { code?: string }).code === 'OUT_OF_ORDER_SEQUENCE_NUMBER';
    if (
      (isRetriable(err) || outOfOrderBehindRetry) &&
      !expired &&
      b.attempts <= this.retries &&
      !this.closed
    ) {
      // Retry in order: put it back where it was, ahead of newer batches.
      q.retrying = true;
      q.recovering = true;
      const at = q.ready.findIndex((x) => x.baseSequence > b.baseSequence && x.baseSequence >= 0);
      if (at < 0) q.ready.unshift(b);
      else q.ready.splice(at, 0, b);
      q.ready.sort((x, y) =>
        x.baseSequence < 0 ? 1 : y.baseSequence < 0 ? -1 : x.baseSequence - y.baseSequence,
      );
      q.retrying = q.inFlight > 0;
      this.refreshSoon();
      return;
    }
    q.retrying = false;
    this.release(b.sizeBytes);
    const final =
      expired && isRetriable(err)
        ? new KafkaClientError(
            'TIMEOUT',
            `records for ${b.topic}-${b.partition} expired after delivery.timeout.ms (${this.deliveryTimeoutMs} ms): ${err.message}`,
            { cause: err, retriable: true },
          )
        : err;
    for (const p of b.pending) p.reject(final);
  }

  async flush(): Promise<void> {
    for (const q of this.queues.values()) this.closeBatch(q);
    const waits: Promise<unknown>[] = [];
    for (const q of this.queues.values()) {
      for (const b of q.ready)
        for (const p of b.pending)
          waits.push(
            new Promise((r) => {
              const { resolve, reject } = p;
              p.resolve = (m) => {
                resolve(m);
                r(undefined);
              };
              p.reject = (e) => {
                reject(e);
                r(undefined);
              };
            }),
          );
    }
    await this.drain(true);
    await Promise.all([...waits, ...this.unsettled]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.lingerTimer) clearTimeout(this.lingerTimer);
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
      await this.cluster.close();
      this.onClose?.();
    }
  }
}

/** Writes the base sequence into a built batch and recomputes its CRC (which covers it). */
function stampSequence(batch: Buffer, baseSequence: number): Buffer {
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE);
  updateBatchCrc(batch, 0);
  return batch;
}
