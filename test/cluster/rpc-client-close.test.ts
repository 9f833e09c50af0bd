/**
 * A closing node's controller calls end at once: an RPC client closed by the node's shutdown
 * fails its calls in flight and later ones with a clear, non-retriable "closed" error, so a
 * router retrying an ISR change (AlterPartition) against it gives up instead of keeping the
 * stopped broker's process alive until its 30 s deadline.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerRouter } from '../../core/cluster/controller/router.js';
import { RpcClient } from '../../core/cluster/net/rpc-client.js';
import { systemClock } from '../../core/env/clock.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A controller that accepts connections and never answers (a silent one). */
async function silentController(): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

const request = {
  brokerId: 1,
  brokerEpoch: 1,
  partitions: [{ topicId: 't', partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1] }],
};

describe('RpcClient close', () => {
  it('fails calls in flight and later calls with a non-retriable closed error; the router stops', async () => {
    const port = await silentController();
    const client = new RpcClient({
      selfId: 1,
      address: { host: '127.0.0.1', port },
      requestTimeoutMs: 30_000,
    });
    const router = new ControllerRouter({
      controllers: [0],
      channel: () => client,
      clock: systemClock,
      timeoutMs: 30_000,
      attemptTimeoutMs: 30_000,
    });
    const started = Date.now();
    const inFlight = router.call('alterPartition', request);
    inFlight.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    client.close();
    const err = await inFlight.then(
      () => null,
      (e: unknown) => e as { message: string; retriable: boolean },
    );
    expect(err?.retriable).toBe(false);
    expect(err?.message).toMatch(/closed/);
    const later = await router.call('alterPartition', request).then(
      () => null,
      (e: unknown) => e as { message: string; retriable: boolean },
    );
    expect(later?.retriable).toBe(false);
    expect(later?.message).toMatch(/closed/);
    expect(later?.message).not.toMatch(/queue is full/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
