/**
 * A compacted topic read from the beginning and followed (Kafka's KafkaBasedLog): what the
 * distributed worker keeps its configs, offsets and statuses in. One producer writes (acks=all),
 * one consumer assigned every partition reads everything into the caller's `onRecord`.
 * `readToEnd()` resolves once everything written before the call has been read.
 */
import type {
  Admin,
  Consumer,
  ConsumerRecord,
  KafkaClient,
  Producer,
  TopicPartition,
} from '../../core/client/types.js';
import { ConnectError, messageOf } from '../errors.js';

export interface KafkaLogOptions {
  topic: string;
  partitions: number;
  /** -1: the broker's default; otherwise capped at the number of brokers. */
  replicationFactor: number;
  onRecord(record: ConsumerRecord): void;
  producerConfig?: Readonly<Record<string, string | number | boolean>>;
  consumerConfig?: Readonly<Record<string, string | number | boolean>>;
  log?: (msg: string) => void;
}

const POLL_TIMEOUT_MS = 100;
const POLL_MAX_RECORDS = 5000;
/** Short long-polls: a rebalance waits for readToEnd() on these topics. */
const FETCH_MAX_WAIT_MS = 100;

/** Creates a compacted topic if it does not exist yet (replication capped at the broker count). */
export async function ensureCompactedTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  replicationFactor: number,
): Promise<void> {
  const existing = await admin.listTopics({ includeInternal: true });
  if (existing.includes(topic)) return;
  let rf: number | undefined;
  if (replicationFactor > 0) {
    const cluster = await admin.describeCluster();
    rf = Math.max(1, Math.min(replicationFactor, cluster.brokers.length));
  }
  try {
    await admin.createTopics([
      {
        topic,
        numPartitions: partitions,
        ...(rf ? { replicationFactor: rf } : {}),
        configs: { 'cleanup.policy': 'compact' },
      },
    ]);
  } catch (err) {
    if ((err as { code?: string }).code !== 'TOPIC_ALREADY_EXISTS') throw err;
  }
}

export class KafkaLog {
  private producer: Producer | null = null;
  private consumer: Consumer | null = null;
  private partitions: TopicPartition[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private waiters: { targets: Map<number, number>; resolve(): void; reject(e: Error): void }[] = [];
  private failure: Error | null = null;

  constructor(
    private readonly client: KafkaClient,
    private readonly admin: Admin,
    private readonly opts: KafkaLogOptions,
  ) {}

  get topic(): string {
    return this.opts.topic;
  }

  async start(): Promise<void> {
    await ensureCompactedTopic(
      this.admin,
      this.opts.topic,
      this.opts.partitions,
      this.opts.replicationFactor,
    );
    const [desc] = await this.admin.describeTopics([this.opts.topic]);
    this.partitions = (desc?.partitions ?? []).map((p) => ({
      topic: this.opts.topic,
      partition: p.partition,
    }));
    if (this.partitions.length === 0)
      throw new ConnectError('CONNECT', `topic ${this.opts.topic} has no partitions`);
    this.producer = this.client.producer({
      acks: 'all',
      'linger.ms': 0,
      ...(this.opts.producerConfig ?? {}),
    });
    this.consumer = this.client.consumer({
      'enable.auto.commit': false,
      'auto.offset.reset': 'earliest',
      'fetch.max.wait.ms': FETCH_MAX_WAIT_MS,
      ...(this.opts.consumerConfig ?? {}),
    });
    this.consumer.assign(this.partitions);
    this.consumer.seekToBeginning(this.partitions);
    this.running = true;
    this.loop = this.run();
    await this.readToEnd();
  }

  private async run(): Promise<void> {
    const consumer = this.consumer!;
    while (this.running) {
      try {
        const records = await consumer.poll({ timeoutMs: POLL_TIMEOUT_MS, maxRecords: POLL_MAX_RECORDS });
        for (const r of records) {
          try {
            this.opts.onRecord(r);
          } catch (err) {
            this.opts.log?.(
              `ignoring a bad record at ${r.topic}-${r.partition}@${r.offset}: ${messageOf(err)}`,
            );
          }
        }
        if (this.waiters.length > 0) await this.checkWaiters();
      } catch (err) {
        if (!this.running) return;
        this.failure = err instanceof Error ? err : new Error(String(err));
        this.opts.log?.(`reading ${this.opts.topic} failed: ${messageOf(err)}; retrying`);
        for (const w of this.waiters.splice(0)) w.reject(this.failure);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async checkWaiters(): Promise<void> {
    const consumer = this.consumer!;
    const positions = new Map<number, number>();
    for (const tp of this.partitions) positions.set(tp.partition, await consumer.position(tp));
    this.waiters = this.waiters.filter((w) => {
      for (const [p, end] of w.targets) if ((positions.get(p) ?? 0) < end) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once every record written before this call was passed to onRecord. */
  async readToEnd(timeoutMs = 30_000): Promise<void> {
    if (!this.running) throw new ConnectError('CONNECT', `the ${this.opts.topic} reader is not running`);
    const ends = await this.consumer!.endOffsets(this.partitions);
    const targets = new Map(ends.map((e) => [e.partition, e.offset]));
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ targets, resolve, reject }));
    await this.checkWaiters(); // often everything has been read already
    try {
      await Promise.race([
        done,
        new Promise<void>((_, reject) => {
          timer = setTimeout(
            () => reject(new ConnectError('REBALANCING', `timed out reading ${this.opts.topic} to its end`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Writes one record and resolves once it is acknowledged (acks=all). */
  async send(key: Buffer | string, value: Buffer | string | null, partition?: number): Promise<void> {
    if (!this.producer) throw new ConnectError('CONNECT', `the ${this.opts.topic} writer is not running`);
    await this.producer.send({
      topic: this.opts.topic,
      key,
      value,
      ...(partition !== undefined ? { partition } : {}),
    });
  }

  /** Writes several records; resolves once all are acknowledged. */
  async sendAll(records: readonly { key: Buffer | string; value: Buffer | string | null }[]): Promise<void> {
    if (!this.producer) throw new ConnectError('CONNECT', `the ${this.opts.topic} writer is not running`);
    if (records.length === 0) return;
    await this.producer.sendBatch(
      records.map((r) => ({ topic: this.opts.topic, key: r.key, value: r.value })),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop?.catch(() => {});
    for (const w of this.waiters.splice(0)) w.reject(new ConnectError('CONNECT', 'stopped'));
    await Promise.allSettled([this.producer?.close(), this.consumer?.close()]);
    this.producer = null;
    this.consumer = null;
  }
}
