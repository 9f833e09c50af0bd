/**
 * Connection loss shortens broker sessions (broker.session.reconnect.grace.ms), on real TCP in
 * one process: a broker whose connections close and that does not come back is fenced within the
 * grace, far sooner than its session timeout; one whose connections drop and that reconnects is
 * not fenced; and when the active controller itself goes away, the new one fences it as soon.
 *
 * The session timeout is 30 s here and the grace 500 ms, so "fenced within 6 s" can only come from
 * the grace (6 s: the grace, the 100 ms session check, a metadata commit and an election, with room
 * for a loaded machine).
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterNode } from '../../../core/cluster/net/index.js';
import type { QuorumVoter } from '../../../core/cluster/raft/config.js';
import { identifyController, ProxyNetwork, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { tempDir } from '../../helpers/tmp.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const GRACE_MS = 500;
const SESSION_MS = 30_000;
/** Fenced within this of the death: the grace plus generous slack, far below SESSION_MS. */
const FENCED_WITHIN_MS = 6000;

const settings = {
  raft: { electionTimeoutMs: 300, heartbeatIntervalMs: 50 },
  controller: {
    // a long interval: a broker that waited for its next heartbeat would miss the grace
    brokerHeartbeatIntervalMs: 8000,
    brokerSessionTimeoutMs: SESSION_MS,
    brokerSessionReconnectGraceMs: GRACE_MS,
    sessionCheckIntervalMs: 100,
  },
};

const nodes: ClusterNode[] = [];
const proxies: ProxyNetwork[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
  for (const p of proxies.splice(0)) await p.close();
});

/** Three controllers, also brokers, until one of them is active. */
async function cluster(): Promise<{ root: string; quorum: QuorumVoter[] }> {
  const root = tempDir('trib-sess-');
  const ports = [await freePort(), await freePort(), await freePort()];
  const quorum = ports.map((port, i) => ({ id: i + 1, host: '127.0.0.1', port }));
  for (const v of quorum) {
    nodes.push(
      await ClusterNode.start({
        nodeId: v.id,
        dataDir: path.join(root, `n${v.id}`),
        quorum,
        controllerListen: { host: '127.0.0.1', port: v.port },
        broker: { host: '127.0.0.1', port: 19290 + v.id },
        ...settings,
      }),
    );
  }
  await until(() => nodes.some((n) => n.controller?.isActive));
  return { root, quorum };
}

async function startBroker4(root: string, quorum: readonly QuorumVoter[]): Promise<ClusterNode> {
  const node = await ClusterNode.start({
    nodeId: 4,
    dataDir: path.join(root, 'n4'),
    quorum,
    broker: { host: '127.0.0.1', port: 19294 },
    ...settings,
  });
  nodes.push(node);
  return node;
}

const fenced = (n: ClusterNode, id: number): boolean => n.metadata.image().brokers.get(id)?.fenced === true;

describe('broker sessions and connection loss', () => {
  it('fences a broker whose connections closed within the reconnect grace, not the session timeout', async () => {
    const { root, quorum } = await cluster();
    const b4 = await startBroker4(root, quorum);
    await until(() => nodes.every((n) => n.lifecycle?.state === 'running'));
    const watcher = nodes[0]!;
    await until(() => watcher.metadata.image().brokers.get(4)?.fenced === false);

    // stop() closes every socket at once, as the kernel does for a killed process
    const t0 = Date.now();
    await b4.stop();
    nodes.splice(nodes.indexOf(b4), 1);
    await until(() => fenced(watcher, 4), FENCED_WITHIN_MS);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(GRACE_MS - 50); // not before the grace
    expect(took).toBeLessThan(FENCED_WITHIN_MS);
    // nobody else lost their session
    for (const id of [1, 2, 3]) expect(fenced(watcher, id)).toBe(false);
  }, 60_000);

  it('does not fence a broker whose connections dropped and that reconnected at once', async () => {
    const { root, quorum } = await cluster();
    // node 4 reaches the controllers through proxies, so that its connections can be reset
    const network = new ProxyNetwork();
    proxies.push(network);
    const via: QuorumVoter[] = [];
    const proxyOf = new Map<number, TcpProxy>();
    for (const v of quorum) {
      const p = await network.add(String(v.id), { host: v.host, port: v.port }, identifyController);
      proxyOf.set(v.id, p);
      via.push({ id: v.id, host: '127.0.0.1', port: p.port });
    }
    await startBroker4(root, via);
    await until(() => nodes.every((n) => n.lifecycle?.state === 'running'));
    await until(() => nodes.every((n) => n.metadata.image().brokers.get(4)?.fenced === false));
    const active = nodes.find((n) => n.controller?.isActive)!;
    // connections node 4 opened to the active controller (Raft and RPC)
    const seen = (): number => proxyOf.get(active.nodeId)!.sourcesSeen.get('4') ?? 0;
    const before = seen();
    expect(before).toBeGreaterThan(0); // node 4 heartbeats on a connection through it

    // every connection of node 4 is reset (both ends see it close), new ones are let through
    network.isolate('4', { mode: 'reset' });
    network.heal('4');
    // it comes back at once (not at its next heartbeat, up to 8 s away) …
    await until(() => seen() > before, 5000);
    // … so it outlives the grace and the session checks after it, with a wide margin
    const t0 = Date.now();
    await until(() => Date.now() - t0 > GRACE_MS * 4);
    for (const n of nodes) expect(fenced(n, 4)).toBe(false);
    expect(nodes.find((n) => n.nodeId === 4)!.lifecycle?.state).toBe('running');
  }, 60_000);

  it('a new active controller fences the previous one, gone with its connections, within the grace', async () => {
    await cluster();
    await until(() => nodes.every((n) => n.lifecycle?.state === 'running'));
    await until(() => nodes.every((n) => [1, 2, 3].every((id) => !fenced(n, id))));
    const old = nodes.find((n) => n.controller?.isActive)!;
    const t0 = Date.now();
    await old.stop();
    nodes.splice(nodes.indexOf(old), 1);
    // an election (300 ms base, started early by the closed connection), then the grace
    await until(() => nodes.every((n) => fenced(n, old.nodeId)), FENCED_WITHIN_MS);
    expect(Date.now() - t0).toBeLessThan(FENCED_WITHIN_MS);
    // the live brokers got full sessions from the new controller
    const t1 = Date.now();
    await until(() => Date.now() - t1 > GRACE_MS * 4);
    for (const n of nodes) for (const other of nodes) expect(fenced(n, other.nodeId)).toBe(false);
  }, 60_000);
});
