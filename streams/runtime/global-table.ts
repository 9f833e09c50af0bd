/**
 * A global table: every partition of a topic, read from the beginning by each instance into an
 * in-memory map before the job starts, then kept current between polls. Lookups are by the
 * serialized key; null values delete. Bounded by `maxEntries` (a global table is meant for
 * reference data).
 */
import type { Consumer, KafkaClient } from '../../core/client/types.js';
import { StreamsError } from '../errors.js';
import { stringSerde } from '../serdes.js';
import type { Serde } from '../types.js';

const POLL_MS = 100;

export class GlobalTableStore {
  private readonly map = new Map<string, Buffer>();
  private consumer: Consumer | null = null;

  constructor(
    readonly topic: string,
    private readonly maxEntries: number,
  ) {}

  async start(client: KafkaClient): Promise<void> {
    const admin = client.admin();
    try {
      const [d] = await admin.describeTopics([this.topic]);
      const tps = (d?.partitions ?? []).map((p) => ({ topic: this.topic, partition: p.partition }));
      const consumer = client.consumer({ 'auto.offset.reset': 'earliest', 'enable.auto.commit': false });
      this.consumer = consumer;
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      const ends = await consumer.endOffsets(tps);
      const remaining = new Map(ends.map((e) => [e.partition, e.offset]));
      for (const [p, end] of remaining) if (end <= 0) remaining.delete(p);
      while (remaining.size > 0) {
        for (const r of await consumer.poll({ timeoutMs: POLL_MS })) {
          this.apply(r.key, r.value);
          if (r.offset + 1 >= (remaining.get(r.partition) ?? 0)) remaining.delete(r.partition);
        }
      }
    } finally {
      await admin.close();
    }
  }

  /** Applies what arrived since the last call (non-blocking). */
  async update(): Promise<void> {
    if (!this.consumer) return;
    for (const r of await this.consumer.poll({ timeoutMs: 0 })) this.apply(r.key, r.value);
  }

  private apply(key: Buffer | null, value: Buffer | null): void {
    if (!key) return;
    const k = key.toString('latin1');
    if (value === null) this.map.delete(k);
    else {
      if (!this.map.has(k) && this.map.size >= this.maxEntries) {
        throw new StreamsError(
          'STORE_LIMIT',
          `global table '${this.topic}' exceeds ${this.maxEntries} entries`,
        );
      }
      this.map.set(k, value);
    }
  }

  lookup<K, V>(
    keySerde: Serde<K> = stringSerde as unknown as Serde<K>,
    valueSerde: Serde<V> = stringSerde as unknown as Serde<V>,
  ) {
    return {
      get: (key: K): V | undefined => {
        const kb = keySerde.serialize(key, this.topic);
        if (!kb) return undefined;
        const v = this.map.get(kb.toString('latin1'));
        return v === undefined ? undefined : valueSerde.deserialize(v, this.topic);
      },
    };
  }

  async close(): Promise<void> {
    await this.consumer?.close();
    this.consumer = null;
  }
}
