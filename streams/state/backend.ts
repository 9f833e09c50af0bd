/**
 * Where a store's bytes live: LevelDB (via `level`, on disk under the state directory) or a
 * sorted in-memory map. Reads are synchronous (`getSync`, served by LevelDB's block cache), so
 * that operators stay plain synchronous RxJS; writes arrive in batches, once per commit.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { Level } from 'level';

export interface BackendWrite {
  key: Buffer;
  /** null deletes the key. */
  value: Buffer | null;
}

export interface StoreBackend {
  readonly persistent: boolean;
  getSync(key: Buffer): Buffer | undefined;
  /** Applies the writes atomically (one LevelDB batch). */
  write(ops: readonly BackendWrite[]): Promise<void>;
  /** Every entry in key order (bytes). */
  entries(): AsyncIterable<[Buffer, Buffer]>;
  close(): Promise<void>;
}

export class MemoryBackend implements StoreBackend {
  readonly persistent = false;
  private readonly map = new Map<string, [Buffer, Buffer]>();

  getSync(key: Buffer): Buffer | undefined {
    return this.map.get(key.toString('latin1'))?.[1];
  }

  async write(ops: readonly BackendWrite[]): Promise<void> {
    for (const op of ops) {
      const k = op.key.toString('latin1');
      if (op.value === null) this.map.delete(k);
      else this.map.set(k, [op.key, op.value]);
    }
  }

  async *entries(): AsyncIterable<[Buffer, Buffer]> {
    const sorted = [...this.map.values()].sort((a, b) => Buffer.compare(a[0], b[0]));
    for (const e of sorted) yield e;
  }

  async close(): Promise<void> {
    this.map.clear();
  }
}

export class LevelBackend implements StoreBackend {
  readonly persistent = true;

  private constructor(private readonly db: Level<Buffer, Buffer>) {}

  /** Opens (creating) the database in `dir`; `wipe` deletes what was there first. */
  static async open(dir: string, wipe: boolean): Promise<LevelBackend> {
    if (wipe) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return new LevelBackend(db);
  }

  getSync(key: Buffer): Buffer | undefined {
    return this.db.getSync(key);
  }

  async write(ops: readonly BackendWrite[]): Promise<void> {
    if (ops.length === 0) return;
    await this.db.batch(
      ops.map((op) =>
        op.value === null
          ? { type: 'del' as const, key: op.key }
          : { type: 'put' as const, key: op.key, value: op.value },
      ),
    );
  }

  async *entries(): AsyncIterable<[Buffer, Buffer]> {
    for await (const [k, v] of this.db.iterator()) yield [k, v];
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
