/**
 * RaftClusterView's admin calls: forwarded to the controller, answered only once this broker's
 * metadata image shows the committed change (a StaticMetadata the "controller" updates), with
 * the controller's refusals as results and its failures as ClusterErrors.
 */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../core/broker/cluster-view.js';
import { clusterDeleteTopics } from '../../core/broker/handlers/cluster-admin.js';
import type { CallContext, NodeParts, Req } from '../../core/broker/handlers/context.js';
import { RaftClusterView } from '../../core/broker/raft-cluster-view.js';
import { ControllerError } from '../../core/cluster/controller/errors.js';
import type {
  ApiRequest,
  ApiResponse,
  ControllerApi,
  ControllerChannel,
} from '../../core/cluster/controller/requests.js';
import { ControllerRouter } from '../../core/cluster/controller/router.js';
import { type StaticDescription, StaticMetadata } from '../../core/cluster/metadata/static.js';
import { systemClock } from '../../core/env/clock.js';
import { ErrorCode } from '../../core/protocol/errors.js';
import { harness } from '../core/cluster/controller-helpers.js';

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

  it('DeleteTopics by topic id deletes that topic only: a retry after the name was reused finds no topic', async () => {
    const { controller, sm, register } = await harness();
    await register(1);
    const create = async () => {
      const r = await controller.call('createTopics', {
        topics: [{ name: 'orders', numPartitions: 1, replicationFactor: 1, configs: {} }],
      });
      return r.topics[0]!.topicId!;
    };
    const oldId = await create();
    // this broker's image still shows the old topic when the (retried) delete of the old id comes
    const stale = new StaticMetadata({
      brokers: [{ id: 1 }],
      topics: [{ name: 'orders', topicId: oldId, partitions: [{ replicas: [1] }] }],
    });
    const view = new RaftClusterView({
      brokerId: 1,
      metadata: stale,
      controllers: controller,
      brokerEpoch: () => 1,
      applyWaitMs: 50,
    });
    await controller.call('deleteTopics', { topics: ['orders'] });
    const newId = await create();
    expect(newId).not.toBe(oldId);

    const node = { config: { 'delete.topic.enable': true } } as unknown as NodeParts;
    const ctx: CallContext = { apiVersion: 6, clientId: null, clientHost: 'test' };
    const req = {
      topics: [{ name: null, topicId: oldId }],
      topicNames: [],
      timeoutMs: 5000,
    } as Req<'DeleteTopics'>;
    const res = await clusterDeleteTopics(node, ctx, req, view);
    expect(res.responses).toEqual([
      expect.objectContaining({ topicId: oldId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }),
    ]);
    expect(sm.image().topicByName('orders')?.topicId).toBe(newId);

    // the current id deletes it
    const gone = await view.admin!.deleteTopics([{ topicId: newId }]);
    expect(gone).toEqual([{ topic: 'orders', topicId: newId, error: null, message: null }]);
    expect(sm.image().topicByName('orders')).toBeUndefined();
  });

  it('DeleteTopics refuses duplicate names, name and id together, and (v0-2) disabled deletion as INVALID_REQUEST', async () => {
    const { view, calls } = setup(() => ({ response: { topics: [] } }), { applyWaitMs: 10 });
    const ctx = (apiVersion: number): CallContext => ({ apiVersion, clientId: null, clientHost: 'test' });
    const enabled = { config: { 'delete.topic.enable': true } } as unknown as NodeParts;
    const dup = await clusterDeleteTopics(
      enabled,
      ctx(4),
      { topicNames: ['orders', 'orders'], topics: [], timeoutMs: 1000 } as Req<'DeleteTopics'>,
      view,
    );
    expect(dup.responses!.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
      [ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
    ]);
    const orders = [...view.topics()][0]!;
    const both = await clusterDeleteTopics(
      enabled,
      ctx(6),
      {
        topics: [{ name: 'orders', topicId: orders.topicId }],
        topicNames: [],
        timeoutMs: 1000,
      } as Req<'DeleteTopics'>,
      view,
    );
    expect(both.responses![0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const disabled = { config: { 'delete.topic.enable': false } } as unknown as NodeParts;
    const old = await clusterDeleteTopics(
      disabled,
      ctx(2),
      { topicNames: ['orders'], topics: [], timeoutMs: 1000 } as Req<'DeleteTopics'>,
      view,
    );
    expect(old.responses![0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const v3 = await clusterDeleteTopics(
      disabled,
      ctx(3),
      { topicNames: ['orders'], topics: [], timeoutMs: 1000 } as Req<'DeleteTopics'>,
      view,
    );
    expect(v3.responses![0]!.errorCode).toBe(ErrorCode.TOPIC_DELETION_DISABLED);
    expect(calls).toEqual([]);
  });

  it("honours the request's timeoutMs: for the controller's answer and for the wait for the image", async () => {
    // no controller answers: REQUEST_TIMED_OUT after timeoutMs, not after the router's 30 s
    const router = new ControllerRouter({
      controllers: [1],
      channel: () => ({ call: () => new Promise<never>(() => {}) }),
      clock: systemClock,
    });
    const silent = new RaftClusterView({
      brokerId: 1,
      metadata: new StaticMetadata(initial),
      controllers: router,
      brokerEpoch: () => 1,
    });
    let started = Date.now();
    const err = await silent.admin
      .createPartitions([{ topic: 'orders', count: 2, assignments: null }], false, {
        timeoutMs: 300,
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    expect(Date.now() - started).toBeLessThan(3000);
    // through the handler: every item answers REQUEST_TIMED_OUT
    const node = { config: { 'delete.topic.enable': true } } as unknown as NodeParts;
    const res = await clusterDeleteTopics(
      node,
      { apiVersion: 4, clientId: null, clientHost: 'test' },
      { topicNames: ['orders'], topics: [], timeoutMs: 300 } as Req<'DeleteTopics'>,
      silent,
    );
    expect(res.responses![0]!.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    started = Date.now();
    const created = await silent
      .createTopic(
        { name: 'fresh', numPartitions: 1, replicationFactor: 1, assignments: null, configs: {} },
        { timeoutMs: 300 },
      )
      .catch((e: unknown) => e);
    expect(created).toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    expect(Date.now() - started).toBeLessThan(3000);

    // the controller answers but the image never shows the change: the answer comes by timeoutMs
    const { view } = setup(() => ({ response: { topics: [{ topic: 'orders', error: null }] } }), {
      applyWaitMs: 20_000,
    });
    started = Date.now();
    await expect(view.admin.deleteTopics(['orders'], { timeoutMs: 300 })).resolves.toEqual([
      { topic: 'orders', error: null, message: null },
    ]);
    expect(Date.now() - started).toBeLessThan(3000);
    // timeoutMs 0: done and answered without waiting for the image
    started = Date.now();
    await view.admin.deleteTopics(['orders'], { timeoutMs: 0 });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
