/**
 * How a stateful operator reaches its task.
 *
 * The runtime builds the job's topology once per task (one task per input partition). While a
 * task's `build()` runs, that task's context is current; operators applied in `pipe()` during the
 * build take it with {@link currentContext} and so get that task's stores, producer and stream
 * time. The slot lives on `globalThis`, so that a job compiled separately (e.g. loaded by tsx)
 * and the runtime share it.
 */
import type { Observable } from 'rxjs';
import type { ProducerRecord, RecordHeader } from '../core/client/types.js';
import { StreamsError } from './errors.js';
import type { KeyValueStore } from './state/kv-store.js';
import type { Serde, StreamRecord, TimestampExtractor } from './types.js';

export interface StoreOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** Keep the store in the heap instead of LevelDB (still backed by its changelog). */
  inMemory?: boolean;
}

export interface SourceOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  timestampExtractor?: TimestampExtractor;
}

export type PunctuationType = 'stream-time' | 'wall-clock';

/** Counters a task keeps; `trib run` and the job handle show them. */
export interface TaskMetrics {
  recordsIn: number;
  recordsOut: number;
  /** Records dropped because their window had closed (stream time passed end + grace). */
  lateRecordsDropped: number;
  /** Records skipped by the deserialization error handler. */
  recordsSkipped: number;
}

export interface TaskContext {
  readonly applicationId: string;
  /** `<partition>`: the partition number every source of this task shares. */
  readonly taskId: string;
  readonly partition: number;
  readonly metrics: TaskMetrics;
  /** The largest timestamp this task has seen (-1 before the first record). */
  streamTime(): number;
  wallClockMs(): number;
  /** The records of `topic`'s partition that belongs to this task. */
  source<K, V>(topic: string, opts?: SourceOptions<K, V>): Observable<StreamRecord<K, V>>;
  /** A key-value store of this task; created on first use with this name, shared after. */
  keyValueStore<K, V>(name: string, opts?: StoreOptions<K, V>): KeyValueStore<K, V>;
  /** A lookup into a global table (every partition of a topic, on every instance). */
  globalStore<K, V>(topic: string, opts?: StoreOptions<K, V>): { get(key: K): V | undefined };
  /** Subscribes `source` once the build is complete (what `to()` and `forEach()` use). */
  addSink(source: Observable<unknown>): void;
  /** Sends a record (the task's producer); failures fail the task. */
  send(record: ProducerRecord): void;
  /** send() with the record's fields as arguments: what sinks use (no object per repartitioned record). */
  sendFields(
    topic: string,
    key: Buffer | string | null,
    value: Buffer | string | null,
    headers: RecordHeader[],
    timestamp: number,
    partition: number | undefined,
  ): void;
  /** `<application.id>-<name>-repartition`, created by the runtime with the inputs' partition count. */
  repartitionTopic(name: string): string;
  /** A name unique within the topology, the same in every task (for unnamed stores). */
  uniqueName(prefix: string): string;
  /** Calls `fn` every `intervalMs` of stream time or of wall-clock time. */
  schedule(intervalMs: number, type: PunctuationType, fn: (timestampMs: number) => void): void;
  /** Calls `fn` whenever stream time advanced (after the record that advanced it). */
  onStreamTime(fn: (streamTimeMs: number) => void): void;
  /** Runs `fn` once the task's stores are restored, before its first record (rebuild indexes). */
  onInit(fn: () => Promise<void>): void;
}

const SLOT = Symbol.for('tributary.streams.currentContext');
type Slot = { [SLOT]?: TaskContext };

/** Runs `fn` with `ctx` current (the runtime does this around each task's build). */
export function withContext<T>(ctx: TaskContext, fn: () => T): T {
  const g = globalThis as Slot;
  const previous = g[SLOT];
  g[SLOT] = ctx;
  try {
    return fn();
  } finally {
    g[SLOT] = previous;
  }
}

/** The task being built; `operator` names the caller in the error when there is none. */
export function currentContext(operator: string): TaskContext {
  const ctx = (globalThis as Slot)[SLOT];
  if (!ctx) {
    throw new StreamsError(
      'NO_TASK_CONTEXT',
      `${operator}() is stateful and must be applied inside a job's build(builder) function ` +
        '(the runtime builds the topology once per task); run the job with runJob() or `trib run`',
    );
  }
  return ctx;
}
