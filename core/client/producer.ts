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
 * Compression: a closed batch of 64 KiB or more is compressed on libuv's threadpool when the codec
 * allows (lz4), and its partition's batches wait behind it, so order and sequence numbers are as
 * when it is compressed at sending, which smaller batches (and other codecs) are.
 *
 * Back-pressure: buffered bytes are bounded by buffer.memory; send() waits (up to max.block.ms)
 * for room instead of growing the heap.
 *
 * Cost per record: it is encoded into its batch at once (strings as UTF-8, without a Buffer);
 * a send()/sendBatch()/sendAll() call has one promise, and a batch remembers its records'
 * calls in typed arrays, not an object per record.
 */
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  BASE_SEQUENCE,
  BatchBuilder,
  type BatchOptions,
  compressionFromName,
  maxRecordSize,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  type RecordHeaderInput,
  recordBodySize,
  updateBatchCrc,
  varintSize,
} from '../records/index.js';
import type { Cluster } from './cluster.js';
import { PRODUCER_KEYS, validateConfig } from './config.js';
import { brokerError, isRetriable, KafkaClientError } from './errors.js';
import { createPartitioner, type PartitionFn, StickyPartitionCache } from './partitioner.js';
import type { HeadersInit, Producer, ProducerConfig, ProducerRecord, RecordMetadata } from './types.js';

/**
 * One send()/sendBatch() call: one promise for all its records, settled when the batches holding
 * them are (resolved once every record is acknowledged, rejected on the first that fails).
 * Batches point back at it per record, so a record costs no promise of its own.
 */
class Delivery {
  /** The records' metadata (sendBatch), or null when the caller does not want it (sendAll). */
  readonly results: RecordMetadata[] | null;
  private remaining: number;
  private settled = false;
  readonly promise: Promise<RecordMetadata[]>;
  private resolve!: (m: RecordMetadata[]) => void;
  private reject!: (err: Error) => void;

  constructor(count: number, metadata: boolean) {
    this.results = metadata ? new Array<RecordMetadata>(count) : null;
    this.remaining = count;
    this.promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  acknowledged(): void {
    if (--this.remaining === 0 && !this.settled) {
      this.settled = true;
      this.resolve(this.results ?? NO_METADATA);
    }
  }

  failed(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }
}

/**
 * What a batch remembers of its records to report their outcome, in flat typed arrays (no object
 * per record): for record i (its offset delta), the call it came from (an index into the batch's
 * list of calls), its index in that call, and its timestamp.
 */
class BatchRecords {
  count = 0;
  /** The calls with records in the batch, in order of their first record. */
  readonly deliveries: Delivery[] = [];
  private delivery = new Int32Array(64);
  private index = new Int32Array(64);
  private timestamp = new Float64Array(64);

  add(d: Delivery, index: number, timestamp: number): void {
    const n = this.count;
    if (n === this.index.length) this.grow();
    const list = this.deliveries;
    if (list.length === 0 || list[list.length - 1] !== d) list.push(d);
    this.delivery[n] = list.length - 1;
    this.index[n] = index;
    this.timestamp[n] = timestamp;
    this.count = n + 1;
  }

  /** Reports every record acknowledged, with offsets from `baseOffset` (-1: unknown). */
  acknowledge(topic: string, partition: number, baseOffset: number, logAppendTime: number): void {
    const { deliveries, delivery, index, timestamp } = this;
    for (let i = 0; i < this.count; i++) {
      const d = deliveries[delivery[i]!]!;
      if (d.results !== null) {
        d.results[index[i]!] = {
          topic,
          partition,
          offset: baseOffset < 0 ? -1 : baseOffset + i,
          timestamp: logAppendTime >= 0 ? logAppendTime : timestamp[i]!,
        };
      }
      d.acknowledged();
    }
  }

  /** Empties the list for another batch, keeping its memory. */
  reset(): void {
    this.count = 0;
    this.deliveries.length = 0;
  }

  private grow(): void {
    const size = this.index.length * 2;
    const delivery = new Int32Array(size);
    delivery.set(this.delivery);
    this.delivery = delivery;
    const index = new Int32Array(size);
    index.set(this.index);
    this.index = index;
    const timestamp = new Float64Array(size);
    timestamp.set(this.timestamp);
    this.timestamp = timestamp;
  }
}

interface Batch {
  readonly topic: string;
  readonly partition: number;
  /** null once the batch was encoded for sending. */
  builder: BatchBuilder | null;
  /** Per record (offset delta = position): the call it belongs to, its index there, its timestamp. */
  records: BatchRecords;
  /** Called once the batch is acknowledged or has finally failed (flush() waits with them). */
  waiters: (() => void)[] | null;
  readonly createdAt: number;
  /** Bytes counted against buffer.memory. */
  sizeBytes: number;
  /** The encoded batch once closed. */
  bytes?: Buffer;
  /** Being compressed on the threadpool: not sent (nor are later batches of its partition) until done. */
  compressing: boolean;
  baseSequence: number;
  attempts: number;
  /** Acknowledged or finally failed; its records list went back to the pool. */
  settled: boolean;
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
  /** The producer id and epoch this partition's sequence numbers belong to (-1: none yet). */
  producerId: number;
  producerEpoch: number;
  /**
   * A batch with a sequence number finally failed (expired, or refused), or the broker refused a
   * sequence that nothing earlier explains: the partition's sequence numbers have a gap the broker
   * will never accept. Once none of its batches is in flight, the producer bumps its epoch and the
   * partition starts again at sequence 0 (KIP-360).
   */
  needsNewEpoch: boolean;
  /** Batches of this partition in flight. */
  readonly sent: Set<Batch>;
}

const NO_METADATA: RecordMetadata[] = [];

/**
 * Builders and record lists of finished batches kept for new ones, at most this many of each:
 * their memory lives outside the JS heap, and allocating it for every batch made V8 collect
 * garbage for external memory far more often.
 */
const POOLED = 8;
/** What a settled batch's records list is replaced with (its own went back to the pool). */
const NO_RECORDS = new BatchRecords();
const nothing = (): void => undefined;

/**
 * A call's records from `next` on, waiting to be appended; `appended` resolves once they are, or
 * once appending failed (which fails the call's delivery).
 */
class QueuedAppend {
  readonly appended: Promise<void>;
  resolve!: () => void;

  constructor(
    readonly records: readonly ProducerRecord[],
    readonly delivery: Delivery,
    public next: number,
  ) {
    this.appended = new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }
}

/**
 * Batches of at least this many bytes (before compression) are compressed on libuv's threadpool
 * (lz4): below it, the hop there and back costs the event loop about what compressing here does.
 */
const ASYNC_COMPRESSION_MIN_BYTES = 64 * 1024;

/** Scratch memory for string keys the partitioner hashes. */
const SCRATCH_BYTES = 1024;

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
  /** A user's partitioner sees the value's bytes; the built-in ones only the key's. */
  private readonly customPartitioner: boolean;
  private readonly sticky: StickyPartitionCache;
  private readonly queues = new Map<string, PartitionQueue>();
  /** The same queues by topic and partition number (no key string per record). */
  private readonly queuesByTopic = new Map<string, (PartitionQueue | undefined)[]>();
  private lastQueuesTopic: string | null = null;
  private lastQueues: (PartitionQueue | undefined)[] | undefined;
  private producerId = -1;
  private producerEpoch = -1;
  private initializing: Promise<void> | undefined;
  private bufferedBytes = 0;
  private readonly roomWaiters: (() => void)[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private drainAgain = false;
  private readonly unsettled = new Set<Promise<unknown>>();
  /** Closed batches not yet acknowledged nor finally failed (what flush() waits for). */
  private readonly unsettledBatches = new Set<Batch>();
  private readonly scratch = Buffer.alloc(SCRATCH_BYTES);
  private readonly scratchViews: (Buffer | undefined)[] = [];
  /** Reused for every append (the builder copies what it needs). */
  private readonly input: {
    key: Buffer | string | null;
    value: Buffer | string | null;
    headers: RecordHeaderInput[] | undefined;
    timestamp: number;
  } = {
    key: null,
    value: null,
    headers: undefined,
    timestamp: 0,
  };
  /**
   * send()/sendBatch()/sendAll() calls that wait (for the producer id, metadata or buffer space),
   * oldest first: later calls queue behind them, to keep order. One drainer appends them; once
   * nothing blocks, it appends the whole backlog at once.
   */
  private readonly appendQueue: QueuedAppend[] = [];
  private readonly builderPool: BatchBuilder[] = [];
  private readonly recordsPool: BatchRecords[] = [];
  /** Initial capacity of a batch builder. */
  private readonly builderCapacity: number;
  private appending = false;
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
    this.builderCapacity = Math.min(this.batchSize + 1024, 1 << 20);
    this.sticky = new StickyPartitionCache({ batchSizeBytes: this.batchSize });
    this.partitionFn = createPartitioner(config.partitioner, { sticky: this.sticky });
    this.customPartitioner = typeof config.partitioner === 'function';
  }

  async send(record: ProducerRecord): Promise<RecordMetadata> {
    return (await this.sendBatch([record]))[0]!;
  }

  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return this.sendRecords(records, true);
  }

  sendAll(records: readonly ProducerRecord[]): Promise<void> {
    // Not an async function: its frame would keep `records` (and every record's key and value)
    // alive until they are acknowledged, though they were encoded into batches at once.
    return this.sendRecords(records, false).then(nothing);
  }

  private sendRecords(records: readonly ProducerRecord[], metadata: boolean): Promise<RecordMetadata[]> {
    if (this.closed) return Promise.reject(new KafkaClientError('CLIENT_CLOSED', 'the producer was closed'));
    const n = records.length;
    if (n === 0) return Promise.resolve([]);
    const delivery = new Delivery(n, metadata);
    // The fast path: nothing to wait for, so every record is appended now, in order.
    let i = 0;
    try {
      if (this.appendQueue.length === 0 && (!this.idempotent || this.producerId >= 0)) {
        while (i < n && this.appendNow(records[i]!, delivery, i)) i++;
        if (i === n) return delivery.promise;
      }
    } catch (err) {
      // (records appended before the bad one are still sent; their outcome is not reported)
      delivery.promise.catch(() => undefined);
      return Promise.reject(err);
    }
    // Something must be awaited (producer id, metadata, buffer space): the rest of this call and
    // every later one queue behind it, so records keep the order in which send() was called.
    const queued = new QueuedAppend(records, delivery, i);
    this.appendQueue.push(queued);
    if (!this.appending) void this.appendQueued();
    // The delivery's own promise, as on the fast path: calls are answered in the order their
    // records are acknowledged, whether they waited or not.
    return delivery.promise;
  }

  /**
   * Appends the queued calls in order, waiting only where a record must: as long as nothing
   * blocks, the whole queue is appended in one go (so calls made meanwhile take the fast path
   * again instead of queueing behind a backlog that drains a microtask at a time).
   */
  private async appendQueued(): Promise<void> {
    this.appending = true;
    try {
      const queue = this.appendQueue;
      while (queue.length > 0) {
        const q = queue[0]!;
        try {
          if (this.idempotent && this.producerId < 0) await this.initProducerId();
          const { records, delivery } = q;
          for (; q.next < records.length; q.next++) {
            const r = records[q.next]!;
            if (!this.appendNow(r, delivery, q.next)) await this.append(r, delivery, q.next);
          }
          queue.shift();
          q.resolve();
        } catch (err) {
          queue.shift();
          // (records appended before the one that failed are still sent; their outcome is not reported)
          q.delivery.failed(err as Error);
          q.resolve();
        }
      }
    } finally {
      this.appending = false;
    }
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
   * Appends record `index` of `delivery` when nothing needs waiting for: the topic's metadata is
   * known and the buffer has room. Returns false to go the slow way.
   */
  private appendNow(r: ProducerRecord, delivery: Delivery, index: number): boolean {
    const meta = this.cluster.topics.get(r.topic);
    if (!meta) {
      if (typeof r.topic !== 'string' || r.topic === '') {
        throw new KafkaClientError('INVALID_ARGUMENT', 'a record needs a topic');
      }
      return false;
    }
    const input = this.input;
    // Strings go into the batch as they are (the builder writes their UTF-8 bytes); a key becomes
    // bytes first when the partitioner needs them, and a value when a user's partitioner does.
    let key: Buffer | string | null = r.key ?? null;
    let value: Buffer | string | null = r.value ?? null;
    const headers = r.headers;
    input.headers =
      headers === undefined || Array.isArray(headers)
        ? (headers as RecordHeaderInput[] | undefined)
        : toHeaders(headers);
    const timestamp = r.timestamp ?? Date.now();
    input.timestamp = timestamp;
    const count = meta.partitions.length;
    let partition = r.partition;
    if (partition === undefined) {
      let keyBytes: Buffer | null;
      if (typeof key !== 'string') keyBytes = key;
      else if (this.customPartitioner) key = keyBytes = Buffer.from(key);
      else keyBytes = this.scratchBytes(key);
      if (this.customPartitioner && typeof value === 'string') value = Buffer.from(value);
      // (the built-in partitioners read the key only, and keep nothing)
      partition = this.partitionFn(r.topic, keyBytes, value as Buffer | null, count);
    } else if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new KafkaClientError(
        'INVALID_ARGUMENT',
        `partition ${partition} does not exist: topic ${r.topic} has ${count} partitions`,
      );
    }
    input.key = key;
    input.value = value;
    // A record no request could carry is refused before it is written anywhere.
    if (maxRecordSize(input) + 61 > this.maxRequestSize) {
      const body = recordBodySize(input, 0, 0);
      this.checkRecordSize(varintSize(body) + body);
    }
    let q = this.queue(r.topic, partition);
    let batch: Batch;
    let builder: BatchBuilder;
    let size: number;
    // Written straight into the batch (strings measured as they are written), and taken back if it
    // makes a batch that has records already larger than batch.size: it starts the next batch (of
    // the next sticky partition, the first time, for a record without key or partition).
    for (let first = true; ; first = false) {
      batch = q.open ?? this.openBatch(q);
      builder = batch.builder!;
      size = builder.appendSized(input);
      if (builder.recordCount === 1 || builder.sizeInBytes <= this.batchSize) break;
      builder.undoAppend();
      this.closeBatch(q);
      if (first && key === null && r.partition === undefined) {
        partition = this.sticky.onNewBatch(r.topic, partition);
        q = this.queue(r.topic, partition);
      }
    }
    try {
      this.checkRecordSize(size);
    } catch (err) {
      builder.undoAppend();
      throw err;
    }
    if (this.bufferedBytes + size > this.bufferMemory && this.bufferedBytes > 0) {
      builder.undoAppend();
      return false;
    }
    this.bufferedBytes += size;
    batch.sizeBytes += size;
    if (key === null) this.sticky.onAppend(r.topic, partition, size);
    batch.records.add(delivery, index, timestamp);
    if (builder.isFull(this.batchSize)) {
      this.closeBatch(q);
      this.scheduleDrain(0);
    } else if (!this.lingerTimer) {
      this.scheduleDrain(this.lingerMs);
    }
    return true;
  }

  /** RECORD_TOO_LARGE for a record of `size` bytes that no request of max.request.size can carry. */
  private checkRecordSize(size: number): void {
    if (size + 61 > this.maxRequestSize) {
      throw new KafkaClientError(
        'RECORD_TOO_LARGE',
        `a record of ${size} bytes is larger than max.request.size (${this.maxRequestSize})`,
      );
    }
  }

  /**
   * The UTF-8 bytes of a string key for the built-in partitioners, in scratch memory that the next
   * record reuses (views per length are kept, so this allocates nothing once warm).
   */
  private scratchBytes(s: string): Buffer {
    if (s.length * 3 > SCRATCH_BYTES) return Buffer.from(s);
    const scratch = this.scratch;
    let length = s.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        length = scratch.write(s, 0, 'utf8');
        break;
      }
      scratch[i] = c;
    }
    let view = this.scratchViews[length];
    if (!view) {
      view = scratch.subarray(0, length);
      this.scratchViews[length] = view;
    }
    return view;
  }

  /** Appends one record, waiting for metadata or buffer space (up to max.block.ms) when needed. */
  private async append(r: ProducerRecord, delivery: Delivery, index: number): Promise<void> {
    const deadline = Date.now() + this.maxBlockMs;
    for (;;) {
      if (this.appendNow(r, delivery, index)) return;
      if (!this.cluster.topics.has(r.topic)) {
        await this.cluster.topic(r.topic);
        continue;
      }
      await this.waitForRoom(deadline);
    }
  }

  private queue(topic: string, partition: number): PartitionQueue {
    // (records mostly come in runs of one topic: the last one's queues are at hand)
    let byPartition = topic === this.lastQueuesTopic ? this.lastQueues : this.queuesByTopic.get(topic);
    if (!byPartition) {
      byPartition = [];
      this.queuesByTopic.set(topic, byPartition);
    }
    this.lastQueuesTopic = topic;
    this.lastQueues = byPartition;
    let q = byPartition[partition];
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
        producerId: -1,
        producerEpoch: -1,
        needsNewEpoch: false,
        sent: new Set(),
      };
      this.queues.set(`${topic}\u0000${partition}`, q);
      byPartition[partition] = q;
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
    let builder = this.builderPool.pop();
    if (builder) builder.reset(opts);
    else builder = new BatchBuilder(opts, this.builderCapacity);
    const b: Batch = {
      topic: q.topic,
      partition: q.partition,
      builder,
      records: this.recordsPool.pop() ?? new BatchRecords(),
      waiters: null,
      createdAt: Date.now(),
      sizeBytes: 0,
      compressing: false,
      baseSequence: -1,
      attempts: 0,
      settled: false,
    };
    q.open = b;
    return b;
  }

  private closeBatch(q: PartitionQueue): void {
    const b = q.open;
    if (!b) return;
    q.open = null;
    if (b.records.count === 0) return;
    q.ready.push(b);
    this.unsettledBatches.add(b);
    this.compressInBackground(b);
  }

  /**
   * Starts compressing a closed batch on libuv's threadpool (lz4), when it is large enough for
   * that to cost the event loop less than compressing it here when it is sent. The batch waits in
   * its partition's queue until done; should it fail, the batch is built when sent, as others are.
   */
  private compressInBackground(b: Batch): void {
    const builder = b.builder;
    if (this.compression === 0 || !builder || builder.sizeInBytes < ASYNC_COMPRESSION_MIN_BYTES) return;
    const building = builder.buildAsync();
    if (!building) return;
    b.compressing = true;
    building.then(
      (bytes) => {
        b.compressing = false;
        if (b.builder !== builder) return; // (built meanwhile: never, as drain() waits for it)
        b.bytes = bytes;
        b.builder = null;
        this.recycle(builder);
        this.scheduleDrain(0);
      },
      () => {
        b.compressing = false;
        this.scheduleDrain(0);
      },
    );
  }

  /** A builder whose batch was built: its memory serves the next batch. */
  private recycle(builder: BatchBuilder): void {
    if (this.builderPool.length < POOLED && builder.capacityBytes <= 2 * this.builderCapacity) {
      this.builderPool.push(builder);
    }
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
          if (q.open && q.open.records.count > 0) {
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
          if (q.ready[0]!.compressing) continue;
          if (!this.idempotent && q.inFlight > 0 && this.maxInFlight === 1) continue;
          if (this.idempotent && !this.sequencesUsable(q)) continue;
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
          q.sent.add(batch);
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

  private async sendToLeader(leader: number, listed: Batch[]): Promise<void> {
    const byTopic = new Map<string, { index: number; records: Buffer }[]>();
    const batches: Batch[] = [];
    for (const b of listed) {
      b.attempts++;
      let records: Buffer;
      try {
        records = this.batchBytes(b);
      } catch (err) {
        // Building it failed (a compression codec that threw): this batch fails, not the producer.
        this.fail(
          b,
          new KafkaClientError(
            'ILLEGAL_STATE',
            `building a batch for ${b.topic}-${b.partition} failed: ${(err as Error).message}`,
            { cause: err, retriable: false },
          ),
        );
        continue;
      }
      batches.push(b);
      let list = byTopic.get(b.topic);
      if (!list) {
        list = [];
        byTopic.set(b.topic, list);
      }
      list.push({ index: b.partition, records });
    }
    if (batches.length === 0) {
      this.scheduleDrain(0);
      return;
    }
    const body = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.requestTimeoutMs,
      topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
    };
    try {
      // Issued now, synchronously: the pooled connection writes requests in the order they were
      // issued (queueing them while it opens), so a partition's batches leave in sequence order.
      const conn = this.cluster.connection(leader);
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
    if (b.bytes && (!this.idempotent || b.baseSequence >= 0)) return b.bytes;
    const q = this.queue(b.topic, b.partition);
    const builder = b.builder;
    let bytes = b.bytes ?? builder!.build();
    if (this.idempotent) {
      // Numbered when first sent, or again under a new epoch (sequencesUsable cleared it).
      b.baseSequence = q.nextSequence;
      q.nextSequence = (q.nextSequence + b.records.count) % 2 ** 31;
      bytes = stampProducer(bytes, q.producerId, q.producerEpoch, b.baseSequence);
    }
    b.bytes = bytes;
    b.builder = null;
    // build() copied the records out: the builder's memory serves the next batch.
    if (builder) this.recycle(builder);
    return bytes;
  }

  /**
   * Whether the partition's batches may be sent now (idempotent producer). A partition keeps the
   * producer epoch its sequence numbers started under until nothing of it is in flight and no
   * numbered batch waits for a resend; then it moves to the producer's current epoch at sequence
   * 0. A partition whose sequence has a gap (needsNewEpoch) sends nothing until the producer has
   * bumped its epoch; its unacknowledged batches are then numbered again from 0.
   */
  private sequencesUsable(q: PartitionQueue): boolean {
    const current = q.producerId === this.producerId && q.producerEpoch === this.producerEpoch;
    if (q.needsNewEpoch) {
      if (q.inFlight > 0) return false;
      if (current) {
        this.bumpEpoch();
        return false;
      }
      for (const b of q.ready) b.baseSequence = -1;
      q.needsNewEpoch = false;
      q.retrying = false;
      q.recovering = false;
    } else if (current || q.inFlight > 0 || q.ready.some((b) => b.baseSequence >= 0)) {
      return true;
    }
    q.producerId = this.producerId;
    q.producerEpoch = this.producerEpoch;
    q.nextSequence = 0;
    return true;
  }

  private bumping: Promise<void> | undefined;

  /**
   * Bumps the producer epoch (InitProducerId v3+ with the current id and epoch, KIP-360), or gets
   * a new producer id from a broker too old for that. Partitions move to the new epoch at
   * sequence 0 as they become idle (sequencesUsable).
   */
  private bumpEpoch(): void {
    if (this.bumping || this.closed) return;
    const from = { producerId: this.producerId, producerEpoch: this.producerEpoch };
    const run = (async () => {
      const deadline = Date.now() + this.deliveryTimeoutMs;
      const res = await this.cluster.withRetries('bumping the producer epoch', deadline, async () => {
        const conn = await this.cluster.anyConnection();
        const bump = conn.version(ApiKey.InitProducerId) >= 3;
        const r = await conn.request(ApiKey.InitProducerId, {
          transactionalId: null,
          transactionTimeoutMs: 60_000,
          producerId: bump ? from.producerId : -1,
          producerEpoch: bump ? from.producerEpoch : -1,
        });
        if (r.errorCode !== 0) throw brokerError(r.errorCode, 'bumping the producer epoch');
        return r;
      });
      if (this.producerId === from.producerId && this.producerEpoch === from.producerEpoch) {
        this.producerId = res.producerId;
        this.producerEpoch = res.producerEpoch;
      }
    })();
    this.bumping = run;
    run.then(
      () => {
        this.bumping = undefined;
        this.scheduleDrain(0);
      },
      () => {
        // Tried again at the next drain, after a pause.
        this.bumping = undefined;
        if (!this.closed) setTimeout(() => this.scheduleDrain(0), this.cluster.options.retryBackoffMs);
      },
    );
  }

  private complete(b: Batch, baseOffset: number, logAppendTime: number): void {
    if (b.settled) return;
    const q = this.queue(b.topic, b.partition);
    q.inFlight--;
    q.sent.delete(b);
    q.retrying = false;
    if (q.recovering && !q.ready.some((x) => x.baseSequence >= 0)) q.recovering = false;
    this.release(b.sizeBytes);
    b.records.acknowledge(b.topic, b.partition, baseOffset, logAppendTime);
    this.settled(b);
  }

  private settled(b: Batch): void {
    b.settled = true;
    const records = b.records;
    b.records = NO_RECORDS;
    records.reset();
    if (this.recordsPool.length < POOLED) this.recordsPool.push(records);
    this.unsettledBatches.delete(b);
    const waiters = b.waiters;
    b.waiters = null;
    if (waiters) for (const w of waiters) w();
  }

  private fail(b: Batch, err: Error): void {
    if (b.settled) return;
    const q = this.queue(b.topic, b.partition);
    q.inFlight--;
    q.sent.delete(b);
    const expired = Date.now() - b.createdAt >= this.deliveryTimeoutMs;
    const code = (err as { code?: string }).code;
    const sequenceError =
      this.idempotent && (code === 'OUT_OF_ORDER_SEQUENCE_NUMBER' || code === 'UNKNOWN_PRODUCER_ID');
    // A sequence refused while an earlier batch of the partition is still unacknowledged: this
    // batch overtook it (it is resent after it). Refused with nothing earlier outstanding: the
    // broker will never take this sequence, so the partition needs a new epoch, under which this
    // batch (which the broker did not write) is sent again.
    if (sequenceError && !this.hasEarlier(q, b)) q.needsNewEpoch = true;
    if ((isRetriable(err) || sequenceError) && !expired && b.attempts <= this.retries && !this.closed) {
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
    // A numbered batch that finally failed leaves a gap in the partition's sequence numbers.
    if (this.idempotent && b.baseSequence >= 0) q.needsNewEpoch = true;
    this.release(b.sizeBytes);
    const final =
      expired && isRetriable(err)
        ? new KafkaClientError(
            'TIMEOUT',
            `records for ${b.topic}-${b.partition} expired after delivery.timeout.ms (${this.deliveryTimeoutMs} ms): ${err.message}`,
            { cause: err, retriable: true },
          )
        : err;
    for (const d of b.records.deliveries) d.failed(final);
    this.settled(b);
  }

  /** Whether a batch numbered before `b` is still unacknowledged (in flight or waiting to be resent). */
  private hasEarlier(q: PartitionQueue, b: Batch): boolean {
    for (const x of q.sent) if (x.baseSequence >= 0 && x.baseSequence < b.baseSequence) return true;
    for (const x of q.ready) if (x.baseSequence >= 0 && x.baseSequence < b.baseSequence) return true;
    return false;
  }

  async flush(): Promise<void> {
    // Calls still queued (for the producer id, metadata or room) were sent before this flush too.
    const queued = this.appendQueue[this.appendQueue.length - 1];
    if (queued) await queued.appended;
    for (const q of this.queues.values()) this.closeBatch(q);
    // Every batch closed so far, sent or not, until it is acknowledged or finally failed.
    const waits: Promise<void>[] = [];
    for (const b of this.unsettledBatches) {
      waits.push(
        new Promise<void>((resolve) => {
          if (b.waiters) b.waiters.push(resolve);
          else b.waiters = [resolve];
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

/** Writes producer id, epoch and base sequence into a built batch and recomputes its CRC (which covers them). */
function stampProducer(
  batch: Buffer,
  producerId: number,
  producerEpoch: number,
  baseSequence: number,
): Buffer {
  batch.writeBigInt64BE(BigInt(producerId), PRODUCER_ID);
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH);
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE);
  updateBatchCrc(batch, 0);
  return batch;
}
