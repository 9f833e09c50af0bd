/**
 * Runs one sink task (Kafka's WorkerSinkTask): a consumer in the group `connect-<name>` reads the
 * connector's topics; each record is converted, transformed and handed to `put()` in batches of
 * at most `max.poll.records`. Consumer offsets are committed only for what `preCommit()` returns
 * (by default `flush()` first, then everything put so far) — every `offset.flush.interval.ms`,
 * before partitions are revoked, and on stop. A RetriableException from put() redelivers the
 * same batch after a backoff; failed conversions and transforms follow `errors.tolerance` (and go
 * to the dead letter queue when one is configured).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type {
  Consumer,
  ConsumerRecord,
  TopicPartition,
  TopicPartitionOffset,
} from '../../core/client/types.js';
import { isPromise, type SchemaAndValue } from '../converters/converter.js';
import { type ConnectHeader, type SinkOffsets, type SinkRecord, tpKey } from '../data.js';
import { messageOf, traceOf } from '../errors.js';
import type { ErrantRecordReporter, SinkTask, SinkTaskContext, TaskStatusMetrics } from '../sdk.js';
import { isRetriable } from './error-handler.js';
import { statusHookReader, type TaskEnv } from './task-env.js';

const POLL_TIMEOUT_MS = 200;
const RETRY_BACKOFF_MS = 500;

export class WorkerSinkTask {
  private consumer: Consumer | null = null;
  private stopping = false;
  private paused = false;
  private done: Promise<void> | null = null;
  private readonly current: SinkOffsets = new Map();
  private lastCommitMs = Date.now();
  private commitRequested = false;
  private readonly rewinds = new Map<string, { tp: TopicPartition; offset: number }>();
  private readonly taskPaused = new Map<string, TopicPartition>();
  private readonly topicsSeen = new Set<string>();
  /** Records put so far. */
  put = 0;
  /** What the task reports about itself (its status() hook), or null. */
  readonly statusMetrics: () => TaskStatusMetrics | null;

  constructor(
    private readonly env: TaskEnv,
    private readonly task: SinkTask,
    paused: boolean,
  ) {
    this.paused = paused;
    this.statusMetrics = statusHookReader(task, env);
  }

  start(): Promise<void> {
    this.done = this.run();
    return this.done;
  }

  private context(): SinkTaskContext {
    const reporter: ErrantRecordReporter | null =
      this.env.errors.cfg.toleranceAll || this.env.errors.hasDlq
        ? {
            report: async (record, error) => {
              const consumed: ConsumerRecord = {
                topic: record.originalTopic,
                partition: record.originalKafkaPartition,
                offset: record.originalKafkaOffset,
                timestamp: record.timestamp ?? -1,
                timestampType: 'CreateTime',
                key: await this.env.keyConverter.fromConnectData(record.topic, record.keySchema, record.key),
                value: await this.env.valueConverter.fromConnectData(
                  record.topic,
                  record.valueSchema,
                  record.value,
                ),
                headers: [],
                leaderEpoch: -1,
              };
              await this.env.errors.tolerate(error, {
                stage: 'TASK_PUT',
                executingClass: 'SinkTask',
                consumed,
              });
            },
          }
        : null;
    return {
      configs: this.env.taskProps,
      assignment: () => this.consumer?.assignment() ?? [],
      pause: (...tps) => {
        for (const tp of tps) this.taskPaused.set(tpKey(tp.topic, tp.partition), tp);
        this.consumer?.pause(tps);
      },
      resume: (...tps) => {
        for (const tp of tps) this.taskPaused.delete(tpKey(tp.topic, tp.partition));
        if (!this.paused) this.consumer?.resume(tps);
      },
      offset: (tp, offset) => {
        this.rewinds.set(tpKey(tp.topic, tp.partition), { tp, offset });
      },
      requestCommit: () => {
        this.commitRequested = true;
      },
      errantRecordReporter: reporter,
    };
  }

  private topicsOf(): string[] | RegExp {
    const regex = (this.env.connectorProps['topics.regex'] ?? '').trim();
    if (regex !== '') return new RegExp(`^(?:${regex})$`);
    return (this.env.connectorProps.topics ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
  }

  private async run(): Promise<void> {
    const { env } = this;
    try {
      await this.task.start(env.taskProps, this.context());
      this.consumer = env.client.consumer({
        'group.id': `connect-${env.id.connector}`,
        'client.id': `connector-consumer-${env.id.connector}-${env.id.task}`,
        'enable.auto.commit': false,
        'auto.offset.reset': 'earliest',
        ...env.consumerConfig,
      });
      await this.consumer.subscribe(this.topicsOf(), {
        onPartitionsAssigned: async (tps) => {
          await this.task.open?.(tps);
          if (this.paused) this.consumer!.pause(tps);
        },
        onPartitionsRevoked: async (tps) => {
          await this.commit();
          for (const tp of tps) this.current.delete(tpKey(tp.topic, tp.partition));
          await this.task.close?.(tps);
        },
        onPartitionsLost: async (tps) => {
          for (const tp of tps) this.current.delete(tpKey(tp.topic, tp.partition));
          await this.task.close?.(tps);
        },
      });
      env.onStatus(this.paused ? 'PAUSED' : 'RUNNING');
      const flushIntervalMs = Number(env.worker.values['offset.flush.interval.ms']);
      const maxRecords = Number(env.consumerConfig['max.poll.records'] ?? 500);
      while (!this.stopping) {
        const records = await this.consumer.poll({ timeoutMs: POLL_TIMEOUT_MS, maxRecords });
        if (records.length > 0) await this.deliver(records);
        await yieldToEventLoop();
        if (this.commitRequested || Date.now() - this.lastCommitMs >= flushIntervalMs) await this.commit();
      }
      await this.commit();
      await this.close();
    } catch (err) {
      env.log(`task ${env.id.connector}-${env.id.task} failed: ${traceOf(err)}`);
      env.onStatus('FAILED', traceOf(err));
      await this.close();
    }
  }

  private convert(r: ConsumerRecord): SinkRecord | Promise<SinkRecord> {
    const { env } = this;
    const key = env.keyConverter.toConnectData(r.topic, r.key, r.headers);
    const value = env.valueConverter.toConnectData(r.topic, r.value, r.headers);
    const headers: ConnectHeader[] = r.headers.map((h) => {
      const c = env.headerConverter.toConnectHeader(r.topic, h.key, h.value);
      return { key: h.key, schema: c.schema, value: c.value };
    });
    if (isPromise(key) || isPromise(value)) {
      return Promise.all([key, value]).then(([k, v]) => this.sinkRecord(r, k, v, headers));
    }
    return this.sinkRecord(r, key, value, headers);
  }

  private sinkRecord(
    r: ConsumerRecord,
    key: SchemaAndValue,
    value: SchemaAndValue,
    headers: ConnectHeader[],
  ): SinkRecord {
    return {
      topic: r.topic,
      kafkaPartition: r.partition,
      kafkaOffset: r.offset,
      keySchema: key.schema,
      key: key.value,
      valueSchema: value.schema,
      value: value.value,
      timestamp: r.timestamp,
      timestampType: r.timestampType,
      headers,
      originalTopic: r.topic,
      originalKafkaPartition: r.partition,
      originalKafkaOffset: r.offset,
    };
  }

  private async deliver(records: ConsumerRecord[]): Promise<void> {
    const { env } = this;
    const batch: SinkRecord[] = [];
    for (const r of records) {
      let converted: SinkRecord | undefined;
      try {
        const c = this.convert(r);
        converted = isPromise(c) ? await c : c;
      } catch (err) {
        const stage = safe(() => env.keyConverter.toConnectData(r.topic, r.key))
          ? 'VALUE_CONVERTER'
          : 'KEY_CONVERTER';
        const cls = stage === 'KEY_CONVERTER' ? env.keyConverterClass : env.valueConverterClass;
        converted = await env.errors.execute(
          () => this.convert(r),
          { stage, executingClass: cls, consumed: r },
          err,
        );
      }
      let out: SinkRecord | null | undefined = null;
      if (converted) {
        const c = converted;
        try {
          out = env.chain.apply(c);
        } catch (err) {
          out = await env.errors.execute(
            () => env.chain.apply(c),
            { stage: 'TRANSFORMATION', executingClass: 'TransformationChain', consumed: r },
            err,
          );
        }
      }
      if (out) batch.push(out);
    }
    for (;;) {
      try {
        if (batch.length > 0 || records.length > 0) await this.task.put(batch);
        break;
      } catch (err) {
        if (!isRetriable(err) || this.stopping) throw err;
        env.log(
          `${env.id.connector}-${env.id.task}: put() failed with a retriable error, redelivering: ${messageOf(err)}`,
        );
        await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
      }
    }
    this.put += batch.length;
    for (const r of records) {
      if (!this.topicsSeen.has(r.topic)) {
        this.topicsSeen.add(r.topic);
        env.onTopic(r.topic);
      }
      this.current.set(tpKey(r.topic, r.partition), {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset + 1,
      });
    }
    for (const [k, { tp, offset }] of this.rewinds) {
      this.consumer!.seek(tp, offset);
      this.current.set(k, { topic: tp.topic, partition: tp.partition, offset });
    }
    this.rewinds.clear();
  }

  /** preCommit (default: flush, then everything put), then commit what it returned. */
  private async commit(): Promise<void> {
    this.lastCommitMs = Date.now();
    this.commitRequested = false;
    if (!this.consumer || this.current.size === 0) return;
    const snapshot: SinkOffsets = new Map([...this.current].map(([k, v]) => [k, { ...v }]));
    let safeOffsets: SinkOffsets;
    if (this.task.preCommit) safeOffsets = await this.task.preCommit(snapshot);
    else {
      await this.task.flush?.(snapshot);
      safeOffsets = snapshot;
    }
    const offsets: TopicPartitionOffset[] = [...safeOffsets.values()].map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
    }));
    if (offsets.length === 0) return;
    try {
      await this.consumer.commit(offsets);
    } catch (err) {
      this.env.log(
        `${this.env.id.connector}-${this.env.id.task}: offset commit failed (retried at the next interval): ${messageOf(err)}`,
      );
    }
  }

  private async close(): Promise<void> {
    try {
      await this.task.stop();
    } catch (err) {
      this.env.log(`stopping task ${this.env.id.connector}-${this.env.id.task} failed: ${messageOf(err)}`);
    }
    this.env.chain.close();
    await this.consumer?.close().catch(() => {});
    this.consumer = null;
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    const assigned = this.consumer?.assignment() ?? [];
    if (paused) this.consumer?.pause(assigned);
    else this.consumer?.resume(assigned.filter((tp) => !this.taskPaused.has(tpKey(tp.topic, tp.partition))));
    this.env.onStatus(paused ? 'PAUSED' : 'RUNNING');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }
}

function safe(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}
