/**
 * Our client against librdkafka 2.0.2's mock cluster (three brokers, partitions led by
 * different brokers): a Kafka implementation nobody here wrote. The same produce / consume /
 * group / admin cycle as against our broker, minus what the mock does not implement (see
 * test/helpers/mock-cluster.ts for its APIs and flaws).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Admin, type ConsumerRecord, connect, type KafkaClient } from '../../core/client/index.js';
import { murmur2Partition } from '../../core/client/murmur2.js';
import { type MockCluster, startMockCluster } from '../helpers/mock-cluster.js';
import { INSTALL_TIMEOUT_MS } from '../helpers/system.js';
import { pollBatchRecords, pollRecords, topicName } from './tools.js';

const TOPIC = 'mock-topic';
const GROUP_TOPIC = 'mock-group-topic';

let mock: MockCluster;
let client: KafkaClient;
let admin: Admin;

beforeAll(async () => {
  mock = await startMockCluster({
    brokers: 3,
    topics: [
      { topic: TOPIC, partitions: 3 },
      { topic: GROUP_TOPIC, partitions: 3 },
    ],
  });
  client = await connect({ 'bootstrap.servers': mock.bootstrap, 'request.timeout.ms': 10_000 });
  admin = client.admin();
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await client?.close();
});

const sorted = (records: readonly ConsumerRecord[]) =>
  [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);

describe('admin against the librdkafka mock cluster', () => {
  it('lists and describes topics; sees the three brokers as leaders', async () => {
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([TOPIC, GROUP_TOPIC]));
    const [t] = await admin.describeTopics([TOPIC]);
    expect(t!.name).toBe(TOPIC);
    expect(t!.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of t!.partitions) {
      expect([1, 2, 3]).toContain(p.leader);
      expect([...p.replicas].sort()).toEqual([1, 2, 3]);
    }
  });

  it('describeCluster and createTopics: the mock implements neither API', async () => {
    // librdkafka 2.0.2's mock has no DescribeCluster (60): the client must say so, not hang.
    await expect(admin.describeCluster()).rejects.toThrow(/DescribeCluster|not support|unsupported/i);
    // Nor CreateTopics (19), and its Metadata names controller 0, which is no broker (1..3):
    // the request cannot be routed. Assert only that it fails within the time given.
    const started = Date.now();
    await expect(
      admin.createTopics([{ topic: topicName('mock-new'), numPartitions: 2 }], { timeoutMs: 2_000 }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a topic the mock auto-creates on a metadata request (4 partitions) is produced to and listed', async () => {
    const topic = topicName('mock-auto');
    const producer = client.producer();
    const meta = await producer.send({ topic, key: 'k', value: 'v' });
    await producer.close();
    expect(meta.partition).toBe(murmur2Partition(Buffer.from('k'), 4));
    expect(meta.offset).toBe(0);
    const [t] = await admin.describeTopics([topic]);
    expect(t!.partitions).toHaveLength(4);
    expect(await admin.listTopics()).toContain(topic);
  });
});

describe('produce and consume against the librdkafka mock cluster', () => {
  it('keyed records land by murmur2 on three leaders and come back exactly', async () => {
    const producer = client.producer({ 'linger.ms': 5 });
    const base = 1_700_000_000_000;
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const input = Array.from({ length: 30 }, (_, i) => ({
      topic: TOPIC,
      key: i % 10 === 9 ? null : `key-${i % 9}`,
      value: i === 0 ? binary : `value-${i}`,
      timestamp: base + i,
      headers: [
        { key: 'i', value: Buffer.from(String(i)) },
        { key: 'dup', value: Buffer.from('a') },
        { key: 'dup', value: null },
      ],
    }));
    const meta = await producer.sendBatch(input);
    await producer.close();
    input.forEach((r, i) => {
      if (r.key !== null) expect(meta[i]!.partition, r.key).toBe(murmur2Partition(Buffer.from(r.key), 3));
    });
    // Offsets within each partition are 0.. in send order.
    const next = new Map<number, number>();
    for (const m of meta) {
      expect(m.offset).toBe(next.get(m.partition) ?? 0);
      next.set(m.partition, m.offset + 1);
    }

    const consumer = client.consumer({ 'auto.offset.reset': 'earliest' });
    consumer.assign([0, 1, 2].map((partition) => ({ topic: TOPIC, partition })));
    const records = sorted(await pollRecords(consumer, input.length));
    const ends = await consumer.endOffsets([0, 1, 2].map((partition) => ({ topic: TOPIC, partition })));
    await consumer.close();

    const expected = sorted(
      input.map(
        (r, i) =>
          ({
            topic: TOPIC,
            partition: meta[i]!.partition,
            offset: meta[i]!.offset,
            timestamp: r.timestamp,
            timestampType: 'CreateTime',
            key: r.key === null ? null : Buffer.from(r.key),
            value: Buffer.from(r.value),
            headers: r.headers,
          }) as unknown as ConsumerRecord,
      ),
    );
    expect(records.map(({ leaderEpoch: _, ...r }) => r)).toEqual(expected);
    expect(ends.map((e) => [e.partition, e.offset]).sort()).toEqual(
      [0, 1, 2].map((p) => [p, next.get(p) ?? 0]),
    );
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`${codec} batches from our producer are stored by the mock and read back`, async () => {
      const topic = topicName(`mock-${codec}`);
      const producer = client.producer({ 'compression.type': codec, 'linger.ms': 10 });
      const values = Array.from({ length: 50 }, (_, i) => `${codec} ${i} ${'xyz'.repeat(20)}`);
      const meta = await producer.sendBatch(values.map((value) => ({ topic, partition: 1, value })));
      await producer.close();
      expect(meta.map((m) => m.offset)).toEqual(values.map((_, i) => i));
      const consumer = client.consumer({ 'auto.offset.reset': 'earliest' });
      consumer.assign([{ topic, partition: 1 }]);
      const records = await pollRecords(consumer, values.length);
      await consumer.close();
      expect(records.map((r) => [r.offset, r.value?.toString()])).toEqual(values.map((v, i) => [i, v]));
      const byBatch = client.consumer({ 'auto.offset.reset': 'earliest' });
      byBatch.assign([{ topic, partition: 1 }]);
      expect(await pollBatchRecords(byBatch, values.length)).toEqual(records);
      await byBatch.close();
    });
  }
});

describe('consumer groups against the librdkafka mock cluster', () => {
  it('a group member reads everything, commits, and the next member resumes after the commit', async () => {
    const group = `mock-group-${process.pid}`;
    const producer = client.producer();
    const first = await producer.sendBatch(
      Array.from({ length: 12 }, (_, i) => ({ topic: GROUP_TOPIC, partition: i % 3, value: `first-${i}` })),
    );
    const partitions = [0, 1, 2].map((partition) => ({ topic: GROUP_TOPIC, partition }));

    // The mock keeps a group "Joining" for session.timeout.ms - 1 s after a member leaves, even
    // with no member left, and only then answers the next JoinGroup: keep the session short.
    const config = {
      'group.id': group,
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
      'session.timeout.ms': 6_000,
      'heartbeat.interval.ms': 1_000,
    } as const;
    const c1 = client.consumer(config);
    await c1.subscribe([GROUP_TOPIC]);
    const got1 = await pollRecords(c1, first.length, 20_000);
    expect(got1.map((r) => r.value?.toString()).sort()).toEqual(first.map((_, i) => `first-${i}`).sort());
    expect(
      c1
        .assignment()
        .map((tp) => tp.partition)
        .sort(),
    ).toEqual([0, 1, 2]);
    await c1.commit();
    const committed = await c1.committed(partitions);
    expect(committed.map((o) => [o.partition, o.offset])).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
    ]);
    await c1.close();

    // The mock's OffsetFetch cannot list all of a group's offsets (topics = null): admin's
    // listGroupOffsets is not asserted here; committed() above asked per partition.

    const second = await producer.sendBatch(
      Array.from({ length: 6 }, (_, i) => ({ topic: GROUP_TOPIC, partition: i % 3, value: `second-${i}` })),
    );
    await producer.close();
    const c2 = client.consumer(config);
    await c2.subscribe([GROUP_TOPIC]);
    const got2 = await pollRecords(c2, second.length, 20_000);
    expect(got2.map((r) => r.value?.toString()).sort()).toEqual(second.map((_, i) => `second-${i}`).sort());
    expect(got2.every((r) => r.offset >= 4)).toBe(true);
    await c2.close();
  });
});
