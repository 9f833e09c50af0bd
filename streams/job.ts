/**
 * A job: an application id, a build function, and its configuration.
 *
 * ```ts
 * export default defineJob({
 *   applicationId: 'wordcount',
 *   build(builder) {
 *     builder.stream('text-lines').pipe(flatMapValues(words), groupBy((k, w) => w), count(), to('word-counts'));
 *   },
 * });
 * ```
 *
 * `build` runs once per task (per input partition): stateful operators get that task's stores.
 */
import type { Observable } from 'rxjs';
import type { ConsumerConfig, ProducerConfig } from '../core/client/types.js';
import type { StreamsBuilder } from './builder.js';
import { StreamsError } from './errors.js';

export interface JobConfig {
  /** How often tasks commit: stores flushed, producer flushed, offsets committed. Default 1000. */
  'commit.interval.ms'?: number;
  /** Entries each store keeps in the heap (its cache); dirty entries beyond it force a commit. Default 100000. */
  'cache.max.entries'?: number;
  /**
   * Records one poll hands to the tasks. Default 1000, as Kafka Streams: a poll's records are alive
   * until the last is processed, and larger polls keep them long enough to be copied out of the
   * young generation (5000 made the stateless job promote ~400 MB more, and cost a third more CPU).
   */
  'max.poll.records'?: number;
  /** Output records sent but not yet acknowledged before consumption pauses. Default 200000. */
  'max.in.flight.records'?: number;
  /** What a record that cannot be deserialized does: fail the job (default) or be skipped and counted. */
  'default.deserialization.exception.handler'?: 'fail' | 'log-and-continue';
  /** 'at_least_once' (default). Exactly-once (transactions) is reserved for when the client has them. */
  'processing.guarantee'?: 'at_least_once';
  /** host:port of this instance's interactive-query HTTP endpoint (advertised to the others). */
  'application.server'?: string;
  /** Settings passed to the job's consumer (group.id and assignment strategy are the runtime's). */
  consumer?: ConsumerConfig;
  /** Settings passed to the job's producer. */
  producer?: ProducerConfig;
}

export type ResolvedJobConfig = Required<
  Pick<
    JobConfig,
    | 'commit.interval.ms'
    | 'cache.max.entries'
    | 'max.poll.records'
    | 'max.in.flight.records'
    | 'default.deserialization.exception.handler'
    | 'processing.guarantee'
  >
> &
  Pick<JobConfig, 'application.server' | 'consumer' | 'producer'>;

/** What build() may return: nothing, or streams for the runtime to subscribe as well. */
// biome-ignore lint/suspicious/noConfusingVoidType: build functions usually return nothing
export type BuildResult = void | Observable<unknown> | readonly Observable<unknown>[];

export interface JobDefinition {
  /** The consumer group, the prefix of internal topics and of the state directory. */
  readonly applicationId: string;
  build(builder: StreamsBuilder): BuildResult;
  readonly config?: JobConfig;
}

const DEFAULTS = {
  'commit.interval.ms': 1000,
  'cache.max.entries': 100_000,
  'max.poll.records': 1000,
  'max.in.flight.records': 200_000,
  'default.deserialization.exception.handler': 'fail',
  'processing.guarantee': 'at_least_once',
} as const;

const KNOWN = new Set([...Object.keys(DEFAULTS), 'application.server', 'consumer', 'producer']);

/** Checks a job definition and freezes it; every mistake found is named in one error. */
export function defineJob(def: JobDefinition): JobDefinition {
  const problems: string[] = [];
  if (typeof def.applicationId !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(def.applicationId)) {
    problems.push("applicationId must be 1-200 characters of letters, digits, '.', '_' or '-'");
  }
  if (typeof def.build !== 'function') problems.push('build must be a function (builder) => void');
  for (const key of Object.keys(def.config ?? {}))
    if (!KNOWN.has(key)) problems.push(`unknown config key '${key}'`);
  if (problems.length > 0) throw new StreamsError('INVALID_JOB', `invalid job: ${problems.join('; ')}`);
  resolveJobConfig(def.config ?? {});
  return Object.freeze({ ...def });
}

/** The config with defaults, validated. */
export function resolveJobConfig(config: JobConfig): ResolvedJobConfig {
  const c = { ...DEFAULTS, ...config };
  for (const key of [
    'commit.interval.ms',
    'cache.max.entries',
    'max.poll.records',
    'max.in.flight.records',
  ] as const) {
    const v = c[key];
    if (!Number.isInteger(v) || v < 1)
      throw new StreamsError('INVALID_CONFIG', `${key} must be a positive integer, got ${String(v)}`);
  }
  if (!['fail', 'log-and-continue'].includes(c['default.deserialization.exception.handler'])) {
    throw new StreamsError(
      'INVALID_CONFIG',
      "default.deserialization.exception.handler must be 'fail' or 'log-and-continue'",
    );
  }
  if (c['processing.guarantee'] !== 'at_least_once') {
    throw new StreamsError(
      'INVALID_CONFIG',
      "processing.guarantee: only 'at_least_once' is supported for now",
    );
  }
  return Object.freeze(c);
}

/** A job module's default export, checked (for `trib run` and loaders). */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as JobDefinition).applicationId === 'string' &&
    typeof (value as JobDefinition).build === 'function'
  );
}
