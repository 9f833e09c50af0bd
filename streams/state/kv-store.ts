/**
 * The key-value store operators use: synchronous get/put/delete over a bounded cache in front of
 * a {@link StoreBackend} (LevelDB or memory).
 *
 * Writes stay in the cache as dirty entries until the task commits; the commit protocol takes
 * them ({@link CachedKeyValueStore.dirtyWrites}), sends them to the changelog, writes them to the
 * backend in one batch and marks them clean. Clean entries are evicted oldest first beyond
 * `cacheMaxEntries`; dirty entries cannot be evicted, so when they reach the limit the store asks
 * its task for an early commit — memory stays bounded and state lives in the backend.
 */
import { StreamsError } from '../errors.js';
import type { Serde } from '../types.js';
import type { BackendWrite, StoreBackend } from './backend.js';

export interface KeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): void;
  /** Every entry, in key-bytes order (committed entries merged with uncommitted ones). */
  all(): AsyncIterable<[K, V]>;
}

interface Entry<K, V> {
  key: K;
  /** undefined: the key is absent. */
  value: V | undefined;
  dirty: boolean;
}

export interface StoreLimits {
  /** Entries kept in the heap (clean and dirty together). */
  cacheMaxEntries: number;
}

export class CachedKeyValueStore<K, V> implements KeyValueStore<K, V> {
  private readonly cache = new Map<string, Entry<K, V>>();
  private dirtyCount = 0;
  backend: StoreBackend | null = null;

  constructor(
    readonly name: string,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    private readonly limits: StoreLimits,
    /** Called when dirty entries fill the cache: the task should commit soon. */
    private readonly onFull: () => void,
  ) {}

  private ck(key: K): string {
    if (typeof key === 'string') return key;
    const bytes = this.keySerde.serialize(key, this.name);
    return bytes === null ? '\u0001null' : `\u0001${bytes.toString('latin1')}`;
  }

  private open(): StoreBackend {
    if (!this.backend)
      throw new StreamsError('STORE_CLOSED', `store '${this.name}' is not open (its task is not running)`);
    return this.backend;
  }

  get(key: K): V | undefined {
    const ck = this.ck(key);
    const hit = this.cache.get(ck);
    if (hit) return hit.value;
    const bytes = this.open().getSync(this.keyBytes(key));
    const value = bytes === undefined ? undefined : this.valueSerde.deserialize(bytes, this.name);
    this.cache.set(ck, { key, value, dirty: false });
    if (this.cache.size > this.limits.cacheMaxEntries) this.evict();
    return value;
  }

  put(key: K, value: V): void {
    this.set(key, value === null ? undefined : value);
  }

  delete(key: K): void {
    this.set(key, undefined);
  }

  private set(key: K, value: V | undefined): void {
    const ck = this.ck(key);
    const e = this.cache.get(ck);
    if (e) {
      e.value = value;
      if (!e.dirty) {
        e.dirty = true;
        this.dirtyCount++;
      }
    } else {
      this.cache.set(ck, { key, value, dirty: true });
      this.dirtyCount++;
      if (this.cache.size > this.limits.cacheMaxEntries) this.evict();
    }
    if (this.dirtyCount >= this.limits.cacheMaxEntries) this.onFull();
  }

  private evict(): void {
    const target = Math.floor(this.limits.cacheMaxEntries * 0.9);
    for (const [ck, e] of this.cache) {
      if (this.cache.size <= target) break;
      if (!e.dirty) this.cache.delete(ck);
    }
  }

  private keyBytes(key: K): Buffer {
    const b = this.keySerde.serialize(key, this.name);
    if (b === null) throw new StreamsError('SERDE_FAILED', `store '${this.name}': a key serialized to null`);
    return b;
  }

  get dirtySize(): number {
    return this.dirtyCount;
  }

  /** The uncommitted writes, as bytes (they stay dirty until {@link markClean}). */
  dirtyWrites(): BackendWrite[] {
    const out: BackendWrite[] = [];
    for (const e of this.cache.values()) {
      if (!e.dirty) continue;
      out.push({
        key: this.keyBytes(e.key),
        value: e.value === undefined ? null : this.valueSerde.serialize(e.value, this.name),
      });
    }
    return out;
  }

  markClean(): void {
    for (const e of this.cache.values()) e.dirty = false;
    this.dirtyCount = 0;
    if (this.cache.size > this.limits.cacheMaxEntries) this.evict();
  }

  /** Marks a key dirty with its current value (re-sent to the changelog at the next commit). */
  touch(keyBytes: Buffer): void {
    const key = this.keySerde.deserialize(keyBytes, this.name);
    this.set(key, this.get(key));
  }

  /** Drops the cache (after the backend changed underneath, or on close). */
  reset(): void {
    this.cache.clear();
    this.dirtyCount = 0;
  }

  async *all(): AsyncIterable<[K, V]> {
    const seen = new Set<string>();
    const dirty = [...this.cache.values()].filter((e) => e.dirty);
    for (const e of dirty) seen.add(this.keyBytes(e.key).toString('latin1'));
    for await (const [k, v] of this.open().entries()) {
      if (seen.has(k.toString('latin1'))) continue;
      yield [this.keySerde.deserialize(k, this.name), this.valueSerde.deserialize(v, this.name)];
    }
    for (const e of dirty) if (e.value !== undefined) yield [e.key, e.value];
  }
}
