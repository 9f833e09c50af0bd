/**
 * ControllerRouter and a controller that went silent (cut off: its connection neither answers
 * nor closes). A call leaves it as soon as this node's Raft follows another leader, and a
 * heartbeat (idempotent) gives up on it after its own short bound, while other calls keep the
 * long one (re-sending a createTopics that did commit would answer "already exists").
 * Time is simulated (SimClock), so the bounds are exact.
 */
import { describe, expect, it } from 'vitest';
import type {
  ApiRequest,
  ApiResponse,
  ControllerApi,
  ControllerChannel,
} from '../../../core/cluster/controller/requests.js';
import { ControllerRouter } from '../../../core/cluster/controller/router.js';
import { SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { flush } from './controller-helpers.js';

const HEARTBEAT = { brokerId: 7, brokerEpoch: 3, metadataOffset: 0, wantFence: false, wantShutdown: false };
const ANSWER = { isFenced: false, shouldShutdown: false };

/** Controller 1 never answers; the others answer ANSWER. Records who was asked. */
function controllers(calls: number[]): (id: number) => ControllerChannel {
  return (id) => ({
    call<A extends ControllerApi>(_api: A, _req: ApiRequest<A>): Promise<ApiResponse<A>> {
      calls.push(id);
      if (id === 1) return new Promise(() => {});
      return Promise.resolve(ANSWER as unknown as ApiResponse<A>);
    },
  });
}

/** Runs the simulated clock up to atMs (timers due by then fire, promises settle). */
async function runUntil(clock: SimClock, atMs: number): Promise<void> {
  await flush();
  while (clock.nextAtMs() <= atMs) {
    clock.runNext();
    await flush();
  }
  clock.advanceTo(atMs);
}

describe('ControllerRouter and a silent controller', () => {
  it('leaves a silent controller as soon as the local Raft follows another leader', async () => {
    const clock = new SimClock();
    const calls: number[] = [];
    let leader = 1;
    const router = new ControllerRouter({
      controllers: [1, 2, 3],
      channel: controllers(calls),
      clock,
      attemptTimeoutMs: 60_000,
      timeoutMs: 120_000,
      leaderHint: () => leader,
    });
    let done = false;
    const call = router.call('createTopics', { topics: [] }).then((r) => {
      done = true;
      return r;
    });
    await runUntil(clock, 3000);
    expect(done).toBe(false);
    expect(calls).toEqual([1]);
    leader = 3; // this node's Raft learnt of a new leader
    await runUntil(clock, 3500);
    expect(done).toBe(true);
    expect(calls).toEqual([1, 3]);
    await expect(call).resolves.toEqual(ANSWER);
    expect(router.target).toBe(3);
  });

  it('bounds a heartbeat attempt by heartbeatAttemptTimeoutMs, other calls by attemptTimeoutMs', async () => {
    const clock = new SimClock();
    const calls: number[] = [];
    const router = new ControllerRouter({
      controllers: [1, 2],
      channel: controllers(calls),
      clock,
      attemptTimeoutMs: 5000,
      heartbeatAttemptTimeoutMs: 1000,
      timeoutMs: 60_000,
      leaderHint: () => null, // nothing known: no shortcut
    });
    let beat = false;
    void router.call('brokerHeartbeat', HEARTBEAT).then(() => {
      beat = true;
    });
    await runUntil(clock, 999);
    expect(beat).toBe(false);
    await runUntil(clock, 1001);
    expect(beat).toBe(true);
    expect(calls).toEqual([1, 2]);

    // createTopics to the silent controller waits the long bound
    const start = clock.monotonic();
    const calls2: number[] = [];
    const router2 = new ControllerRouter({
      controllers: [1, 2],
      channel: controllers(calls2),
      clock,
      attemptTimeoutMs: 5000,
      heartbeatAttemptTimeoutMs: 1000,
      timeoutMs: 60_000,
    });
    let created = false;
    void router2.call('createTopics', { topics: [] }).then(() => {
      created = true;
    });
    await runUntil(clock, start + 4999);
    expect(created).toBe(false);
    expect(calls2).toEqual([1]);
    await runUntil(clock, start + 5001);
    expect(created).toBe(true);
    expect(calls2).toEqual([1, 2]);
  });
});
