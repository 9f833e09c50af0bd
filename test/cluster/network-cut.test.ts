/**
 * Three real `trib broker` processes with every path between them going through TCP proxies the
 * test controls (test/helpers/tcp-proxy.ts): the Raft and controller traffic (each node's
 * --controller-quorum entry is its controller proxy) and the followers' fetches (each broker
 * advertises its Kafka proxy with --advertised-listener). An idempotent acks=all producer writes
 * all along while the test cuts nodes off the others:
 *
 * 1. the partition leader, as a real partition (bytes stop both ways, sockets stay open). The
 *    others fence it and elect a new leader from the ISR; the producer carries on there. A client
 *    on the cut leader's side still reaches it: its acks=all produce must fail (the leader cannot
 *    shrink the ISR without the controller, so the high watermark cannot pass the records).
 *    After healing, the old leader truncates that un-acknowledged tail and rejoins the ISR.
 * 2. a follower, with connections reset: the leader carries on once the follower leaves the ISR.
 *
 * Then every acknowledged record is read back exactly once, and the three replicas' logs (read
 * from disk after a clean stop) are identical: no record of the cut leader's tail survives.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type KafkaClient, KafkaClientError } from '../../core/client/index.js';
import { DEFAULT_LOG_CONFIG, PartitionLog } from '../../core/log/index.js';
import { decodeBatches } from '../../core/records/index.js';
import {
  freePort,
  killNode as kill,
  until as pollUntil,
  startNode as start,
  withPortRetry,
} from '../helpers/cluster.js';
import { identifyController, identifyKafka, ProxyNetwork, type TcpProxy } from '../helpers/tcp-proxy.js';

const TOPIC = 'cut';

interface Node {
  id: number;
  dataDir: string;
  args: string[];
  kafkaProxy: TcpProxy;
  controllerProxy: TcpProxy;
  child: ChildProcess | null;
  stderr: string;
}

/**
 * SIGTERM, then SIGKILL if the process is still there after 10 s: a broker whose AlterPartition
 * was still being retried when it stopped lingers until that call's 30 s deadline, after it
 * printed "broker stopped" (its logs are closed by then, which is all this test needs).
 */
async function stop(node: Node): Promise<void> {
  const child = node.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  child.kill('SIGTERM');
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000));
  if (await Promise.race([gone, timer])) return;
  mark(
    `broker ${node.id} still running 10 s after SIGTERM${node.stderr.includes('broker stopped') ? ' (it said "broker stopped")' : ''}`,
  );
  await kill(node, 'SIGKILL');
}

const nodes: Node[] = [];
const dirs: string[] = [];
const networks: ProxyNetwork[] = [];

afterAll(async () => {
  if (process.env.TRIB_TEST_TIMELINE) {
    process.stderr.write(`${timeline.join('\n')}\n`);
    for (const n of nodes) process.stderr.write(`--- broker ${n.id}\n${n.stderr}\n`);
  }
  await Promise.all(nodes.map((n) => kill(n, 'SIGKILL')));
  for (const n of networks) await n.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Cluster {
  nodes: Node[];
  network: ProxyNetwork;
  /** The Kafka proxies, for clients. */
  bootstrap: string;
}

/** Retries on new ports when another process took a free port before a broker bound it. */
function cluster(): Promise<Cluster> {
  return withPortRetry(nodes, clusterOnce);
}

async function clusterOnce(): Promise<Cluster> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-cut-'));
  dirs.push(root);
  const network = new ProxyNetwork();
  networks.push(network);
  const ids = [1, 2, 3];
  const kafkaPorts: number[] = [];
  const controllerPorts: number[] = [];
  for (const _ of ids) {
    kafkaPorts.push(await freePort());
    controllerPorts.push(await freePort());
  }
  const kafkaProxies: TcpProxy[] = [];
  const controllerProxies: TcpProxy[] = [];
  for (const [i, id] of ids.entries()) {
    kafkaProxies.push(
      await network.add(String(id), { host: '127.0.0.1', port: kafkaPorts[i]! }, identifyKafka),
    );
    controllerProxies.push(
      await network.add(String(id), { host: '127.0.0.1', port: controllerPorts[i]! }, identifyController),
    );
  }
  // Every node dials the others' controllers through their proxies, and advertises its Kafka
  // proxy: the address followers fetch from (and clients connect to).
  const quorum = ids.map((id, i) => `${id}@${controllerProxies[i]!.address}`).join(',');
  const created = ids.map((id, i): Node => {
    const dataDir = path.join(root, `d${id}`);
    return {
      id,
      dataDir,
      kafkaProxy: kafkaProxies[i]!,
      controllerProxy: controllerProxies[i]!,
      child: null,
      stderr: '',
      // biome-ignore format: flags and their values in pairs
      args: [
        '--node-id', String(id),
        '--data-dir', dataDir,
        '--listen', `127.0.0.1:${kafkaPorts[i]}`,
        '--advertised-listener', kafkaProxies[i]!.address,
        '--controller-listen', `127.0.0.1:${controllerPorts[i]}`,
        '--controller-quorum', quorum,
        // Above the 5 s a broker's controller call waits on a silent controller before it tries
        // another (docs/cluster.md, "Network partitions"): with less, cutting the active
        // controller off gets every broker fenced by the new one.
        '--set', 'broker.session.timeout.ms=8000',
        '--set', 'broker.heartbeat.interval.ms=500',
        '--set', 'replica.lag.time.max.ms=3000',
      ],
    };
  });
  nodes.push(...created);
  await Promise.all(created.map((n) => start(n, 30_000)));
  return { nodes: created, network, bootstrap: kafkaProxies.map((p) => p.address).join(',') };
}

/** What happened when, printed when the test fails. */
const timeline: string[] = [];
const t0 = Date.now();
function mark(what: string): void {
  timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} s [${Date.now() % 100000}]: ${what}`);
}

/** Polls until f returns a value, and marks the moment in the timeline. */
async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const v = await pollUntil(what, f, timeoutMs);
  mark(what);
  return v;
}

/** Every record value of a replica's log on disk (the broker stopped), in offset order. */
function replicaValues(dataDir: string): string[] {
  const log = PartitionLog.open({
    dir: path.join(dataDir, `${TOPIC}-0`),
    topic: TOPIC,
    partition: 0,
    config: DEFAULT_LOG_CONFIG,
  });
  try {
    const values: string[] = [];
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const read = log.read(offset, 1 << 20, { minOneBatch: true });
      const buf = Buffer.concat(read.records);
      if (buf.length === 0) break;
      for (const batch of decodeBatches(buf)) {
        for (const r of batch.records) {
          if (r.offset >= offset) values.push(r.value?.toString() ?? '');
        }
        offset = batch.baseOffset + batch.lastOffsetDelta + 1;
      }
    }
    return values;
  } finally {
    log.close();
  }
}

/** Broker answers a produce may get from a leader that cannot reach its followers or the controller. */
const FENCED_PRODUCE_ERRORS = [
  'REQUEST_TIMED_OUT',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_LEADER_OR_FOLLOWER',
];

describe('three trib broker processes behind TCP proxies', () => {
  it('lose no acknowledged record and duplicate none when a leader and then a follower are cut off', async () => {
    const c = await cluster();
    const k: KafkaClient = await connect({
      'bootstrap.servers': c.bootstrap,
      'client.id': 'main',
      'request.timeout.ms': 3000,
    });
    let producing = true;
    let loop: Promise<void> = Promise.resolve();
    try {
      const admin = k.admin();
      await until(
        'create an RF=3 topic',
        async () => {
          await admin
            .createTopics([{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }])
            .catch((err) => {
              if (!/exists/i.test(String((err as Error).message))) throw err;
            });
          return true;
        },
        15_000,
      );
      const partition0 = async () => (await admin.describeTopics([TOPIC]))[0]?.partitions[0];
      const first = await until(
        'the partition has a leader and a full ISR',
        async () => {
          const p = await partition0();
          return p && p.leader > 0 && p.isr.length === 3 ? p : undefined;
        },
        15_000,
      );

      // An idempotent acks=all producer, one record at a time, all along.
      // The default delivery.timeout.ms (120 s): a batch that expires makes our idempotent
      // producer refuse every later batch of the partition (OUT_OF_ORDER_SEQUENCE_NUMBER).
      const producer = k.producer({ acks: 'all', 'linger.ms': 1, 'request.timeout.ms': 3000 });
      const acked: string[] = [];
      let seq = 0;
      loop = (async () => {
        while (producing) {
          const value = `r${seq++}`;
          try {
            await producer.send({ topic: TOPIC, partition: 0, value });
            acked.push(value);
          } catch (err) {
            // not acknowledged (delivery timeout): may or may not be in the log, but at most once
            mark(`${value} not acknowledged: ${(err as Error).message}`);
          }
        }
      })();
      const ackedAtLeast = (n: number, what: string, timeoutMs: number) =>
        until(what, async () => (acked.length >= n ? true : undefined), timeoutMs);
      await ackedAtLeast(100, 'acknowledged records before the cut', 15_000);
      // Every path between the nodes goes through the proxies: the followers fetch from the
      // leader's Kafka proxy, and each controller is dialed by the other two through its proxy.
      const leader = c.nodes.find((n) => n.id === first.leader)!;
      for (const n of c.nodes) {
        const others = c.nodes.filter((o) => o !== n).map((o) => String(o.id));
        expect([...n.controllerProxy.sourcesSeen.keys()]).toEqual(expect.arrayContaining(others));
        if (n === leader)
          expect([...n.kafkaProxy.sourcesSeen.keys()]).toEqual(expect.arrayContaining(others));
      }

      // ─── 1. Cut the leader off (blackhole), with a client on its side. ───
      c.network.isolate(String(leader.id), { mode: 'blackhole', withClients: ['client:probe'] });
      mark(`leader ${leader.id} cut off`);
      const cutAt = acked.length;
      const probeClient = await connect({
        'bootstrap.servers': leader.kafkaProxy.address,
        'client.id': 'probe',
        'request.timeout.ms': 2000,
      });
      const probeErrors: string[] = [];
      let probeAcked = 0;
      try {
        const probe = probeClient.producer({
          acks: 'all',
          'enable.idempotence': false,
          retries: 0,
          'request.timeout.ms': 2000,
          'delivery.timeout.ms': 10_000,
        });
        for (let i = 0; i < 3; i++) {
          try {
            await probe.send({ topic: TOPIC, partition: 0, value: `probe${i}` });
            probeAcked++;
          } catch (err) {
            probeErrors.push(err instanceof KafkaClientError ? err.code : String(err));
          }
        }
      } finally {
        await probeClient.close();
      }
      mark(`probe: ${probeErrors.join(', ')}`);
      // The cut leader answered (it is reachable from its side) and refused to acknowledge. The
      // first probe came before anything could tell the leader it was cut off: it appended the
      // record and waited in vain for the ISR — a tail that must be truncated after healing.
      expect({ probeAcked, probeErrors }).toMatchObject({ probeAcked: 0 });
      expect(probeErrors.length).toBe(3);
      for (const e of probeErrors) expect(FENCED_PRODUCE_ERRORS).toContain(e);
      expect(['REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND']).toContain(probeErrors[0]);

      const moved = await until(
        'the others elect a new leader from the ISR',
        async () => {
          const p = await partition0();
          return p && p.leader > 0 && p.leader !== leader.id ? p : undefined;
        },
        20_000,
      );
      expect(moved.leaderEpoch).toBeGreaterThan(first.leaderEpoch);
      expect(moved.isr).not.toContain(leader.id);
      // Slow when the producer asks the cut-off broker for metadata: every try waits out its
      // request timeout (3 s) on the silent connection.
      await ackedAtLeast(cutAt + 100, 'acknowledged records while the leader is cut off', 45_000);

      c.network.heal();
      mark('healed');
      await until(
        'the old leader rejoins the ISR',
        async () => ((await partition0())?.isr.includes(leader.id) ? true : undefined),
        20_000,
      );

      // ─── 2. Cut a follower off (connections reset). ───
      const now = await partition0();
      const follower = c.nodes.find((n) => n.id !== now!.leader)!;
      c.network.isolate(String(follower.id), { mode: 'reset' });
      mark(`follower ${follower.id} cut off`);
      const followerCutAt = acked.length;
      await until(
        'the follower leaves the ISR',
        async () => {
          const p = await partition0();
          return p && !p.isr.includes(follower.id) ? true : undefined;
        },
        20_000,
      );
      await ackedAtLeast(followerCutAt + 100, 'acknowledged records while a follower is cut off', 30_000);
      c.network.heal();
      mark('healed');
      await until(
        'the follower rejoins the ISR',
        async () => ((await partition0())?.isr.length === 3 ? true : undefined),
        20_000,
      );
      await ackedAtLeast(acked.length + 50, 'acknowledged records after healing', 15_000);
      producing = false;
      await loop;
      await producer.close();

      // Every acknowledged record, read back exactly once.
      const consumer = k.consumer({ 'auto.offset.reset': 'earliest' });
      consumer.assign([{ topic: TOPIC, partition: 0 }]);
      const read: string[] = [];
      const readDeadline = Date.now() + 15_000;
      const ackedSet = new Set(acked);
      let seenAcked = 0;
      while (Date.now() < readDeadline && seenAcked < ackedSet.size) {
        for (const r of await consumer.poll({ timeoutMs: 200 })) {
          const v = r.value?.toString() ?? '';
          read.push(v);
          if (ackedSet.has(v)) seenAcked++;
        }
      }
      await consumer.close();
      const counts = new Map<string, number>();
      for (const v of read) counts.set(v, (counts.get(v) ?? 0) + 1);
      expect(acked.filter((v) => !counts.has(v))).toEqual([]);
      expect([...counts].filter(([, n]) => n > 1).map(([v]) => v)).toEqual([]);
      expect(read.filter((v) => v.startsWith('probe'))).toEqual([]);
      await until(
        'a full ISR before stopping',
        async () => ((await partition0())?.isr.length === 3 ? true : undefined),
        10_000,
      );
    } catch (err) {
      // What the brokers said, to tell why.
      process.stderr.write(`${timeline.join('\n')}\n`);
      for (const n of c.nodes) process.stderr.write(`--- broker ${n.id}\n${n.stderr.slice(-4000)}\n`);
      throw err;
    } finally {
      producing = false;
      c.network.heal();
      await Promise.race([loop, new Promise((r) => setTimeout(r, 25_000))]);
      await k.close();
    }

    // The replicas on disk, after a clean stop: identical, the cut leader's tail truncated.
    mark('stopping');
    await Promise.all(c.nodes.map((n) => stop(n)));
    mark('stopped');
    const replicas = c.nodes.map((n) => replicaValues(n.dataDir));
    for (const r of replicas) {
      expect(r.filter((v) => v.startsWith('probe'))).toEqual([]);
      expect(new Set(r).size).toBe(r.length);
    }
    expect(replicas[1]).toEqual(replicas[0]);
    expect(replicas[2]).toEqual(replicas[0]);
  }, 120_000);
});
