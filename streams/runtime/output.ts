/**
 * The output of one instance: records the tasks send, handed to the producer in chunks of
 * {@link CHUNK_RECORDS} (one sendAll, one promise each; the producer encodes them into its
 * batches at once, so records do not pile up in the heap for a whole poll batch) and whatever is
 * left at the end of each poll batch; repartition records grouped into bundles (bundle.ts).
 * Tracks what is unacknowledged for back-pressure (`max.in.flight.records`, counted in records,
 * bundle entries one by one) and for commits (`flush`: everything sent so far acknowledged).
 */
import type { Consumer, Producer, ProducerRecord, RecordHeader } from '../../core/client/types.js';
import { BUNDLE_HEADER, BundleBuilder, MAX_BUNDLE_BYTES } from './bundle.js';

/** Records per sendAll while a poll batch is processed. */
export const CHUNK_RECORDS = 1024;

interface OpenBundle {
  topic: string;
  partition: number;
  builder: BundleBuilder;
}

interface InFlight {
  done: Promise<unknown>;
  count: number;
}

export class Output {
  private pending: ProducerRecord[] = [];
  /** Records in `pending` and the open bundles (bundle entries counted one by one). */
  private pendingCount = 0;
  /** Open bundles per topic, by partition. */
  private readonly bundles = new Map<string, (OpenBundle | undefined)[]>();
  private openBundles = 0;
  private readonly inFlight: InFlight[] = [];
  private inFlightCount = 0;
  /** The first send that failed; the runtime stops on it. */
  failure: unknown = undefined;
  paused = false;

  constructor(
    private readonly producer: Producer,
    private readonly maxInFlightRecords: number,
  ) {}

  send(record: ProducerRecord): void {
    this.pending.push(record);
    this.pendingCount++;
    if (this.pending.length >= CHUNK_RECORDS) this.sendChunk();
  }

  sendBundled(
    topic: string,
    partition: number,
    key: Buffer | string | null,
    value: Buffer | string | null,
    timestamp: number,
    headers: readonly RecordHeader[],
    origin: string,
    offset: number,
    index: number,
  ): void {
    let byPartition = this.bundles.get(topic);
    if (!byPartition) {
      byPartition = [];
      this.bundles.set(topic, byPartition);
    }
    let b = byPartition[partition];
    if (!b) {
      b = { topic, partition, builder: new BundleBuilder() };
      byPartition[partition] = b;
      this.openBundles++;
    }
    b.builder.add(key, value, timestamp, headers, origin, offset, index);
    this.pendingCount++;
    if (b.builder.sizeBytes >= MAX_BUNDLE_BYTES) this.closeBundle(b);
  }

  private closeBundle(b: OpenBundle): void {
    const byPartition = this.bundles.get(b.topic);
    if (byPartition?.[b.partition] !== b) return;
    byPartition[b.partition] = undefined;
    this.openBundles--;
    this.pending.push({
      topic: b.topic,
      partition: b.partition,
      key: null,
      value: b.builder.encode(),
      headers: [{ key: BUNDLE_HEADER, value: null }],
    });
    if (this.pending.length >= CHUNK_RECORDS) this.sendChunk();
  }

  /** Hands everything buffered to the producer, without waiting. */
  sendPending(): void {
    if (this.openBundles > 0) {
      for (const byPartition of this.bundles.values()) {
        for (const b of byPartition) if (b) this.closeBundle(b);
      }
    }
    this.sendChunk();
  }

  /** Hands the records in `pending` to the producer, counting what they carry as in flight. */
  private sendChunk(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // (counts the entries of bundles still open too: they are sent by the end of the poll batch)
    const entry: InFlight = { done: Promise.resolve(), count: this.pendingCount };
    this.pendingCount = 0;
    this.inFlightCount += entry.count;
    const settle = () => {
      this.inFlightCount -= entry.count;
      this.inFlight.splice(this.inFlight.indexOf(entry), 1);
    };
    entry.done = this.producer.sendAll(batch).then(settle, (err: unknown) => {
      settle();
      this.failure ??= err;
    });
    this.inFlight.push(entry);
  }

  /** While too much is unacknowledged: pauses every partition until half of it is. */
  async backPressure(consumer: Consumer): Promise<void> {
    if (this.inFlightCount <= this.maxInFlightRecords) return;
    consumer.pause(consumer.assignment());
    this.paused = true;
    try {
      while (this.inFlightCount > this.maxInFlightRecords / 2 && this.inFlight.length > 0) {
        await this.inFlight[0]!.done;
      }
    } finally {
      consumer.resume(consumer.assignment());
      this.paused = false;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** Sends what is buffered and waits until everything sent so far is acknowledged. */
  async flush(): Promise<void> {
    this.sendPending();
    await this.producer.flush();
    while (this.inFlight.length > 0) await this.inFlight[0]!.done;
    if (this.failure !== undefined) throw this.failure;
  }
}
