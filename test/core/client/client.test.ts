/**
 * The client API, run twice: on the embedded log and over the network against a broker — what
 * streams/ and connect/ rely on, and the proof that both paths behave the same. Every test opens
 * a fresh data directory.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startBroker } from '../../../core/broker/node.js';
import { type ConsumerRecord, connect, type KafkaClient } from '../../../core/client/index.js';
import { murmur2Partition } from '../../../core/client/murmur2.js';
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
  const broker = await startBroker({ dataDir: tempDir(), listen: '127.0.0.1:0', log: () => {} });
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
  const consumer = client.consumer({
    'max.partition.fetch.bytes': 1,
    'fetch.max.bytes': 1,
    'max.poll.records': 5,
  });
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
});
