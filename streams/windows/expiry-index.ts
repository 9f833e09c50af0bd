/**
 * Which windows are still open, by the stream time at which they close: what "emit final results"
 * and window retention walk when stream time advances. Held in memory (bounded by `maxEntries`)
 * and rebuilt from the store when a task starts.
 */
import { StreamsError } from '../errors.js';

export class ExpiryIndex<T> {
  private readonly byTime = new Map<number, Map<string, T>>();
  /** Close times in ascending order. */
  private times: number[] = [];
  private size = 0;

  constructor(
    private readonly what: string,
    private readonly maxEntries: number,
  ) {}

  add(closeAt: number, id: string, item: T): void {
    let m = this.byTime.get(closeAt);
    if (!m) {
      m = new Map();
      this.byTime.set(closeAt, m);
      let lo = 0;
      let hi = this.times.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.times[mid]! < closeAt) lo = mid + 1;
        else hi = mid;
      }
      this.times.splice(lo, 0, closeAt);
    }
    if (!m.has(id)) {
      if (this.size >= this.maxEntries) {
        throw new StreamsError(
          'STORE_LIMIT',
          `${this.what}: more than ${this.maxEntries} open windows; shorten the windows or the grace`,
        );
      }
      this.size++;
    }
    m.set(id, item);
  }

  remove(closeAt: number, id: string): void {
    const m = this.byTime.get(closeAt);
    if (m?.delete(id)) this.size--;
  }

  /** Removes and returns what closes at or before `time`, in close-time order. */
  due(time: number): { closeAt: number; item: T }[] {
    const out: { closeAt: number; item: T }[] = [];
    let n = 0;
    while (n < this.times.length && this.times[n]! <= time) {
      const t = this.times[n]!;
      for (const item of this.byTime.get(t)!.values()) out.push({ closeAt: t, item });
      this.size -= this.byTime.get(t)!.size;
      this.byTime.delete(t);
      n++;
    }
    if (n > 0) this.times = this.times.slice(n);
    return out;
  }
}
