/**
 * Three controllers (each also a broker) on real TCP ports in one process: they elect a leader,
 * register and unfence their brokers, commit a topic creation made through the RPC of a
 * non-leader (redirected), and a fourth, broker-only node joins as a learner and learns its roles.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerMetadataDelta } from '../../../core/cluster/metadata/index.js';
import { ClusterNode, decodeHello, encodeHello, RpcClient } from '../../../core/cluster/net/index.js';
import { tempDir } from '../../helpers/tmp.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until(pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fast = {
  raft: { electionTimeoutMs: 300, heartbeatIntervalMs: 50 },
  controller: { brokerHeartbeatIntervalMs: 200, brokerSessionTimeoutMs: 1500, sessionCheckIntervalMs: 100 },
};

const nodes: ClusterNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

describe('handshake', () => {
  it('round-trips and refuses garbage', () => {
    expect(decodeHello(encodeHello('rpc', 42))).toEqual({ kind: 'rpc', nodeId: 42 });
    expect(typeof decodeHello(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('string');
  });
});

describe('a 3-controller quorum over TCP', () => {
  it('elects a leader, commits a topic creation, and a learner broker joins', async () => {
    const root = tempDir('trib-net-');
    const ports = [await freePort(), await freePort(), await freePort()];
    const quorum = ports.map((port, i) => ({ id: i + 1, host: '127.0.0.1', port }));
    for (const v of quorum) {
      nodes.push(
        await ClusterNode.start({
          nodeId: v.id,
          dataDir: path.join(root, `n${v.id}`),
          quorum,
          controllerListen: { host: '127.0.0.1', port: v.port },
          broker: { host: '127.0.0.1', port: 19090 + v.id },
          ...fast,
        }),
      );
    }
    await until(() => nodes.some((n) => n.controller?.isActive));
    await until(() => nodes.every((n) => n.lifecycle?.state === 'running'));
    const leader = nodes.find((n) => n.raft.status().role === 'leader')!;
    const follower = nodes.find((n) => n !== leader)!;
    // through a non-leader's RPC port: answered NOT_CONTROLLER with a hint, the router follows it
    const res = await follower.controllers.call('createTopics', {
      topics: [{ name: 'orders', numPartitions: 3, replicationFactor: 3 }],
    });
    expect(res.topics[0]!.error).toBeNull();
    await until(() => nodes.every((n) => n.metadata.image().topicByName('orders')?.partitions.size === 3));

    // a direct RPC call to a follower controller gets NOT_CONTROLLER with the leader's id
    const direct = new RpcClient({ selfId: 99, address: quorum[follower.nodeId - 1]! });
    const err = await direct.call('createTopics', { topics: [] }).catch((e: unknown) => e);
    direct.close();
    expect(err).toMatchObject({ code: 'NOT_CONTROLLER', leaderId: leader.nodeId });

    // a broker-only node (a Raft learner) joins the running cluster and learns its roles
    const deltas: BrokerMetadataDelta[] = [];
    const learner = await ClusterNode.start({
      nodeId: 4,
      dataDir: path.join(root, 'n4'),
      quorum,
      broker: { host: '127.0.0.1', port: 19094 },
      ...fast,
    });
    nodes.push(learner);
    learner.metadata.subscribe(4, { onChange: (d) => deltas.push(d) });
    await until(() => learner.lifecycle?.state === 'running');
    const add = await learner.controllers.call('alterPartitionReassignments', {
      reassignments: [{ topic: 'orders', partition: 0, replicas: [4, 1, 2] }],
    });
    expect(add.partitions[0]!.error).toBeNull();
    await until(() =>
      deltas.some((d) => d.followers.some((p) => p.topic === 'orders' && p.partition === 0 && p.isNew)),
    );
    expect(learner.raft.status().role).toBe('learner');
  }, 60_000);

  it('fails over: the leader controller stops, another takes over and fences its broker', async () => {
    const root = tempDir('trib-net-');
    const ports = [await freePort(), await freePort(), await freePort()];
    const quorum = ports.map((port, i) => ({ id: i + 1, host: '127.0.0.1', port }));
    for (const v of quorum) {
      nodes.push(
        await ClusterNode.start({
          nodeId: v.id,
          dataDir: path.join(root, `n${v.id}`),
          quorum,
          controllerListen: { host: '127.0.0.1', port: v.port },
          broker: { host: '127.0.0.1', port: 19190 + v.id },
          ...fast,
        }),
      );
    }
    await until(() => nodes.every((n) => n.lifecycle?.state === 'running'));
    const any = nodes[0]!;
    await any.controllers.call('createTopics', {
      topics: [{ name: 't', numPartitions: 3, replicationFactor: 3 }],
    });
    const leader = nodes.find((n) => n.controller?.isActive)!;
    await leader.stop();
    nodes.splice(nodes.indexOf(leader), 1);
    const rest = nodes;
    await until(() => rest.some((n) => n.controller?.isActive), 20_000);
    await until(
      () => rest.every((n) => n.metadata.image().brokers.get(leader.nodeId)?.fenced === true),
      20_000,
    );
    for (const p of rest[0]!.metadata.image().topicByName('t')!.partitions.values()) {
      expect(p.leader).not.toBe(leader.nodeId);
      expect(p.isr).toContain(p.leader);
    }
  }, 60_000);
});
