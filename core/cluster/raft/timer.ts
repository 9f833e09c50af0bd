/**
 * A re-settable deadline over the injected Clock. Moving the deadline later (every heartbeat
 * received pushes the election deadline) costs no timer churn: the armed timer fires, sees the
 * deadline moved, and re-arms once.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';

export class Deadline {
  private handle: TimerHandle | null = null;
  private armedForMs = Number.POSITIVE_INFINITY;
  private deadlineMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {}

  get atMs(): number {
    return this.deadlineMs;
  }

  /** Fires at monotonic time atMs (replacing any earlier setting). */
  set(atMs: number): void {
    this.deadlineMs = atMs;
    if (this.handle !== null && this.armedForMs <= atMs) return;
    this.handle?.cancel();
    this.arm();
  }

  /** Fires delayMs from now. */
  after(delayMs: number): void {
    this.set(this.clock.monotonic() + delayMs);
  }

  cancel(): void {
    this.deadlineMs = Number.POSITIVE_INFINITY;
    this.handle?.cancel();
    this.handle = null;
  }

  private arm(): void {
    this.armedForMs = this.deadlineMs;
    this.handle = this.clock.setTimeout(
      () => this.onTimer(),
      Math.max(0, this.deadlineMs - this.clock.monotonic()),
    );
  }

  private onTimer(): void {
    this.handle = null;
    if (this.deadlineMs === Number.POSITIVE_INFINITY) return;
    if (this.clock.monotonic() >= this.deadlineMs) {
      this.deadlineMs = Number.POSITIVE_INFINITY;
      this.fire();
    } else {
      this.arm();
    }
  }
}
