/**
 * `runJob(job, { client, stateDir })`: runs a job in this process and returns its handle.
 */
import type { JobDefinition } from '../job.js';
import { type JobMetrics, type RunJobOptions, StreamsRuntime } from './runtime.js';

export interface JobHandle {
  readonly applicationId: string;
  /** Counters summed over this instance's tasks. */
  metrics(): JobMetrics;
  /** End offset − position per partition this instance holds. */
  lag(): Promise<{ topic: string; partition: number; lag: number }[]>;
  /** Interactive query: the key's value in store `store` of this instance's tasks, if one holds it. */
  get<K, V>(store: string, key: K): V | undefined;
  /** host:port of this instance's interactive-query endpoint (when `application.server` is set). */
  readonly endpoint: string | null;
  /** Every instance of the application: its endpoint and the partitions it holds. */
  instances(): Promise<{ endpoint: string; partitions: number[] }[]>;
  /** The partitions (tasks) this instance runs now. */
  tasks(): number[];
  /** Resolves when the job stops by itself; rejects with the error that stopped it. */
  readonly done: Promise<void>;
  /** Commits, flushes, closes the stores and leaves the group. */
  close(): Promise<void>;
}

export async function runJob(job: JobDefinition, opts: RunJobOptions): Promise<JobHandle> {
  const runtime = new StreamsRuntime(job, opts);
  await runtime.start();
  let closing: Promise<void> | undefined;
  const done = runtime.done();
  done.catch(() => undefined);
  return {
    applicationId: runtime.applicationId,
    metrics: () => runtime.metrics(),
    lag: () => runtime.lag(),
    get<K, V>(store: string, key: K): V | undefined {
      for (const s of runtime.localStores(store)) {
        const v = s.get(key);
        if (v !== undefined) return v as V;
      }
      return undefined;
    },
    endpoint: runtime.endpoint,
    instances: () => runtime.instances(),
    tasks: () => [...runtime.tasks.keys()].sort((a, b) => a - b),
    done,
    close() {
      closing ??= runtime.close();
      return closing;
    },
  };
}
