/**
 * ClusterLogSync: a cluster broker's local logs follow the committed topic metadata — configs
 * applied, deleted and recreated topics dropped, replicas moved away removed, logs of another
 * topic id set aside and never served — but a topic merely missing from the metadata (wiped
 * controllers, wrong quorum) keeps its data. With a real Broker over a RaftClusterView of a
 * StaticMetadata (the metadata log's image, changed by the test).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Broker } from '../../../core/broker/broker.js';
import { RaftClusterView } from '../../../core/broker/raft-cluster-view.js';
import type { ControllerChannel } from '../../../core/cluster/controller/requests.js';
import {
  type StaticDescription,
  StaticMetadata,
  staticTopicId,
} from '../../../core/cluster/metadata/static.js';
import { encodeBatch } from '../../../core/records/encode.js';

const ID_1 = staticTopicId('first-incarnation');
const ID_2 = staticTopicId('second-incarnation');
const ID_3 = staticTopicId('third-incarnation');

const brokers = [
  { id: 1, epoch: 5 },
  { id: 2, epoch: 3 },
];

function desc(topics: StaticDescription['topics']): StaticDescription {
  return { brokers, topics };
}

const noController: ControllerChannel = {
  call: () => Promise.reject(new Error('no controller in this test')),
};

const dirs: string[] = [];
const open: Broker[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function start(
  dataDir: string,
  metadata: StaticMetadata,
  epoch: { value: number },
  messages: string[] = [],
) {
  const view = new RaftClusterView({
    brokerId: 1,
    metadata,
    controllers: noController,
    brokerEpoch: () => epoch.value,
  });
  const broker = await Broker.open({
    dataDir,
    config: { 'node.id': 1 },
    clusterView: view,
    log: (m) => messages.push(m),
  });
  open.push(broker);
  return broker;
}

async function produce(broker: Broker, topic: string, value: string) {
  const [r] = await broker.replicas.produce(
    [{ topic, partition: 0, records: encodeBatch([{ value: Buffer.from(value) }]) }],
    { acks: 1, timeoutMs: 1000 },
  );
  return r!;
}

function strays(dataDir: string, topic: string): string[] {
  return fs.readdirSync(dataDir).filter((d) => d.startsWith(`${topic}-0.`) && d.endsWith('-stray'));
}

function partitionTopicId(dataDir: string, dir: string): string | undefined {
  const text = fs.readFileSync(path.join(dataDir, dir, 'partition.metadata'), 'utf8');
  return /topic_id: (\S+)/.exec(text)?.[1];
}

async function write(broker: Broker, topic: string, values: string[]): Promise<void> {
  const [r] = await broker.replicas.produce(
    [
      {
        topic,
        partition: 0,
        records: encodeBatch(values.map((v) => ({ value: Buffer.from(v) }))),
      },
    ],
    { acks: 1, timeoutMs: 1000 },
  );
  expect(r!.errorCode).toBe(0);
}

describe('ClusterLogSync', () => {
  it('applies topic configs, deletes topics gone from the cluster, and starts recreated ones empty', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-logsync-'));
    dirs.push(dataDir);
    const metadata = new StaticMetadata(
      desc([
        { name: 'a', topicId: ID_1, configs: { 'retention.ms': '1000' }, partitions: [{ replicas: [1, 2] }] },
        { name: 'elsewhere', partitions: [{ replicas: [2] }] },
      ]),
    );
    const broker = await start(dataDir, metadata, { value: 5 });
    expect(broker.logs.topic('a')?.overrides).toEqual({ 'retention.ms': '1000' });
    expect(broker.logs.topic('elsewhere')).toBeUndefined();
    await write(broker, 'a', ['x', 'y']);

    metadata.update(
      desc([
        {
          name: 'a',
          topicId: ID_1,
          configs: { 'retention.ms': '2000', 'cleanup.policy': 'compact', 'min.insync.replicas': '2' },
          partitions: [{ replicas: [1, 2] }],
        },
      ]),
    );
    const log = broker.logs.getLog('a', 0);
    expect(log.config['retention.ms']).toBe(2000);
    expect(log.config['cleanup.policy']).toBe('compact');
    expect(log.config['min.insync.replicas']).toBe(2);
    expect(log.logEndOffset).toBe(2);

    // deleted, then created again under the same name: no record of the old topic survives
    metadata.update(desc([]));
    expect(broker.logs.topic('a')).toBeUndefined();
    expect(fs.readdirSync(dataDir)).not.toContain('a-0');
    metadata.update(desc([{ name: 'a', topicId: ID_2, partitions: [{ replicas: [1, 2] }] }]));
    expect(broker.logs.getLog('a', 0).logEndOffset).toBe(0);
    await write(broker, 'a', ['new']);
    expect(broker.logs.getLog('a', 0).logEndOffset).toBe(1);
    // the recreated topic has no overrides left from the old one
    expect(broker.logs.topic('a')?.overrides).toEqual({});

    metadata.update(
      desc([{ name: 'a', topicId: ID_2, partitions: [{ replicas: [1, 2] }, { replicas: [1, 2] }] }]),
    );
    expect(broker.logs.topic('a')?.partitions).toBe(2);
    // every partition directory records the cluster's topic id (Kafka's partition.metadata)
    expect(partitionTopicId(dataDir, 'a-0')).toBe(ID_2);
    expect(partitionTopicId(dataDir, 'a-1')).toBe(ID_2);
  });

  it('removes a replica moved to other brokers', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-logsync-'));
    dirs.push(dataDir);
    const metadata = new StaticMetadata(
      desc([{ name: 'm', topicId: ID_1, partitions: [{ replicas: [1, 2] }] }]),
    );
    const broker = await start(dataDir, metadata, { value: 5 });
    expect(broker.logs.topic('m')).toBeDefined();
    // during the move this broker is still a (removing) replica: the log stays
    metadata.update(
      desc([
        { name: 'm', topicId: ID_1, partitions: [{ replicas: [2, 1], leader: 2, removingReplicas: [1] }] },
      ]),
    );
    expect(broker.logs.topic('m')).toBeDefined();
    metadata.update(desc([{ name: 'm', topicId: ID_1, partitions: [{ replicas: [2], leader: 2 }] }]));
    expect(broker.logs.topic('m')).toBeUndefined();
  });

  it('after a restart, drops a topic recreated while it was down once its view has caught up, not before', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-logsync-'));
    dirs.push(dataDir);
    const first = new StaticMetadata(
      desc([{ name: 'a', topicId: ID_1, partitions: [{ replicas: [1, 2] }] }]),
    );
    const broker = await start(dataDir, first, { value: 5 });
    await write(broker, 'a', ['old-1', 'old-2', 'old-3']);
    await broker.close();
    open.splice(0);

    // restart: the first image is an old snapshot without the topic, and the broker is not registered yet
    const epoch = { value: -1 };
    const metadata = new StaticMetadata(desc([]));
    const restarted = await start(dataDir, metadata, epoch);
    expect(restarted.logs.getLog('a', 0).logEndOffset).toBe(3);
    // caught up (registered with epoch 6, in the image): meanwhile the topic was deleted and created again
    epoch.value = 6;
    metadata.update({
      brokers: [{ id: 1, epoch: 6 }, brokers[1]!],
      topics: [{ name: 'a', topicId: ID_3, partitions: [{ replicas: [1, 2] }] }],
    });
    expect(restarted.logs.getLog('a', 0).logEndOffset).toBe(0);
    // the old replica is set aside, not deleted
    const [stray] = strays(dataDir, 'a');
    expect(stray).toBeDefined();
    expect(partitionTopicId(dataDir, stray!)).toBe(ID_1);
  });

  it('keeps the data when a restarted broker catches up to metadata without its topics (wiped controllers, wrong quorum)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-logsync-'));
    dirs.push(dataDir);
    const first = new StaticMetadata(
      desc([{ name: 'a', topicId: ID_1, partitions: [{ replicas: [1, 2] }] }]),
    );
    const broker = await start(dataDir, first, { value: 5 });
    await write(broker, 'a', ['kept-1', 'kept-2', 'kept-3']);
    await broker.close();
    open.splice(0);

    // the controllers' metadata is empty: the broker registers and catches up to an image without topics
    const messages: string[] = [];
    const metadata = new StaticMetadata({ brokers: [{ id: 1, epoch: 1 }] });
    const restarted = await start(dataDir, metadata, { value: 1 }, messages);
    metadata.update({
      brokers: [
        { id: 1, epoch: 1 },
        { id: 2, epoch: 1 },
      ],
    });
    expect(restarted.logs.getLog('a', 0).logEndOffset).toBe(3);
    expect(fs.readdirSync(dataDir)).toContain('a-0');
    expect(messages.filter((m) => m.includes('not in the cluster metadata'))).toHaveLength(1);
    // not served: the cluster does not know the topic
    expect((await produce(restarted, 'a', 'x')).errorCode).not.toBe(0);

    // a topic of that name created in this cluster later is another topic: the old data is set
    // aside (not adopted, not deleted) and the new topic starts empty
    metadata.update({
      brokers: [{ id: 1, epoch: 1 }],
      topics: [{ name: 'a', topicId: ID_2, partitions: [{ replicas: [1] }] }],
    });
    expect(restarted.logs.topic('a')?.topicId).toBe(ID_2);
    expect(restarted.logs.getLog('a', 0).logEndOffset).toBe(0);
    const r = await produce(restarted, 'a', 'new');
    expect(r.errorCode).toBe(0);
    expect(r.baseOffset).toBe(0);
    const [stray] = strays(dataDir, 'a');
    expect(partitionTopicId(dataDir, stray!)).toBe(ID_1);
    expect(fs.readdirSync(path.join(dataDir, stray!)).some((f) => f.endsWith('.log'))).toBe(true);
  });

  it('never serves the old log of a topic recreated while the broker was down, before catching up', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-logsync-'));
    dirs.push(dataDir);
    const first = new StaticMetadata(
      desc([{ name: 'x', topicId: ID_1, partitions: [{ replicas: [1, 2] }] }]),
    );
    const broker = await start(dataDir, first, { value: 5 });
    await write(broker, 'x', ['old-1', 'old-2', 'old-3']);
    await broker.close();
    open.splice(0);

    // restart with a stale image of x, not registered yet
    const epoch = { value: -1 };
    const metadata = new StaticMetadata(
      desc([{ name: 'x', topicId: ID_1, partitions: [{ replicas: [1, 2] }] }]),
    );
    const restarted = await start(dataDir, metadata, epoch);
    // catch-up delivers "x deleted" and "x created again, broker 1 leads at epoch 0", still unregistered
    metadata.update(desc([{ name: 'x', topicId: ID_2, partitions: [{ replicas: [1], leader: 1 }] }]));
    expect(restarted.replicas.replication?.partition('x', 0)).toBeUndefined();
    expect((await produce(restarted, 'x', 'must-not-land')).errorCode).not.toBe(0);
    expect(restarted.logs.getLog('x', 0).logEndOffset).toBe(3);

    // registered: the old log goes aside and the new topic starts empty
    epoch.value = 6;
    metadata.update({
      brokers: [{ id: 1, epoch: 6 }, brokers[1]!],
      topics: [{ name: 'x', topicId: ID_2, partitions: [{ replicas: [1], leader: 1 }] }],
    });
    expect(restarted.logs.getLog('x', 0).logEndOffset).toBe(0);
    const r = await produce(restarted, 'x', 'new');
    expect(r.errorCode).toBe(0);
    expect(r.baseOffset).toBe(0);
    expect(strays(dataDir, 'x')).toHaveLength(1);
  });

  it('keeps a failed deletion pending, serves nothing under the name meanwhile, and retries', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-logsync-'));
    dirs.push(dataDir);
    const metadata = new StaticMetadata(
      desc([{ name: 'a', topicId: ID_1, partitions: [{ replicas: [1, 2] }] }]),
    );
    const broker = await start(dataDir, metadata, { value: 5 });
    await write(broker, 'a', ['old-1', 'old-2']);
    const spy = vi.spyOn(broker.logs, 'deleteTopic').mockImplementationOnce(() => {
      throw new Error('disk says no');
    });
    // deleted and created again while running: the delete fails
    metadata.update(desc([{ name: 'a', topicId: ID_2, partitions: [{ replicas: [1], leader: 1 }] }]));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(broker.logs.topic('a')?.topicId).toBe(ID_1);
    expect(broker.replicas.replication?.partition('a', 0)).toBeUndefined();
    expect((await produce(broker, 'a', 'must-not-land')).errorCode).not.toBe(0);
    expect(broker.logs.getLog('a', 0).logEndOffset).toBe(2);

    // the next metadata change retries: now the old log is deleted and the new topic starts empty
    metadata.update({
      brokers: [...brokers, { id: 3, epoch: 1 }],
      topics: [{ name: 'a', topicId: ID_2, partitions: [{ replicas: [1], leader: 1 }] }],
    });
    expect(spy).toHaveBeenCalledTimes(2);
    expect(broker.logs.topic('a')?.topicId).toBe(ID_2);
    expect(strays(dataDir, 'a')).toHaveLength(0);
    const r = await produce(broker, 'a', 'new');
    expect(r.errorCode).toBe(0);
    expect(r.baseOffset).toBe(0);
  });
});
