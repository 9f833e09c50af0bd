/**
 * Producer ids in a cluster of three `trib broker` processes (docs/cluster.md, "Producer ids"):
 * every broker hands out ids from blocks the controller committed, so idempotent producers that
 * initialised on different brokers never share an id — and none of their records is taken for
 * another producer's duplicate.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../core/client/index.js';
import { ApiKey } from '../../core/protocol/api-keys.js';
import { ErrorCode } from '../../core/protocol/errors.js';
import { decodeResponseFrame, encodeRequestFrame } from '../../core/protocol/frames.js';
import {
  killNode as kill,
  startNode as start,
  threeNodeSpecs,
  until,
  withPortRetry,
} from '../helpers/cluster.js';

interface Node {
  id: number;
  port: number;
  args: string[];
  child: ChildProcess | null;
  stderr: string;
}

const nodes: Node[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => kill(n)));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Three combined nodes; a start that fails with EADDRINUSE (a port taken meanwhile) is retried. */
function cluster(): Promise<Node[]> {
  return withPortRetry(nodes, clusterOnce);
}

async function clusterOnce(): Promise<Node[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-pids-'));
  dirs.push(root);
  const specs = await threeNodeSpecs(root);
  const created = specs.map(({ id, port, args }): Node => ({ id, port, args, child: null, stderr: '' }));
  nodes.push(...created);
  await Promise.all(created.map((n) => start(n, 30_000)));
  return created;
}

/** One InitProducerId (v0, idempotent: no transactional id) sent to the broker at `port`. */
async function initProducerId(port: number): Promise<{ errorCode: number; producerId: number }> {
  const socket = net.connect(port, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const frame = encodeRequestFrame(
      { apiKey: ApiKey.InitProducerId, apiVersion: 0, correlationId: 1, clientId: 'pid-test' },
      { transactionalId: null, transactionTimeoutMs: 60_000 },
    );
    const response = await new Promise<Buffer>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0))
          resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('connection closed')));
      socket.write(Buffer.concat(frame));
    });
    const { body } = decodeResponseFrame(ApiKey.InitProducerId, 0, response);
    return { errorCode: body.errorCode, producerId: Number(body.producerId) };
  } finally {
    socket.destroy();
  }
}

describe('producer ids in a three-broker cluster', () => {
  it('never hands the same producer id out on two brokers, so no producer loses records', async () => {
    const c = await cluster();
    const bootstrap = c.map((n) => `127.0.0.1:${n.port}`).join(',');
    const k = await connect({ 'bootstrap.servers': bootstrap });
    try {
      const admin = k.admin();
      await until(
        'create an RF=3 topic',
        async () => {
          await admin
            .createTopics([{ topic: 'pids', numPartitions: 1, replicationFactor: 3 }])
            .catch((err) => {
              if (!/exists/i.test(String((err as Error).message))) throw err;
            });
          return true;
        },
        15_000,
      );
      await until(
        'the partition has a leader and a full ISR',
        async () => {
          const [t] = await admin.describeTopics(['pids']);
          const p = t?.partitions[0];
          return p && p.leader > 0 && p.isr.length === 3 ? p : undefined;
        },
        15_000,
      );

      // InitProducerId on each broker: ids from the controller's blocks, all distinct
      const ids: number[] = [];
      for (let round = 0; round < 2; round++) {
        for (const n of c) {
          const r = await until(
            `a producer id from broker ${n.id}`,
            async () => {
              const res = await initProducerId(n.port);
              if (res.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return undefined; // no block yet
              return res;
            },
            15_000,
          );
          expect(r.errorCode).toBe(0);
          ids.push(r.producerId);
        }
      }
      expect(new Set(ids).size).toBe(ids.length);

      // three idempotent producers, each bootstrapped from (and initialised on) another broker,
      // writing in lockstep to the same partition: batch i of each carries sequence i
      const producers = c.map((n) =>
        new Kafka({
          clientId: `pid-${n.id}`,
          brokers: [`127.0.0.1:${n.port}`],
          logLevel: logLevel.NOTHING,
          retry: { retries: 10, initialRetryTime: 100 },
        }).producer({ idempotent: true, maxInFlightRequests: 1 }),
      );
      for (const p of producers) await p.connect();
      const sent: string[] = [];
      try {
        for (let batch = 0; batch < 20; batch++) {
          for (const [i, p] of producers.entries()) {
            const values = [0, 1].map((j) => `p${i}-b${batch}-r${j}`);
            await p.send({
              topic: 'pids',
              acks: -1,
              messages: values.map((value) => ({ partition: 0, value })),
            });
            sent.push(...values);
          }
        }
      } finally {
        for (const p of producers) await p.disconnect();
      }

      const consumer = k.consumer({ 'auto.offset.reset': 'earliest' });
      consumer.assign([{ topic: 'pids', partition: 0 }]);
      const seen = new Map<string, number>();
      const readDeadline = Date.now() + 15_000;
      while (Date.now() < readDeadline && !sent.every((v) => seen.has(v))) {
        for (const r of await consumer.poll({ timeoutMs: 200 })) {
          const v = r.value?.toString() ?? '';
          seen.set(v, (seen.get(v) ?? 0) + 1);
        }
      }
      await consumer.close();
      expect(sent.filter((v) => !seen.has(v))).toEqual([]);
      expect([...seen].filter(([, n]) => n > 1).map(([v]) => v)).toEqual([]);
      expect(seen.size).toBe(sent.length);
    } finally {
      await k.close();
    }
  }, 120_000);
});
