/**
 * The network consumer reads fetch responses into pooled buffers (core/client/network/connection.ts)
 * and reuses one only when nothing can still see it: every record of the response handed out, and
 * every pollBatch() batch holding some released. Values distinct per offset show any reuse too early.
 * Also: CRCs are checked as each batch is reached (after the next Fetch went out), so a corrupt
 * batch on disk still fails with CORRUPT_MESSAGE, after the records before it.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { startBroker } from '../../../core/broker/node.js';
import { type ConsumerRecord, connect } from '../../../core/client/index.js';
import { receiveBufferStats } from '../../../core/client/network/connection.js';
import { tempDir } from '../../helpers/tmp.js';

const valueOf = (offset: number): string => `value-${offset}-`.padEnd(100, String(offset % 10));

async function brokerWith(records: number, batchBytes = 16_384) {
  const dir = tempDir();
  const broker = await startBroker({ dataDir: dir, listen: '127.0.0.1:0', log: () => {} });
  const client = await connect({ 'bootstrap.servers': broker.bootstrap });
  onTestFinished(async () => {
    await client.close();
    await broker.close();
  });
  await client.admin().createTopics([{ topic: 't', numPartitions: 1 }]);
  const producer = client.producer({ 'linger.ms': 5, 'batch.size': batchBytes });
  await producer.sendAll(
    Array.from({ length: records }, (_, i) => ({ topic: 't', partition: 0, value: valueOf(i) })),
  );
  await producer.close();
  return { dir, broker, client };
}

it('pollBatch(): released batches make fetch buffers reused; unreleased batches and poll() records stay intact', async () => {
  const { client } = await brokerWith(20_000);
  // Small fetches: 64 KiB responses, read straight into pooled buffers.
  const config = { 'max.partition.fetch.bytes': 65_536, 'max.poll.records': 300 } as const;

  // poll() records are kept by the application: their buffers must never be reused.
  const kept = client.consumer(config);
  kept.assign([{ topic: 't', partition: 0 }]);
  kept.seekToBeginning();
  const held: ConsumerRecord[] = [];
  while (held.length < 2_000) held.push(...(await kept.poll({ timeoutMs: 5_000 })));

  const consumer = client.consumer(config);
  consumer.assign([{ topic: 't', partition: 0 }]);
  consumer.seekToBeginning();
  // The first batch is kept unreleased to the end.
  const first = await consumer.pollBatch({ timeoutMs: 5_000 });
  expect(first.count).toBeGreaterThan(0);
  const before = receiveBufferStats();
  let next = first.count;
  while (next < 20_000) {
    const batch = await consumer.pollBatch({ timeoutMs: 5_000 });
    expect(batch.count).toBeGreaterThan(0);
    for (const r = batch.cursor(); r.next(); next++) {
      expect(r.offset).toBe(next);
      expect(r.valueString()).toBe(valueOf(next));
    }
    batch.release();
  }
  expect(next).toBe(20_000);
  // About 34 responses of 64 KiB went through: nearly all of them into reused buffers.
  const after = receiveBufferStats();
  expect(after.reused - before.reused).toBeGreaterThan(25);
  expect(after.allocated - before.allocated).toBeLessThan(5);

  let offset = 0;
  for (const r = first.cursor(); r.next(); offset++) {
    expect(r.offset).toBe(offset);
    expect(r.valueString()).toBe(valueOf(offset));
  }
  expect(offset).toBe(first.count);
  held.forEach((r, i) => {
    expect(r.offset).toBe(i);
    expect(r.value?.toString()).toBe(valueOf(i));
  });

  // A released batch refuses to be read; a second release() does nothing.
  const cursor = first.cursor();
  first.release();
  first.release();
  expect(first.count).toBe(0);
  expect(() => cursor.next()).toThrow(/released/);
  expect(() => first.cursor()).toThrow(expect.objectContaining({ code: 'ILLEGAL_STATE' }));
  expect(() => first.toArray()).toThrow(/released/);
});

it('a batch with a bad CRC on disk: the records before it are handed out, then CORRUPT_MESSAGE names the CRC', async () => {
  const { dir, client } = await brokerWith(3_000, 4_096);
  // Flip a byte in the middle of the log: inside the records of some batch past the first.
  const file = join(dir, 't-0', readdirSync(join(dir, 't-0')).find((f) => f.endsWith('.log'))!);
  const size = readFileSync(file).length;
  const fd = openSync(file, 'r+');
  const at = Math.floor(size / 2);
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);

  for (const api of ['poll', 'pollBatch'] as const) {
    const consumer = client.consumer({ 'max.poll.records': 500 });
    consumer.assign([{ topic: 't', partition: 0 }]);
    consumer.seekToBeginning();
    let got = 0;
    let error: unknown;
    for (let i = 0; i < 100 && error === undefined; i++) {
      try {
        if (api === 'poll') {
          for (const r of await consumer.poll({ timeoutMs: 1_000 })) {
            expect(r.value?.toString()).toBe(valueOf(got++));
          }
        } else {
          const batch = await consumer.pollBatch({ timeoutMs: 1_000 });
          for (const r = batch.cursor(); r.next(); ) expect(r.valueString()).toBe(valueOf(got++));
          batch.release();
        }
      } catch (e) {
        error = e;
      }
    }
    expect(error).toMatchObject({ code: 'CORRUPT_MESSAGE', message: expect.stringMatching(/CRC/) });
    // Everything before the corrupt batch came; nothing at or after it.
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(3_000);
    expect(await consumer.position({ topic: 't', partition: 0 })).toBe(got);
    await consumer.close();
  }
});
