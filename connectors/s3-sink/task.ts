/**
 * The S3 sink task: routes each record to its Kafka partition's {@link TopicPartitionWriter}, and
 * tells the runtime, in `preCommit`, only the offsets whose records are all in the bucket.
 *
 * Partitions are written concurrently, each partition's records in order. Memory: every open file
 * buffers at most one part (`s3.part.size`); past `s3.buffer.memory.bytes` in total the largest
 * buffers go up early as parts.
 */
import {
  type Props,
  type SinkOffsets,
  type SinkRecord,
  type SinkTask,
  type SinkTaskContext,
  type TopicPartitionKey,
  tpKey,
} from '../../connect/sdk.js';
import { parseS3SinkConfig, type S3SinkConfig, VERSION } from './config.js';
import { createFormat } from './format.js';
import { createPartitioner } from './partitioner.js';
import { MemoryAccount, type ObjectStore, S3ObjectStore } from './storage.js';
import { relieveMemory, TopicPartitionWriter, type WriterDeps } from './writer.js';

export interface S3SinkTaskOptions {
  /** The object store (default: S3 through @aws-sdk/client-s3, from the config). */
  store?: (cfg: S3SinkConfig) => ObjectStore;
  /** Wall-clock time in ms (Wallclock extractor, rotate.schedule.interval.ms). */
  nowMs?: () => number;
}

export class S3SinkTask implements SinkTask {
  private deps: WriterDeps | null = null;
  private readonly writers = new Map<string, TopicPartitionWriter>();
  /** The writers again, by topic and partition number (forgotten with them). */
  private readonly byTopic = new Map<string, (TopicPartitionWriter | undefined)[]>();

  constructor(private readonly opts: S3SinkTaskOptions = {}) {}

  version(): string {
    return VERSION;
  }

  start(props: Props, _context?: SinkTaskContext): void {
    const cfg = parseS3SinkConfig(props);
    const nowMs = this.opts.nowMs ?? Date.now;
    this.deps = {
      cfg,
      store: this.opts.store ? this.opts.store(cfg) : new S3ObjectStore(cfg),
      format: createFormat(cfg),
      partitioner: createPartitioner(cfg, nowMs),
      memory: new MemoryAccount(cfg.bufferMemoryBytes),
      nowMs,
    };
  }

  /** Bytes buffered now and at most so far, across open files. */
  get memory(): MemoryAccount | null {
    return this.deps?.memory ?? null;
  }

  /** The writers of the partitions this task holds (for tests and metrics). */
  get partitionWriters(): TopicPartitionWriter[] {
    return [...this.writers.values()];
  }

  private writer(topic: string, partition: number): TopicPartitionWriter {
    // By topic, then partition number: no key string to build for every record.
    const cached = this.byTopic.get(topic)?.[partition];
    if (cached) return cached;
    const k = tpKey(topic, partition);
    let w = this.writers.get(k);
    if (!w) {
      if (!this.deps) throw new Error('S3SinkTask used before start()');
      w = new TopicPartitionWriter(topic, partition, this.deps);
      this.writers.set(k, w);
    }
    if (partition >= 0 && partition < 65_536) {
      const list = this.byTopic.get(topic) ?? [];
      list[partition] = w;
      this.byTopic.set(topic, list);
    }
    return w;
  }

  open(partitions: TopicPartitionKey[]): void {
    for (const tp of partitions) this.writer(tp.topic, tp.partition);
  }

  async put(records: SinkRecord[]): Promise<void> {
    const byPartition = new Map<TopicPartitionWriter, SinkRecord[]>();
    for (const r of records) {
      const w = this.writer(r.topic, r.kafkaPartition);
      const list = byPartition.get(w);
      if (list) list.push(r);
      else byPartition.set(w, [r]);
    }
    await Promise.all(
      [...this.writers.values()].map(async (w) => {
        for (const r of byPartition.get(w) ?? []) {
          const waiting = w.write(r);
          if (waiting) await waiting;
        }
        await w.checkSchedule();
      }),
    );
    await relieveMemory(this.writers.values(), this.deps!.memory);
  }

  async flush(): Promise<void> {
    // Files are uploaded when they rotate; preCommit says what is safe.
  }

  async preCommit(currentOffsets: SinkOffsets): Promise<SinkOffsets> {
    await Promise.all([...this.writers.values()].map((w) => w.checkSchedule()));
    await Promise.all([...this.writers.values()].map((w) => w.settle()));
    const out: SinkOffsets = new Map();
    for (const [k, o] of currentOffsets) {
      const w = this.writers.get(tpKey(o.topic, o.partition));
      out.set(k, { ...o, offset: w ? w.safeOffset(o.offset) : o.offset });
    }
    return out;
  }

  async close(partitions: TopicPartitionKey[]): Promise<void> {
    await Promise.all(
      partitions.map(async (tp) => {
        const k = tpKey(tp.topic, tp.partition);
        const w = this.writers.get(k);
        this.writers.delete(k);
        const list = this.byTopic.get(tp.topic);
        if (list && tp.partition < list.length) list[tp.partition] = undefined;
        await w?.abort();
      }),
    );
  }

  async stop(): Promise<void> {
    const all = [...this.writers.values()];
    this.writers.clear();
    this.byTopic.clear();
    await Promise.all(all.map((w) => w.abort()));
    await Promise.all(all.map((w) => w.settle().catch(() => {})));
    this.deps?.store.close();
  }
}
