/**
 * A task: the job's topology built for one partition number, its sources (one per input topic
 * partition with that number), its stores, stream time, punctuators and metrics.
 *
 * Records are pushed through synchronously: `process()` deserializes a consumer record, advances
 * stream time and hands it to the source's stream (a Subject-like multicast); the operators downstream run before
 * `process()` returns. Output is buffered by the runtime and sent once per poll batch.
 */
import type { Observable, Subscription } from 'rxjs';
import type { ConsumerRecord, ProducerRecord, RecordHeader } from '../../core/client/types.js';
import { buildTask } from '../builder.js';
import type { PunctuationType, SourceOptions, StoreOptions, TaskContext, TaskMetrics } from '../context.js';
import { StreamsError } from '../errors.js';
import type { JobDefinition, ResolvedJobConfig } from '../job.js';
import { deserializeRange, jsonSerde, stringSerde } from '../serdes.js';
import { CachedKeyValueStore, type KeyValueStore } from '../state/kv-store.js';
import type { Serde, StreamRecord, TimestampExtractor } from '../types.js';
import { BUNDLE_HEADER, forEachEntry } from './bundle.js';
import { partitionOf, partitionOfText } from './partition-of.js';
import { SourceStream } from './source-stream.js';

interface Source {
  topic: string;
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
  extractor: TimestampExtractor | undefined;
  stream: SourceStream<StreamRecord<unknown, unknown>>;
  /** `topic\0partition`: the origin of the records this source's records make the task send. */
  origin: string;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

interface Punctuator {
  intervalMs: number;
  type: PunctuationType;
  next: number;
  fn: (timestampMs: number) => void;
}

export interface TaskStore {
  store: CachedKeyValueStore<unknown, unknown>;
  inMemory: boolean;
}

/** What a task needs from the runtime that runs it. */
export interface TaskHost {
  readonly applicationId: string;
  /** Whether `topic` is one of the job's internal repartition topics. */
  isRepartitionTopic(topic: string): boolean;
  /** Partition count of the internal topics (and of the task space). */
  partitionCount(): number;
  /** Adds a record to the repartition bundle of (topic, partition), with its origin. */
  sendBundled(
    topic: string,
    partition: number,
    key: Buffer | string | null,
    value: Buffer | string | null,
    timestamp: number,
    headers: readonly RecordHeader[],
    origin: string,
    offset: number,
    index: number,
  ): void;
  readonly config: ResolvedJobConfig;
  send(record: ProducerRecord): void;
  repartitionTopic(name: string): string;
  globalStore<K, V>(topic: string, opts: StoreOptions<K, V>): { get(key: K): V | undefined };
  matching(pattern: RegExp): string[];
  requestCommit(): void;
  log(line: string): void;
}

export class Task implements TaskContext {
  readonly taskId: string;
  readonly metrics: TaskMetrics = { recordsIn: 0, recordsOut: 0, lateRecordsDropped: 0, recordsSkipped: 0 };
  readonly sources = new Map<string, Source>();
  readonly stores = new Map<string, TaskStore>();
  private readonly sinks: Observable<unknown>[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly punctuators: Punctuator[] = [];
  private readonly streamTimeListeners: ((t: number) => void)[] = [];
  private readonly initializers: (() => Promise<void>)[] = [];
  private names = 0;
  private time = -1;
  failure: unknown = undefined;
  /** The task's commit sequence (markers in its changelogs); restored on init. */
  commitSeq = 0;
  /** Next offset to read per source topic (what a commit records). */
  readonly positions = new Map<string, number>();
  /** Positions as of the last commit, to skip commits with nothing new. */
  committedPositions = new Map<string, number>();
  /**
   * Duplicate suppression on repartition topics: per origin (input topic-partition of the task
   * that wrote the record) the last [offset, fan-out index] applied. Saved in commit markers with
   * the state, so a replay upstream after a crash is not counted twice downstream.
   */
  readonly applied = new Map<string, [number, number]>();
  /** Records skipped as replays. */
  duplicatesSkipped = 0;
  private current: ConsumerRecord | null = null;
  /** `topic\0partition` of `current` (the origin of what it makes the task send). */
  private currentOrigin = '';
  private fanout = 0;
  private sinkTopic: string | null = null;
  private sinkRepartition = false;

  constructor(
    readonly partition: number,
    private readonly host: TaskHost,
    readonly applicationId: string,
  ) {
    this.taskId = String(partition);
  }

  /** Builds the topology for this task (nothing is opened yet). */
  build(job: JobDefinition): void {
    const returned = buildTask(
      this,
      (b) => job.build(b),
      (re) => this.host.matching(re),
    );
    this.sinks.push(...returned);
  }

  /** Subscribes the sinks: records flow from here on. */
  start(): void {
    for (const sink of this.sinks) {
      this.subscriptions.push(
        sink.subscribe({
          error: (err: unknown) => {
            this.failure ??= err;
          },
        }),
      );
    }
  }

  // ------------------------------------------------------------------ TaskContext

  streamTime(): number {
    return this.time;
  }

  wallClockMs(): number {
    return Date.now();
  }

  source<K, V>(topic: string, opts: SourceOptions<K, V> = {}): Observable<StreamRecord<K, V>> {
    let s = this.sources.get(topic);
    if (!s) {
      s = {
        topic,
        keySerde: (opts.keySerde ?? stringSerde) as Serde<unknown>,
        valueSerde: (opts.valueSerde ?? stringSerde) as Serde<unknown>,
        extractor: opts.timestampExtractor,
        stream: new SourceStream(),
        origin: `${topic}\u0000${this.partition}`,
      };
      this.sources.set(topic, s);
    }
    return s.stream.observable as Observable<StreamRecord<K, V>>;
  }

  keyValueStore<K, V>(name: string, opts: StoreOptions<K, V> = {}): KeyValueStore<K, V> {
    if (!/^[A-Za-z0-9._-]{1,120}$/.test(name)) {
      throw new StreamsError('INVALID_JOB', `store name '${name}' must be letters, digits, '.', '_' or '-'`);
    }
    const existing = this.stores.get(name);
    if (existing) return existing.store as unknown as KeyValueStore<K, V>;
    const store = new CachedKeyValueStore<K, V>(
      name,
      opts.keySerde ?? jsonSerde<K>(),
      opts.valueSerde ?? jsonSerde<V>(),
      { cacheMaxEntries: this.host.config['cache.max.entries'] },
      () => this.host.requestCommit(),
    );
    this.stores.set(name, {
      store: store as unknown as CachedKeyValueStore<unknown, unknown>,
      inMemory: opts.inMemory ?? false,
    });
    return store;
  }

  globalStore<K, V>(topic: string, opts: StoreOptions<K, V> = {}): { get(key: K): V | undefined } {
    return this.host.globalStore(topic, opts);
  }

  addSink(source: Observable<unknown>): void {
    this.sinks.push(source);
  }

  /**
   * Whether `topic` is a repartition topic, remembered for the last topic asked about (a sink asks
   * for every record, and the job's topics are all known once it is built).
   */
  private isRepartition(topic: string): boolean {
    if (topic !== this.sinkTopic) {
      this.sinkTopic = topic;
      this.sinkRepartition = this.host.isRepartitionTopic(topic);
    }
    return this.sinkRepartition;
  }

  send(record: ProducerRecord): void {
    if (!this.isRepartition(record.topic)) {
      this.metrics.recordsOut++;
      this.host.send(record);
      return;
    }
    this.sendFields(
      record.topic,
      record.key ?? null,
      record.value ?? null,
      Array.isArray(record.headers) ? (record.headers as RecordHeader[]) : NO_HEADERS,
      record.timestamp ?? Date.now(),
      record.partition,
    );
  }

  sendFields(
    topic: string,
    key: Buffer | string | null,
    value: Buffer | string | null,
    headers: readonly RecordHeader[],
    timestamp: number,
    partition: number | undefined,
  ): void {
    if (!this.isRepartition(topic)) {
      this.metrics.recordsOut++;
      this.host.send({ topic, key, value, headers: headers as RecordHeader[], timestamp, partition });
      return;
    }
    this.metrics.recordsOut++;
    const cur = this.current;
    const p =
      partition ??
      (key === null
        ? this.partition
        : typeof key === 'string'
          ? partitionOfText(key, this.host.partitionCount())
          : partitionOf(key, this.host.partitionCount()));
    this.host.sendBundled(
      topic,
      p,
      key,
      value,
      timestamp,
      headers,
      cur ? this.currentOrigin : '',
      cur ? cur.offset : -1,
      this.fanout++,
    );
  }

  repartitionTopic(name: string): string {
    this.sinkTopic = null;
    return this.host.repartitionTopic(name);
  }

  uniqueName(prefix: string): string {
    return `${prefix.replace(/[^A-Za-z0-9._-]/g, '_')}-${String(++this.names).padStart(4, '0')}`;
  }

  schedule(intervalMs: number, type: PunctuationType, fn: (timestampMs: number) => void): void {
    if (!(intervalMs >= 1)) throw new StreamsError('INVALID_JOB', 'schedule(): intervalMs must be ≥ 1');
    this.punctuators.push({ intervalMs, type, next: -1, fn });
  }

  onStreamTime(fn: (streamTimeMs: number) => void): void {
    this.streamTimeListeners.push(fn);
  }

  onInit(fn: () => Promise<void>): void {
    this.initializers.push(fn);
  }

  /** Runs the operators' initializers (after restore) and subscribes the sinks. */
  async init(streamTimeMs: number): Promise<void> {
    this.time = Math.max(this.time, streamTimeMs);
    for (const fn of this.initializers) await fn();
    this.start();
  }

  // ------------------------------------------------------------------ processing

  /** Pushes one consumer record (or every entry of a repartition bundle) through the topology. */
  process(r: ConsumerRecord): void {
    this.processRun([r], 0, 1);
  }

  /**
   * process() for records[from, to), a run of one topic-partition (as a poll hands them out): the
   * source is looked up and the position recorded once for the run, not per record.
   */
  processRun(records: readonly ConsumerRecord[], from: number, to: number): void {
    if (from >= to) return;
    const topic = records[from]!.topic;
    const s = this.sources.get(topic);
    if (!s) return;
    let i = from;
    try {
      for (; i < to; i++) this.processFrom(s, records[i]!);
    } finally {
      // (a record that failed counts as processed, as it did when positions were set per record)
      this.positions.set(topic, records[Math.min(i, to - 1)]!.offset + 1);
    }
  }

  private processFrom(s: Source, r: ConsumerRecord): void {
    // One fan-out count per consumer record (a bundle's entries share its offset).
    this.fanout = 0;
    const h = r.headers;
    if (h.length > 0 && h[h.length - 1]!.key === BUNDLE_HEADER && r.value) {
      forEachEntry(
        r.value,
        (buf, keyAt, keyLength, valueAt, valueLength, timestamp, headers, origin, offset, index) => {
          if (origin !== '' && this.isReplay(origin, offset, index)) {
            this.duplicatesSkipped++;
            return;
          }
          let key: unknown;
          let value: unknown;
          try {
            // Straight from the bundle's bytes (no Buffer view per key and value with the built-in serdes).
            key = deserializeRange(s.keySerde, buf, keyAt, keyLength, r.topic);
            value = deserializeRange(s.valueSerde, buf, valueAt, valueLength, r.topic);
          } catch (err) {
            this.undeserializable(r, err);
            return;
          }
          this.push(s, r, key, value, timestamp, headers);
        },
      );
    } else {
      let key: unknown;
      let value: unknown;
      try {
        key = s.keySerde.deserialize(r.key, r.topic);
        value = s.valueSerde.deserialize(r.value, r.topic);
      } catch (err) {
        this.undeserializable(r, err);
        return;
      }
      this.push(s, r, key, value, r.timestamp, r.headers);
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** A record the source's serdes cannot read: skipped and counted, or the task fails (the handler). */
  private undeserializable(r: ConsumerRecord, err: unknown): void {
    if (this.host.config['default.deserialization.exception.handler'] === 'log-and-continue') {
      this.metrics.recordsSkipped++;
      this.host.log(
        `skipped record ${r.topic}-${r.partition}@${r.offset}: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    throw err;
  }

  private push(
    s: Source,
    r: ConsumerRecord,
    key: unknown,
    value: unknown,
    recordTimestamp: number,
    headers: RecordHeader[],
  ): void {
    const timestamp = s.extractor
      ? s.extractor(
          { key, value, timestamp: recordTimestamp, topic: r.topic, partition: r.partition },
          this.time,
        )
      : recordTimestamp;
    this.metrics.recordsIn++;
    const advanced = timestamp > this.time;
    if (advanced) this.time = timestamp;
    this.current = r;
    this.currentOrigin = s.origin;
    try {
      s.stream.next({
        key,
        value,
        timestamp,
        headers,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
      });
    } finally {
      this.current = null;
    }
    if (advanced) this.streamTimeAdvanced();
  }

  /** Whether a repartitioned entry was already applied (a replay of its origin after a crash). */
  private isReplay(origin: string, offset: number, index: number): boolean {
    const last = this.applied.get(origin);
    if (last && (offset < last[0] || (offset === last[0] && index <= last[1]))) return true;
    if (last) {
      last[0] = offset;
      last[1] = index;
    } else this.applied.set(origin, [offset, index]);
    return false;
  }

  private streamTimeAdvanced(): void {
    for (const fn of this.streamTimeListeners) fn(this.time);
    for (const p of this.punctuators) {
      if (p.type !== 'stream-time') continue;
      if (p.next < 0) p.next = this.time - (this.time % p.intervalMs) + p.intervalMs;
      if (this.time >= p.next) {
        p.fn(this.time);
        p.next = this.time - (this.time % p.intervalMs) + p.intervalMs;
      }
    }
  }

  /** Runs due wall-clock punctuators. */
  punctuateWallClock(nowMs: number): void {
    for (const p of this.punctuators) {
      if (p.type !== 'wall-clock') continue;
      if (p.next < 0) p.next = nowMs + p.intervalMs;
      if (nowMs >= p.next) {
        p.fn(nowMs);
        p.next = nowMs + p.intervalMs;
      }
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /** Whether anything changed since the last commit. */
  get hasUncommitted(): boolean {
    for (const [t, o] of this.positions) if (this.committedPositions.get(t) !== o) return true;
    for (const s of this.stores.values()) if (s.store.dirtySize > 0) return true;
    return false;
  }

  /** Stops the flow (the stores are closed by the state manager). */
  close(): void {
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions.length = 0;
    for (const s of this.sources.values()) s.stream.complete();
  }
}
