/**
 * The leader's bookkeeping of one partition on virtual time: high watermark from the ISR's log
 * ends, caught-up times, ISR shrink after replica.lag.time.max.ms and expansion, acks=all waits.
 */
import { describe, expect, it } from 'vitest';
import type { PartitionAssignment } from '../../../core/broker/cluster-view.js';
import { Partition } from '../../../core/broker/replication/partition.js';
import type { Clock, TimerHandle } from '../../../core/env/clock.js';
import { ErrorCode } from '../../../core/protocol/errors.js';
import { batch, openLog } from '../log/helpers.js';

class ManualClock implements Clock {
  private t = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.t;
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer = { at: this.t + delayMs, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.setTimeout(r, ms));
  }
  advance(ms: number): void {
    this.t += ms;
    for (const timer of this.timers.filter((x) => x.live && x.at <= this.t)) {
      timer.live = false;
      timer.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
  }
}

function setup(isr = [1, 2, 3]) {
  const clock = new ManualClock();
  const log = openLog({}, { clock });
  const proposals: number[][] = [];
  const p = new Partition(log, 1, clock, {
    onHighWatermark: () => {},
    proposeIsr: (_p, next) => proposals.push(next),
  });
  const state: PartitionAssignment = {
    topic: 'topic',
    partition: 0,
    replicas: [1, 2, 3],
    isr,
    leader: 1,
    leaderEpoch: 3,
    partitionEpoch: 7,
  };
  expect(p.apply(state)).toBe('leader');
  return { clock, log, p, proposals, state };
}

describe('Partition (leader side)', () => {
  it('stamps the new epoch and advances the high watermark to the smallest ISR log end', () => {
    const { log, p } = setup();
    expect(log.latestEpoch).toBe(3);
    log.append(batch(10), { leaderEpoch: p.leaderEpoch });
    p.maybeAdvanceHighWatermark();
    expect(log.highWatermark).toBe(0); // followers have not fetched yet
    p.updateFollower(2, 10);
    expect(log.highWatermark).toBe(0);
    p.updateFollower(3, 4);
    expect(log.highWatermark).toBe(4);
    p.updateFollower(3, 10);
    expect(log.highWatermark).toBe(10);
  });

  it('acks=all waiters: complete at the high watermark, time out, or fail on leadership loss', async () => {
    const { clock, log, p, state } = setup();
    log.append(batch(5), { leaderEpoch: 3 });
    const done = p.waitForHighWatermark(5, 1000, 1);
    const late = p.waitForHighWatermark(5, 100, 1);
    clock.advance(150);
    expect(await late).toBe(ErrorCode.REQUEST_TIMED_OUT);
    p.updateFollower(2, 5);
    p.updateFollower(3, 5);
    expect(await done).toBe(0);
    log.append(batch(1), { leaderEpoch: 3 });
    const lost = p.waitForHighWatermark(6, 1000, 1);
    expect(p.apply({ ...state, leader: 2, leaderEpoch: 4, partitionEpoch: 8 })).toBe('follower');
    expect(await lost).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('shrinks the ISR of followers not caught up within the lag, expands when they catch up', () => {
    const { clock, log, p, proposals, state } = setup();
    log.append(batch(5), { leaderEpoch: 3 });
    clock.advance(500);
    p.updateFollower(2, 5); // caught up
    p.updateFollower(3, 2); // behind
    clock.advance(600);
    p.maybeShrinkIsr(1000);
    expect(proposals).toEqual([[1, 2]]);
    // until committed, the high watermark still counts 3
    expect(log.highWatermark).toBe(2);
    expect(p.apply({ ...state, isr: [1, 2], partitionEpoch: 8 })).toBe('unchanged');
    p.maybeAdvanceHighWatermark();
    expect(log.highWatermark).toBe(5);
    p.updateFollower(3, 5);
    expect(proposals).toEqual([
      [1, 2],
      [1, 2, 3],
    ]);
  });

  it('checks request epochs', () => {
    const { p } = setup();
    expect(p.checkEpoch(-1)).toBe(0);
    expect(p.checkEpoch(3)).toBe(0);
    expect(p.checkEpoch(2)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(p.checkEpoch(4)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });
});
