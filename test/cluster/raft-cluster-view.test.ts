/**
 * RaftClusterView: the broker's ClusterView over the metadata log (a StaticMetadata here) and
 * the controller channel (a fake recording the requests).
 */
import { describe, expect, it } from 'vitest';
import { AlterPartitionError, ClusterError } from '../../core/broker/cluster-view.js';
import { RaftClusterView } from '../../core/broker/raft-cluster-view.js';
import { ControllerError } from '../../core/cluster/controller/errors.js';
import type {
  ApiRequest,
  ApiResponse,
  ControllerApi,
  ControllerChannel,
} from '../../core/cluster/controller/requests.js';
import { StaticMetadata, staticTopicId } from '../../core/cluster/metadata/static.js';

const brokers = [
  { id: 1, host: 'h1', port: 9001 },
  { id: 2, host: 'h2', port: 9002, rack: 'r2' },
  { id: 3, host: 'h3', port: 9003, fenced: true },
];

function setup(answer: (api: ControllerApi, req: unknown) => unknown) {
  const metadata = new StaticMetadata({
    brokers,
    topics: [
      { name: 'orders', configs: { 'min.insync.replicas': '2' }, partitions: [{ replicas: [1, 2, 3] }] },
    ],
  });
  const calls: { api: ControllerApi; req: unknown }[] = [];
  const controllers: ControllerChannel = {
    async call<A extends ControllerApi>(api: A, req: ApiRequest<A>): Promise<ApiResponse<A>> {
      calls.push({ api, req });
      return answer(api, req) as ApiResponse<A>;
    },
  };
  const view = new RaftClusterView({
    brokerId: 1,
    metadata,
    controllers,
    brokerEpoch: () => 7,
    applyWaitMs: 200,
  });
  return { metadata, calls, view };
}

describe('RaftClusterView', () => {
  it('reads brokers (live only), topics and partitions from the metadata image', () => {
    const { view } = setup(() => ({}));
    expect(view.brokers()).toEqual([
      { nodeId: 1, host: 'h1', port: 9001, rack: null },
      { nodeId: 2, host: 'h2', port: 9002, rack: 'r2' },
    ]);
    expect([...view.topics()]).toEqual([
      { name: 'orders', topicId: staticTopicId('orders'), configs: { 'min.insync.replicas': '2' } },
    ]);
    expect([...view.partitions()]).toEqual([
      {
        topic: 'orders',
        partition: 0,
        replicas: [1, 2, 3],
        isr: [1, 2, 3],
        leader: 1,
        leaderEpoch: 0,
        partitionEpoch: 0,
      },
    ]);
  });

  it('calls onChange listeners after each change, not on subscribing, until unsubscribed', () => {
    const { view, metadata } = setup(() => ({}));
    let n = 0;
    const off = view.onChange(() => n++);
    expect(n).toBe(0);
    metadata.update({
      brokers,
      topics: [{ name: 'orders', partitions: [{ replicas: [1, 2, 3], leader: 2 }] }],
    });
    expect(n).toBe(1);
    expect([...view.partitions()][0]).toMatchObject({ leader: 2, leaderEpoch: 1, partitionEpoch: 1 });
    off();
    metadata.update({
      brokers,
      topics: [{ name: 'orders', partitions: [{ replicas: [1, 2, 3], leader: 1 }] }],
    });
    expect(n).toBe(1);
  });

  it('sends AlterPartition with the topic id and broker epoch, and resolves with the applied state', async () => {
    const topicId = staticTopicId('orders');
    const { view, calls, metadata } = setup(() => {
      // the controller committed it; the local image gets it a little later
      setTimeout(() =>
        metadata.update({
          brokers,
          topics: [{ name: 'orders', partitions: [{ replicas: [1, 2, 3], isr: [1, 2] }] }],
        }),
      );
      return {
        partitions: [
          { topicId, partition: 0, error: null, leader: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2] },
        ],
      };
    });
    const committed = await view.alterPartition({
      topic: 'orders',
      partition: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
      newIsr: [1, 2],
    });
    expect(calls).toEqual([
      {
        api: 'alterPartition',
        req: {
          brokerId: 1,
          brokerEpoch: 7,
          partitions: [{ topicId, partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2] }],
        },
      },
    ]);
    expect(committed).toEqual({
      topic: 'orders',
      partition: 0,
      replicas: [1, 2, 3],
      isr: [1, 2],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 1,
    });
    expect([...view.partitions()][0]!.isr).toEqual([1, 2]);
  });

  it('maps AlterPartition refusals to Kafka error names', async () => {
    const change = { topic: 'orders', partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1] };
    for (const code of ['FENCED_LEADER_EPOCH', 'INVALID_UPDATE_VERSION', 'INELIGIBLE_REPLICA'] as const) {
      const { view } = setup(() => ({ partitions: [{ error: code, message: 'no' }] }));
      const err = await view.alterPartition(change).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AlterPartitionError);
      expect((err as AlterPartitionError).code).toBe(code);
    }
    const stale = setup(() => ({ partitions: [{ error: 'STALE_BROKER_EPOCH', message: 'old' }] }));
    const e1 = await stale.view.alterPartition(change).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ClusterError);
    expect((e1 as ClusterError).code).toBe('STALE_BROKER_EPOCH');
    const down = setup(() => {
      throw new ControllerError('NOT_CONTROLLER', 'no controller', { leaderId: null });
    });
    const e2 = await down.view.alterPartition(change).catch((e: unknown) => e);
    expect((e2 as ClusterError).code).toBe('NOT_CONTROLLER');
    const lost = setup(() => {
      throw new Error('connection reset');
    });
    expect(((await lost.view.alterPartition(change).catch((e: unknown) => e)) as ClusterError).code).toBe(
      'REQUEST_TIMED_OUT',
    );
    const unknown = setup(() => ({}));
    const e3 = await unknown.view.alterPartition({ ...change, topic: 'nope' }).catch((e: unknown) => e);
    expect((e3 as AlterPartitionError).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(unknown.calls).toEqual([]);
  });

  it('creates topics through the controller and resolves once the image has them', async () => {
    const id = staticTopicId('payments');
    const { view, calls, metadata } = setup(() => {
      setTimeout(() =>
        metadata.update({
          brokers,
          topics: [
            { name: 'orders', partitions: [{ replicas: [1, 2, 3] }] },
            {
              name: 'payments',
              topicId: id,
              configs: { 'retention.ms': '1000' },
              partitions: [{ replicas: [2, 1] }],
            },
          ],
        }),
      );
      return {
        topics: [{ name: 'payments', topicId: id, error: null, numPartitions: 1, replicationFactor: 2 }],
      };
    });
    const created = await view.createTopic({
      name: 'payments',
      numPartitions: 1,
      replicationFactor: 2,
      assignments: null,
      configs: { 'retention.ms': '1000' },
    });
    expect(created).toEqual({ name: 'payments', topicId: id, configs: { 'retention.ms': '1000' } });
    expect(calls[0]).toEqual({
      api: 'createTopics',
      req: {
        topics: [
          { name: 'payments', numPartitions: 1, replicationFactor: 2, configs: { 'retention.ms': '1000' } },
        ],
      },
    });
    expect([...view.topics()].map((t) => t.name).sort()).toEqual(['orders', 'payments']);
  });

  it('passes explicit assignments and refuses with the controller’s error name', async () => {
    const { view, calls } = setup(() => ({
      topics: [
        {
          name: 'orders',
          topicId: null,
          error: 'TOPIC_ALREADY_EXISTS',
          message: "Topic 'orders' already exists.",
        },
      ],
    }));
    const err = await view
      .createTopic({
        name: 'orders',
        numPartitions: 1,
        replicationFactor: 2,
        assignments: [[2, 1]],
        configs: {},
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).code).toBe('TOPIC_ALREADY_EXISTS');
    expect((calls[0]!.req as { topics: { assignments: number[][] }[] }).topics[0]!.assignments).toEqual([
      [2, 1],
    ]);
  });
});
