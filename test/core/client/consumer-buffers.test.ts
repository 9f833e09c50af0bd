/**
 * The network consumer reads fetch responses into pooled buffers (core/client/network/connection.ts)
 * and reuses one only when nothing can still see it: every record of the response handed out, and
 * every pollBatch() batch holding some released. Values distinct per offset show any reuse too early.
 * Also: CRCs are checked as each batch is reached (after the next Fetch went out), so a corrupt
 * batch on disk still fails with CORRUPT_MESSAGE, after the records before it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { startBroker } from '../../../core/broker/node.js';
import { type ConsumerRecord, connect, type KafkaClient } from '../../../core/client/index.js';
import { receiveBufferStats } from '../../../core/client/network/connection.js';
import { freePort } from '../../helpers/broker.js';
import { tempDir } from '../../helpers/tmp.js';

const expectedValue = (offset: number): string => `value-${offset}-`.padEnd(100, String(offset % 10));

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
    Array.from({ length: records }, (_, i) => ({ topic: 't', partition: 0, value: expectedValue(i) })),
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
  await kept.close(); // no fetch of its own while the pool is counted below; its records live on

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
      expect(r.valueString()).toBe(expectedValue(next));
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
    expect(r.valueString()).toBe(expectedValue(offset));
  }
  expect(offset).toBe(first.count);
  held.forEach((r, i) => {
    expect(r.offset).toBe(i);
    expect(r.value?.toString()).toBe(expectedValue(i));
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

/** The batches of a segment file: position and base offset of each. */
function batchesOf(log: Buffer): { pos: number; base: number }[] {
  const out: { pos: number; base: number }[] = [];
  for (let pos = 0; pos + 12 <= log.length; pos += 12 + log.readInt32BE(pos + 8)) {
    out.push({ pos, base: Number(log.readBigInt64BE(pos)) });
  }
  return out;
}

/** Applies `change` to the bytes of t-0's segment file in `dir` (the broker serves the file as it is). */
function corruptSegment(dir: string, change: (log: Buffer) => void): Buffer {
  const file = join(dir, 't-0', readdirSync(join(dir, 't-0')).find((f) => f.endsWith('.log'))!);
  const log = readFileSync(file);
  change(log);
  writeFileSync(file, log);
  return log;
}

/** Reads t-0 from the start with poll() or pollBatch() until an error; the records before it must be intact. */
async function readUntilError(
  client: KafkaClient,
  api: 'poll' | 'pollBatch',
  maxPollRecords = 500,
): Promise<{ got: number; error: unknown; position: number }> {
  const consumer = client.consumer({ 'max.poll.records': maxPollRecords });
  consumer.assign([{ topic: 't', partition: 0 }]);
  consumer.seekToBeginning();
  let got = 0;
  let error: unknown;
  for (let i = 0; i < 100 && error === undefined; i++) {
    try {
      if (api === 'poll') {
        for (const r of await consumer.poll({ timeoutMs: 500 })) {
          expect(r.value?.toString()).toBe(expectedValue(got++));
        }
      } else {
        const batch = await consumer.pollBatch({ timeoutMs: 500 });
        for (const r = batch.cursor(); r.next(); ) expect(r.valueString()).toBe(expectedValue(got++));
        batch.release();
      }
    } catch (e) {
      error = e;
    }
  }
  const position = await consumer.position({ topic: 't', partition: 0 });
  await consumer.close();
  return { got, error, position };
}

it('a batch with a bad CRC on disk: the records before it are handed out, then CORRUPT_MESSAGE names the CRC', async () => {
  const { dir, client } = await brokerWith(3_000, 4_096);
  // Flip a byte in the values of a batch in the middle of the log.
  let bad = -1;
  corruptSegment(dir, (log) => {
    const batches = batchesOf(log);
    const victim = batches[Math.floor(batches.length / 2)]!;
    bad = victim.base;
    log[victim.pos + 200] = log[victim.pos + 200]! ^ 0xff;
  });
  expect(bad).toBeGreaterThan(0);
  for (const api of ['poll', 'pollBatch'] as const) {
    const { got, error, position } = await readUntilError(client, api);
    expect(error).toMatchObject({ code: 'CORRUPT_MESSAGE', message: expect.stringMatching(/CRC/) });
    // Everything before the corrupt batch came; nothing of it or after it.
    expect(got).toBe(bad);
    expect(position).toBe(bad);
  }
});

it('a batch whose control bit or record count was corrupted (so nothing reads its records) still fails its CRC check', async () => {
  for (const change of ['control bit', 'record count'] as const) {
    const { dir, client } = await brokerWith(1_000, 4_096);
    // The last batch: with its records out of sight, a consumer that checked only the batches
    // it reads would skip it silently.
    let last = -1;
    corruptSegment(dir, (log) => {
      const victim = batchesOf(log).at(-1)!;
      last = victim.base;
      if (change === 'control bit') log[victim.pos + 22] = log[victim.pos + 22]! | 0x20;
      else log.writeInt32BE(0, victim.pos + 57);
    });
    for (const api of ['poll', 'pollBatch'] as const) {
      // Polls of 333 end exactly after record 998, the last one before the corrupt batch: then
      // no read reaches that batch, and only the check before calling the records done finds it.
      const { got, error, position } = await readUntilError(client, api, 333);
      expect(error, `${change}, ${api}`).toMatchObject({
        code: 'CORRUPT_MESSAGE',
        message: expect.stringMatching(/CRC/),
      });
      expect(got).toBe(last);
      expect(position).toBe(last);
    }
  }
});

/**
 * A TCP proxy in front of `targetPort` that hands every broker → client frame (size prefix
 * included) to `mutate` before passing it on: corruption in transit, which a broker that checks
 * what it stores cannot produce itself.
 */
async function corruptingProxy(
  mutate: (frame: Buffer) => void,
): Promise<{ port: number; connectTo(port: number): void; close(): Promise<void> }> {
  let targetPort = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const broker = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(broker);
    client.pipe(broker);
    let pending = Buffer.alloc(0);
    broker.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(0, 4 + pending.readInt32BE(0));
        pending = pending.subarray(frame.length);
        mutate(frame);
        client.write(frame);
      }
    });
    const end = () => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', end).on('close', end);
    broker.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connectTo: (port) => {
      targetPort = port;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

it('a corrupt header that names the next fetch offset (past the log end) resets nothing: the records before its batch, then CORRUPT_MESSAGE', async () => {
  // Two partitions; the consumer fetches ahead while it hands records out. In transit, one batch of
  // t-0 gets a lastOffsetDelta far past the log end (its CRC no longer matches): the fetch ahead
  // asks for the offset after it and gets OFFSET_OUT_OF_RANGE. That answer must not reset t-0
  // (auto.offset.reset=latest would skip every record after the batch) before the batch is reached.
  const dir = tempDir();
  let victim = -1;
  let corrupted = 0;
  const proxy = await corruptingProxy((frame) => {
    if (victim < 0 || corrupted > 0) return;
    const pattern = Buffer.alloc(8);
    pattern.writeBigInt64BE(BigInt(victim));
    for (let at = frame.indexOf(pattern); at >= 0; at = frame.indexOf(pattern, at + 1)) {
      // a batch header: magic 2 at byte 16, and this batch's own CRC'd lastOffsetDelta at 23
      if (frame[at + 16] !== 2 || frame.readInt32BE(at + 12) !== 0) continue;
      frame.writeInt32BE(1_000_000, at + 23);
      corrupted++;
      return;
    }
  });
  onTestFinished(() => proxy.close());
  const port = await freePort();
  proxy.connectTo(port);
  const broker = await startBroker({
    dataDir: dir,
    listen: `127.0.0.1:${port}`,
    advertised: `127.0.0.1:${proxy.port}`,
    log: () => {},
  });
  const client = await connect({ 'bootstrap.servers': `127.0.0.1:${proxy.port}` });
  onTestFinished(async () => {
    await client.close();
    await broker.close();
  });
  await client.admin().createTopics([{ topic: 't', numPartitions: 2 }]);
  const producer = client.producer({ 'linger.ms': 5, 'batch.size': 4_096 });
  await producer.sendAll(
    [0, 1].flatMap((partition) =>
      Array.from({ length: 3_000 }, (_, i) => ({ topic: 't', partition, value: expectedValue(i) })),
    ),
  );
  await producer.close();
  // A batch inside t-0's second response (about 15 batches of 4 KiB to a response of 64 KiB):
  // while the records before it are handed out, 50 a poll, t-1 wants its next fetch and the fetch
  // ahead of t-0 goes with it, and its answer comes back before the batch is reached.
  const batches = batchesOf(
    readFileSync(join(dir, 't-0', readdirSync(join(dir, 't-0')).find((f) => f.endsWith('.log'))!)),
  );
  victim = batches[25]!.base;

  const consumer = client.consumer({ 'max.partition.fetch.bytes': 65_536, 'max.poll.records': 50 });
  consumer.assign([0, 1].map((partition) => ({ topic: 't', partition })));
  consumer.seekToBeginning();
  const next = [0, 0];
  let error: unknown;
  for (let i = 0; i < 200 && error === undefined; i++) {
    try {
      for (const r of await consumer.poll({ timeoutMs: 500 })) {
        expect(r.offset).toBe(next[r.partition]);
        expect(r.value?.toString()).toBe(expectedValue(r.offset));
        next[r.partition]!++;
      }
      // The application's own I/O between polls: the answer to the fetch ahead is taken in here.
      await new Promise((resolve) => setTimeout(resolve, 5));
    } catch (e) {
      error = e;
    }
  }
  expect(corrupted).toBe(1);
  expect(error).toMatchObject({ code: 'CORRUPT_MESSAGE', message: expect.stringMatching(/CRC/) });
  expect(next[0]).toBe(victim);
  expect(await consumer.position({ topic: 't', partition: 0 })).toBe(victim);
  await consumer.close();
});
