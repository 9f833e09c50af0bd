/**
 * RaftClusterView's admin calls: forwarded to the controller, answered only once this broker's
 * metadata image shows the committed change (a StaticMetadata the "controller" updates), with
 * the controller's refusals as results and its failures as ClusterErrors.
 */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../core/broker/cluster-view.js';
import { RaftClusterView } from '../../core/broker/raft-cluster-view.js';
import { ControllerError } from '../../core/cluster/controller/errors.js';
import type {
  ApiRequest,
  ApiResponse,
  ControllerApi,
  ControllerChannel,
} from '../../core/cluster/controller/requests.js';
import { type StaticDescription, StaticMetadata } from '../../core/cluster/metadata/static.js';

const brokers = [{ id: 1 }, { id: 2 }, { id: 3 }];
const initial: StaticDescription = {
  brokers,
  topics: [
    { name: 'orders', configs: { 'retention.ms': '1000' }, partitions: [{ replicas: [1, 2, 3], leader: 2 }] },
  ],
};

/** A controller that answers at once and commits `commit` to the image `delayMs` later. */
function setup(
  answer: (api: ControllerApi, req: unknown) => { response: unknown; commit?: StaticDescription } | Error,
  opts: { delayMs?: number; applyWaitMs?: number } = {},
) {
  const metadata = new StaticMetadata(initial);
  const calls: { api: ControllerApi; req: unknown }[] = [];
  const controllers: ControllerChannel = {
    async call<A extends ControllerApi>(api: A, req: ApiRequest<A>): Promise<ApiResponse<A>> {
      calls.push({ api, req });
      const a = answer(api, req);
      if (a instanceof Error) throw a;
      if (a.commit) setTimeout(() => metadata.update(a.commit!), opts.delayMs ?? 50);
      return a.response as ApiResponse<A>;
    },
  };
  const view = new RaftClusterView({
    brokerId: 1,
    metadata,
    controllers,
    brokerEpoch: () => 1,
    applyWaitMs: opts.applyWaitMs ?? 2000,
  });
  return { view, metadata, calls };
}

/** Resolves with [value, whether it settled before the image changed]. */
async function race<T>(p: Promise<T>, metadata: StaticMetadata): Promise<{ value: T; sawCommit: boolean }> {
  const before = metadata.image().offset;
  const value = await p;
  return { value, sawCommit: metadata.image().offset !== before };
}

describe('RaftClusterView admin calls', () => {
  it('deleteTopics answers once the topic is gone from the image', async () => {
    const { view, metadata, calls } = setup(() => ({
      response: { topics: [{ topic: 'orders', error: null }] },
      commit: { brokers, topics: [], offset: 2 },
    }));
    const { value, sawCommit } = await race(view.admin.deleteTopics(['orders']), metadata);
    expect(calls).toEqual([{ api: 'deleteTopics', req: { topics: ['orders'] } }]);
    expect(value).toEqual([{ topic: 'orders', error: null, message: null }]);
    expect(sawCommit).toBe(true);
    expect([...view.topics()]).toEqual([]);
  });

  it('alterTopicConfigs and createPartitions wait for the image; refusals come back as results', async () => {
    const { view, metadata } = setup((api) =>
      api === 'alterConfigs'
        ? {
            response: {
              resources: [
                { type: 'topic', name: 'orders', error: null },
                {
                  type: 'topic',
                  name: 'nope',
                  error: 'UNKNOWN_TOPIC_OR_PARTITION',
                  message: 'no topic "nope"',
                },
              ],
            },
            commit: {
              brokers,
              offset: 2,
              topics: [
                {
                  name: 'orders',
                  configs: { 'cleanup.policy': 'compact' },
                  partitions: [{ replicas: [1, 2, 3] }],
                },
              ],
            },
          }
        : {
            response: { topics: [{ name: 'orders', error: null }] },
            commit: {
              brokers,
              offset: 3,
              topics: [{ name: 'orders', partitions: [{ replicas: [1, 2, 3] }, { replicas: [2, 3, 1] }] }],
            },
          },
    );
    const altered = await race(
      view.admin.alterTopicConfigs(
        [
          { topic: 'orders', configs: { 'retention.ms': null, 'cleanup.policy': 'compact' } },
          { topic: 'nope', configs: { 'retention.ms': '1' } },
        ],
        false,
      ),
      metadata,
    );
    expect(altered.sawCommit).toBe(true);
    expect(altered.value).toEqual([
      { topic: 'orders', error: null, message: null },
      { topic: 'nope', error: 'UNKNOWN_TOPIC_OR_PARTITION', message: 'no topic "nope"' },
    ]);
    expect([...view.topics()][0]!.configs).toEqual({ 'cleanup.policy': 'compact' });

    const grown = await race(
      view.admin.createPartitions([{ topic: 'orders', count: 2, assignments: null }], false),
      metadata,
    );
    expect(grown.sawCommit).toBe(true);
    expect([...view.partitions()].map((p) => p.partition)).toEqual([0, 1]);
  });

  it('electLeaders waits until the preferred replica leads', async () => {
    const { view, metadata } = setup(() => ({
      response: { partitions: [{ topic: 'orders', partition: 0, error: null }] },
      commit: {
        brokers,
        offset: 2,
        topics: [{ name: 'orders', partitions: [{ replicas: [1, 2, 3], leader: 1 }] }],
      },
    }));
    const { value, sawCommit } = await race(
      view.admin.electLeaders('preferred', [{ topic: 'orders', partition: 0 }]),
      metadata,
    );
    expect(value).toEqual([{ topic: 'orders', partition: 0, error: null, message: null }]);
    expect(sawCommit).toBe(true);
    expect([...view.partitions()][0]!.leader).toBe(1);
  });

  it('answers after applyWaitMs when the image does not catch up', async () => {
    const { view } = setup(() => ({ response: { topics: [{ topic: 'orders', error: null }] } }), {
      applyWaitMs: 100,
    });
    const started = Date.now();
    await expect(view.admin.deleteTopics(['orders'])).resolves.toEqual([
      { topic: 'orders', error: null, message: null },
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('turns a controller failure into a ClusterError with its Kafka name', async () => {
    const { view } = setup(() => new ControllerError('REQUEST_TIMED_OUT', 'no active controller answered'));
    const err = await view.admin.electLeaders('unclean', null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect(err).toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    expect((err as Error).message).toMatch(/ElectLeaders: no active controller answered/);
  });
});
