/**
 * Our client against our broker over TCP: the produce / consume / group / admin cycle, the same
 * one the mock-cluster test runs against librdkafka's mock (a smoke test: the client's own unit
 * behaviour is tested under test/core/client).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Admin, type ConsumerRecord, connect, type KafkaClient } from '../../core/client/index.js';
import { murmur2Partition } from '../../core/client/murmur2.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { pollRecords, topicName, until } from './tools.js';

let broker: TestBroker;
let client: KafkaClient;
let admin: Admin;

beforeAll(async () => {
  broker = await startTestBroker();
  client = await connect({ 'bootstrap.servers': broker.bootstrap });
  admin = client.admin();
});

afterAll(async () => {
  await client?.close();
});

const sorted = (records: readonly ConsumerRecord[]) =>
  [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);

describe('our client ↔ our broker over the network', () => {
  it('admin: create, list, describe, configure, grow and delete topics; describe the cluster', async () => {
    expect(client.kind).toBe('network');
    const topic = topicName('net-admin');
    await admin.createTopics([{ topic, numPartitions: 2, configs: { 'retention.ms': '3600000' } }]);
    expect(await admin.listTopics()).toContain(topic);
    const [t] = await admin.describeTopics([topic]);
    expect(t!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr])).toEqual([
      [0, 1, [1], [1]],
      [1, 1, [1], [1]],
    ]);
    expect(t!.topicId).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');

    const [cfg] = await admin.describeConfigs([{ type: 'topic', name: topic }]);
    const retention = cfg!.entries.find((e) => e.name === 'retention.ms');
    expect(retention).toMatchObject({ value: '3600000', isDefault: false, source: 'topic' });
    // Set nowhere (neither on the topic nor in the broker's config): Kafka's own default.
    const segmentBytes = cfg!.entries.find((e) => e.name === 'segment.bytes');
    expect.soft(segmentBytes).toMatchObject({ value: '1073741824', isDefault: true, source: 'default' });

    await admin.createPartitions([{ topic, count: 3 }]);
    const [grown] = await admin.describeTopics([topic]);
    expect(grown!.partitions).toHaveLength(3);

    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: 1, host: broker.host, port: broker.port, rack: null }]);
    expect(cluster.controllerId).toBe(1);
    expect(cluster.clusterId).toBe(broker.broker.logs.clusterId);

    // Creating it again is an error (TOPIC_ALREADY_EXISTS).
    await expect(admin.createTopics([{ topic, numPartitions: 1 }])).rejects.toThrow(/exist/i);

    await admin.deleteTopics([topic]);
    await until(async () => !(await admin.listTopics()).includes(topic), 5_000, 'the topic to go');
  });

  it('produce and consume: keys, values, headers and timestamps come back at the offsets the broker gave', async () => {
    const topic = topicName('net-data');
    await admin.createTopics([{ topic, numPartitions: 3 }]);
    const producer = client.producer({ 'linger.ms': 5 });
    const base = 1_700_000_000_000;
    const input = Array.from({ length: 40 }, (_, i) => ({
      topic,
      key: i % 8 === 7 ? null : `key-${i % 7}`,
      value: i === 3 ? null : Buffer.from(`value-${i}-\u00e9\u0000\u00ff`, 'latin1'),
      timestamp: base + i,
      headers: [
        { key: 'i', value: Buffer.from(String(i)) },
        { key: 'dup', value: null },
        { key: 'dup', value: Buffer.from([0, 1, 2]) },
      ],
    }));
    const meta = await producer.sendBatch(input);
    await producer.close();
    input.forEach((r, i) => {
      expect(meta[i]!.timestamp).toBe(r.timestamp);
      if (r.key !== null) expect(meta[i]!.partition).toBe(murmur2Partition(Buffer.from(r.key), 3));
    });

    const consumer = client.consumer({ 'auto.offset.reset': 'earliest' });
    consumer.assign([0, 1, 2].map((partition) => ({ topic, partition })));
    const records = sorted(await pollRecords(consumer, input.length));
    const ends = await consumer.endOffsets([0, 1, 2].map((partition) => ({ topic, partition })));
    await consumer.close();
    const expected = sorted(
      input.map(
        (r, i) =>
          ({
            topic,
            partition: meta[i]!.partition,
            offset: meta[i]!.offset,
            timestamp: r.timestamp,
            timestampType: 'CreateTime',
            key: r.key === null ? null : Buffer.from(r.key),
            value: r.value,
            headers: r.headers,
          }) as unknown as ConsumerRecord,
      ),
    );
    expect(records.map(({ leaderEpoch: _, ...r }) => r)).toEqual(expected);
    const counts = new Map<number, number>();
    for (const m of meta) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
    expect(ends.map((e) => [e.partition, e.offset]).sort()).toEqual(
      [0, 1, 2].map((p) => [p, counts.get(p) ?? 0]),
    );
  });

  it('groups: two members split the partitions, commit, and the group resumes from its commits', async () => {
    const topic = topicName('net-group');
    const group = `net-group-${process.pid}`;
    await admin.createTopics([{ topic, numPartitions: 4 }]);
    const producer = client.producer();
    await producer.sendBatch(
      Array.from({ length: 20 }, (_, i) => ({ topic, partition: i % 4, value: `first-${i}` })),
    );

    const config = {
      'group.id': group,
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
      'session.timeout.ms': 6_000,
      'heartbeat.interval.ms': 500,
    } as const;
    const a = client.consumer(config);
    const b = client.consumer(config);
    await a.subscribe([topic]);
    await b.subscribe([topic]);
    // Each member polls in its own loop, as two consumers in one Node process would.
    const got: ConsumerRecord[] = [];
    let stop = false;
    const loop = async (c: typeof a): Promise<void> => {
      while (!stop) got.push(...(await c.poll({ timeoutMs: 200 })));
    };
    const loops = [loop(a), loop(b)];
    try {
      await until(
        () => a.assignment().length === 2 && b.assignment().length === 2 && got.length >= 20,
        20_000,
        'two members with two partitions each reading 20 records',
      );
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    const parts = [...a.assignment(), ...b.assignment()].map((tp) => tp.partition).sort();
    expect(parts).toEqual([0, 1, 2, 3]);
    expect(got.map((r) => r.value?.toString()).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `first-${i}`).sort(),
    );
    await a.commit();
    await b.commit();

    const [described] = await admin.describeGroups([group]);
    expect(described!.state).toBe('Stable');
    expect(described!.members).toHaveLength(2);
    expect((await admin.listGroups()).map((g) => g.groupId)).toContain(group);
    const offsets = await admin.listGroupOffsets(group);
    expect(offsets.map((o) => [o.partition, o.offset, o.lag]).sort()).toEqual([
      [0, 5, 0],
      [1, 5, 0],
      [2, 5, 0],
      [3, 5, 0],
    ]);
    await a.close();
    await b.close();

    await producer.sendBatch(
      Array.from({ length: 8 }, (_, i) => ({ topic, partition: i % 4, value: `second-${i}` })),
    );
    await producer.close();
    const c = client.consumer(config);
    await c.subscribe([topic]);
    const rest = await pollRecords(c, 8, 20_000);
    expect(rest.map((r) => r.value?.toString()).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `second-${i}`).sort(),
    );
    expect(rest.every((r) => r.offset >= 5)).toBe(true);
    await c.close();
    expect((await admin.describeGroups([group]))[0]!.state).toBe('Empty');
  });

  it('poll(timeoutMs) returns within its timeout while the group waits for another member to rejoin', async () => {
    // types.ts: "Waits up to timeoutMs … for records; returns [] when none came" (as Java's
    // poll(Duration) does during a rebalance). Two members polled in turn from one loop must
    // both get their share: a poll that blocks until the rebalance completes never lets the
    // other member rejoin.
    const topic = topicName('net-poll-timeout');
    const group = `net-poll-timeout-${process.pid}`;
    await admin.createTopics([{ topic, numPartitions: 2 }]);
    const config = {
      'group.id': group,
      'auto.offset.reset': 'earliest',
      'session.timeout.ms': 6_000,
      'heartbeat.interval.ms': 500,
    } as const;
    const a = client.consumer(config);
    const b = client.consumer(config);
    await a.subscribe([topic]);
    await b.subscribe([topic]);
    const slowest: number[] = [];
    try {
      const deadline = Date.now() + 10_000;
      const split = () => a.assignment().length === 1 && b.assignment().length === 1;
      while (Date.now() < deadline && !split() && Math.max(0, ...slowest) < 2_000) {
        for (const c of [a, b]) {
          const started = Date.now();
          await c.poll({ timeoutMs: 100 });
          slowest.push(Date.now() - started);
        }
      }
      expect(Math.max(...slowest)).toBeLessThan(2_000);
      expect([...a.assignment(), ...b.assignment()].map((tp) => tp.partition).sort()).toEqual([0, 1]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
