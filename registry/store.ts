/**
 * The registry's storage: the compacted topic `_schemas` (one partition), read into a
 * {@link RegistryState} by a consumer of its own, written by a producer of its own.
 *
 * Consistency: every read (`sync()`) first asks for the topic's end offset and applies records up
 * to it, so an answer reflects every write acknowledged before the request arrived, whichever
 * instance made it (linearizable reads at the cost of one ListOffsets round trip). A write
 * (`write()`) produces its records with acks=all, then reads up to them: the writer sees its own
 * write and learns whether it won a race (state.ts); writes of one instance are serialized.
 */
import type { Consumer, KafkaClient, Producer, TopicPartition } from '../core/client/index.js';
import { RegistryError } from './errors.js';
import { decodeKey, encodeKey, SCHEMAS_TOPIC, type StoreKey } from './log-format.js';
import { RegistryState } from './state.js';

export interface StoreOptions {
  /** Default `_schemas` (Confluent's `kafkastore.topic`). */
  topic?: string;
  /** How long a read may take to reach the end of the topic. Default 30000. */
  timeoutMs?: number;
  /** Replication factor when the topic is created. Default min(3, brokers). */
  replicationFactor?: number;
}

export interface StoreRecord {
  key: StoreKey;
  value: Buffer | null;
}

const POLL_MS = 100;
/** Largest record we produce (the schema limit keeps values well below it). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export class SchemaStore {
  readonly state = new RegistryState();
  private readonly tp: TopicPartition;
  private position = 0;
  private closed = false;
  /** The sync in progress and the one queued behind it (coalescing concurrent reads). */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private writeChain: Promise<unknown> = Promise.resolve();
  private readChain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly consumer: Consumer,
    private readonly producer: Producer,
    readonly topic: string,
    private readonly timeoutMs: number,
  ) {
    this.tp = { topic, partition: 0 };
  }

  /** Creates `_schemas` if missing (compacted, one partition) and reads it to the end. */
  static async open(client: KafkaClient, opts: StoreOptions = {}): Promise<SchemaStore> {
    const topic = opts.topic ?? SCHEMAS_TOPIC;
    await ensureTopic(client, topic, opts.replicationFactor);
    const consumer = client.consumer({
      'client.id': 'schema-registry-reader',
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
      'fetch.max.wait.ms': POLL_MS,
    });
    const producer = client.producer({
      'client.id': 'schema-registry-writer',
      acks: 'all',
      'linger.ms': 0,
      'max.request.size': MAX_REQUEST_BYTES,
    });
    const store = new SchemaStore(consumer, producer, topic, opts.timeoutMs ?? 30_000);
    consumer.assign([store.tp]);
    consumer.seekToBeginning([store.tp]);
    try {
      await store.sync();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /**
   * Applies every record written before this call: resolves once the state includes the end
   * offset asked for after the call began. Concurrent calls share the reads.
   */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new RegistryError('REGISTRY_CLOSED', 'the registry was closed'));
    if (!this.running) {
      this.running = this.readToEnd().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // A sync is under way but may have asked for the end offset before this call: queue one more.
    if (!this.queued) {
      this.queued = this.running
        .catch(() => {})
        .then(() => {
          this.queued = undefined;
          return this.sync();
        });
    }
    return this.queued;
  }

  private async readToEnd(): Promise<void> {
    const [end] = await this.consumer.endOffsets([this.tp]);
    await this.readTo(end?.offset ?? 0);
  }

  /** Applies records until the position reaches `offset`. */
  private readTo(offset: number): Promise<void> {
    const run = this.readChain.then(async () => {
      const deadline = Date.now() + this.timeoutMs;
      while (this.position < offset) {
        if (this.closed) throw new RegistryError('REGISTRY_CLOSED', 'the registry was closed');
        if (Date.now() > deadline) {
          throw new RegistryError(
            'OPERATION_TIMEOUT',
            `Reading topic ${this.topic} up to offset ${offset} took longer than ${this.timeoutMs} ms (at ${this.position})`,
          );
        }
        const records = await this.consumer.poll({ timeoutMs: POLL_MS, maxRecords: 1000 });
        for (const r of records) {
          const key = decodeKey(r.key);
          if (key) this.state.apply(key, r.value);
          this.position = r.offset + 1;
        }
        if (records.length === 0)
          this.position = Math.max(this.position, await this.consumer.position(this.tp));
      }
    });
    this.readChain = run.catch(() => {});
    return run;
  }

  /**
   * Serializes `fn` with the other writes of this instance (reads go on meanwhile). `fn` may call
   * {@link append} any number of times.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeChain.then(fn);
    this.writeChain = run.catch(() => {});
    return run;
  }

  /** Produces records (in order) and reads up to the last of them. */
  async append(records: readonly StoreRecord[]): Promise<void> {
    if (this.closed) throw new RegistryError('REGISTRY_CLOSED', 'the registry was closed');
    if (records.length === 0) return;
    let last: number;
    try {
      const metas = await this.producer.sendBatch(
        records.map((r) => ({ topic: this.topic, partition: 0, key: encodeKey(r.key), value: r.value })),
      );
      last = metas[metas.length - 1]!.offset;
    } catch (err) {
      throw new RegistryError(
        'STORE_ERROR',
        `Error while writing to topic ${this.topic}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    await this.readTo(last + 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.producer.close(), this.consumer.close()]);
  }
}

async function ensureTopic(client: KafkaClient, topic: string, replicationFactor?: number): Promise<void> {
  const admin = client.admin();
  try {
    const existing = await admin.listTopics({ includeInternal: true });
    if (existing.includes(topic)) {
      const [d] = await admin.describeTopics([topic]);
      if (d && d.partitions.length !== 1) {
        throw new RegistryError(
          'STORE_ERROR',
          `The schemas topic ${topic} should have exactly 1 partition but has ${d.partitions.length}`,
        );
      }
      return;
    }
    let rf = replicationFactor;
    if (rf === undefined) {
      const cluster = await admin.describeCluster();
      rf = Math.max(1, Math.min(3, cluster.brokers.length));
    }
    try {
      await admin.createTopics([
        { topic, numPartitions: 1, replicationFactor: rf, configs: { 'cleanup.policy': 'compact' } },
      ]);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    throw new RegistryError(
      'STORE_ERROR',
      `Cannot create or check the schemas topic ${topic}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    await admin.close().catch(() => {});
  }
}
