/**
 * What a job's `build(builder)` receives: sources (streams, tables, global tables) of the task
 * being built, and that task's context.
 */
import { merge, Observable, Subject } from 'rxjs';
import type { SourceOptions, StoreOptions, TaskContext } from './context.js';
import { withContext } from './context.js';
import { StreamsError } from './errors.js';
import type { BuildResult } from './job.js';
import { jsonSerde, stringSerde } from './serdes.js';
import type { Serde, StreamRecord, TableRecord } from './types.js';

/** A table: its changelog stream of updates, and lookups by key into its store. */
export interface Table<K, V> extends Observable<TableRecord<K, V>> {
  readonly storeName: string;
  /** The key serde of the table's topic (how its records were partitioned). */
  readonly keySerde: Serde<K>;
  get(key: K): V | undefined;
}

/** A global table: every partition of a topic on every instance; lookups only. */
export interface GlobalTable<K, V> {
  readonly topic: string;
  get(key: K): V | undefined;
}

export interface TableOptions<K, V> extends SourceOptions<K, V>, StoreOptions<K, V> {
  store?: string;
}

export interface StreamsBuilder {
  readonly context: TaskContext;
  /** The records of one topic, several, or every topic matching a pattern (when the job starts). */
  stream<K = string, V = string>(
    topics: string | readonly string[] | RegExp,
    opts?: SourceOptions<K, V>,
  ): Observable<StreamRecord<K, V>>;
  /** A topic read as a table: the latest value per key, kept in a store (null values delete). */
  table<K = string, V = string>(topic: string, opts?: TableOptions<K, V>): Table<K, V>;
  /** A topic replicated whole to every instance, for lookups (stream–global-table joins). */
  globalTable<K = string, V = string>(topic: string, opts?: StoreOptions<K, V>): GlobalTable<K, V>;
}

export class TaskBuilder implements StreamsBuilder {
  constructor(
    readonly context: TaskContext,
    /** Resolves a pattern to the topics it matched when the job started. */
    private readonly matching: (pattern: RegExp) => string[],
  ) {}

  stream<K = string, V = string>(
    topics: string | readonly string[] | RegExp,
    opts: SourceOptions<K, V> = {},
  ): Observable<StreamRecord<K, V>> {
    const names =
      topics instanceof RegExp ? this.matching(topics) : typeof topics === 'string' ? [topics] : topics;
    if (names.length === 0) {
      throw new StreamsError(
        'INVALID_JOB',
        `stream(${String(topics)}): no topic matches; create the input topics first`,
      );
    }
    const withDefaults: SourceOptions<K, V> = {
      keySerde: opts.keySerde ?? (stringSerde as unknown as Serde<K>),
      valueSerde: opts.valueSerde ?? (stringSerde as unknown as Serde<V>),
      ...(opts.timestampExtractor ? { timestampExtractor: opts.timestampExtractor } : {}),
    };
    const sources = names.map((t) => this.context.source<K, V>(t, withDefaults));
    return sources.length === 1 ? sources[0]! : merge(...sources);
  }

  table<K = string, V = string>(topic: string, opts: TableOptions<K, V> = {}): Table<K, V> {
    const ctx = this.context;
    const keySerde = opts.keySerde ?? (stringSerde as unknown as Serde<K>);
    const valueSerde = opts.valueSerde ?? (stringSerde as unknown as Serde<V>);
    const storeName = opts.store ?? ctx.uniqueName(`table-${topic}`);
    const store = ctx.keyValueStore<K, V>(storeName, {
      keySerde: jsonSerde<K>(),
      valueSerde: jsonSerde<V>(),
      ...(opts.inMemory !== undefined ? { inMemory: opts.inMemory } : {}),
    });
    const updates = new Subject<TableRecord<K, V>>();
    const source = ctx.source<K, V>(topic, {
      keySerde,
      valueSerde,
      ...(opts.timestampExtractor ? { timestampExtractor: opts.timestampExtractor } : {}),
    });
    ctx.addSink(
      new Observable<never>((sub) =>
        source.subscribe({
          next(r) {
            if (r.key === null || r.key === undefined) return;
            const old = store.get(r.key) ?? null;
            if (r.value === null || r.value === undefined) store.delete(r.key);
            else store.put(r.key, r.value);
            updates.next({ ...r, value: r.value ?? null, oldValue: old });
          },
          error: (e: unknown) => sub.error(e),
          complete: () => sub.complete(),
        }),
      ),
    );
    return Object.assign(updates.asObservable(), {
      storeName,
      keySerde,
      get: (key: K) => store.get(key),
    });
  }

  globalTable<K = string, V = string>(topic: string, opts: StoreOptions<K, V> = {}): GlobalTable<K, V> {
    const lookup = this.context.globalStore<K, V>(topic, opts);
    return { topic, get: (key: K) => lookup.get(key) };
  }
}

/** Runs a job's build for one task and returns what it asked to subscribe. */
export function buildTask(
  ctx: TaskContext,
  build: (b: StreamsBuilder) => BuildResult,
  matching: (pattern: RegExp) => string[],
): Observable<unknown>[] {
  return withContext(ctx, () => {
    const result = build(new TaskBuilder(ctx, matching));
    if (!result) return [];
    return Array.isArray(result) ? [...(result as Observable<unknown>[])] : [result as Observable<unknown>];
  });
}
