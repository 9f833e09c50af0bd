/**
 * A test driver for users' unit tests (as Kafka's TopologyTestDriver): runs a job in this process
 * against a fresh embedded log in a temporary directory; pipe records in, read what came out.
 *
 * ```ts
 * const driver = await TestDriver.start(job, { topics: { 'text-lines': 1, 'word-counts': 1 } });
 * await driver.pipeInput('text-lines', [{ value: 'a b a' }]);
 * expect(await driver.readLatest('word-counts')).toEqual(new Map([['a', '2'], ['b', '1']]));
 * await driver.close();
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../core/client/index.js';
import type { Consumer, KafkaClient, Producer, RecordHeader } from '../core/client/types.js';
import type { JobConfig, JobDefinition } from './job.js';
import { type JobHandle, runJob } from './runtime/run-job.js';
import { autoSerde } from './serdes.js';
import type { Serde } from './types.js';

export interface TestDriverOptions {
  /** Topics to create first, with their partition counts (inputs must exist before the job starts). */
  topics: Readonly<Record<string, number>>;
  /** Job config overrides; commit.interval.ms defaults to 50 here. */
  config?: JobConfig;
}

export interface TestInput {
  key?: unknown;
  value: unknown;
  /** Event time; default now. */
  timestamp?: number;
  partition?: number;
  headers?: Record<string, string>;
}

export interface TestOutput<K = string | null, V = string | null> {
  key: K;
  value: V;
  timestamp: number;
  partition: number;
  headers: RecordHeader[];
}

const SETTLE_POLL_MS = 20;
const SETTLE_TIMEOUT_MS = 15_000;

export class TestDriver {
  private readonly readers = new Map<string, Consumer>();
  private producer: Producer;

  private constructor(
    readonly client: KafkaClient,
    readonly handle: JobHandle,
    private readonly dir: string,
  ) {
    this.producer = client.producer({ 'linger.ms': 0 });
  }

  static async start(job: JobDefinition, opts: TestDriverOptions): Promise<TestDriver> {
    const dir = mkdtempSync(join(tmpdir(), 'trib-driver-'));
    const client = await connect({ 'data.dir': join(dir, 'data') });
    try {
      const admin = client.admin();
      await admin.createTopics(
        Object.entries(opts.topics).map(([topic, numPartitions]) => ({ topic, numPartitions })),
      );
      await admin.close();
      const handle = await runJob(job, {
        client,
        stateDir: join(dir, 'state'),
        config: { 'commit.interval.ms': 50, ...opts.config },
      });
      return new TestDriver(client, handle, dir);
    } catch (err) {
      await client.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Writes records to a topic (strings and Buffers as they are, other values as JSON). */
  async pipeInput(
    topic: string,
    records: readonly TestInput[],
    serde: Serde<unknown> = autoSerde,
  ): Promise<void> {
    await this.producer.sendBatch(
      records.map((r) => ({
        topic,
        key: r.key === undefined ? null : serde.serialize(r.key, topic),
        value: serde.serialize(r.value, topic),
        ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
        ...(r.headers ? { headers: r.headers } : {}),
      })),
    );
  }

  /** Waits until the job has consumed everything written so far (every hop, repartitions included). */
  async settle(timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietRounds = 0;
    let lastIn = -1;
    while (Date.now() < deadline) {
      const lag = await this.handle.lag();
      const recordsIn = this.handle.metrics().recordsIn;
      const idle = lag.every((l) => l.lag === 0) && recordsIn === lastIn;
      quietRounds = idle ? quietRounds + 1 : 0;
      lastIn = recordsIn;
      if (quietRounds >= 3) return;
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    }
    throw new Error(`the job did not settle within ${timeoutMs} ms`);
  }

  /** The records written to `topic` since the last read (after the job settled), as text, in log order per partition. */
  async readOutput(topic: string): Promise<TestOutput[]> {
    await this.settle();
    let reader = this.readers.get(topic);
    if (!reader) {
      const admin = this.client.admin();
      const [d] = await admin.describeTopics([topic]);
      await admin.close();
      reader = this.client.consumer({ 'auto.offset.reset': 'earliest', 'enable.auto.commit': false });
      const tps = (d?.partitions ?? []).map((p) => ({ topic, partition: p.partition }));
      reader.assign(tps);
      reader.seekToBeginning(tps);
      this.readers.set(topic, reader);
    }
    const out: TestOutput[] = [];
    for (;;) {
      const records = await reader.poll({ timeoutMs: 100 });
      if (records.length === 0) break;
      for (const r of records) {
        out.push({
          key: r.key?.toString('utf8') ?? null,
          value: r.value?.toString('utf8') ?? null,
          timestamp: r.timestamp,
          partition: r.partition,
          headers: r.headers,
        });
      }
    }
    return out;
  }

  /** The latest value per key of what `readOutput` returns. */
  async readLatest(topic: string): Promise<Map<string | null, string | null>> {
    const m = new Map<string | null, string | null>();
    for (const r of await this.readOutput(topic)) m.set(r.key, r.value);
    return m;
  }

  /** Interactive query of a store. */
  get<K, V>(store: string, key: K): V | undefined {
    return this.handle.get<K, V>(store, key);
  }

  async close(): Promise<void> {
    try {
      for (const r of this.readers.values()) await r.close();
      await this.producer.close();
      await this.handle.close();
    } finally {
      await this.client.close().catch(() => undefined);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
