/**
 * Kafka Connect's error handling (RetryWithToleranceOperator + reporters) for one task:
 *
 * - a failed operation is retried while its error is retriable, with exponential backoff up to
 *   `errors.retry.delay.max.ms`, for at most `errors.retry.timeout` ms (-1: forever);
 * - then, with `errors.tolerance=none`, the task fails; with `all`, the record is skipped after
 *   being reported: logged (`errors.log.enable`, with the record when
 *   `errors.log.include.messages`) and, for sinks, written to the dead letter queue
 *   (`errors.deadletterqueue.topic.name`) with its original key, value and headers plus, when
 *   `errors.deadletterqueue.context.headers.enable`, Kafka's `__connect.errors.*` headers.
 */
import type { Admin, ConsumerRecord, Producer, RecordHeader } from '../../core/client/types.js';
import { ConnectError, messageOf, traceOf } from '../errors.js';
import { ensureTopic } from './topics.js';

/** Kafka's Stage names. */
export type Stage =
  | 'KEY_CONVERTER'
  | 'VALUE_CONVERTER'
  | 'HEADER_CONVERTER'
  | 'TRANSFORMATION'
  | 'TASK_PUT'
  | 'TASK_POLL'
  | 'KAFKA_PRODUCE'
  | 'KAFKA_CONSUME';

export interface ErrorHandlingConfig {
  retryTimeoutMs: number;
  retryDelayMaxMs: number;
  toleranceAll: boolean;
  logEnable: boolean;
  logIncludeMessages: boolean;
  dlqTopic: string;
  dlqReplicationFactor: number;
  dlqContextHeaders: boolean;
}

export interface ErrorContext {
  stage: Stage;
  /** The class doing the work, e.g. org.apache.kafka.connect.json.JsonConverter. */
  executingClass: string;
  /** The consumed record (sinks). */
  consumed?: ConsumerRecord;
  /** A description of the source record (sources). */
  sourceRecord?: string;
}

export const HEADER_PREFIX = '__connect.errors.';

export class ErrorHandler {
  private dlqReady = false;
  /** Records skipped so far (tolerance all). */
  skipped = 0;

  constructor(
    readonly cfg: ErrorHandlingConfig,
    private readonly connector: string,
    private readonly taskId: number,
    private readonly log: (msg: string) => void,
    private readonly dlq: { producer: () => Producer; admin: Admin } | null,
  ) {}

  get hasDlq(): boolean {
    return this.dlq !== null && this.cfg.dlqTopic !== '';
  }

  /**
   * Runs `op` with retries; returns its result, or `undefined` when the error was tolerated (the
   * record is to be skipped). Throws ConnectError when tolerance is exceeded.
   */
  async execute<T>(
    op: () => T | Promise<T>,
    ctx: ErrorContext,
    firstError?: unknown,
  ): Promise<T | undefined> {
    const started = Date.now();
    let delay = 300;
    let err: unknown = firstError;
    if (err === undefined) {
      try {
        return await op();
      } catch (e) {
        err = e;
      }
    }
    while (isRetriable(err) && this.withinRetry(started)) {
      await sleep(Math.min(delay, this.cfg.retryDelayMaxMs, this.remaining(started)));
      delay *= 2;
      try {
        return await op();
      } catch (e) {
        err = e;
      }
    }
    await this.tolerate(err, ctx);
    return undefined;
  }

  private withinRetry(started: number): boolean {
    return this.cfg.retryTimeoutMs < 0 || Date.now() - started < this.cfg.retryTimeoutMs;
  }

  private remaining(started: number): number {
    return this.cfg.retryTimeoutMs < 0
      ? Number.POSITIVE_INFINITY
      : Math.max(1, this.cfg.retryTimeoutMs - (Date.now() - started));
  }

  /** Reports a failure and returns (tolerated) or throws (tolerance exceeded). */
  async tolerate(err: unknown, ctx: ErrorContext): Promise<void> {
    if (this.cfg.logEnable) this.log(this.describe(err, ctx));
    if (!this.cfg.toleranceAll) {
      throw new ConnectError(
        'TOLERANCE_EXCEEDED',
        `Tolerance exceeded in error handler (stage ${ctx.stage}, class ${ctx.executingClass}): ${messageOf(err)}`,
        { cause: err },
      );
    }
    this.skipped++;
    if (ctx.consumed && this.hasDlq) await this.sendToDlq(ctx.consumed, err, ctx);
  }

  private describe(err: unknown, ctx: ErrorContext): string {
    let where = '';
    if (ctx.consumed) {
      const r = ctx.consumed;
      where = `, where consumed record is {topic='${r.topic}', partition=${r.partition}, offset=${r.offset}, timestamp=${r.timestamp}, timestampType=${r.timestampType}}`;
      if (this.cfg.logIncludeMessages)
        where += ` with key ${r.key?.toString('utf8') ?? 'null'} and value ${r.value?.toString('utf8') ?? 'null'}`;
    } else if (ctx.sourceRecord && this.cfg.logIncludeMessages) {
      where = `, where source record is = ${ctx.sourceRecord}`;
    }
    return `Error encountered in task ${this.connector}-${this.taskId}. Executing stage '${ctx.stage}' with class '${ctx.executingClass}'${where}.\n${traceOf(err)}`;
  }

  /** Writes the original record to the DLQ (Kafka's DeadLetterQueueReporter). */
  async sendToDlq(record: ConsumerRecord, err: unknown, ctx: ErrorContext): Promise<void> {
    const dlq = this.dlq!;
    if (!this.dlqReady) {
      await ensureTopic(dlq.admin, this.cfg.dlqTopic, 1, this.cfg.dlqReplicationFactor);
      this.dlqReady = true;
    }
    const headers: RecordHeader[] = record.headers.map((h) => ({ key: h.key, value: h.value }));
    if (this.cfg.dlqContextHeaders) {
      const add = (k: string, v: string | null) =>
        headers.push({ key: HEADER_PREFIX + k, value: v === null ? null : Buffer.from(v) });
      add('topic', record.topic);
      add('partition', String(record.partition));
      add('offset', String(record.offset));
      add('connector.name', this.connector);
      add('task.id', String(this.taskId));
      add('stage', ctx.stage);
      add('class.name', ctx.executingClass);
      const e = err instanceof Error ? err : new Error(String(err));
      add('exception.class.name', javaClassName(e));
      add('exception.message', e.message);
      add('exception.stacktrace', traceOf(e));
    }
    await dlq.producer().send({
      topic: this.cfg.dlqTopic,
      key: record.key,
      value: record.value,
      headers,
      timestamp: record.timestamp,
    });
  }
}

/** Kafka's exception class names for ours, so DLQ consumers that look at them keep working. */
function javaClassName(e: Error): string {
  switch (e.name) {
    case 'DataException':
      return 'org.apache.kafka.connect.errors.DataException';
    case 'RetriableException':
      return 'org.apache.kafka.connect.errors.RetriableException';
    case 'ConfigException':
      return 'org.apache.kafka.common.config.ConfigException';
    case 'ConnectError':
      return 'org.apache.kafka.connect.errors.ConnectException';
    default:
      return e.name;
  }
}

export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
