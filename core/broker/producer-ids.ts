/**
 * Producer id allocation for idempotent producers (InitProducerId). Ids are handed out from
 * blocks of 1000.
 *
 * - **One node**: blocks come from the data directory. The end of the current block is persisted
 *   before any id of it is used, so a restart (even after kill -9) never hands out an id twice.
 * - **A cluster** (a `ProducerIdBlockSource`, i.e. RaftClusterView): blocks come from the active
 *   controller (`allocateProducerIds`), which commits each one to the metadata log, so no two
 *   brokers ever hand out the same id. The next block is fetched once the current one is 90%
 *   used; while the broker has no block (before its registration, while no controller answers)
 *   a request waits up to `waitMs` and then gets ProducerIdsUnavailableError, which InitProducerId
 *   answers with the retriable COORDINATOR_LOAD_IN_PROGRESS. The file below still records the end
 *   of every block received and is sent as the lowest acceptable id, so a data directory that gave
 *   out ids as a single node never sees them again in a cluster, nor the cluster's ids back on
 *   one node.
 *
 * File `producer-ids.json` in the data directory: {"version":1,"nextBlockStart":N}.
 */
import * as path from 'node:path';
import { type Clock, systemClock } from '../env/clock.js';
import type { FileSystem } from '../env/fs.js';

const BLOCK_SIZE = 1000;
const FILE = 'producer-ids.json';
/** Fetch the next cluster block once this many tenths of the current one are used. */
const PREFETCH_TENTHS = 9;

export interface ProducerIdBlock {
  /** The block is [firstProducerId, firstProducerId + size). */
  readonly firstProducerId: number;
  readonly size: number;
}

/** Where a broker of a cluster gets producer id blocks: the active controller. */
export interface ProducerIdBlockSource {
  /** A new block, starting at minProducerId or above. Rejects when no controller gave one. */
  allocateProducerIds(minProducerId: number): Promise<ProducerIdBlock>;
}

export function isProducerIdBlockSource(v: unknown): v is ProducerIdBlockSource {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { allocateProducerIds?: unknown }).allocateProducerIds === 'function'
  );
}

/** No producer id block is available yet (retriable). */
export class ProducerIdsUnavailableError extends Error {
  override readonly name = 'ProducerIdsUnavailableError';
}

export interface ProducerIdManagerOptions {
  /** Cluster mode: blocks from the controller. Absent: from the data directory. */
  readonly blocks?: ProducerIdBlockSource;
  readonly clock?: Clock;
  /** How long a request waits for a block before ProducerIdsUnavailableError. Default 2000. */
  readonly waitMs?: number;
  /** A failed block request, once per failure streak. */
  readonly log?: (msg: string) => void;
}

export class ProducerIdManager {
  private next: number;
  private blockStart: number;
  private blockEnd: number;
  /** Cluster mode: the highest block end recorded in the file (the next request's minimum). */
  private persistedEnd: number;
  private prefetched: ProducerIdBlock | null = null;
  private fetching: Promise<void> | null = null;
  private failing = false;
  private closed = false;
  private readonly clock: Clock;

  constructor(
    private readonly fs: FileSystem,
    private readonly dataDir: string,
    private readonly opts: ProducerIdManagerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    const file = path.join(dataDir, FILE);
    let start = 0;
    if (fs.exists(file)) {
      const parsed = JSON.parse(fs.readFile(file).toString('utf8')) as { nextBlockStart?: unknown };
      if (typeof parsed.nextBlockStart !== 'number' || !Number.isSafeInteger(parsed.nextBlockStart)) {
        throw new Error(`${file} is corrupt: expected {"version":1,"nextBlockStart":N}`);
      }
      start = parsed.nextBlockStart;
    }
    this.next = start;
    this.blockStart = start;
    this.blockEnd = start;
    this.persistedEnd = start;
  }

  /**
   * A producer id never handed out before, by this data directory or (in a cluster) by any
   * broker. Synchronous while the current block lasts; in a cluster without a block, a promise
   * that rejects with ProducerIdsUnavailableError if none arrives within waitMs.
   */
  nextProducerId(): number | Promise<number> {
    if (this.opts.blocks === undefined) return this.nextLocal();
    const id = this.takeClustered();
    if (id !== null) return id;
    return this.waitForBlock();
  }

  /** Stops fetching blocks (the broker is closing). */
  close(): void {
    this.closed = true;
  }

  private nextLocal(): number {
    if (this.next >= this.blockEnd) {
      this.blockEnd = this.next + BLOCK_SIZE;
      this.persist(this.blockEnd);
    }
    return this.next++;
  }

  private persist(end: number): void {
    const body = JSON.stringify({ version: 1, nextBlockStart: end });
    this.fs.writeFileAtomic(path.join(this.dataDir, FILE), Buffer.from(body));
  }

  /** The next id of the current (or prefetched) cluster block, or null; starts fetches as needed. */
  private takeClustered(): number | null {
    if (this.next >= this.blockEnd && this.prefetched !== null) {
      this.next = this.prefetched.firstProducerId;
      this.blockStart = this.next;
      this.blockEnd = this.next + this.prefetched.size;
      this.prefetched = null;
    }
    if (this.next >= this.blockEnd) {
      this.fetch();
      return null;
    }
    const id = this.next++;
    const used = this.next - this.blockStart;
    if (this.prefetched === null && used * 10 >= (this.blockEnd - this.blockStart) * PREFETCH_TENTHS)
      this.fetch();
    return id;
  }

  private fetch(): void {
    if (this.fetching !== null || this.closed) return;
    const blocks = this.opts.blocks!;
    this.fetching = (async () => {
      try {
        const block = await blocks.allocateProducerIds(this.persistedEnd);
        if (
          !Number.isSafeInteger(block.firstProducerId) ||
          block.firstProducerId < this.persistedEnd ||
          !Number.isSafeInteger(block.size) ||
          block.size <= 0
        ) {
          throw new Error(`the controller sent a bad block ${JSON.stringify(block)}`);
        }
        if (this.closed) return;
        const end = block.firstProducerId + block.size;
        // recorded before any id of it is used: this directory never hands one out again
        this.persist(end);
        this.persistedEnd = end;
        this.prefetched = block;
        if (this.failing) this.opts.log?.('producer ids: got a block from the controller again');
        this.failing = false;
      } catch (err) {
        if (!this.failing && !this.closed) {
          this.opts.log?.(`producer ids: no block from the controller yet: ${(err as Error).message}`);
        }
        this.failing = true;
      } finally {
        this.fetching = null;
      }
    })();
  }

  private async waitForBlock(): Promise<number> {
    const deadline = this.clock.monotonic() + (this.opts.waitMs ?? 2000);
    for (;;) {
      const id = this.takeClustered();
      if (id !== null) return id;
      const fetching = this.fetching;
      const left = deadline - this.clock.monotonic();
      if (fetching === null || left <= 0 || this.closed) {
        throw new ProducerIdsUnavailableError('no producer id block from the controller yet');
      }
      let timer: { cancel(): void } | undefined;
      await Promise.race([
        fetching,
        new Promise<void>((resolve) => {
          timer = this.clock.setTimeout(resolve, left);
        }),
      ]);
      timer?.cancel();
      // a failed fetch leaves no block and no fetch in flight: the next call starts another
      if (this.fetching === null && this.prefetched === null && this.next >= this.blockEnd) {
        throw new ProducerIdsUnavailableError('no producer id block from the controller yet');
      }
    }
  }
}
