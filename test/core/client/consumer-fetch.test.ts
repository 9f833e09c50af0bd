/**
 * How the consumer schedules its fetches (one Fetch in flight per leader): a partition that is
 * caught up must not hold back the leader's other partitions for fetch.max.wait.ms.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startBroker } from '../../../core/broker/node.js';
import { connect, type KafkaClient } from '../../../core/client/index.js';
import { tempDir } from '../../helpers/tmp.js';

type Opener = () => Promise<KafkaClient>;

const embedded: Opener = async () => {
  const client = await connect({ 'data.dir': tempDir() });
  onTestFinished(() => client.close());
  return client;
};

const network: Opener = async () => {
  const broker = await startBroker({
    dataDir: tempDir(),
    listen: '127.0.0.1:0',
    config: { 'group.initial.rebalance.delay.ms': 0 },
    log: () => {},
  });
  const client = await connect({ 'bootstrap.servers': broker.bootstrap });
  onTestFinished(async () => {
    await client.close();
    await broker.close();
  });
  return client;
};

describe.each([
  ['embedded', embedded],
  ['network', network],
] as const)('%s consumer', (_kind, open) => {
  it('does not let a caught-up partition’s long poll hold back a partition with more to fetch', async () => {
    const client = await open();
    const admin = client.admin();
    await admin.createTopics([{ topic: 'uneven', numPartitions: 2 }]);
    await admin.close();
    const producer = client.producer({ 'linger.ms': 0, acks: 1 });
    // Partition 0: 40 batches (a fetch of 2 KiB per partition holds one), handed out 10 records a
    // poll; partition 1: one record, so it is caught up while partition 0 still has records to hand out.
    for (let b = 0; b < 40; b++) {
      await producer.sendBatch(
        Array.from({ length: 50 }, (_, i) => ({
          topic: 'uneven',
          partition: 0,
          value: `record ${b * 50 + i} `.padEnd(40, '.'),
        })),
      );
    }
    await producer.send({ topic: 'uneven', partition: 1, value: 'alone' });
    await producer.close();

    const maxWaitMs = 4000;
    const consumer = client.consumer({
      'fetch.max.wait.ms': maxWaitMs,
      'max.partition.fetch.bytes': 2048,
      'max.poll.records': 10,
    });
    onTestFinished(() => consumer.close());
    const tps = [0, 1].map((partition) => ({ topic: 'uneven', partition }));
    consumer.assign(tps);
    consumer.seekToBeginning(tps);
    const started = Date.now();
    let seen = 0;
    while (seen < 2001 && Date.now() - started < 3 * maxWaitMs) {
      seen += (await consumer.poll({ timeoutMs: 100 })).length;
    }
    // Before: after partition 1's record, each of partition 0's ~35 fetches waited behind a fetch of
    // partition 1 alone, which the broker held for fetch.max.wait.ms.
    expect(seen).toBe(2001);
    expect(Date.now() - started).toBeLessThan(maxWaitMs / 2);
  });
});
