/**
 * Test helpers for the group coordinator: a manual clock that fires timers as virtual time
 * advances, and a harness that drives members through JoinGroup/SyncGroup/Heartbeat.
 */

import {
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type JoinGroupResponse,
  type SyncGroupResponse,
} from '../../../core/broker/group-coordinator.js';
import { type GroupStorage, MemoryGroupStorage } from '../../../core/broker/offsets-store.js';
import type { Clock, TimerHandle } from '../../../core/env/clock.js';
import { SeededRandom } from '../../../core/env/random.js';

interface Timer {
  dueMs: number;
  seq: number;
  fn: () => void;
}

/** Virtual time: `advance()` moves it forward, firing due timers in order (ties: scheduling order). */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(private readonly epochMs = 1_700_000_000_000) {}

  now(): number {
    return this.epochMs + this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const seq = ++this.seq;
    this.timers.set(seq, { dueMs: this.t + Math.max(0, delayMs), seq, fn });
    return { cancel: () => this.timers.delete(seq) };
  }

  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, delayMs));
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Advances by `ms`, firing every timer that falls due, and lets promise chains settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle();
      let next: Timer | null = null;
      for (const timer of this.timers.values()) {
        if (
          timer.dueMs <= target &&
          (!next || timer.dueMs < next.dueMs || (timer.dueMs === next.dueMs && timer.seq < next.seq))
        ) {
          next = timer;
        }
      }
      if (!next) break;
      this.timers.delete(next.seq);
      this.t = next.dueMs;
      next.fn();
    }
    this.t = target;
    await settle();
  }
}

/** Lets every pending promise chain run (the in-memory storage resolves in microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

export const CONSUMER = 'consumer';

export function protocols(...names: string[]): { name: string; metadata: Buffer }[] {
  return names.map((name) => ({ name, metadata: Buffer.from(`meta:${name}`) }));
}

export interface Harness {
  coordinator: GroupCoordinator;
  clock: ManualClock;
  storage: GroupStorage;
}

/** A loaded coordinator over in-memory storage, a manual clock and seeded randomness. */
export async function startCoordinator(
  options: {
    storage?: GroupStorage;
    clock?: ManualClock;
    config?: Partial<GroupCoordinatorConfig>;
    partitionExists?: (t: string, p: number) => boolean;
  } = {},
): Promise<Harness> {
  const clock = options.clock ?? new ManualClock();
  const storage = options.storage ?? new MemoryGroupStorage(4);
  const coordinator = new GroupCoordinator({
    storage,
    clock,
    random: new SeededRandom(42),
    config: options.config ?? {},
    ...(options.partitionExists ? { partitionExists: options.partitionExists } : {}),
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await coordinator.load();
  return { coordinator, clock, storage };
}

export interface JoinOptions {
  groupId?: string;
  memberId?: string;
  groupInstanceId?: string | null;
  protocols?: { name: string; metadata: Buffer }[];
  protocolType?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  apiVersion?: number;
  clientId?: string;
}

export function join(h: Harness, o: JoinOptions = {}): Promise<JoinGroupResponse> {
  return h.coordinator.joinGroup(
    {
      groupId: o.groupId ?? 'g',
      sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 30_000,
      memberId: o.memberId ?? '',
      groupInstanceId: o.groupInstanceId ?? null,
      protocolType: o.protocolType ?? CONSUMER,
      protocols: o.protocols ?? protocols('range'),
    },
    { apiVersion: o.apiVersion ?? 5, clientId: o.clientId ?? 'client', clientHost: '/127.0.0.1' },
  );
}

/** A v4+ join: the MEMBER_ID_REQUIRED round trip, then the real join (still pending until the rebalance completes). */
export async function joinNew(
  h: Harness,
  o: JoinOptions = {},
): Promise<{ memberId: string; joined: Promise<JoinGroupResponse> }> {
  const first = await join(h, { ...o, memberId: '' });
  if (first.errorCode !== 79) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  return { memberId: first.memberId, joined: join(h, { ...o, memberId: first.memberId }) };
}

export function sync(
  h: Harness,
  memberId: string,
  generationId: number,
  assignments: Record<string, string> = {},
  groupId = 'g',
  groupInstanceId: string | null = null,
): Promise<SyncGroupResponse> {
  return h.coordinator.syncGroup({
    groupId,
    generationId,
    memberId,
    groupInstanceId,
    assignments: Object.entries(assignments).map(([id, a]) => ({ memberId: id, assignment: Buffer.from(a) })),
  });
}

export async function heartbeat(
  h: Harness,
  memberId: string,
  generationId: number,
  groupId = 'g',
  groupInstanceId: string | null = null,
): Promise<number> {
  const r = await h.coordinator.heartbeat({ groupId, generationId, memberId, groupInstanceId });
  return r.errorCode;
}

/** Advances the clock a second at a time until `p` settles (at most a virtual minute). */
export async function advanceUntil<T>(h: Harness, p: Promise<T>): Promise<T> {
  for (let i = 0; i < 60 && !(await isSettled(p)); i++) await h.clock.advance(1000);
  return p;
}

/** Whether a promise has settled (after letting pending work run). */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await settle();
  return done;
}

/** Forms a Stable group of the given members (v5 joins, leader assigns `a:<memberId>`). */
export async function stableGroup(
  h: Harness,
  count: number,
  o: JoinOptions = {},
): Promise<{ memberIds: string[]; generationId: number; leader: string }> {
  const pending: Promise<JoinGroupResponse>[] = [];
  for (let i = 0; i < count; i++) {
    const { joined } = await joinNew(h, { ...o, clientId: `c${i}` });
    pending.push(joined);
  }
  const joins = await advanceUntil(h, Promise.all(pending));
  const generationId = joins[0]!.generationId;
  const leader = joins[0]!.leader;
  const memberIds = joins.map((j) => j.memberId);
  const assignments = Object.fromEntries(memberIds.map((id) => [id, `a:${id}`]));
  const syncs = await Promise.all(
    memberIds.map((id) => sync(h, id, generationId, id === leader ? assignments : {}, o.groupId ?? 'g')),
  );
  for (const s of syncs) if (s.errorCode !== 0) throw new Error(`sync failed: ${s.errorCode}`);
  return { memberIds, generationId, leader };
}
