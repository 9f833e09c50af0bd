/**
 * What happened in a simulated run: a rolling hash over every event (message sends, deliveries,
 * drops, timers of note, faults), which must be identical when a seed is replayed, and the last
 * few hundred human-readable lines (faults, role changes, failures) to print when a check fails.
 */
export class Trace {
  private readonly ring: string[] = [];
  private next = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  events = 0;

  constructor(private readonly capacity = 300) {}

  /** A readable event (also hashed). */
  line(atMs: number, text: string): void {
    const s = `${atMs.toFixed(3).padStart(12)}ms ${text}`;
    if (this.ring.length < this.capacity) this.ring.push(s);
    else this.ring[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  /** Numbers into the hash only (cheap enough for every message). */
  mix(...values: number[]): void {
    this.events++;
    for (const v of values) {
      const x = Math.floor(v * 1000) | 0;
      this.h1 = Math.imul(this.h1 ^ x, 0x01000193) >>> 0;
      this.h2 = Math.imul(this.h2 ^ (x >>> 7) ^ this.h1, 0x85ebca6b) >>> 0;
    }
  }

  /** The identity of the run: equal digests mean the same sequence of events. */
  digest(): string {
    return `${this.h1.toString(16).padStart(8, '0')}${this.h2.toString(16).padStart(8, '0')}/${this.events}`;
  }

  tail(n = this.capacity): string[] {
    const ordered =
      this.ring.length < this.capacity
        ? [...this.ring]
        : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return ordered.slice(-n);
  }
}
