/**
 * The runtime of one instance of a job: a consumer in the group `application.id` (range
 * assignment, so the same partition number of every input comes to one instance: a task), one
 * producer, the tasks of the partitions this instance holds, and the loop that feeds them.
 *
 * The loop: poll → push each record through its task (synchronously) → send the output in one
 * batch → punctuate → commit every commit.interval.ms (commit.ts). Rebalances happen inside poll:
 * revoked tasks commit and close their stores; assigned tasks restore theirs (restore.ts) and
 * seek their inputs to the last complete commit. Back-pressure: while more than
 * max.in.flight.records output records are unacknowledged, every partition is paused.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import type { SchedulerLike } from 'rxjs';
import type {
  Consumer,
  KafkaClient,
  Producer,
  ProducerRecord,
  RecordHeader,
  TopicPartition,
} from '../../core/client/types.js';
import type { StoreOptions } from '../context.js';
import { StreamsError } from '../errors.js';
import { type JobConfig, type JobDefinition, type ResolvedJobConfig, resolveJobConfig } from '../job.js';
import { CommitProtocol, taskDirOf } from './commit.js';
import { GlobalTableStore } from './global-table.js';
import { Output } from './output.js';
import { type InstanceInfo, instances, type QueryHost, startQueryServer } from './query-server.js';
import { restoreTask } from './restore.js';
import { Task, type TaskHost } from './task.js';
import { changelogTopicName, ensureTopics, inputPartitionCounts, repartitionTopicName } from './topics.js';

const POLL_MS = 50;
const GLOBAL_TABLE_MAX_ENTRIES = 1_000_000;

export type RuntimeEvent =
  | { type: 'started'; inputs: string[]; partitions: number }
  | { type: 'assigned'; tasks: number[] }
  | { type: 'revoked'; tasks: number[] }
  | { type: 'restore'; task: number; store: string; restored: number; total: number }
  | { type: 'commit'; tasks: number }
  | { type: 'log'; message: string };

export interface RunJobOptions {
  client: KafkaClient;
  /** Where LevelDB stores live: `<stateDir>/<application.id>/<partition>/<store>`. Default ./.trib-state. */
  stateDir?: string;
  /** Overrides the job's application id (run the same job twice side by side). */
  applicationId?: string;
  /** Overrides of the job's config. */
  config?: JobConfig;
  onEvent?(event: RuntimeEvent): void;
  /** The wall clock of wall-clock punctuation (an RxJS scheduler; e.g. a TestScheduler). Default Date.now. */
  scheduler?: SchedulerLike;
}

export interface JobMetrics {
  recordsIn: number;
  recordsOut: number;
  lateRecordsDropped: number;
  recordsSkipped: number;
  commits: number;
  tasks: number[];
  /** Stream time per task. */
  streamTimeMs: Record<string, number>;
}

export class StreamsRuntime implements TaskHost {
  readonly applicationId: string;
  readonly config: ResolvedJobConfig;
  readonly stateDir: string;
  private consumer!: Consumer;
  private restoreConsumer!: Consumer;
  private producer!: Producer;
  private commits!: CommitProtocol;
  readonly tasks = new Map<number, Task>();
  private readonly byPartition = new Map<string, Task>();
  private readonly globals = new Map<string, GlobalTableStore>();
  private readonly repartitions = new Set<string>();
  private sourceTopics: string[] = [];
  private patternTopics: string[] = [];
  private output!: Output;
  private commitRequested = false;
  private lastCommitAt = Date.now();
  private stopping = false;
  private failure: unknown = undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private partitionCount_ = 1;
  private server: Server | null = null;
  /** host:port of the interactive-query endpoint, when `application.server` is set. */
  endpoint: string | null = null;
  private readonly totals = { recordsIn: 0, recordsOut: 0, lateRecordsDropped: 0, recordsSkipped: 0 };

  constructor(
    private readonly job: JobDefinition,
    private readonly opts: RunJobOptions,
  ) {
    this.applicationId = opts.applicationId ?? job.applicationId;
    this.config = resolveJobConfig({ ...job.config, ...opts.config });
    this.stateDir = resolve(opts.stateDir ?? '.trib-state');
  }

  // ------------------------------------------------------------------ TaskHost

  send(record: ProducerRecord): void {
    this.output.send(record);
  }

  repartitionTopic(name: string): string {
    const topic = repartitionTopicName(this.applicationId, name);
    this.repartitions.add(topic);
    return topic;
  }

  isRepartitionTopic(topic: string): boolean {
    return this.repartitions.has(topic);
  }

  partitionCount(): number {
    return this.partitionCount_;
  }

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
  ): void {
    this.output.sendBundled(topic, partition, key, value, timestamp, headers, origin, offset, index);
  }

  globalStore<K, V>(topic: string, opts: StoreOptions<K, V>): { get(key: K): V | undefined } {
    let g = this.globals.get(topic);
    if (!g) {
      g = new GlobalTableStore(topic, GLOBAL_TABLE_MAX_ENTRIES);
      this.globals.set(topic, g);
    }
    return g.lookup(opts.keySerde, opts.valueSerde);
  }

  matching(pattern: RegExp): string[] {
    return this.patternTopics.filter((t) => pattern.test(t));
  }

  requestCommit(): void {
    this.commitRequested = true;
  }

  log(message: string): void {
    this.opts.onEvent?.({ type: 'log', message });
  }

  changelogTopic(store: string): string {
    return changelogTopicName(this.applicationId, store);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts the instance; on failure everything it opened is closed again. */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      this.stopping = true;
      // (assigned in open(); undefined when it failed before)
      const opened = [this.consumer, this.producer, this.restoreConsumer] as (
        | { close(): Promise<void> }
        | undefined
      )[];
      for (const c of opened) await c?.close().catch(() => undefined);
      for (const g of this.globals.values()) await g.close().catch(() => undefined);
      const server = this.server;
      if (server) await new Promise<void>((r) => server.close(() => r()));
      throw err;
    }
  }

  private async open(): Promise<void> {
    const { client } = this.opts;
    const admin = client.admin();
    let partitions = 1;
    let storeNames: string[] = [];
    try {
      this.patternTopics = (await admin.listTopics()).filter((t) => !t.startsWith(`${this.applicationId}-`));
      // A probe build (partition 0) tells which topics the topology reads and which stores it has.
      const probe = new Task(0, this, this.applicationId);
      probe.build(this.job);
      const sources = [...probe.sources.keys()];
      const inputs = sources.filter((t) => !this.repartitions.has(t));
      const counts = await inputPartitionCounts(admin, inputs);
      partitions = Math.max(1, ...counts.values());
      this.partitionCount_ = partitions;
      storeNames = [...probe.stores.keys()];
      await ensureTopics(
        admin,
        [
          ...[...this.repartitions].map((topic) => ({ topic, partitions, compact: false })),
          ...storeNames.map((s) => ({ topic: this.changelogTopic(s), partitions, compact: true })),
        ],
        (m) => this.log(m),
      );
      this.sourceTopics = sources;
      this.opts.onEvent?.({ type: 'started', inputs, partitions });
    } finally {
      await admin.close();
    }
    for (const g of this.globals.values()) await g.start(client);
    const server = this.config['application.server'];
    if (server) {
      const started = await startQueryServer(server, () => this.queryHost());
      this.server = started.server;
      this.endpoint = `${started.hostname}:${started.port}`;
    }
    mkdirSync(this.stateDir, { recursive: true });
    this.producer = client.producer({
      'client.id': `${this.applicationId}-producer`,
      'linger.ms': 5,
      'batch.size': 262_144,
      ...this.config.producer,
    });
    this.output = new Output(this.producer, this.config['max.in.flight.records']);
    this.restoreConsumer = client.consumer({
      'client.id': `${this.applicationId}-restore`,
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
      'max.poll.records': 10_000,
    });
    this.consumer = client.consumer({
      'auto.offset.reset': 'earliest',
      'max.poll.records': this.config['max.poll.records'],
      'session.timeout.ms': 6000,
      'heartbeat.interval.ms': 1000,
      'rebalance.timeout.ms': 30_000,
      ...this.config.consumer,
      'group.id': this.applicationId,
      'enable.auto.commit': false,
      'partition.assignment.strategy': 'range',
      ...(this.endpoint ? { 'client.id': `${this.applicationId}@${this.endpoint}` } : {}),
    });
    this.commits = new CommitProtocol({
      producer: this.producer,
      consumer: this.consumer,
      taskDir: (t) => taskDirOf(this.stateDir, this.applicationId, t.partition),
      changelogTopic: (s) => this.changelogTopic(s),
      flushOutput: () => this.output.flush(),
    });
    await this.consumer.subscribe(this.sourceTopics, {
      onPartitionsAssigned: (tps) => this.assigned(tps),
      onPartitionsRevoked: (tps) => this.revoked(tps),
      onPartitionsLost: (tps) => this.revoked(tps, false),
    });
    this.loopDone = this.loop();
  }

  private async assigned(tps: TopicPartition[]): Promise<void> {
    const byNumber = new Map<number, TopicPartition[]>();
    for (const tp of tps) byNumber.set(tp.partition, [...(byNumber.get(tp.partition) ?? []), tp]);
    for (const [p, list] of [...byNumber].sort((a, b) => a[0] - b[0])) {
      let task = this.tasks.get(p);
      if (!task) {
        task = new Task(p, this, this.applicationId);
        task.build(this.job);
        const marker = await restoreTask(task, {
          consumer: this.restoreConsumer,
          taskDir: taskDirOf(this.stateDir, this.applicationId, p),
          changelogTopic: (s) => this.changelogTopic(s),
          onProgress: (store, restored, total) =>
            this.opts.onEvent?.({ type: 'restore', task: p, store, restored, total }),
          log: (m) => this.log(m),
        });
        if (marker) {
          for (const tp of list) {
            const offset = marker.offsets[tp.topic];
            if (offset !== undefined) {
              this.consumer.seek(tp, offset);
              task.positions.set(tp.topic, offset);
            }
          }
          task.committedPositions = new Map(task.positions);
        }
        await task.init(marker?.streamTimeMs ?? -1);
        this.tasks.set(p, task);
      }
      for (const tp of list) this.byPartition.set(`${tp.topic}\u0000${tp.partition}`, task);
    }
    this.opts.onEvent?.({ type: 'assigned', tasks: [...this.tasks.keys()].sort((a, b) => a - b) });
  }

  private async revoked(tps: TopicPartition[], commit = true): Promise<void> {
    const affected = new Set<Task>();
    for (const tp of tps) {
      const k = `${tp.topic}\u0000${tp.partition}`;
      const t = this.byPartition.get(k);
      if (t) affected.add(t);
    }
    if (affected.size === 0) return;
    const list = [...affected];
    if (commit && this.failure === undefined) {
      try {
        await this.commits.commit(list);
      } catch (err) {
        this.log(`commit before rebalance failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const t of list) {
      t.close();
      this.retire(t);
      for (const ts of t.stores.values()) {
        await ts.store.backend?.close();
        ts.store.backend = null;
        ts.store.reset();
      }
      this.tasks.delete(t.partition);
      for (const [k, v] of this.byPartition) if (v === t) this.byPartition.delete(k);
    }
    this.opts.onEvent?.({ type: 'revoked', tasks: list.map((t) => t.partition) });
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopping) {
        const records = await this.consumer.poll({ timeoutMs: POLL_MS });
        // A poll hands out runs of records of one partition: each run goes to its task at once.
        for (let from = 0; from < records.length; ) {
          const { topic, partition } = records[from]!;
          let to = from + 1;
          while (to < records.length && records[to]!.partition === partition && records[to]!.topic === topic)
            to++;
          this.byPartition.get(`${topic}\u0000${partition}`)?.processRun(records, from, to);
          from = to;
        }
        const now = Date.now();
        const wallNow = this.opts.scheduler ? this.opts.scheduler.now() : now;
        for (const t of this.tasks.values()) t.punctuateWallClock(wallNow);
        this.output.sendPending();
        await this.output.backPressure(this.consumer);
        if (this.output.failure !== undefined) throw this.output.failure;
        for (const g of this.globals.values()) await g.update();
        if (this.commitRequested || now - this.lastCommitAt >= this.config['commit.interval.ms']) {
          await this.commit();
        }
      }
    } catch (err) {
      this.failure ??= err;
      this.stopping = true;
    }
  }

  private async commit(): Promise<void> {
    this.commitRequested = false;
    this.lastCommitAt = Date.now();
    await this.commits.commit([...this.tasks.values()]);
    this.opts.onEvent?.({ type: 'commit', tasks: this.tasks.size });
  }

  /** Stops the loop, commits, closes the stores, leaves the group. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.loopDone;
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    // Closing the consumer revokes its partitions: the tasks commit and close their stores.
    await step(() => this.consumer.close());
    await step(() => this.producer.close());
    await step(() => this.restoreConsumer.close());
    for (const g of this.globals.values()) await step(() => g.close());
    const server = this.server;
    if (server) await step(() => new Promise<void>((r) => server.close(() => r())));
    this.failure ??= this.output?.failure;
    if (this.failure !== undefined) throw this.failure;
    if (errors.length > 0) throw errors[0];
  }

  /** Resolves when the loop stops by itself (a failure rejects). */
  async done(): Promise<void> {
    await this.loopDone;
    if (this.failure !== undefined) throw this.failure;
  }

  get isPaused(): boolean {
    return this.output?.paused ?? false;
  }

  metrics(): JobMetrics {
    const m = { ...this.totals, commits: this.commits?.commits ?? 0 };
    const streamTimeMs: Record<string, number> = {};
    for (const t of this.tasks.values()) {
      m.recordsIn += t.metrics.recordsIn;
      m.recordsOut += t.metrics.recordsOut;
      m.lateRecordsDropped += t.metrics.lateRecordsDropped;
      m.recordsSkipped += t.metrics.recordsSkipped;
      streamTimeMs[t.taskId] = t.streamTime();
    }
    return { ...m, tasks: [...this.tasks.keys()].sort((a, b) => a - b), streamTimeMs };
  }

  /** Keeps the counters of a task that goes away. */
  retire(task: Task): void {
    this.totals.recordsIn += task.metrics.recordsIn;
    this.totals.recordsOut += task.metrics.recordsOut;
    this.totals.lateRecordsDropped += task.metrics.lateRecordsDropped;
    this.totals.recordsSkipped += task.metrics.recordsSkipped;
  }

  /** The consumer's lag per assigned partition (end offset − position). */
  async lag(): Promise<{ topic: string; partition: number; lag: number }[]> {
    const tps = this.consumer.assignment();
    if (tps.length === 0) return [];
    const ends = await this.consumer.endOffsets(tps);
    return ends.map((e) => {
      const pos = this.byPartition.get(`${e.topic}\u0000${e.partition}`)?.positions.get(e.topic) ?? 0;
      return { topic: e.topic, partition: e.partition, lag: Math.max(0, e.offset - pos) };
    });
  }

  private queryHost(): QueryHost {
    return {
      applicationId: this.applicationId,
      endpoint: this.endpoint ?? '',
      partitions: () => this.partitionCount_,
      keyBytes: (store, key) => {
        for (const t of this.tasks.values()) {
          const s = t.stores.get(store);
          if (s) return s.store.keySerde.serialize(key, store) ?? undefined;
        }
        return undefined;
      },
      lookup: (store, key) => {
        for (const t of this.tasks.values()) {
          const s = t.stores.get(store);
          if (!s?.store.backend) continue;
          const value = s.store.get(key);
          if (value !== undefined) return { value, partition: t.partition };
        }
        return undefined;
      },
      localPartitions: () => [...this.tasks.keys()],
      admin: () => this.opts.client.admin(),
    };
  }

  /** Every instance of this application with its endpoint and partitions (from the group). */
  instances(): Promise<InstanceInfo[]> {
    return instances(this.queryHost());
  }

  /** A store of every local task, for interactive queries. */
  localStores(name: string): { partition: number; get(key: unknown): unknown }[] {
    const out: { partition: number; get(key: unknown): unknown }[] = [];
    for (const t of this.tasks.values()) {
      const s = t.stores.get(name);
      if (s?.store.backend) out.push({ partition: t.partition, get: (k) => s.store.get(k) });
    }
    if (
      out.length === 0 &&
      ![...this.tasks.values()].some((t) => t.stores.has(name)) &&
      this.tasks.size > 0
    ) {
      throw new StreamsError('STORE_NOT_FOUND', `no store '${name}' in job ${this.applicationId}`);
    }
    return out;
  }
}
