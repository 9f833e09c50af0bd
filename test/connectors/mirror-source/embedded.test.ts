/**
 * A mirror into a worker whose own cluster is an embedded log (`data.dir`, no broker): the remote
 * topics, the offset syncs, the checkpoints and the translated group offsets all land in that log,
 * reached through the worker's client (the directory is locked by the worker and has no network
 * address, so `target.cluster.bootstrap.servers` is left out).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWorker } from '../../../connect/index.js';
import { decodeCheckpoint, plugins } from '../../../connectors/mirror-source/index.js';
import { connect } from '../../../core/client/index.js';
import type { ConsumerRecord, KafkaClient } from '../../../core/client/types.js';
import { startTestBroker } from '../../helpers/broker.js';
import { tempDir } from '../../helpers/tmp.js';

const BYTES = 'org.apache.kafka.connect.converters.ByteArrayConverter';

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function endOffsets(client: KafkaClient, topic: string, partitions: number): Promise<number[]> {
  const admin = client.admin();
  try {
    const ends = await admin.listOffsets(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, spec: 'latest' as const })),
    );
    return ends.sort((a, b) => a.partition - b.partition).map((e) => e.offset);
  } finally {
    await admin.close();
  }
}

async function readAll(client: KafkaClient, topic: string, partitions: number): Promise<ConsumerRecord[]> {
  const ends = await endOffsets(client, topic, partitions);
  const consumer = client.consumer({ 'enable.auto.commit': false });
  consumer.assign(ends.map((_, partition) => ({ topic, partition })));
  consumer.seekToBeginning();
  const out: ConsumerRecord[] = [];
  const total = ends.reduce((a, b) => a + b, 0);
  const deadline = Date.now() + 30_000;
  while (out.length < total && Date.now() < deadline) out.push(...(await consumer.poll({ timeoutMs: 200 })));
  await consumer.close();
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

const view = (r: ConsumerRecord) => ({
  partition: r.partition,
  offset: r.offset,
  key: r.key,
  value: r.value,
  timestamp: r.timestamp,
  headers: r.headers,
});

describe('mirror into an embedded log', () => {
  it('mirrors a topic and translates group offsets into a worker on a data dir', async () => {
    const east = await startTestBroker();
    const dir = tempDir('trib-mirror-embedded-');
    const source = await connect({ 'bootstrap.servers': east.bootstrap });
    let target: KafkaClient | null = null;
    try {
      const admin = source.admin();
      await admin.createTopics([
        { topic: 'orders', numPartitions: 2, configs: { 'retention.ms': '3600000' } },
      ]);
      const producer = source.producer();
      await producer.sendBatch(
        Array.from({ length: 40 }, (_, i) => ({
          topic: 'orders',
          partition: i % 2,
          key: i % 3 === 0 ? null : `k${i}`,
          value: Buffer.from([i, 0, 0xff]),
          headers: [{ key: 'i', value: Buffer.from(String(i)) }],
          timestamp: 1_700_000_000_000 + i,
        })),
      );
      await producer.close();
      await admin.alterGroupOffsets('app', [
        { topic: 'orders', partition: 0, offset: 20 },
        { topic: 'orders', partition: 1, offset: 5 },
      ]);
      const sourceRecords = (await readAll(source, 'orders', 2)).map(view);

      // No target.cluster.bootstrap.servers: the target is the worker's own cluster.
      const common = {
        'source.cluster.alias': 'east',
        'target.cluster.alias': 'local',
        'source.cluster.bootstrap.servers': east.bootstrap,
        'key.converter': BYTES,
        'value.converter': BYTES,
        'header.converter': BYTES,
      };
      const mirror = {
        name: 'mm2',
        'connector.class': 'MirrorSourceConnector',
        topics: 'orders',
        'offset.lag.max': 0,
        ...common,
      };
      const workerConfig = {
        'offset.flush.interval.ms': 200,
        'offset.storage.file.filename': join(dir, 'offsets'),
      };

      // A worker configured as `trib connect` configures it, with data.dir: it opens the log itself
      // and locks it, so what it mirrored is read once it has stopped.
      const first = await startWorker({
        config: { ...workerConfig, 'data.dir': join(dir, 'log') },
        rest: false,
        plugins,
        log: () => {},
        connectors: [mirror],
      });
      try {
        await first.waitForRunning('mm2');
        await waitFor('the records sent', async () => {
          const sent = first.metrics().find((m) => m.connector === 'mm2')?.records ?? 0;
          return sent >= 40 ? sent : null;
        });
      } finally {
        await first.stop(); // after the acknowledgements
      }
      target = await connect({ 'data.dir': join(dir, 'log') });
      expect(await endOffsets(target, 'east.orders', 2)).toEqual([20, 20]);
      expect((await readAll(target, 'east.orders', 2)).map(view)).toEqual(sourceRecords);

      // Again on the same log, now with checkpoints, the worker sharing this process's client: the
      // test reads the log while it runs. Nothing is copied twice; the group's offsets translate.
      const worker = await startWorker({
        client: target,
        config: workerConfig,
        rest: false,
        plugins,
        log: () => {},
        connectors: [
          mirror,
          {
            name: 'mm2-cp',
            'connector.class': 'MirrorCheckpointConnector',
            groups: 'app',
            'emit.checkpoints.interval.seconds': 1,
            'sync.group.offsets.enabled': true,
            'sync.group.offsets.interval.seconds': 1,
            ...common,
          },
        ],
      });
      const targetAdmin = target.admin();
      try {
        await worker.waitForRunning('mm2');
        await worker.waitForRunning('mm2-cp');
        const [cfg] = await targetAdmin.describeConfigs([{ type: 'topic', name: 'east.orders' }]);
        expect(cfg!.entries.find((e) => e.name === 'retention.ms')?.value).toBe('3600000');
        // The group's offsets, translated and committed in the embedded log's __consumer_offsets.
        const synced = await waitFor('translated group offsets', async () => {
          const offs = await targetAdmin.listGroupOffsets('app');
          const byP = Object.fromEntries(
            offs.filter((o) => o.topic === 'east.orders').map((o) => [o.partition, o.offset]),
          );
          return byP[0] === 20 && byP[1] === 5 ? byP : null;
        });
        expect(synced).toEqual({ 0: 20, 1: 5 });
        // The checkpoint record and the synced offsets go their own ways (a produce and an offset
        // commit): the first may still be in the producer when the second is seen.
        const log = target;
        const checkpoint = await waitFor('the checkpoint of east.orders-1', async () => {
          const checkpoints = (await readAll(log, 'east.checkpoints.internal', 1)).map((r) =>
            decodeCheckpoint(r.key!, r.value!),
          );
          return (
            checkpoints.find(
              (c) =>
                c.group === 'app' && c.topic === 'east.orders' && c.partition === 1 && c.upstreamOffset === 5,
            ) ?? null
          );
        });
        expect(checkpoint).toMatchObject({ upstreamOffset: 5 });
        expect((await readAll(target, 'east.orders', 2)).map(view)).toEqual(sourceRecords);
      } finally {
        await targetAdmin.close();
        await worker.stop();
      }
      // The worker left the shared client open (it is the caller's).
      expect(await endOffsets(target, 'east.orders', 2)).toEqual([20, 20]);
      await admin.close();
    } finally {
      await source.close();
      await target?.close();
    }
  }, 120_000);
});
