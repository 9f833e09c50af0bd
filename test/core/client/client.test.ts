/**
 * The client API, run twice: on the embedded log and over the network against a broker — what
 * streams/ and connect/ rely on, and the proof that both paths behave the same. Every test opens
 * a fresh data directory.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startBroker } from '../../../core/broker/node.js';
import { type ConsumerRecord, connect, type KafkaClient } from '../../../core/client/index.js';
import { murmur2Partition } from '../../../core/client/murmur2.js';
import { encodeBatch, updateBatchCrc } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';

type Opener = (dir?: string) => Promise<KafkaClient>;

const embedded: Opener = (dir = tempDir()) => connect({ 'data.dir': dir });

/** A broker on a free port over `dir`; closing the client stops the broker too. */
const network: Opener = async (dir = tempDir()) => {
  const broker = await startBroker({
    dataDir: dir,
    listen: '127.0.0.1:0',
    config: { 'group.initial.rebalance.delay.ms': 0 },
    log: () => {},
  });
  const client = await connect({ 'bootstrap.servers': broker.bootstrap });
  const close = client.close.bind(client);
  let closed = false;
  client.close = async () => {
    if (closed) return;
    closed = true;
    await close();
    await broker.close();
  };
  onTestFinished(() => client.close());
  return client;
};

async function readN(
  consumer: ReturnType<KafkaClient['consumer']>,
  n: number,
  timeoutMs = 10_000,
): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) out.push(...(await consumer.poll({ timeoutMs: 200 })));
  return out;
}

describe.each([
  ['embedded', embedded],
  ['network', network],
] as const)('%s client', (_kind, open) => {
  it('produces and consumes: data in equals data out, offsets contiguous', async () => {
    const client = await open();
    try {
      const admin = client.admin();
      await admin.createTopics([{ topic: 'events', numPartitions: 1 }]);
      const producer = client.producer({ 'linger.ms': 1 });
      const sent = [];
      for (let i = 0; i < 1000; i++) {
        sent.push(
          producer.send({
            topic: 'events',
            key: `k${i}`,
            value: Buffer.from(`value-${i}-${'x'.repeat(i % 50)}`),
            headers: { h: `v${i}` },
            timestamp: 1_700_000_000_000 + i,
          }),
        );
      }
      const metas = await Promise.all(sent);
      expect(metas.map((m) => m.offset)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      const consumer = client.consumer();
      consumer.assign([{ topic: 'events', partition: 0 }]);
      consumer.seekToBeginning();
      const got = await readN(consumer, 1000);
      expect(got).toHaveLength(1000);
      got.forEach((r, i) => {
        expect(r.offset).toBe(i);
        expect(r.key?.toString()).toBe(`k${i}`);
        expect(r.value?.toString()).toBe(`value-${i}-${'x'.repeat(i % 50)}`);
        expect(r.headers).toEqual([{ key: 'h', value: Buffer.from(`v${i}`) }]);
        expect(r.timestamp).toBe(1_700_000_000_000 + i);
      });
    } finally {
      await client.close();
    }
  });

  it('pollBatch() hands out the records poll() would, through a cursor: fields, nulls, headers, seeks inside a batch, compressed batches', async () => {
    const client = await open();
    try {
      for (const codec of ['none', 'lz4'] as const) {
        const topic = `batch-${codec}`;
        await client.admin().createTopics([{ topic, numPartitions: 1 }]);
        const producer = client.producer({ 'linger.ms': 5, 'compression.type': codec });
        await producer.sendBatch(
          Array.from({ length: 500 }, (_, i) => ({
            topic,
            key: i % 3 === 0 ? null : `k${i}`,
            value: i % 7 === 0 ? null : `välue-${i}-${'x'.repeat(i % 40)}`,
            headers:
              i % 2 === 0
                ? [
                    { key: 'h', value: Buffer.from(`v${i}`) },
                    { key: 'n', value: null },
                  ]
                : [],
            timestamp: 1_700_000_000_000 + i,
          })),
        );
        await producer.close();
        const byPoll = client.consumer({ 'max.poll.records': 120 });
        byPoll.assign([{ topic, partition: 0 }]);
        byPoll.seek({ topic, partition: 0 }, 37); // inside the first batch
        const expected = await readN(byPoll, 463);
        await byPoll.close();

        const consumer = client.consumer({ 'max.poll.records': 120 });
        consumer.assign([{ topic, partition: 0 }]);
        consumer.seek({ topic, partition: 0 }, 37);
        const fromCursor: ConsumerRecord[] = [];
        const fromArray: ConsumerRecord[] = [];
        const deadline = Date.now() + 10_000;
        while (fromCursor.length < 463 && Date.now() < deadline) {
          const batch = await consumer.pollBatch({ timeoutMs: 200 });
          expect(batch.count).toBeLessThanOrEqual(120);
          let n = 0;
          for (const r = batch.cursor(); r.next(); n++) {
            const rec = r.record();
            expect(r.topic).toBe(topic);
            expect(r.partition).toBe(0);
            expect(r.offset).toBe(rec.offset);
            expect(r.timestamp).toBe(rec.timestamp);
            expect(r.timestampType).toBe('CreateTime');
            expect(r.leaderEpoch).toBe(rec.leaderEpoch);
            expect(r.keyLength).toBe(rec.key === null ? -1 : rec.key.length);
            expect(r.valueLength).toBe(rec.value === null ? -1 : rec.value.length);
            expect(r.key()).toEqual(rec.key);
            expect(r.keyString()).toBe(rec.key?.toString('utf8') ?? null);
            expect(r.valueString()).toBe(rec.value?.toString('utf8') ?? null);
            expect(r.headers()).toEqual(rec.headers);
            fromCursor.push(rec);
          }
          expect(n).toBe(batch.count);
          fromArray.push(...batch.toArray());
          if (batch.count > 0) {
            expect(await consumer.position({ topic, partition: 0 })).toBe(
              fromCursor[fromCursor.length - 1]!.offset + 1,
            );
          }
        }
        expect(fromCursor).toEqual(expected);
        expect(fromArray).toEqual(expected);
        expect(fromCursor[0]!.offset).toBe(37);
        expect(fromCursor.map((r) => r.offset)).toEqual(Array.from({ length: 463 }, (_, i) => 37 + i));
        expect(fromCursor[0]!.headers).toEqual([]);
        expect(fromCursor[1]!.headers).toEqual([
          { key: 'h', value: Buffer.from('v38') },
          { key: 'n', value: null },
        ]);
        // Past the end, and nothing to read: a cursor says so instead of reading garbage.
        const empty = await consumer.pollBatch({ timeoutMs: 50 });
        expect(empty.count).toBe(0);
        const c = empty.cursor();
        expect(c.next()).toBe(false);
        expect(() => c.offset).toThrow(/not on a record/);
        await consumer.close();
      }
    } finally {
      await client.close();
    }
  });

  it('places keyed records with the Java client’s murmur2 partitioner', async () => {
    const client = await open();
    try {
      await client.admin().createTopics([{ topic: 'keyed', numPartitions: 7 }]);
      const producer = client.producer();
      for (const key of ['kafka', 'giberish123456789', '1234', '0', '1', '100:48069', 'user-42']) {
        const m = await producer.send({ topic: 'keyed', key, value: 'v' });
        expect(m.partition).toBe(murmur2Partition(Buffer.from(key), 7));
      }
    } finally {
      await client.close();
    }
  });

  it('keeps every compression codec’s records intact', async () => {
    const client = await open();
    try {
      for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
        const topic = `codec-${codec}`;
        const producer = client.producer({ 'compression.type': codec, 'linger.ms': 5 });
        const values = Array.from({ length: 300 }, (_, i) => `${codec} record ${i} `.repeat(5));
        await producer.sendBatch(values.map((value) => ({ topic, value })));
        await producer.close();
        const consumer = client.consumer();
        consumer.assign([{ topic, partition: 0 }]);
        consumer.seekToBeginning();
        const got = await readN(consumer, values.length);
        expect(got.map((r) => r.value?.toString())).toEqual(values);
        await consumer.close();
      }
    } finally {
      await client.close();
    }
  });

  it('commits group offsets that a restarted consumer resumes from, across reopening the data dir', async () => {
    const dir = tempDir();
    let client = await open(dir);
    await client.admin().createTopics([{ topic: 'orders', numPartitions: 2 }]);
    const producer = client.producer();
    await producer.sendBatch(
      Array.from({ length: 100 }, (_, i) => ({ topic: 'orders', key: `k${i}`, value: `${i}` })),
    );
    const c1 = client.consumer({
      'group.id': 'g1',
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
    });
    await c1.subscribe(['orders']);
    const first = await readN(c1, 60);
    expect(first.length).toBeGreaterThanOrEqual(60);
    await c1.commit();
    const committedCount = first.length;
    await c1.close();
    await client.close();

    client = await open(dir);
    try {
      const c2 = client.consumer({ 'group.id': 'g1', 'auto.offset.reset': 'earliest' });
      await c2.subscribe(['orders']);
      const rest = await readN(c2, 100 - committedCount);
      const seen = new Set([...first, ...rest].map((r) => r.value?.toString()));
      expect(rest).toHaveLength(100 - committedCount);
      expect(seen.size).toBe(100);
      const offsets = await client.admin().listGroupOffsets('g1');
      expect(offsets.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('shares partitions among the members of a group and rebalances when one leaves', async () => {
    const client = await open();
    try {
      await client.admin().createTopics([{ topic: 'shared', numPartitions: 4 }]);
      const a = client.consumer({ 'group.id': 'sharing', 'heartbeat.interval.ms': 100 });
      const b = client.consumer({ 'group.id': 'sharing', 'heartbeat.interval.ms': 100 });
      await a.subscribe(['shared']);
      await b.subscribe(['shared']);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && a.assignment().length + b.assignment().length !== 4) {
        await Promise.all([a.poll({ timeoutMs: 100 }), b.poll({ timeoutMs: 100 })]);
      }
      expect(a.assignment().length).toBe(2);
      expect(b.assignment().length).toBe(2);
      await b.close();
      while (Date.now() < deadline && a.assignment().length !== 4) await a.poll({ timeoutMs: 100 });
      expect(a.assignment().length).toBe(4);
    } finally {
      await client.close();
    }
  });

  it('answers bad input with clear errors', async () => {
    const client = await open();
    try {
      expect(() => client.producer({ 'linger.ms': -1 })).toThrow(/linger.ms/);
      expect(() => client.producer({ 'lingr.ms': 1 } as never)).toThrow(/did you mean 'linger.ms'/);
      await expect(client.admin().createTopics([{ topic: 'bad name!' }])).rejects.toThrow(/bad name!/);
      await client.admin().createTopics([{ topic: 'small', configs: { 'max.message.bytes': '1000' } }]);
      await expect(client.producer().send({ topic: 'small', value: Buffer.alloc(5000) })).rejects.toThrow(
        /MESSAGE_TOO_LARGE/,
      );
      await expect(
        client.admin().createTopics([{ topic: 'x', configs: { 'retention.mss': '1' } }]),
      ).rejects.toThrow(/retention.mss/);
    } finally {
      await client.close();
    }
  });

  it("takes Kafka's other topic configs: timestamp bounds refuse a record from the future, no-effect configs are kept", async () => {
    const client = await open();
    try {
      const admin = client.admin();
      await admin.createTopics([
        {
          topic: 'clocked',
          configs: {
            'message.timestamp.after.max.ms': '60000',
            preallocate: 'true',
            'segment.jitter.ms': '1000',
          },
        },
      ]);
      await expect(
        admin.createTopics([{ topic: 'tiered', configs: { 'remote.storage.enable': 'true' } }]),
      ).rejects.toThrow(/tiered storage/);
      const producer = client.producer({ 'linger.ms': 0, retries: 0 });
      await expect(
        producer.send({ topic: 'clocked', value: 'late', timestamp: Date.now() + 3_600_000 }),
      ).rejects.toThrow(/INVALID_TIMESTAMP/);
      const [ok] = await producer.sendBatch([{ topic: 'clocked', value: 'now' }]);
      expect(ok!.offset).toBe(0);
      await producer.close();
      const [described] = await admin.describeConfigs([{ type: 'topic', name: 'clocked' }]);
      const value = (name: string) => described!.entries.find((e) => e.name === name)?.value;
      expect(value('preallocate')).toBe('true');
      expect(value('message.timestamp.after.max.ms')).toBe('60000');
      expect(value('remote.storage.enable')).toBe('false');
    } finally {
      await client.close();
    }
  });

  it('looks offsets up by time, and seeks', async () => {
    const client = await open();
    try {
      const producer = client.producer();
      await producer.sendBatch(
        Array.from({ length: 10 }, (_, i) => ({ topic: 'timed', value: `${i}`, timestamp: 1000 * (i + 1) })),
      );
      const consumer = client.consumer();
      const tp = { topic: 'timed', partition: 0 };
      consumer.assign([tp]);
      const [found] = await consumer.offsetsForTimes([{ ...tp, timestamp: 5500 }]);
      expect(found?.offset).toBe(5);
      expect(found?.timestamp).toBe(6000);
      consumer.seek(tp, 7);
      const got = await readN(consumer, 3);
      expect(got.map((r) => r.offset)).toEqual([7, 8, 9]);
      expect(await consumer.endOffsets([tp])).toEqual([{ ...tp, offset: 10 }]);
    } finally {
      await client.close();
    }
  });
});

it('the embedded client refuses a data directory another client holds', async () => {
  const dir = tempDir();
  const client = await embedded(dir);
  try {
    await expect(embedded(dir)).rejects.toThrow(/in use by process/);
  } finally {
    await client.close();
  }
});

it('the network consumer fetches the next response while the application holds the previous one, and no further', async () => {
  const dir = tempDir();
  const broker = await startBroker({ dataDir: dir, listen: '127.0.0.1:0', log: () => {} });
  let brokerUp = true;
  const client = await connect({ 'bootstrap.servers': broker.bootstrap, 'request.timeout.ms': 2000 });
  onTestFinished(async () => {
    await client.close();
    if (brokerUp) await broker.close();
  });
  await client.admin().createTopics([{ topic: 'ahead', numPartitions: 1 }]);
  const producer = client.producer({ 'linger.ms': 20 });
  // Six batches of 10 records, each a fetch response of its own (max.partition.fetch.bytes 1:
  // the broker still sends the first batch whole).
  for (let b = 0; b < 6; b++) {
    await producer.sendBatch(
      Array.from({ length: 10 }, (_, i) => ({ topic: 'ahead', partition: 0, value: `${b}-${i}` })),
    );
  }
  const consumer = client.consumer({ 'max.partition.fetch.bytes': 1, 'max.poll.records': 5 });
  consumer.assign([{ topic: 'ahead', partition: 0 }]);
  consumer.seekToBeginning();
  const first = await consumer.poll({ timeoutMs: 5000 });
  expect(first.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
  // The next response was asked for as soon as the first came, though half of it is not handed out.
  await new Promise((r) => setTimeout(r, 300));
  brokerUp = false;
  await broker.close();
  const later: number[] = [];
  for (let i = 0; i < 6; i++) later.push(...(await consumer.poll({ timeoutMs: 100 })).map((r) => r.offset));
  // Prefetched: the second batch came without the broker; bounded: no third response was held.
  expect(later).toEqual(Array.from({ length: 15 }, (_, i) => 5 + i));

  // With fetch.max.bytes already taken by what is buffered, nothing is fetched ahead.
  const broker2 = await startBroker({ dataDir: dir, listen: '127.0.0.1:0', log: () => {} });
  onTestFinished(() => broker2.close());
  const client2 = await connect({ 'bootstrap.servers': broker2.bootstrap, 'request.timeout.ms': 2000 });
  onTestFinished(() => client2.close());
  const small = client2.consumer({
    'max.partition.fetch.bytes': 1,
    'fetch.max.bytes': 1,
    'max.poll.records': 5,
  });
  small.assign([{ topic: 'ahead', partition: 0 }]);
  small.seekToBeginning();
  expect((await small.poll({ timeoutMs: 5000 })).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
  await new Promise((r) => setTimeout(r, 300));
  await broker2.close();
  const rest: number[] = [];
  for (let i = 0; i < 4; i++) rest.push(...(await small.poll({ timeoutMs: 100 })).map((r) => r.offset));
  expect(rest).toEqual([5, 6, 7, 8, 9]);
});

it('poll() and pollBatch() hand out the records before a malformed one, then fail with CORRUPT_MESSAGE there, again and again', async () => {
  const broker = await startBroker({ dataDir: tempDir(), listen: '127.0.0.1:0', log: () => {} });
  const client = await connect({ 'bootstrap.servers': broker.bootstrap });
  onTestFinished(async () => {
    await client.close();
    await broker.close();
  });
  await client.admin().createTopics([{ topic: 'bad', numPartitions: 1 }]);
  // Offsets 0-4: a batch whose CRC is right but whose record 3 declares one byte less than its
  // fields take (a broker checks batches, not records, so it stores it as it came).
  const batch = encodeBatch(Array.from({ length: 5 }, (_, i) => ({ value: Buffer.from(`r${i}`) })));
  let pos = 61;
  for (let i = 0; i < 3; i++) pos += 1 + (batch[pos]! >>> 1);
  batch[pos] = ((batch[pos]! >>> 1) - 1) << 1;
  updateBatchCrc(batch, 0);
  broker.broker.logs.getLog('bad', 0).append(batch, { assignOffsets: true, leaderEpoch: 0 });
  await client.producer().send({ topic: 'bad', partition: 0, value: 'after' });

  const viaPoll = client.consumer();
  viaPoll.assign([{ topic: 'bad', partition: 0 }]);
  viaPoll.seekToBeginning();
  const got: number[] = [];
  let error: unknown;
  for (let i = 0; i < 20 && error === undefined; i++) {
    try {
      got.push(...(await viaPoll.poll({ timeoutMs: 200 })).map((r) => r.offset));
    } catch (e) {
      error = e;
    }
  }
  expect(got).toEqual([0, 1, 2]);
  expect(error).toMatchObject({ code: 'CORRUPT_MESSAGE' });
  expect(await viaPoll.position({ topic: 'bad', partition: 0 })).toBe(3);
  await expect(
    viaPoll.poll({ timeoutMs: 1000 }).then(() => viaPoll.poll({ timeoutMs: 1000 })),
  ).rejects.toMatchObject({
    code: 'CORRUPT_MESSAGE',
  });

  const viaBatch = client.consumer();
  viaBatch.assign([{ topic: 'bad', partition: 0 }]);
  viaBatch.seekToBeginning();
  const offsets: number[] = [];
  error = undefined;
  for (let i = 0; i < 20 && error === undefined; i++) {
    try {
      for (const r = (await viaBatch.pollBatch({ timeoutMs: 200 })).cursor(); r.next(); )
        offsets.push(r.offset);
    } catch (e) {
      error = e;
    }
  }
  expect(offsets).toEqual([0, 1, 2]);
  expect(error).toMatchObject({ code: 'CORRUPT_MESSAGE' });
  expect(await viaBatch.position({ topic: 'bad', partition: 0 })).toBe(3);
  // Past it by hand, both read on.
  viaBatch.seek({ topic: 'bad', partition: 0 }, 5);
  const rest = await viaBatch.pollBatch({ timeoutMs: 5000 });
  expect(rest.toArray().map((r) => [r.offset, r.value?.toString()])).toEqual([[5, 'after']]);
});
