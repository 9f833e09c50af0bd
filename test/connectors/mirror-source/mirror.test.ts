/**
 * Mirroring between two brokers (both in this process, on free ports), as MM2 on Connect: a topic
 * mirrored with keys, values, headers, timestamps and partitions intact; a consumer group's
 * offsets translated, checkpointed and synced into the target for fail-over; the mirror catching
 * up after it was down without copying anything twice.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../../connect/index.js';
import {
  createReplicationPolicy,
  decodeCheckpoint,
  MirrorCheckpointConnector,
  MirrorSourceConnector,
  OffsetSyncStore,
  parseMirrorSourceConfig,
  plugins,
} from '../../../connectors/mirror-source/index.js';
import { connect } from '../../../core/client/index.js';
import type { ConsumerRecord, KafkaClient } from '../../../core/client/types.js';
import { startTestBroker, type TestBroker } from '../../helpers/broker.js';

let dir: string;
let east: TestBroker;
let west: TestBroker;
let source: KafkaClient;
let target: KafkaClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-mirror-'));
  east = await startTestBroker();
  west = await startTestBroker();
  source = await connect({ 'bootstrap.servers': east.bootstrap });
  target = await connect({ 'bootstrap.servers': west.bootstrap });
});

afterAll(async () => {
  await source?.close();
  await target?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | false | null | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every record of a topic, per partition in order. */
async function readAll(client: KafkaClient, topic: string, expected: number): Promise<ConsumerRecord[]> {
  const admin = client.admin();
  const [d] = await admin.describeTopics([topic]);
  await admin.close();
  const consumer = client.consumer({ 'enable.auto.commit': false });
  consumer.assign(d!.partitions.map((p) => ({ topic, partition: p.partition })));
  consumer.seekToBeginning();
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 30_000;
  while (out.length < expected && Date.now() < deadline)
    out.push(...(await consumer.poll({ timeoutMs: 200 })));
  // Anything beyond `expected` would be a duplicate: look a little longer.
  out.push(...(await consumer.poll({ timeoutMs: 300 })));
  await consumer.close();
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

const BYTES = 'org.apache.kafka.connect.converters.ByteArrayConverter';

function mirrorConfigs(): Record<string, string | number | boolean>[] {
  const common = {
    'source.cluster.alias': 'east',
    'target.cluster.alias': 'west',
    'source.cluster.bootstrap.servers': east.bootstrap,
    'target.cluster.bootstrap.servers': west.bootstrap,
    'key.converter': BYTES,
    'value.converter': BYTES,
    'header.converter': BYTES,
  };
  return [
    {
      name: 'mm2-source',
      'connector.class': 'org.apache.kafka.connect.mirror.MirrorSourceConnector',
      'tasks.max': 2,
      topics: 'orders,metrics\\..*',
      'refresh.topics.interval.seconds': 1,
      'offset.lag.max': 0,
      ...common,
    },
    {
      name: 'mm2-checkpoint',
      'connector.class': 'org.apache.kafka.connect.mirror.MirrorCheckpointConnector',
      'tasks.max': 1,
      groups: 'app',
      'emit.checkpoints.interval.seconds': 1,
      'sync.group.offsets.enabled': true,
      'sync.group.offsets.interval.seconds': 1,
      ...common,
    },
  ];
}

async function startMirror(): Promise<WorkerHandle> {
  const worker = await startWorker({
    client: target,
    config: { 'offset.flush.interval.ms': 200, 'offset.storage.file.filename': join(dir, 'mirror.offsets') },
    rest: false,
    plugins,
    log: process.env.MIRROR_DEBUG ? (l) => console.log(l) : () => {},
    connectors: mirrorConfigs(),
  });
  await worker.waitForRunning('mm2-source', { timeoutMs: 30_000 });
  await worker.waitForRunning('mm2-checkpoint', { timeoutMs: 30_000 });
  return worker;
}

async function produce(from: number, count: number): Promise<void> {
  const producer = source.producer({ 'linger.ms': 1 });
  await producer.sendBatch(
    Array.from({ length: count }, (_, j) => {
      const i = from + j;
      return {
        topic: 'orders',
        partition: i % 3,
        key: i % 4 === 0 ? null : `key-${i}`,
        value: i % 5 === 0 ? null : Buffer.from([i, 0xff, 0x00, i]),
        headers: [
          { key: 'trace', value: Buffer.from([0xfe, i]) },
          { key: 'n', value: Buffer.from(String(i)) },
        ],
        timestamp: 1_700_000_000_000 + i,
      };
    }),
  );
  await producer.close();
}

describe('mirror source', () => {
  it('mirrors a topic intact, translates a group offset for fail-over, and catches up after being down', async () => {
    const admin = source.admin();
    await admin.createTopics([
      { topic: 'orders', numPartitions: 3, configs: { 'retention.ms': '86400000' } },
      { topic: 'ignored', numPartitions: 1 },
    ]);
    await produce(0, 30);

    let worker = await startMirror();
    const mirrored = await readAll(target, 'east.orders', 30);
    const original = await readAll(source, 'orders', 30);
    expect(mirrored).toHaveLength(30);
    const view = (r: ConsumerRecord) => ({
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      value: r.value,
      timestamp: r.timestamp,
      headers: r.headers,
    });
    expect(mirrored.map(view)).toEqual(original.map(view));
    const targetAdmin = target.admin();
    const [desc] = await targetAdmin.describeTopics(['east.orders']);
    expect(desc!.partitions).toHaveLength(3);
    const [cfg] = await targetAdmin.describeConfigs([{ type: 'topic', name: 'east.orders' }]);
    expect(cfg!.entries.find((e) => e.name === 'retention.ms')?.value).toBe('86400000');
    expect(await targetAdmin.listTopics()).not.toContain('east.ignored');

    // A consumer group on the source reads part of the topic and commits. (offset.lag.max=0: an offset
    // sync per record, so every offset translates exactly; MM2's default of 100 rounds up to the last sync + 1.)
    await admin.alterGroupOffsets('app', [
      { topic: 'orders', partition: 0, offset: 4 },
      { topic: 'orders', partition: 1, offset: 10 },
      { topic: 'orders', partition: 2, offset: 7 },
    ]);
    const want = { 0: 4, 1: 10, 2: 7 };
    // Synced into the target's __consumer_offsets under the remote topic (the group is not active there)…
    const synced = await waitFor('translated group offsets on the target', async () => {
      const offs = await targetAdmin.listGroupOffsets('app');
      const byP = Object.fromEntries(
        offs.filter((o) => o.topic === 'east.orders').map((o) => [o.partition, o.offset]),
      );
      return byP[0] === 4 && byP[1] === 10 && byP[2] === 7 ? byP : null;
    });
    expect(synced).toEqual(want);
    // …and checkpointed in east.checkpoints.internal.
    const checkpoints = (await readAll(target, 'east.checkpoints.internal', 3)).map((r) =>
      decodeCheckpoint(r.key!, r.value!),
    );
    const latest = new Map(checkpoints.map((c) => [`${c.group}/${c.topic}/${c.partition}`, c]));
    expect(latest.get('app/east.orders/1')).toMatchObject({ upstreamOffset: 10, downstreamOffset: 10 });
    // A consumer failing over continues exactly where it was.
    const failover = target.consumer({ 'group.id': 'app', 'enable.auto.commit': false });
    failover.assign([{ topic: 'east.orders', partition: 0 }]);
    const next = await waitFor('records after fail-over', async () => {
      const recs = await failover.poll({ timeoutMs: 500 });
      return recs.length > 0 ? recs : null;
    });
    expect(next[0]!.offset).toBe(4);
    expect(next[0]!.headers.find((h) => h.key === 'n')?.value?.toString()).toBe(String(3 * 4));
    await failover.close();

    // The mirror goes down; the source moves on (and gets a new matching topic); the mirror catches up.
    await worker.stop();
    await produce(30, 30);
    await admin.createTopics([{ topic: 'metrics.cpu', numPartitions: 2 }]);
    const p = source.producer();
    await p.send({ topic: 'metrics.cpu', partition: 1, value: 'load=1' });
    await p.close();
    worker = await startMirror();
    try {
      const all = await readAll(target, 'east.orders', 60);
      expect(all.map(view)).toEqual((await readAll(source, 'orders', 60)).map(view));
      const cpu = await waitFor('the new topic mirrored', async () => {
        const recs = await readAll(target, 'east.metrics.cpu', 1).catch(() => []);
        return recs.length === 1 ? recs : null;
      });
      expect(cpu[0]!.partition).toBe(1);
    } finally {
      await worker.stop();
      await admin.close();
      await targetAdmin.close();
    }
  });

  it('translates offsets as MM2 does: exact at a sync, one past it in between', () => {
    const store = new OffsetSyncStore();
    store.add({ topic: 't', partition: 0, upstreamOffset: 0, downstreamOffset: 100 });
    store.add({ topic: 't', partition: 0, upstreamOffset: 50, downstreamOffset: 160 });
    expect(store.translate('t', 0, 0)).toBe(100);
    expect(store.translate('t', 0, 20)).toBe(101);
    expect(store.translate('t', 0, 50)).toBe(160);
    expect(store.translate('t', 0, 70)).toBe(161);
    expect(store.translate('t', 1, 70)).toBeNull();
  });

  it('accepts the example configs in examples/connect/mirror-*.json and refuses converters that change bytes', () => {
    const root = fileURLToPath(new URL('../../../examples/connect/', import.meta.url));
    const source = JSON.parse(readFileSync(join(root, 'mirror-source.json'), 'utf8')) as {
      config: Record<string, string>;
    };
    const checkpoint = JSON.parse(readFileSync(join(root, 'mirror-checkpoint.json'), 'utf8')) as {
      config: Record<string, string>;
    };
    expect(new MirrorSourceConnector().validate(source.config)).toEqual({});
    expect(new MirrorCheckpointConnector().validate(checkpoint.config)).toEqual({});
    const json = { ...source.config, 'value.converter': 'org.apache.kafka.connect.json.JsonConverter' };
    expect(Object.keys(new MirrorSourceConnector().validate(json))).toEqual(['value.converter']);
    expect(() =>
      parseMirrorSourceConfig({ ...source.config, 'source.cluster.bootstrap.servers': '' }),
    ).toThrow(/source\.cluster\.bootstrap\.servers/);
  });

  it('names remote topics by the replication policy', () => {
    expect(
      createReplicationPolicy(
        'org.apache.kafka.connect.mirror.DefaultReplicationPolicy',
        '.',
      ).formatRemoteTopic('east', 'orders'),
    ).toBe('east.orders');
    expect(
      createReplicationPolicy('IdentityReplicationPolicy', '.').formatRemoteTopic('east', 'orders'),
    ).toBe('orders');
    expect(() => createReplicationPolicy('Nope', '.')).toThrow(/replication\.policy\.class/);
  });
});
