/**
 * The idempotent producer across lost responses: a proxy between the producer and the broker
 * cuts the connection right after forwarding some Produce requests, so the broker appends the
 * batch but the producer never hears back and retries it. Every record must be in the log
 * exactly once, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../../core/broker/node.js';
import { connect } from '../../../core/client/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Forwards bytes both ways; after forwarding every `cutEvery`-th Produce request (API key 0) to
 * the broker it destroys the client's side before the response can come back.
 */
function cuttingProxy(
  target: RunningBroker,
  cutEvery: number,
): Promise<{ port: number; cuts: () => number }> {
  let produceCount = 0;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client: Socket) => {
    const upstream = tcpConnect({ host: target.host, port: target.port });
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const frame = pending.subarray(0, 4 + size);
        pending = pending.subarray(4 + size);
        upstream.write(frame);
        if (frame.readInt16BE(4) === 0 && ++produceCount % cutEvery === 0) {
          cuts++;
          // Let the broker receive it, then lose the answer.
          setTimeout(() => {
            client.destroy();
            upstream.destroy();
          }, 20);
        }
      }
    });
    upstream.on('data', (chunk) => {
      if (!client.destroyed) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      cleanups.push(
        () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      );
      resolve({ port: typeof address === 'object' && address ? address.port : 0, cuts: () => cuts });
    });
  });
}

describe('idempotent producer', () => {
  it('retries lost responses without writing any record twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trib-idem-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const broker = await startBroker({ dataDir: dir, listen: '127.0.0.1:0', log: () => {} });
    cleanups.push(() => broker.close());
    const proxy = await cuttingProxy(broker, 3);
    // The proxy answers on its own port but Metadata names the broker's: advertise the proxy.
    broker.broker.setEndpoint('127.0.0.1', proxy.port);
    const admin = await connect({ 'bootstrap.servers': broker.bootstrap });
    cleanups.push(() => admin.close());
    await admin.admin().createTopics([{ topic: 'exactly-once', numPartitions: 1 }]);

    const client = await connect({
      'bootstrap.servers': `127.0.0.1:${proxy.port}`,
      'request.timeout.ms': 2000,
    });
    cleanups.push(() => client.close());
    const producer = client.producer({
      acks: 'all',
      'linger.ms': 0,
      'batch.size': 200,
      'retry.backoff.ms': 10,
    });
    const n = 300;
    const metas = [];
    for (let i = 0; i < n; i += 10) {
      metas.push(
        ...(await producer.sendBatch(
          Array.from({ length: 10 }, (_, j) => ({ topic: 'exactly-once', value: `r${i + j}` })),
        )),
      );
    }
    expect(proxy.cuts()).toBeGreaterThan(3);
    expect(metas.map((m) => m.offset)).toEqual(Array.from({ length: n }, (_, i) => i));

    const consumer = admin.consumer();
    consumer.assign([{ topic: 'exactly-once', partition: 0 }]);
    consumer.seekToBeginning();
    const seen: string[] = [];
    const deadline = Date.now() + 10_000;
    while (seen.length < n && Date.now() < deadline) {
      for (const r of await consumer.poll({ timeoutMs: 200 })) seen.push(r.value!.toString());
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const r of await consumer.poll({ timeoutMs: 100 })) seen.push(r.value!.toString());
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
  });
});
