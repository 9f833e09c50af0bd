/**
 * Virtual time. Nothing sleeps: timers wait in a queue ordered by (due time, creation order)
 * and the simulator runs them one at a time, jumping the clock to each one's due time. With
 * one seeded PRNG choosing every delay, a run is a pure function of its seed.
 *
 * Each simulated process gets a NodeClock view: killing it (a crash) cancels all its timers, and
 * it may run slightly fast or slow (rate) to shake out assumptions about synchronized clocks.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';

interface Timer {
  readonly atMs: number;
  readonly seq: number;
  fn: (() => void) | null;
}

/** 2023-11-14T22:13:20Z: virtual wall-clock time starts here. */
const EPOCH_MS = 1_700_000_000_000;

export class SimClock implements Clock {
  private nowMs = 0;
  private seq = 0;
  private heap: Timer[] = [];
  private live = 0;

  now(): number {
    return EPOCH_MS + Math.floor(this.nowMs);
  }

  monotonic(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const t: Timer = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, fn };
    this.push(t);
    this.live++;
    return {
      cancel: () => {
        if (t.fn !== null) {
          t.fn = null;
          this.live--;
        }
      },
    };
  }

  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, delayMs));
  }

  /** Timers waiting to run. */
  get pending(): number {
    return this.live;
  }

  /** Due time of the next timer, or Infinity. */
  nextAtMs(): number {
    this.dropCancelled();
    return this.heap.length > 0 ? this.heap[0]!.atMs : Number.POSITIVE_INFINITY;
  }

  /** Advances to the next timer and runs it; false when none is left. */
  runNext(): boolean {
    this.dropCancelled();
    const t = this.pop();
    if (t === undefined) return false;
    const fn = t.fn!;
    t.fn = null;
    this.live--;
    this.nowMs = t.atMs;
    fn();
    return true;
  }

  /** Moves time forward to atMs without running anything (no timer may be due before). */
  advanceTo(atMs: number): void {
    if (atMs > this.nowMs && atMs <= this.nextAtMs()) this.nowMs = atMs;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.fn === null) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** One process's view of the simulated clock; kill() is a crash. */
export class NodeClock implements Clock {
  private readonly handles = new Set<TimerHandle>();
  private killed = false;
  private readonly startMs: number;

  constructor(
    private readonly sim: SimClock,
    /** Local time runs this many times as fast as simulated time (1 = exact). */
    private readonly rate = 1,
    /** Offset of this node's wall clock, ms. */
    private readonly skewMs = 0,
  ) {
    this.startMs = sim.monotonic();
  }

  now(): number {
    return this.sim.now() + this.skewMs + Math.floor((this.sim.monotonic() - this.startMs) * (this.rate - 1));
  }

  monotonic(): number {
    return this.startMs + (this.sim.monotonic() - this.startMs) * this.rate;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    if (this.killed) return { cancel: () => {} };
    let inner: TimerHandle | null = null;
    const handle: TimerHandle = {
      cancel: () => {
        this.handles.delete(handle);
        inner?.cancel();
      },
    };
    inner = this.sim.setTimeout(() => {
      this.handles.delete(handle);
      fn();
    }, delayMs / this.rate);
    this.handles.add(handle);
    return handle;
  }

  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, delayMs));
  }

  /** Cancels every timer of this process; later ones are never scheduled. */
  kill(): void {
    this.killed = true;
    for (const h of [...this.handles]) h.cancel();
    this.handles.clear();
  }
}
