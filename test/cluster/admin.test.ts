/**
 * The admin APIs on a cluster of three real `trib broker` processes (docs/cluster.md, "Admin
 * requests"), through our Admin client and kafkajs's: every change goes through the controller,
 * is answered once committed, and reaches every broker — topic configs (in each broker's metadata
 * and local logs), new partitions (writable and readable), deleted topics (gone from every broker
 * and disk, and created again empty), preferred leader election after the leader moved, and a
 * partition reassigned to other brokers while an acks=all producer writes, every acknowledged
 * record read back once.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigResourceTypes, type Admin as KafkajsAdmin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KafkaClient, KafkaClientError } from '../../core/client/index.js';
import {
  until as pollUntil,
  startNode as start,
  killNode as stop,
  threeNodeSpecs,
} from '../helpers/cluster.js';
import { kafkajs } from '../interop/tools.js';

interface Node {
  id: number;
  port: number;
  dataDir: string;
  args: string[];
  child: ChildProcess | null;
  stderr: string;
}

const until = <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> =>
  pollUntil(what, f, timeoutMs);

const nodes: Node[] = [];
const roots: string[] = [];
let bootstrap = '';
/** One client per broker, bootstrapped from it alone: its admin requests go to that broker. */
const clients: KafkaClient[] = [];
let kjs: KafkajsAdmin;

async function clusterOnce(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-admin-'));
  roots.push(root);
  const specs = await threeNodeSpecs(root, [
    '--set',
    'broker.session.timeout.ms=2000',
    '--set',
    'broker.heartbeat.interval.ms=500',
  ]);
  const created = specs.map((spec): Node => ({ ...spec, child: null, stderr: '' }));
  nodes.push(...created);
  await Promise.all(created.map((n) => start(n)));
  bootstrap = created.map((n) => `127.0.0.1:${n.port}`).join(',');
}

/** Ports found by binding port 0 may be taken by a parallel test before a broker binds them: retry. */
beforeAll(async () => {
  for (let attempt = 1; ; attempt++) {
    try {
      await clusterOnce();
      break;
    } catch (err) {
      for (const n of nodes.splice(0)) await stop(n, 'SIGKILL');
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
  for (const n of nodes) clients.push(await connect({ 'bootstrap.servers': `127.0.0.1:${n.port}` }));
  // each broker has seen the others join (a broker says it runs once its own registration is live)
  await until('every broker sees three live brokers', async () => {
    for (const c of clients) if ((await c.admin().describeCluster()).brokers.length !== 3) return undefined;
    return true;
  });
  kjs = kafkajs(bootstrap).admin();
  await kjs.connect();
}, 90_000);

afterAll(async () => {
  await kjs?.disconnect().catch(() => {});
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await Promise.all(nodes.map((n) => stop(n, 'SIGKILL')));
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

const admin = (brokerId: number) => clients[brokerId - 1]!.admin();

/** The topic as a broker's local log manager has it on disk (topics.json), or undefined. */
function localTopic(
  node: Node,
  topic: string,
): { partitions: number; configs: Record<string, string> } | undefined {
  const file = path.join(node.dataDir, 'topics.json');
  if (!fs.existsSync(file)) return undefined;
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    topics: { name: string; partitions: number; configs: Record<string, string> }[];
  };
  return parsed.topics.find((t) => t.name === topic);
}

async function topicConfig(brokerId: number, topic: string, key: string) {
  const [d] = await admin(brokerId).describeConfigs([{ type: 'topic', name: topic }]);
  return d!.entries.find((e) => e.name === key);
}

async function createRf3(topic: string, partitions: number): Promise<void> {
  await admin(1).createTopics([{ topic, numPartitions: partitions, replicationFactor: 3 }]);
  await until(`${topic}: every partition led with a full ISR on every broker`, async () => {
    for (const id of [1, 2, 3]) {
      const [t] = await admin(id).describeTopics([topic]);
      if (t?.partitions.length !== partitions) return undefined;
      if (!t.partitions.every((p) => p.leader > 0 && p.replicas.length === 3 && p.isr.length === 3))
        return undefined;
    }
    return true;
  });
}

/** Reads a partition from the start, through broker `via`'s client, until `count` values came (and a bit more). */
async function readAll(topic: string, partition: number, count: number, via = 1): Promise<string[]> {
  const consumer = clients[via - 1]!.consumer({ 'auto.offset.reset': 'earliest' });
  consumer.assign([{ topic, partition }]);
  const values: string[] = [];
  const deadline = Date.now() + 15_000;
  try {
    while (values.length < count && Date.now() < deadline) {
      for (const r of await consumer.poll({ timeoutMs: 300 })) values.push(r.value?.toString() ?? '');
    }
    // anything beyond the expected count would show up now
    for (const r of await consumer.poll({ timeoutMs: 300 })) values.push(r.value?.toString() ?? '');
  } finally {
    await consumer.close();
  }
  return values;
}

describe('admin requests on a three-broker cluster', () => {
  it('alters topic configs through the controller: every broker describes them and its local logs use them', async () => {
    await createRf3('conf', 2);
    // incremental (our client): answered once committed, so the broker that took it describes it at once
    await admin(2).alterConfigs({ type: 'topic', name: 'conf' }, [
      { name: 'retention.ms', value: '3600000' },
      { name: 'min.insync.replicas', value: '2' },
      { name: 'cleanup.policy', value: 'compact' },
    ]);
    await admin(2).alterConfigs({ type: 'topic', name: 'conf' }, [
      { name: 'cleanup.policy', value: 'delete', op: 'append' },
    ]);
    expect(await topicConfig(2, 'conf', 'retention.ms')).toMatchObject({ value: '3600000', source: 'topic' });
    for (const n of nodes) {
      await until(`broker ${n.id} describes the new configs`, async () => {
        const e = await topicConfig(n.id, 'conf', 'min.insync.replicas');
        const policy = await topicConfig(n.id, 'conf', 'cleanup.policy');
        return e?.value === '2' && policy?.value === 'compact,delete' ? true : undefined;
      });
      await until(`broker ${n.id}'s local logs use them`, async () => {
        const local = localTopic(n, 'conf');
        return local?.configs['retention.ms'] === '3600000' && local.configs['min.insync.replicas'] === '2'
          ? true
          : undefined;
      });
    }

    // kafkajs's AlterConfigs replaces every override: min.insync.replicas goes back to the default
    await kjs.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'conf',
          configEntries: [{ name: 'retention.ms', value: '7200000' }],
        },
      ],
    });
    const described = await kjs.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'conf', configNames: ['retention.ms'] }],
    });
    expect(described.resources[0]!.configEntries[0]).toMatchObject({
      configName: 'retention.ms',
      configValue: '7200000',
    });
    for (const n of nodes) {
      await until(`broker ${n.id} dropped the other overrides`, async () => {
        const local = localTopic(n, 'conf');
        const e = await topicConfig(n.id, 'conf', 'min.insync.replicas');
        return e?.value === '1' &&
          e.source === 'default' &&
          local !== undefined &&
          JSON.stringify(local.configs) === JSON.stringify({ 'retention.ms': '7200000' })
          ? true
          : undefined;
      });
    }

    // refusals name what is wrong
    await expect(
      admin(3).alterConfigs({ type: 'topic', name: 'conf' }, [{ name: 'retention.msx', value: '1' }]),
    ).rejects.toThrow(/retention\.msx/);
    await expect(
      admin(3).alterConfigs({ type: 'topic', name: 'conf' }, [{ name: 'retention.ms', value: 'soon' }]),
    ).rejects.toThrow(/retention\.ms/);
    const err = await admin(3)
      .alterConfigs({ type: 'topic', name: 'no-such-topic' }, [{ name: 'retention.ms', value: '1' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  }, 60_000);

  it('adds partitions through the controller: the new ones are replicated, writable and readable', async () => {
    await createRf3('grow', 1);
    await admin(3).createPartitions([{ topic: 'grow', count: 3 }]);
    // committed: the broker that took the request has the new partitions in its metadata
    const [t] = await admin(3).describeTopics(['grow']);
    expect(t!.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    await kjs.createPartitions({ topicPartitions: [{ topic: 'grow', count: 4 }] });
    await until('every broker sees 4 led partitions with full ISRs', async () => {
      for (const id of [1, 2, 3]) {
        const [d] = await admin(id).describeTopics(['grow']);
        if (d?.partitions.length !== 4 || !d.partitions.every((p) => p.leader > 0 && p.isr.length === 3))
          return undefined;
      }
      return true;
    });
    for (const n of nodes) {
      await until(`broker ${n.id} has local logs of the 4 partitions`, async () =>
        (localTopic(n, 'grow')?.partitions ?? 0) >= 4 ? true : undefined,
      );
    }
    const producer = clients[1]!.producer({ acks: 'all', 'linger.ms': 1 });
    for (let p = 0; p < 4; p++)
      for (let i = 0; i < 10; i++) await producer.send({ topic: 'grow', partition: p, value: `p${p}-${i}` });
    await producer.close();
    for (let p = 0; p < 4; p++) {
      expect(await readAll('grow', p, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `p${p}-${i}`));
    }
    await expect(admin(1).createPartitions([{ topic: 'grow', count: 2 }])).rejects.toThrow(
      /has 4 partitions/,
    );
  }, 60_000);

  it('deletes a topic from every broker and its disk; the name can be used again', async () => {
    await createRf3('doomed', 1);
    const producer = clients[0]!.producer({ acks: 'all', 'linger.ms': 1 });
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'doomed', partition: 0, value: `old-${i}` });
    await admin(1).deleteTopics(['doomed']);
    // committed: the broker that took it knows at once
    await expect(admin(1).describeTopics(['doomed'])).rejects.toThrow(/does not exist|UNKNOWN_TOPIC/);
    for (const n of nodes) {
      await until(`broker ${n.id} forgot the topic and removed its replica`, async () => {
        const listed = await admin(n.id).listTopics();
        const dirs = fs.readdirSync(n.dataDir);
        return !listed.includes('doomed') &&
          localTopic(n, 'doomed') === undefined &&
          !dirs.includes('doomed-0')
          ? true
          : undefined;
      });
    }

    // created again: empty, replicated, and nothing of the old topic comes back
    await createRf3('doomed', 1);
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'doomed', partition: 0, value: `new-${i}` });
    expect(await readAll('doomed', 0, 5)).toEqual(['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);

    // and once more through kafkajs
    await kjs.deleteTopics({ topics: ['doomed'] });
    await until('kafkajs: the topic is gone everywhere', async () => {
      for (const id of [1, 2, 3]) if ((await admin(id).listTopics()).includes('doomed')) return undefined;
      return true;
    });
    expect(
      await kjs.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1, replicationFactor: 3 }] }),
    ).toBe(true);
    await until('the recreated topic has a leader', async () => {
      const [t] = await admin(1).describeTopics(['doomed']);
      return t?.partitions[0]?.leader !== undefined && t.partitions[0].leader > 0 ? true : undefined;
    });
    await producer.send({ topic: 'doomed', partition: 0, value: 'newest' });
    await producer.close();
    expect(await readAll('doomed', 0, 1)).toEqual(['newest']);

    const err = await admin(2)
      .deleteTopics(['never-was'])
      .catch((e: unknown) => e);
    expect((err as KafkaClientError).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  }, 90_000);

  it('reassigns a partition to other brokers while an acks=all producer writes, losing nothing', async () => {
    await kjs.createTopics({
      topics: [{ topic: 'moving', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }],
    });
    await until('moving-0 led by broker 1 with ISR [1,2]', async () => {
      const [t] = await admin(1).describeTopics(['moving']);
      const p = t?.partitions[0];
      return p && p.leader === 1 && p.isr.length === 2 ? true : undefined;
    });
    const producer = clients[2]!.producer({ acks: 'all', 'linger.ms': 1 });
    const acked: string[] = [];
    let seq = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const value = `m${seq++}`;
        try {
          await producer.send({ topic: 'moving', partition: 0, value });
          acked.push(value);
        } catch {
          // not acknowledged: may or may not be in the log, but at most once
        }
      }
    })();
    try {
      await until('some records written', async () => (acked.length >= 100 ? true : undefined));
      // off broker 1 (the leader) onto 3; 2 stays
      await admin(2).alterPartitionReassignments([{ topic: 'moving', partition: 0, replicas: [3, 2] }]);
      const done = await until(
        'the reassignment completes',
        async () => {
          const ongoing = await admin(1).listPartitionReassignments();
          const [t] = await admin(1).describeTopics(['moving']);
          const p = t?.partitions[0];
          return ongoing.length === 0 && p && p.replicas.join() === '3,2' && p.isr.length === 2
            ? p
            : undefined;
        },
        30_000,
      );
      expect(done.leader === 3 || done.leader === 2).toBe(true);
      const before = acked.length;
      await until('the producer goes on writing to the new leader', async () =>
        acked.length >= before + 100 ? true : undefined,
      );
      await until("broker 1's replica is removed from its disk", async () =>
        localTopic(nodes[0]!, 'moving') === undefined ? true : undefined,
      );

      // and back with kafkajs, still writing
      await kjs.alterPartitionReassignments({
        topics: [{ topic: 'moving', partitionAssignment: [{ partition: 0, replicas: [1, 2] }] }],
      });
      await until(
        'kafkajs: the partition is back on 1 and 2',
        async () => {
          const listed = await kjs.listPartitionReassignments({});
          const [t] = await admin(3).describeTopics(['moving']);
          const p = t?.partitions[0];
          return listed.topics.length === 0 && p?.replicas.join() === '1,2' && p.isr.length === 2
            ? true
            : undefined;
        },
        30_000,
      );
      const again = acked.length;
      await until('the producer still writes', async () => (acked.length >= again + 50 ? true : undefined));
    } finally {
      writing = false;
      await writer;
      await producer.close();
    }
    const seen = await readAll('moving', 0, acked.length);
    const counts = new Map<string, number>();
    for (const v of seen) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect(acked.filter((v) => !counts.has(v))).toEqual([]);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
  }, 120_000);

  it('elects the preferred leader again after the leader moved away', async () => {
    await createRf3('pref', 1);
    const [t] = await admin(1).describeTopics(['pref']);
    const preferred = t!.partitions[0]!.replicas[0]!;
    expect(t!.partitions[0]!.leader).toBe(preferred);
    // nothing to do while the preferred replica leads
    expect(await admin(1).electLeaders('preferred', [{ topic: 'pref', partition: 0 }])).toEqual([]);

    // every in-sync replica must hold an acks=all write from now on
    const other = nodes.find((n) => n.id !== preferred)!;
    await admin(other.id).alterConfigs({ type: 'topic', name: 'pref' }, [
      { name: 'min.insync.replicas', value: '3' },
    ]);

    // a controlled shutdown moves the leadership away; back, the broker only follows
    const node = nodes.find((n) => n.id === preferred)!;
    await stop(node, 'SIGTERM');
    await until('another broker leads, with the other two in the ISR', async () => {
      const [d] = await admin(other.id).describeTopics(['pref']);
      const p = d?.partitions[0];
      return p && p.leader > 0 && p.leader !== preferred && p.isr.length === 2 ? true : undefined;
    });
    // the new leader's local log has the topic's min.insync.replicas: acks=all is refused, acks=1 is not
    const strict = clients[other.id - 1]!.producer({
      acks: 'all',
      'linger.ms': 1,
      'request.timeout.ms': 1000,
      'delivery.timeout.ms': 2500,
    });
    const refused = await strict
      .send({ topic: 'pref', partition: 0, value: 'refused' })
      .catch((e: unknown) => e);
    await strict.close().catch(() => {});
    expect(String((refused as Error)?.message ?? refused)).toMatch(/NOT_ENOUGH_REPLICAS|in-sync/i);
    const loose = clients[other.id - 1]!.producer({ acks: 1, 'linger.ms': 1 });
    await loose.send({ topic: 'pref', partition: 0, value: 'acks-1' });
    await loose.close();
    await start(node);
    await until(
      'the restarted broker is back in the ISR, not leading',
      async () => {
        const [d] = await admin(other.id).describeTopics(['pref']);
        const p = d?.partitions[0];
        return p?.isr.includes(preferred) && p.leader !== preferred ? true : undefined;
      },
      20_000,
    );

    const elected = await admin(other.id).electLeaders('preferred', [{ topic: 'pref', partition: 0 }]);
    expect(elected).toEqual([{ topic: 'pref', partition: 0 }]);
    // committed before the answer: the broker that took it already reports the preferred leader
    const [after] = await admin(other.id).describeTopics(['pref']);
    expect(after!.partitions[0]!.leader).toBe(preferred);
    const producer = clients[0]!.producer({ acks: 'all', 'linger.ms': 1 });
    await producer.send({ topic: 'pref', partition: 0, value: 'after-election' });
    await producer.close();
    expect(await readAll('pref', 0, 2)).toEqual(['acks-1', 'after-election']);
  }, 90_000);

  it('elects an unclean leader on demand when every in-sync replica is gone', async () => {
    await kjs.createTopics({
      topics: [{ topic: 'lonely', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }],
    });
    const describe = async (via: number) => (await admin(via).describeTopics(['lonely']))[0]?.partitions[0];
    await until('lonely-0 led by 1 with ISR [1,2]', async () => {
      const p = await describe(3);
      return p && p.leader === 1 && p.isr.length === 2 ? true : undefined;
    });
    const producer = clients[2]!.producer({ acks: 'all', 'linger.ms': 1 });
    await producer.send({ topic: 'lonely', partition: 0, value: 'both' });
    // the follower dies and leaves the ISR, then the leader dies: the ISR is [1], and 1 is gone
    const [n1, n2] = [nodes[0]!, nodes[1]!];
    await stop(n2, 'SIGKILL');
    await until('broker 2 left the ISR', async () => {
      const p = await describe(3);
      return p && p.isr.join() === '1' ? true : undefined;
    });
    await producer.send({ topic: 'lonely', partition: 0, value: 'only-on-1' });
    await producer.close();
    await stop(n1, 'SIGKILL');
    await start(n2, 30_000); // with 2 and 3 the controllers have a majority again
    await until(
      'the partition has no leader (its only in-sync replica is down)',
      async () => {
        const p = await describe(3);
        return p && p.leader === -1 ? true : undefined;
      },
      20_000,
    );
    // a preferred election cannot help; an unclean one elects the live out-of-sync replica
    await expect(admin(3).electLeaders('preferred', [{ topic: 'lonely', partition: 0 }])).rejects.toThrow(
      /PREFERRED_LEADER_NOT_AVAILABLE|not live/,
    );
    expect(await admin(3).electLeaders('unclean', [{ topic: 'lonely', partition: 0 }])).toEqual([
      { topic: 'lonely', partition: 0 },
    ]);
    const p = await describe(3);
    expect(p).toMatchObject({ leader: 2, isr: [2] });
    // what only broker 1 had is lost, as an unclean election allows; the rest is there
    expect(await readAll('lonely', 0, 1, 3)).toEqual(['both']);
    await start(n1, 30_000);
  }, 120_000);
});
