/**
 * How long a SIGKILLed partition leader keeps acks=all producers waiting, with the default
 * timeouts (broker.session.timeout.ms 9000, broker.heartbeat.interval.ms 2000): three real
 * `trib broker` processes, each also a controller; the victim is the active controller when it
 * leads a partition (it usually leads one of the three), the harder case. The killed process's kernel closes its
 * sockets at once, so the active controller fences it after broker.session.reconnect.grace.ms
 * (1000) instead of the session timeout; when the victim was the active controller itself, its
 * followers campaign as soon as its connections close and the new controller gives it only the
 * grace (docs/cluster.md, "What the timeouts add up to").
 *
 * The goal is a p99 under 3 s; on an idle machine this takes ≈ 1.5–2 s. The bound asserted is
 * 6 s: a loaded CI machine (load 10 on 2 cores) stretches every step, and 6 s is still well
 * under the 9 s session timeout, which alone bounded failover before (≈ 9.5–11 s).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type KafkaClient } from '../../core/client/index.js';
import {
  killNode as kill,
  until as pollUntil,
  startNode as start,
  threeNodeSpecs,
} from '../helpers/cluster.js';

const FAILOVER_BOUND_MS = 6000;

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

const until = <T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> =>
  pollUntil(what, f, timeoutMs, 100);

/** Three nodes with the default timeouts (no --set of any of them). */
async function cluster(): Promise<{ bootstrap: string; nodes: Node[] }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-failover-'));
  dirs.push(root);
  const specs = await threeNodeSpecs(root);
  const created = specs.map(({ id, args }): Node => ({ id, args, child: null, stderr: '' }));
  nodes.push(...created);
  await Promise.all(created.map((n) => start(n, 30_000)));
  const bootstrap = specs.map((s) => `127.0.0.1:${s.port}`).join(',');
  return { bootstrap, nodes: created };
}

describe('failover with the default timeouts', () => {
  it('an acks=all produce succeeds on a SIGKILLed leader’s partition well within the session timeout', async () => {
    const c = await cluster();
    const k: KafkaClient = await connect({ 'bootstrap.servers': c.bootstrap });
    try {
      const admin = k.admin();
      await until(
        'create an RF=3 topic',
        async () => {
          await admin.createTopics([{ topic: 'fo', numPartitions: 3, replicationFactor: 3 }]).catch((err) => {
            if (!/exists/i.test(String((err as Error).message))) throw err;
          });
          return true;
        },
        15_000,
      );
      const partitions = await until(
        'every partition has a leader and a full ISR',
        async () => {
          const [t] = await admin.describeTopics(['fo']);
          const ps = t?.partitions ?? [];
          return ps.length === 3 && ps.every((p) => p.leader > 0 && p.isr.length === 3) ? ps : undefined;
        },
        15_000,
      );
      // the harder case: the victim is the active controller too (a controller election first)
      const active = (n: Node): boolean => {
        const m = [...n.stderr.matchAll(new RegExp(`controller ${n.id} (active|inactive)`, 'g'))].pop();
        return m?.[1] === 'active';
      };
      const controller = c.nodes.find(active);
      const before =
        partitions.find((p) => controller !== undefined && p.leader === controller.id) ?? partitions[0]!;
      const partition = before.partition;
      const producer = k.producer({ acks: 'all', 'linger.ms': 0 });
      for (let i = 0; i < 20; i++) await producer.send({ topic: 'fo', partition, value: `warm-${i}` });

      const victim = c.nodes.find((n) => n.id === before.leader)!;
      const wasController = victim === controller;
      const killedAt = Date.now();
      await kill(victim, 'SIGKILL');
      // produce until one is acknowledged (the client retries through leader changes itself)
      const tookMs = await until(
        'an acks=all produce after the kill',
        async () => {
          await producer.send({ topic: 'fo', partition, value: 'after-kill' });
          return Date.now() - killedAt;
        },
        20_000,
      );
      const [t] = await admin.describeTopics(['fo']);
      const after = t!.partitions.find((p) => p.partition === partition)!;
      expect(after.leader).not.toBe(victim.id);
      expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
      console.log(
        `failover: ${tookMs} ms from SIGKILL of broker ${victim.id} (${wasController ? '' : 'not '}the active controller) to an acknowledged produce`,
      );
      expect(tookMs).toBeLessThan(FAILOVER_BOUND_MS);
      await producer.close();
    } finally {
      await k.close();
      await Promise.all(c.nodes.map((n) => kill(n, 'SIGKILL')));
    }
  }, 120_000);
});
