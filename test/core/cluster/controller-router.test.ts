/**
 * ControllerRouter after a controller change: a controller that stops answering, NOT_CONTROLLER
 * without a hint, stale hints pointing at each other; and the deposed QuorumController answering
 * its in-flight calls at once instead of after Raft's propose timeout.
 */
import { describe, expect, it } from 'vitest';
import { ControllerError } from '../../../core/cluster/controller/errors.js';
import { QuorumController } from '../../../core/cluster/controller/index.js';
import type {
  ApiRequest,
  ApiResponse,
  ControllerApi,
  ControllerChannel,
} from '../../../core/cluster/controller/requests.js';
import { ControllerRouter } from '../../../core/cluster/controller/router.js';
import { MetadataStateMachine } from '../../../core/cluster/metadata/index.js';
import { SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { systemClock } from '../../../core/env/clock.js';
import { SeededRandom } from '../../../core/env/random.js';
import { flush, InstantLog } from './controller-helpers.js';

const OK = { topics: [] };
const REQUEST = { topics: ['t'] };

/** A controller that answers with `answer(attempt)`: a value, an error to throw, or 'hang'. */
function channel(calls: number[], id: number, answer: () => unknown): ControllerChannel {
  return {
    call<A extends ControllerApi>(_api: A, _req: ApiRequest<A>): Promise<ApiResponse<A>> {
      calls.push(id);
      const a = answer();
      if (a === 'hang') return new Promise(() => {});
      if (a instanceof Error) return Promise.reject(a);
      return Promise.resolve(a as ApiResponse<A>);
    },
  };
}

const notController = (leaderId: number | null) =>
  new ControllerError('NOT_CONTROLLER', 'not the active controller', { leaderId });

describe('ControllerRouter', () => {
  it("keeps a call's own deadline (a client request's timeoutMs) instead of the router's", async () => {
    const calls: number[] = [];
    const router = new ControllerRouter({
      controllers: [1, 2],
      channel: (id) => channel(calls, id, () => (id === 1 ? 'hang' : notController(null))),
      clock: systemClock,
      timeoutMs: 30_000,
      retryBackoffMs: 5_000,
    });
    const started = Date.now();
    const err = await router.call('deleteTopics', REQUEST, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    expect((err as Error).message).toMatch(/within 300 ms/);
    // neither an attempt nor the backoff between rounds outlasts the deadline
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives up on a controller that stops answering and reaches the new one quickly', async () => {
    const calls: number[] = [];
    const channels = new Map([
      [1, channel(calls, 1, () => 'hang')],
      [2, channel(calls, 2, () => OK)],
    ]);
    const router = new ControllerRouter({
      controllers: [1, 2],
      channel: (id) => channels.get(id)!,
      clock: systemClock,
      attemptTimeoutMs: 200,
      timeoutMs: 10_000,
    });
    const started = Date.now();
    await expect(router.call('deleteTopics', REQUEST)).resolves.toEqual(OK);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(calls).toEqual([1, 2]);
    // and it sticks with the controller that answered
    await router.call('deleteTopics', REQUEST);
    expect(calls).toEqual([1, 2, 2]);
  });

  it("after NOT_CONTROLLER without a hint, goes to the leader this node's Raft knows", async () => {
    const calls: number[] = [];
    let raftLeader: number | null = 1;
    const channels = new Map([
      [
        1,
        channel(calls, 1, () => {
          raftLeader = 3; // deposed; meanwhile this node's Raft heard from the new leader
          return notController(null);
        }),
      ],
      [2, channel(calls, 2, () => notController(null))],
      [3, channel(calls, 3, () => OK)],
    ]);
    const router = new ControllerRouter({
      controllers: [1, 2, 3],
      channel: (id) => channels.get(id)!,
      clock: systemClock,
      leaderHint: () => raftLeader,
    });
    await router.call('deleteTopics', REQUEST);
    expect(calls).toEqual([1, 3]);
    // later calls go straight to the leader this node's Raft follows
    raftLeader = 2;
    channels.set(
      2,
      channel(calls, 2, () => OK),
    );
    await router.call('deleteTopics', REQUEST);
    expect(calls).toEqual([1, 3, 2]);
  });

  it('after a lost connection tries the next controller, and follows its NOT_CONTROLLER hint', async () => {
    const calls: number[] = [];
    const channels = new Map([
      [1, channel(calls, 1, () => new ControllerError('REQUEST_TIMED_OUT', 'controller connection closed'))],
      [2, channel(calls, 2, () => notController(3))],
      [3, channel(calls, 3, () => OK)],
    ]);
    const router = new ControllerRouter({
      controllers: [1, 2, 3],
      channel: (id) => channels.get(id)!,
      clock: systemClock,
      leaderHint: () => null, // this node's Raft knows no leader
    });
    await router.call('deleteTopics', REQUEST);
    expect(calls).toEqual([1, 2, 3]);
  });

  it('backs off while stale hints point at each other instead of spinning', async () => {
    const calls: number[] = [];
    const until = Date.now() + 300;
    const channels = new Map([
      [1, channel(calls, 1, () => notController(2))],
      [2, channel(calls, 2, () => (Date.now() < until ? notController(1) : OK))],
    ]);
    const router = new ControllerRouter({
      controllers: [1, 2],
      channel: (id) => channels.get(id)!,
      clock: systemClock,
      retryBackoffMs: 50,
    });
    await expect(router.call('deleteTopics', REQUEST)).resolves.toEqual(OK);
    // one round (2 attempts) per 50 ms backoff: ~12 in 300 ms, not thousands
    expect(calls.length).toBeLessThan(40);
  });
});

/** A metadata log whose proposals hang (a deposed leader's entry waiting for its outcome). */
class StuckLog extends InstantLog {
  hang = false;
  override propose(command: Uint8Array) {
    if (this.hang) return new Promise<never>(() => {});
    return super.propose(command);
  }
}

describe('QuorumController losing leadership', () => {
  it('answers at once: a proposed call REQUEST_TIMED_OUT (outcome unknown, not re-sent), a queued one NOT_CONTROLLER', async () => {
    const clock = new SimClock();
    const sm = new MetadataStateMachine();
    const log = new StuckLog(sm);
    const controller = new QuorumController({ log, metadata: sm, clock, random: new SeededRandom(3) });
    controller.onRaftStateChange(log.status());
    await flush();
    expect(controller.isActive).toBe(true);

    log.hang = true;
    const inFlight = controller.call('registerBroker', {
      brokerId: 7,
      incarnationId: 'inc-7',
      host: 'localhost',
      port: 9007,
      rack: null,
      controller: false,
    });
    let outcome: unknown = 'pending';
    inFlight.then(
      (v) => {
        outcome = v;
      },
      (e) => {
        outcome = e;
      },
    );
    await flush();
    expect(outcome).toBe('pending');
    // a queued call behind it, too
    const queued = controller.call('deleteTopics', { topics: ['x'] });
    queued.catch(() => {});

    log.leader = false; // Raft stepped down; status() names node 2 as the leader
    controller.onRaftStateChange(log.status());
    await flush();
    // its registration was proposed and may still commit under the new leader: outcome unknown
    expect(outcome).toBeInstanceOf(ControllerError);
    expect((outcome as ControllerError).code).toBe('REQUEST_TIMED_OUT');
    expect((outcome as ControllerError).retriable).toBe(false);
    // never proposed: safe to send to the new controller
    const err = await queued.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_CONTROLLER', leaderId: 2, retriable: true });

    // a router does not re-send the proposed call (a retry would answer TOPIC_ALREADY_EXISTS and
    // the like for a change that took effect), but moves a never-proposed one to the new controller
    const calls: number[] = [];
    const answers = new Map<number, unknown[]>([
      [1, [outcome, err]],
      [2, [OK]],
    ]);
    const router = new ControllerRouter({
      controllers: [1, 2],
      channel: (id) => channel(calls, id, () => answers.get(id)!.shift() ?? OK),
      clock: systemClock,
    });
    await expect(router.call('deleteTopics', REQUEST)).rejects.toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    expect(calls).toEqual([1]);
    await expect(router.call('deleteTopics', REQUEST)).resolves.toEqual(OK);
    expect(calls).toEqual([1, 1, 2]);
  });
});
