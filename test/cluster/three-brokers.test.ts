/**
 * Three real `trib broker` processes forming one replicated cluster (docs/cluster.md): an RF=3
 * topic created through our client, an idempotent acks=all producer, the partition leader
 * SIGKILLed while it writes, a new leader elected, the killed broker restarted, and every
 * acknowledged record read back exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type KafkaClient } from '../../core/client/index.js';
import { NetworkConnection } from '../../core/client/network/connection.js';
import { ApiKey } from '../../core/protocol/api-keys.js';
import {
  killNode as kill,
  startNode as start,
  threeNodeSpecs,
  until,
  withPortRetry,
} from '../helpers/cluster.js';

interface Node {
  id: number;
  args: string[];
  child: ChildProcess | null;
  stderr: string;
}

const nodes: Node[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => kill(n, 'SIGKILL')));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Free ports are found by binding port 0 and closing it, so another test running at the same time
 * may take one before a broker binds it: a start that fails with EADDRINUSE is retried on new ports.
 */
function cluster(): Promise<{ bootstrap: string; nodes: Node[] }> {
  return withPortRetry(nodes, clusterOnce);
}

async function clusterOnce(): Promise<{ bootstrap: string; nodes: Node[] }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-cluster-'));
  dirs.push(root);
  const specs = await threeNodeSpecs(root, [
    // failover in ~2.5 s instead of ~9.5 s (docs/cluster.md, "What the timeouts add up to")
    '--set',
    'broker.session.timeout.ms=2000',
    '--set',
    'broker.heartbeat.interval.ms=500',
  ]);
  const created = specs.map(({ id, args }): Node => ({ id, args, child: null, stderr: '' }));
  nodes.push(...created);
  await Promise.all(created.map((n) => start(n)));
  return { bootstrap: specs.map((s) => `127.0.0.1:${s.port}`).join(','), nodes: created };
}

describe('three trib broker processes', () => {
  it('replicate an RF=3 topic and lose no acknowledged record when the leader is SIGKILLed', async () => {
    const c = await cluster();
    const k: KafkaClient = await connect({ 'bootstrap.servers': c.bootstrap });
    try {
      const admin = k.admin();
      await until(
        'create an RF=3 topic',
        async () => {
          await admin
            .createTopics([{ topic: 'orders', numPartitions: 1, replicationFactor: 3 }])
            .catch((err) => {
              if (!/exists/i.test(String((err as Error).message))) throw err;
            });
          return true;
        },
        10_000,
      );
      const described = await until(
        'the partition has a leader and a full ISR',
        async () => {
          const [t] = await admin.describeTopics(['orders']);
          const p = t?.partitions[0];
          return p && p.leader > 0 && p.isr.length === 3 ? p : undefined;
        },
        10_000,
      );
      expect([...described.replicas].sort()).toEqual([1, 2, 3]);

      // One cluster, one id: every broker reports the id the controller wrote to the metadata
      // (each data directory has its own in meta.properties).
      const ids: string[] = [];
      for (const n of c.nodes) {
        const port = Number(n.args[n.args.indexOf('--listen') + 1]!.split(':')[1]);
        const conn = await NetworkConnection.connect({
          host: '127.0.0.1',
          port,
          clientId: 'cluster-id-check',
          connectTimeoutMs: 5000,
          requestTimeoutMs: 5000,
        });
        try {
          const [metadata, cluster] = await Promise.all([
            conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false }),
            conn.request(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false }),
          ]);
          expect(cluster.clusterId).toBe(metadata.clusterId);
          ids.push(cluster.clusterId);
        } finally {
          conn.close();
        }
      }
      expect(new Set(ids).size).toBe(1);
      expect(ids[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);

      const producer = k.producer({ acks: 'all', 'linger.ms': 1 });
      const acked: string[] = [];
      let seq = 0;
      const produce = async (): Promise<void> => {
        const value = `r${seq++}`;
        try {
          await producer.send({ topic: 'orders', partition: 0, value });
          acked.push(value);
        } catch {
          // not acknowledged: may or may not be in the log, but at most once
        }
      };
      while (acked.length < 200) await produce();

      const leader = c.nodes.find((n) => n.id === described.leader)!;
      await kill(leader, 'SIGKILL');
      const killedAt = acked.length;

      const after = await until(
        'a new leader is elected',
        async () => {
          const [t] = await admin.describeTopics(['orders']);
          const p = t?.partitions[0];
          return p && p.leader > 0 && p.leader !== leader.id ? p : undefined;
        },
        15_000,
      );
      expect(after.leaderEpoch).toBeGreaterThan(described.leaderEpoch);
      const deadline = Date.now() + 20_000;
      while (acked.length < killedAt + 200 && Date.now() < deadline) await produce();
      expect(acked.length).toBeGreaterThanOrEqual(killedAt + 200);

      await start(leader);
      await until(
        'the restarted broker rejoins the ISR',
        async () => {
          const [t] = await admin.describeTopics(['orders']);
          return t?.partitions[0]?.isr.includes(leader.id) ? true : undefined;
        },
        15_000,
      );
      await producer.close();

      const consumer = k.consumer({ 'auto.offset.reset': 'earliest' });
      consumer.assign([{ topic: 'orders', partition: 0 }]);
      const seen = new Map<string, number>();
      const readDeadline = Date.now() + 10_000;
      while (Date.now() < readDeadline && !acked.every((v) => seen.has(v))) {
        for (const r of await consumer.poll({ timeoutMs: 200 })) {
          const v = r.value?.toString() ?? '';
          seen.set(v, (seen.get(v) ?? 0) + 1);
        }
      }
      await consumer.close();
      const missing = acked.filter((v) => !seen.has(v));
      const duplicated = [...seen].filter(([, n]) => n > 1).map(([v]) => v);
      expect(missing).toEqual([]);
      expect(duplicated).toEqual([]);
    } finally {
      await k.close();
      // One clean stop (controlled shutdown needs a controller majority, so not all at once).
      const first = c.nodes.find((n) => n.child?.exitCode === null && n.child.signalCode === null);
      if (first) {
        await kill(first, 'SIGTERM');
        expect(first.child!.exitCode).toBe(0);
        expect(first.stderr).toContain('broker stopped');
      }
      await Promise.all(c.nodes.map((n) => kill(n, 'SIGKILL')));
    }
  }, 60_000);
});
