/**
 * The output of one instance: records the tasks send, buffered per poll batch and handed to the
 * producer in one sendBatch; repartition records grouped into bundles (bundle.ts). Tracks what is
 * unacknowledged for back-pressure (`max.in.flight.records`, counted in records, bundle entries
 * one by one) and for commits (`flush`: everything sent so far acknowledged).
 */
import type { Consumer, Producer, ProducerRecord } from '../../core/client/types.js';
import { BUNDLE_HEADER, BundleBuilder, type BundleEntry, MAX_BUNDLE_BYTES } from './bundle.js';

interface InFlight {
  done: Promise<unknown>;
  count: number;
}

export class Output {
  private pending: ProducerRecord[] = [];
  /** Records in `pending` and the open bundles (bundle entries counted one by one). */
  private pendingCount = 0;
  private readonly bundles = new Map<string, { topic: string; partition: number; builder: BundleBuilder }>();
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
  }

  sendBundled(topic: string, partition: number, entry: BundleEntry): void {
    const k = `${topic}\u0000${partition}`;
    let b = this.bundles.get(k);
    if (!b) {
      b = { topic, partition, builder: new BundleBuilder() };
      this.bundles.set(k, b);
    }
    b.builder.add(entry);
    this.pendingCount++;
    if (b.builder.sizeBytes >= MAX_BUNDLE_BYTES) this.closeBundle(k);
  }

  private closeBundle(k: string): void {
    const b = this.bundles.get(k);
    if (!b) return;
    this.bundles.delete(k);
    this.pending.push({
      topic: b.topic,
      partition: b.partition,
      key: null,
      value: b.builder.encode(),
      headers: [{ key: BUNDLE_HEADER, value: null }],
    });
  }

  /** Hands everything buffered to the producer (one sendBatch), without waiting. */
  sendPending(): void {
    for (const k of [...this.bundles.keys()]) this.closeBundle(k);
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const entry: InFlight = { done: Promise.resolve(), count: this.pendingCount };
    this.pendingCount = 0;
    this.inFlightCount += entry.count;
    const settle = () => {
      this.inFlightCount -= entry.count;
      this.inFlight.splice(this.inFlight.indexOf(entry), 1);
    };
    entry.done = this.producer.sendBatch(batch).then(settle, (err: unknown) => {
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
