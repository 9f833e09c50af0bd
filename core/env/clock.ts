/**
 * Time, injected. Production code never calls Date.now() or setTimeout directly so that the
 * cluster can run under a deterministic simulation (virtual time, one seeded PRNG).
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention). */
  now(): number;
  /** Monotonic milliseconds (timeouts, rates); never goes backwards. */
  monotonic(): number;
  /** Runs fn once after delayMs. The handle cancels it. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Resolves after delayMs. */
  sleep(delayMs: number): Promise<void>;
}

class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return performance.now();
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const t = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(t) };
  }
  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

export const systemClock: Clock = new SystemClock();
