/**
 * What a running task gets from the worker: its id, clients, converters, transform chain, error
 * handler and a way to report its status. Built once per task from the worker config and the
 * connector config (connector settings override the worker's converters; `producer.override.*`
 * and `consumer.override.*` override client settings when the worker's policy allows).
 */
import type { Admin, KafkaClient, Producer } from '../../core/client/types.js';
import type { Converter, HeaderConverter } from '../converters/converter.js';
import { createConverter, createHeaderConverter } from '../converters/index.js';
import { messageOf } from '../errors.js';
import type { Props, TaskStatusMetrics } from '../sdk.js';
import type { State } from '../storage/statuses.js';
import { buildChain, type TransformationChain } from '../transforms/index.js';
import { clientOverrides, typedClientConfig } from './connector-config.js';
import { ErrorHandler, type ErrorHandlingConfig } from './error-handler.js';
import type { WorkerConfig } from './worker-config.js';

export interface TaskId {
  connector: string;
  task: number;
}

export function taskKey(id: TaskId): string {
  return `${id.connector}-${id.task}`;
}

export interface TaskEnv {
  id: TaskId;
  client: KafkaClient;
  admin: Admin;
  worker: WorkerConfig;
  connectorProps: Props;
  taskProps: Props;
  keyConverter: Converter;
  valueConverter: Converter;
  headerConverter: HeaderConverter;
  keyConverterClass: string;
  valueConverterClass: string;
  chain: TransformationChain;
  errors: ErrorHandler;
  producerConfig: Record<string, string | number | boolean>;
  consumerConfig: Record<string, string | number | boolean>;
  onStatus(state: State, trace?: string | null): void;
  /** The task wrote to (source) or read from (sink) this topic: Kafka's active topics. */
  onTopic(topic: string): void;
  log(msg: string): void;
}

/**
 * Reads a task's optional `status()` hook for the worker's status answers: null without a hook;
 * a throwing hook is logged once and read as null from then on.
 */
export function statusHookReader(
  task: { status?(): TaskStatusMetrics | null },
  env: Pick<TaskEnv, 'id' | 'log'>,
): () => TaskStatusMetrics | null {
  let failed = false;
  return () => {
    if (!task.status) return null;
    try {
      return task.status() ?? null;
    } catch (err) {
      if (!failed) env.log(`${taskKey(env.id)}: status() failed: ${messageOf(err)}`);
      failed = true;
      return null;
    }
  };
}

export function errorConfig(props: Props): ErrorHandlingConfig {
  const num = (k: string, d: number) =>
    props[k] !== undefined && props[k]!.trim() !== '' ? Number(props[k]) : d;
  const bool = (k: string) => (props[k] ?? '').trim().toLowerCase() === 'true';
  return {
    retryTimeoutMs: num('errors.retry.timeout', 0),
    retryDelayMaxMs: num('errors.retry.delay.max.ms', 60_000),
    toleranceAll: (props['errors.tolerance'] ?? 'none').trim().toLowerCase() === 'all',
    logEnable: bool('errors.log.enable'),
    logIncludeMessages: bool('errors.log.include.messages'),
    dlqTopic: (props['errors.deadletterqueue.topic.name'] ?? '').trim(),
    dlqReplicationFactor: num('errors.deadletterqueue.topic.replication.factor', 3),
    dlqContextHeaders: bool('errors.deadletterqueue.context.headers.enable'),
  };
}

export function buildTaskEnv(opts: {
  id: TaskId;
  type: 'source' | 'sink';
  client: KafkaClient;
  admin: Admin;
  worker: WorkerConfig;
  connectorProps: Props;
  taskProps: Props;
  onStatus: TaskEnv['onStatus'];
  onTopic: TaskEnv['onTopic'];
  log: (msg: string) => void;
}): TaskEnv {
  const { worker, connectorProps: c } = opts;
  const keyClass = c['key.converter'] ?? String(worker.values['key.converter']);
  const valueClass = c['value.converter'] ?? String(worker.values['value.converter']);
  const keySource = c['key.converter'] !== undefined ? c : worker.props;
  const valueSource = c['value.converter'] !== undefined ? c : worker.props;
  const headerClass = c['header.converter'] ?? String(worker.values['header.converter']);
  const policy = String(worker.values['connector.client.config.override.policy'] ?? 'All');
  const producerConfig = typedClientConfig({
    ...worker.producer,
    ...clientOverrides(c, 'producer.override.', policy),
  });
  const consumerConfig = typedClientConfig({
    ...worker.consumer,
    ...clientOverrides(c, 'consumer.override.', policy),
  });
  const errCfg = errorConfig(c);
  let dlqProducer: Producer | null = null;
  const taskLabel = `${opts.id.connector}-${opts.id.task}`;
  const errors = new ErrorHandler(
    errCfg,
    opts.id.connector,
    opts.id.task,
    (m) => opts.log(m),
    opts.type === 'sink' && errCfg.dlqTopic !== ''
      ? {
          admin: opts.admin,
          producer: () =>
            (dlqProducer ??= opts.client.producer({
              acks: 'all',
              'client.id': `connector-dlq-producer-${taskLabel}`,
              ...producerConfig,
            })),
        }
      : null,
  );
  return {
    id: opts.id,
    client: opts.client,
    admin: opts.admin,
    worker,
    connectorProps: c,
    taskProps: opts.taskProps,
    keyConverter: createConverter('key.converter', keyClass, keySource, true),
    valueConverter: createConverter('value.converter', valueClass, valueSource, false),
    headerConverter: createHeaderConverter(
      headerClass,
      c['header.converter'] !== undefined ? c : worker.props,
    ),
    keyConverterClass: keyClass,
    valueConverterClass: valueClass,
    chain: buildChain(c),
    errors,
    producerConfig,
    consumerConfig,
    onStatus: opts.onStatus,
    onTopic: opts.onTopic,
    log: opts.log,
  };
}
