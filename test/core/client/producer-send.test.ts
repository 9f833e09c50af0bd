/**
 * The producer's send paths on the embedded log: a first sendBatch large enough to fill many
 * batches before the connection to the leader is open (the idempotent producer must send them in
 * sequence order), string keys and values (written as UTF-8, partitioned by their bytes), and
 * sendAll (one promise, no metadata).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, murmur2Partition } from '../../../core/client/index.js';
import type { ConsumerRecord, KafkaClient, ProducerRecord } from '../../../core/client/types.js';
import { decodeBatches } from '../../../core/records/index.js';

/** A full garbage collection (gc() exposed for a moment). */
function forceGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  setFlagsFromString('--no-expose-gc');
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An embedded client over a fresh data directory (returned too, to read the log's files) with topic t. */
async function embeddedIn(partitions: number): Promise<{ client: KafkaClient; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'trib-producer-send-'));
  const client = await connect({ 'data.dir': dir });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => client.close());
  const admin = client.admin();
  await admin.createTopics([{ topic: 't', numPartitions: partitions }]);
  await admin.close();
  return { client, dir };
}

async function embedded(partitions: number): Promise<KafkaClient> {
  return (await embeddedIn(partitions)).client;
}

async function readAll(client: KafkaClient, partitions: number, count: number): Promise<ConsumerRecord[]> {
  const consumer = client.consumer({ 'auto.offset.reset': 'earliest', 'max.poll.records': 5000 });
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic: 't', partition }));
  consumer.assign(tps);
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 20_000;
  while (out.length < count && Date.now() < deadline) out.push(...(await consumer.poll({ timeoutMs: 100 })));
  await consumer.close();
  return out;
}

describe('producer send paths', () => {
  it('sends a first large sendBatch in sequence order, with string keys and values as UTF-8', async () => {
    const client = await embedded(2);
    const producer = client.producer({ 'linger.ms': 5 }); // idempotent (acks=all), 16 KB batches
    const n = 20_000;
    const records = Array.from({ length: n }, (_, i) => ({
      topic: 't',
      key: String(i),
      value:
        i % 3 === 0
          ? `é ${WORDS[i % 10]} w${i % 101}`
          : `${WORDS[i % 10]} ${WORDS[(i * 7) % 10]} w${i % 101}`,
    }));
    const metadata = await producer.sendBatch(records);
    expect(metadata).toHaveLength(n);
    for (let i = 0; i < n; i++) {
      expect(metadata[i]!.partition).toBe(murmur2Partition(Buffer.from(String(i)), 2));
      expect(metadata[i]!.offset).toBeGreaterThanOrEqual(0);
    }
    await producer.close();
    const read = await readAll(client, 2, n);
    expect(read).toHaveLength(n);
    const byKey = new Map(read.map((r) => [r.key!.toString(), r]));
    for (let i = 0; i < n; i++) {
      const r = byKey.get(String(i))!;
      expect(r.value!.toString()).toBe(records[i]!.value);
      expect(r.offset).toBe(metadata[i]!.offset);
    }
  });

  it('keeps the order and sequence numbers of each partition with batches compressed off the main thread', async () => {
    const { client, dir } = await embeddedIn(2);
    // Batches of up to 256 KiB go to the threadpool; the small ones that linger.ms closes are
    // compressed when sent. Either way a partition's batches leave in order, numbered in order.
    const producer = client.producer({ 'compression.type': 'lz4', 'batch.size': 256 * 1024, 'linger.ms': 2 });
    const values: string[][] = [[], []];
    const sends: Promise<void>[] = [];
    for (let call = 0; call < 60; call++) {
      const records = Array.from({ length: call % 5 === 0 ? 3 : 400 }, (_, i) => {
        const partition = (call + i) % 2;
        const value = `${call}-${i} ${WORDS[(call * i) % 10]!.repeat(1 + ((call + i) % 40))}`;
        values[partition]!.push(value);
        return { topic: 't', partition, value };
      });
      sends.push(producer.sendAll(records));
      if (call % 7 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    await Promise.all(sends);
    await producer.close();
    for (const partition of [0, 1]) {
      const batches = decodeBatches(readFileSync(join(dir, `t-${partition}`, '00000000000000000000.log')));
      expect(batches.every((b) => b.compression === 3)).toBe(true);
      const sizes = batches.map((b) => b.records.reduce((n, r) => n + (r.value?.length ?? 0), 0));
      expect(sizes.some((n) => n > 64 * 1024)).toBe(true); // compressed on the threadpool
      expect(sizes.some((n) => n < 64 * 1024)).toBe(true); // compressed when sent
      let sequence = 0;
      for (const b of batches) {
        expect(b.baseSequence).toBe(sequence);
        sequence += b.recordCount;
      }
      const read = batches.flatMap((b) => b.records.map((r) => r.value!.toString()));
      expect(read).toEqual(values[partition]);
    }
  });

  it('answers calls in the order they were made, when the first waited for the producer id and the next did not', async () => {
    const client = await embedded(1);
    const producer = client.producer({ 'linger.ms': 60_000 }); // nothing is sent until flush()
    const answered: string[] = [];
    const first = producer
      .sendBatch([{ topic: 't', partition: 0, value: 'a' }])
      .then(() => answered.push('first'));
    await new Promise((r) => setTimeout(r, 50)); // the id came, and the first call was appended
    expect((producer as unknown as { appendQueue: unknown[] }).appendQueue).toHaveLength(0);
    const second = producer
      .sendBatch([{ topic: 't', partition: 0, value: 'b' }])
      .then(() => answered.push('second'));
    await producer.flush();
    await Promise.all([first, second]);
    expect(answered).toEqual(['first', 'second']);
    await producer.close();
  });

  it('sendAll resolves once every record is acknowledged', async () => {
    const client = await embedded(1);
    const producer = client.producer({ 'linger.ms': 1, 'batch.size': 1024 });
    const chunks = [0, 1, 2].map((c) =>
      Array.from({ length: 500 }, (_, i) => ({ topic: 't', value: `c${c}-${i}`, partition: 0 })),
    );
    const results = await Promise.all(chunks.map((c) => producer.sendAll(c)));
    expect(results).toEqual([undefined, undefined, undefined]);
    const read = await readAll(client, 1, 1500);
    expect(read.map((r) => r.value!.toString())).toEqual(chunks.flat().map((r) => r.value));
    await producer.close();
  });

  it('sendAll does not keep the records it was given alive until they are acknowledged', async () => {
    const client = await embedded(1);
    const producer = client.producer({ 'linger.ms': 60_000, acks: 1 }); // nothing is sent until flush()
    const warmUp = producer.sendAll([{ topic: 't', value: 'warm-up' }]); // the producer id and metadata
    await producer.flush();
    await warmUp;
    let records: ProducerRecord[] | null = [{ topic: 't', value: 'encoded at once' }];
    const ref = new WeakRef(records);
    const sent = producer.sendAll(records);
    records = null;
    await new Promise((r) => setImmediate(r));
    forceGc();
    // Encoded into the open batch at once: only the batch's bytes are needed until it is acknowledged.
    expect(ref.deref()).toBeUndefined();
    await producer.flush();
    await sent;
    await producer.close();
  });

  it('fills batches up to batch.size, and refuses a record larger than max.request.size without harm', async () => {
    const { client, dir } = await embeddedIn(1);
    const batchSize = 1000;
    const producer = client.producer({ 'linger.ms': 50, 'batch.size': batchSize, 'max.request.size': 4000 });
    const values = Array.from({ length: 600 }, (_, i) => `value ${i} ${'é'.repeat(i % 7)}`);
    const first = producer.sendAll(
      values.slice(0, 300).map((value) => ({ topic: 't', partition: 0, value })),
    );
    // Too large for any request: refused, and the batch it would have gone into is unharmed.
    await expect(producer.send({ topic: 't', partition: 0, value: 'x'.repeat(5000) })).rejects.toMatchObject({
      code: 'RECORD_TOO_LARGE',
    });
    const second = producer.sendAll(values.slice(300).map((value) => ({ topic: 't', partition: 0, value })));
    await Promise.all([first, second]);
    await producer.close();
    const read = await readAll(client, 1, 600);
    expect(read.map((r) => r.value!.toString())).toEqual(values);
    // Every batch of more than one record stays within batch.size, and is full: the next record
    // (at most 35 bytes here) would not have fitted.
    const log = readFileSync(join(dir, 't-0', '00000000000000000000.log'));
    const batches = decodeBatches(log);
    expect(batches.reduce((n, b) => n + b.recordCount, 0)).toBe(600);
    for (const b of batches.slice(0, -1)) {
      const bytes = 12 + b.batchLength;
      if (b.recordCount > 1) expect(bytes).toBeLessThanOrEqual(batchSize);
      expect(bytes).toBeGreaterThan(batchSize - 35);
    }
  });

  it('flush() waits for calls still queued behind the producer id', async () => {
    const client = await embedded(1);
    const producer = client.producer({ 'linger.ms': 1000 }); // idempotent: the first call waits for its id
    let acknowledged = false;
    const sent = producer.sendAll([{ topic: 't', value: 'first' }]).then(() => {
      acknowledged = true;
    });
    await producer.flush();
    expect(acknowledged).toBe(true);
    await sent;
    await producer.close();
  });

  it('appends a backlog of queued calls at once, so a steady caller is not left queueing behind it', async () => {
    const client = await embedded(2);
    const producer = client.producer({ 'linger.ms': 5 });
    const queue = (producer as unknown as { appendQueue: unknown[] }).appendQueue;
    const sends: Promise<void>[] = [];
    let maxQueued = 0;
    // As a streams job's loop does: a call, then a few microtask turns, never a macrotask. The
    // first calls queue behind the producer id; once it is there, the backlog must not make every
    // later call queue too (appended a microtask turn per call, it never caught up).
    for (let i = 0; i < 2000; i++) {
      sends.push(
        producer.sendAll(Array.from({ length: 10 }, (_, j) => ({ topic: 't', value: `v${i}-${j}` }))),
      );
      for (let hop = 0; hop < 3; hop++) await Promise.resolve();
      if (i >= 1000) maxQueued = Math.max(maxQueued, queue.length);
    }
    await Promise.all(sends);
    expect(maxQueued).toBe(0);
    await producer.close();
    const read = await readAll(client, 2, 20_000);
    expect(read).toHaveLength(20_000);
  });
});

describe('a batch that fails to build', () => {
  it('fails its own records only; the producer sends on, and flush() and close() return', async () => {
    const { BatchBuilder } = await import('../../../core/records/builder.js');
    const client = await embedded(1);
    const producer = client.producer({ 'linger.ms': 0, retries: 0 });
    const build = BatchBuilder.prototype.build;
    // One build fails as a throwing compression codec would.
    let failures = 1;
    BatchBuilder.prototype.build = function (this: InstanceType<typeof BatchBuilder>, ...args) {
      if (failures-- > 0) throw new Error('codec failed');
      return build.apply(this, args);
    } as typeof build;
    cleanups.push(() => {
      BatchBuilder.prototype.build = build;
    });
    await expect(producer.send({ topic: 't', value: 'lost' })).rejects.toMatchObject({
      code: 'ILLEGAL_STATE',
      message: expect.stringMatching(/building a batch for t-0 failed: codec failed/),
    });
    const [ok] = await producer.sendBatch([{ topic: 't', value: 'kept' }]);
    expect(ok!.offset).toBe(0);
    await producer.flush();
    await producer.close();
  });
});
