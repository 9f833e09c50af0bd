/**
 * kafkajs 2.2.4 against our broker: admin, idempotent producer, consumer groups (assignment,
 * rebalance when a member leaves) and committed offsets across a broker restart.
 */
import type { EachMessagePayload, Kafka, Consumer as KafkajsConsumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KafkaClient } from '../../core/client/index.js';
import { murmur2Partition } from '../../core/client/murmur2.js';
import { startBrokerProcess, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { kafkajs, pollRecords, topicName, until } from './tools.js';

let broker: TestBroker;
let kjs: Kafka;
let client: KafkaClient;

beforeAll(async () => {
  broker = await startTestBroker();
  kjs = kafkajs(broker.bootstrap);
  client = await connect({ 'bootstrap.servers': broker.bootstrap });
});

afterAll(async () => {
  await client?.close();
});

interface Seen {
  partition: number;
  offset: number;
  key: string;
  value: string;
  timestamp: number;
  headers: Record<string, string>;
}

function seen({ partition, message }: EachMessagePayload): Seen {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
  return {
    partition,
    offset: Number(message.offset),
    key: message.key?.toString() ?? '',
    value: message.value?.toString() ?? '',
    timestamp: Number(message.timestamp),
    headers,
  };
}

/** The producer ids of the batches stored in topic-partition (-1 for non-idempotent batches). */
function storedProducerIds(topic: string, partition: number): number[] {
  const read = broker.broker.logs.getLog(topic, partition).read(0, 64 * 1024 * 1024);
  const ids: number[] = [];
  for (const chunk of read.records) {
    for (let pos = 0; pos + 61 <= chunk.length; pos += 12 + chunk.readInt32BE(pos + 8)) {
      ids.push(Number(chunk.readBigInt64BE(pos + 43)));
    }
  }
  return ids;
}

describe('kafkajs admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const admin = kjs.admin();
    await admin.connect();
    try {
      const a = topicName('kjs-admin-a');
      const b = topicName('kjs-admin-b');
      expect(
        await admin.createTopics({
          topics: [
            { topic: a, numPartitions: 3 },
            { topic: b, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
          ],
          waitForLeaders: true,
        }),
      ).toBe(true);
      // kafkajs answers false (not an error) for a topic that already exists.
      expect(await admin.createTopics({ topics: [{ topic: a, numPartitions: 3 }] })).toBe(false);
      const listed = await admin.listTopics();
      expect(listed).toEqual(expect.arrayContaining([a, b]));
      const meta = await admin.fetchTopicMetadata({ topics: [a] });
      expect(meta.topics[0]!.name).toBe(a);
      expect(meta.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
      for (const p of meta.topics[0]!.partitions) expect(p.leader).toBeGreaterThanOrEqual(0);
      // Our admin sees what kafkajs created.
      const [described] = await client.admin().describeTopics([b]);
      expect(described!.partitions).toHaveLength(1);

      await admin.deleteTopics({ topics: [a, b], timeout: 5_000 });
      await until(async () => !(await admin.listTopics()).includes(a), 5_000, 'the topic to be gone');
      expect(await admin.listTopics()).not.toContain(b);
    } finally {
      await admin.disconnect();
    }
  });
  it('describes and alters topic configs, grows partitions, reads and resets group offsets', async () => {
    const { ConfigResourceTypes } = await import('kafkajs');
    const admin = kjs.admin();
    await admin.connect();
    try {
      const topic = topicName('kjs-admin-cfg');
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      const describe = async () =>
        (
          await admin.describeConfigs({
            resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
            includeSynonyms: false,
          })
        ).resources[0]!.configEntries.find((e) => e.configName === 'retention.ms')!;
      // Nobody set retention.ms: Kafka reports the built-in default (source DEFAULT_CONFIG = 5).
      expect.soft(await describe()).toMatchObject({ configValue: '604800000', configSource: 5 });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [{ name: 'retention.ms', value: '1000000' }],
          },
        ],
      });
      // Now a topic override (TOPIC_CONFIG = 1).
      expect(await describe()).toMatchObject({ configValue: '1000000', configSource: 1, isDefault: false });

      await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
      const producer = kjs.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [0, 1, 2, 2].map((partition) => ({ partition, value: `p${partition}` })),
      });
      await producer.disconnect();
      expect((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low, o.high]).sort()).toEqual([
        [0, '0', '1'],
        [1, '0', '1'],
        [2, '0', '2'],
      ]);

      const groupId = `g-${topic}`;
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 2, offset: '1' }] });
      const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(fetched[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
        [0, '-1'],
        [1, '-1'],
        [2, '1'],
      ]);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId);
      await admin.deleteGroups([groupId]);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(groupId);

      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 2, offset: '1' }] });
      const afterDelete = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 2)!;
      expect([afterDelete.low, afterDelete.high]).toEqual(['1', '2']);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('kafkajs producer and consumer group', () => {
  it('an idempotent producer’s keyed records land by murmur2 and a group reads them back exactly', async () => {
    const topic = topicName('kjs-idem');
    const admin = kjs.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kjs.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    const base = 1_700_000_000_000;
    const messages = Array.from({ length: 60 }, (_, i) => ({
      key: `key-${i % 12}`,
      value: `value-${i}`,
      timestamp: String(base + i),
      headers: { i: String(i), kind: 'idempotent' },
    }));
    try {
      // Two sends: the second batch continues the sequence numbers of the first.
      await producer.send({ topic, acks: -1, messages: messages.slice(0, 30) });
      await producer.send({ topic, acks: -1, messages: messages.slice(30) });
    } finally {
      await producer.disconnect();
    }
    // Every stored batch carries the producer id InitProducerId handed out (one id for all).
    const ids = [0, 1, 2].flatMap((p) => storedProducerIds(topic, p));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBeGreaterThanOrEqual(0);

    const consumer = kjs.consumer({
      groupId: `g-${topic}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 200,
    });
    const got: Seen[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async (payload) => {
          got.push(seen(payload));
        },
      });
      await until(() => got.length >= messages.length, 20_000, 'kafkajs to read every record');
    } finally {
      await consumer.disconnect();
    }
    expect(got).toHaveLength(messages.length);
    const expected = new Map<number, Seen[]>();
    messages.forEach((m, i) => {
      const partition = murmur2Partition(Buffer.from(m.key), 3);
      const list = expected.get(partition) ?? [];
      list.push({
        partition,
        offset: list.length,
        key: m.key,
        value: m.value,
        timestamp: base + i,
        headers: { i: String(i), kind: 'idempotent' },
      });
      expected.set(partition, list);
    });
    for (const [partition, list] of expected) {
      expect(got.filter((g) => g.partition === partition)).toEqual(list);
    }

    // Our consumer reads the same records at the same offsets.
    const ours = client.consumer({ 'auto.offset.reset': 'earliest' });
    ours.assign([0, 1, 2].map((partition) => ({ topic, partition })));
    const records = await pollRecords(ours, messages.length);
    await ours.close();
    expect(
      records.map((r) => `${r.partition}/${r.offset}/${r.key}/${r.value}/${r.timestamp}`).sort(),
    ).toEqual(got.map((g) => `${g.partition}/${g.offset}/${g.key}/${g.value}/${g.timestamp}`).sort());
  });

  it('three consumers split six partitions two each, and the other two take over when one leaves', async () => {
    const topic = topicName('kjs-group');
    const groupId = `g-${topic}`;
    const admin = kjs.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    await admin.disconnect();

    const assignments = new Map<number, number[]>();
    const received = new Map<number, Seen[]>();
    const consumers: KafkajsConsumer[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = kjs.consumer({
          groupId,
          sessionTimeout: 10_000,
          rebalanceTimeout: 10_000,
          heartbeatInterval: 300,
          maxWaitTimeInMs: 200,
        });
        consumers.push(c);
        received.set(i, []);
        c.on(c.events.GROUP_JOIN, (e) => {
          assignments.set(i, [...(e.payload.memberAssignment[topic] ?? [])].sort());
        });
        await c.connect();
        await c.subscribe({ topics: [topic], fromBeginning: true });
        await c.run({
          eachMessage: async (payload) => {
            received.get(i)!.push(seen(payload));
          },
        });
      }
      const stable = (members: number[], per: number): boolean => {
        const parts = members.map((m) => assignments.get(m) ?? []);
        const all = parts.flat().sort((x, y) => x - y);
        return parts.every((p) => p.length === per) && all.join() === '0,1,2,3,4,5';
      };
      await until(() => stable([0, 1, 2], 2), 30_000, 'three members holding two partitions each');

      // Records sent now are read by the member holding their partition.
      const producer = kjs.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: Array.from({ length: 12 }, (_, i) => ({
          partition: i % 6,
          key: `a${i}`,
          value: `first-${i}`,
        })),
      });
      await until(() => [...received.values()].flat().length >= 12, 15_000, 'the first 12 records');
      for (const [member, list] of received) {
        for (const r of list) expect(assignments.get(member)).toContain(r.partition);
      }

      // One member leaves (LeaveGroup); the other two rejoin and cover all six partitions.
      await consumers[2]!.disconnect();
      assignments.delete(2);
      await until(
        () => {
          const a = [assignments.get(0) ?? [], assignments.get(1) ?? []];
          return a[0]!.length + a[1]!.length === 6 && [...a[0]!, ...a[1]!].sort().join() === '0,1,2,3,4,5';
        },
        30_000,
        'the two remaining members to take all six partitions',
      );
      expect(new Set([...assignments.get(0)!, ...assignments.get(1)!]).size).toBe(6);

      await producer.send({
        topic,
        messages: Array.from({ length: 12 }, (_, i) => ({
          partition: i % 6,
          key: `b${i}`,
          value: `second-${i}`,
        })),
      });
      await producer.disconnect();
      const second = () =>
        [0, 1].flatMap((m) => received.get(m)!.filter((r) => r.value.startsWith('second-')));
      await until(() => second().length >= 12, 15_000, 'the remaining members to read the next 12 records');
      expect(
        second()
          .map((r) => r.value)
          .sort(),
      ).toEqual(Array.from({ length: 12 }, (_, i) => `second-${i}`).sort());
      // Nothing was read twice.
      const keys = [...received.values()].flat().map((r) => `${r.partition}/${r.offset}`);
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      await Promise.allSettled(consumers.map((c) => c.disconnect()));
    }
  });
});

describe('committed offsets across a broker restart', () => {
  it('a kafkajs group resumes from its committed offsets after `trib broker` restarts', async () => {
    const proc = await startBrokerProcess();
    const topic = topicName('kjs-restart');
    const groupId = `g-${topic}`;
    const k1 = kafkajs(proc.bootstrap);
    const admin = k1.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = k1.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `before-${i}` })),
    });
    await producer.disconnect();

    const readAll = async (kafka: Kafka, want: number): Promise<Seen[]> => {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 200,
      });
      const got: Seen[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: true,
          eachMessage: async (payload) => {
            got.push(seen(payload));
          },
        });
        await until(() => got.length >= want, 20_000, `${want} records`);
      } finally {
        await consumer.disconnect(); // commits what was consumed
      }
      return got;
    };
    expect((await readAll(k1, 10)).map((r) => r.value).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `before-${i}`).sort(),
    );
    const committedBefore = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();

    const exit = await proc.kill('SIGTERM');
    expect(exit.code).toBe(0);
    await proc.restart();

    const k2 = kafkajs(proc.bootstrap);
    const admin2 = k2.admin();
    await admin2.connect();
    try {
      const committedAfter = await admin2.fetchOffsets({ groupId, topics: [topic] });
      expect(committedAfter).toEqual(committedBefore);
      expect(committedAfter[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
        [0, '5'],
        [1, '5'],
      ]);
      const producer2 = k2.producer();
      await producer2.connect();
      await producer2.send({
        topic,
        messages: Array.from({ length: 4 }, (_, i) => ({ partition: i % 2, value: `after-${i}` })),
      });
      await producer2.disconnect();
      // Only the records after the committed offsets come back.
      const after = await readAll(k2, 4);
      expect(after.map((r) => r.value).sort()).toEqual(['after-0', 'after-1', 'after-2', 'after-3']);
      expect(after.map((r) => r.offset).sort()).toEqual([5, 5, 6, 6]);
    } finally {
      await admin2.disconnect();
    }
  });
});
