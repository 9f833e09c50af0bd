/**
 * A bounded window of in-flight work: `add` waits for the oldest entry once `limit` are
 * pending, so a fast reader never runs ahead of the producer by more than `limit` chunks.
 * The first failure is rethrown by `add` or `drain`; later ones are ignored.
 */
export class InFlightWindow {
  private readonly pending: Promise<unknown>[] = [];

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.pending.length;
  }

  async add(work: Promise<unknown>): Promise<void> {
    // Marks the promise handled now; it is awaited (and its error thrown) in turn below.
    work.catch(() => {});
    this.pending.push(work);
    while (this.pending.length > this.limit) await this.pending.shift();
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }

  /** Waits for everything, ignoring failures (used on the way out after an error). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.splice(0));
  }
}
