/**
 * Connector and task statuses: in memory (standalone) or in the status topic (distributed), in
 * Kafka Connect's format:
 *
 *   status-connector-<name>   {"state": "RUNNING", "trace": null, "worker_id": "host:port", "generation": 3}
 *   status-task-<name>-<n>    the same, for one task, plus (ours) "metrics": what the task reports
 *                             about itself (Kafka's readers ignore fields they do not know)
 *   status-topic-<topic>:connector-<name>  {"topic": {"name", "connector", "task", "discoverTimestamp"}}
 */
import type { Admin, ConsumerRecord, KafkaClient } from '../../core/client/types.js';
import type { TaskStatusMetrics } from '../sdk.js';
import { KafkaLog } from './kafka-log.js';

export type State = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED' | 'DESTROYED';

export interface Status {
  state: State;
  trace: string | null;
  workerId: string;
  generation: number;
  /** Tasks only: the task's own figures as of when its worker last wrote them. */
  metrics?: TaskStatusMetrics | null;
}

export interface StatusStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  refresh(): Promise<void>;
  putConnector(name: string, status: Status): void;
  putTask(name: string, task: number, status: Status): void;
  connector(name: string): Status | undefined;
  task(name: string, task: number): Status | undefined;
  tasks(name: string): Map<number, Status>;
  /** Forgets a deleted connector's statuses. */
  remove(name: string): void;
  /** Kafka's active topics: a connector used `topic`. */
  putTopic(connector: string, topic: string, task: number): void;
  topics(connector: string): string[];
  resetTopics(connector: string): void;
  /** Waits for writes in flight. */
  flush(): Promise<void>;
}

class MemoryStatuses {
  protected readonly connectors = new Map<string, Status>();
  protected readonly taskStatuses = new Map<string, Map<number, Status>>();
  protected readonly activeTopics = new Map<string, Set<string>>();

  protected setTopic(connector: string, topic: string, present: boolean): void {
    const set = this.activeTopics.get(connector) ?? new Set<string>();
    this.activeTopics.set(connector, set);
    if (present) set.add(topic);
    else set.delete(topic);
  }
  topics(connector: string): string[] {
    return [...(this.activeTopics.get(connector) ?? [])].sort();
  }

  protected setConnector(name: string, s: Status | null): void {
    if (s === null) this.connectors.delete(name);
    else this.connectors.set(name, s);
  }
  protected setTask(name: string, task: number, s: Status | null): void {
    const m = this.taskStatuses.get(name) ?? new Map<number, Status>();
    this.taskStatuses.set(name, m);
    if (s === null) m.delete(task);
    else m.set(task, s);
  }
  connector(name: string): Status | undefined {
    return this.connectors.get(name);
  }
  task(name: string, task: number): Status | undefined {
    return this.taskStatuses.get(name)?.get(task);
  }
  tasks(name: string): Map<number, Status> {
    return new Map(this.taskStatuses.get(name) ?? []);
  }
}

export class MemoryStatusStore extends MemoryStatuses implements StatusStore {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async refresh(): Promise<void> {}
  async flush(): Promise<void> {}
  putConnector(name: string, status: Status): void {
    this.setConnector(name, status);
  }
  putTask(name: string, task: number, status: Status): void {
    this.setTask(name, task, status);
  }
  remove(name: string): void {
    this.connectors.delete(name);
    this.taskStatuses.delete(name);
    this.activeTopics.delete(name);
  }
  putTopic(connector: string, topic: string): void {
    this.setTopic(connector, topic, true);
  }
  resetTopics(connector: string): void {
    this.activeTopics.delete(connector);
  }
}

function encode(s: Status): string {
  return JSON.stringify({
    state: s.state,
    trace: s.trace,
    worker_id: s.workerId,
    generation: s.generation,
    ...(s.metrics ? { metrics: s.metrics } : {}),
  });
}

export class KafkaStatusStore extends MemoryStatuses implements StatusStore {
  private readonly log: KafkaLog;
  private inFlight = new Set<Promise<void>>();

  constructor(
    client: KafkaClient,
    admin: Admin,
    topic: string,
    partitions: number,
    replicationFactor: number,
    private readonly logger?: (m: string) => void,
  ) {
    super();
    this.log = new KafkaLog(client, admin, {
      topic,
      partitions,
      replicationFactor,
      onRecord: (r) => this.onRecord(r),
      log: logger,
    });
  }

  private onRecord(r: ConsumerRecord): void {
    if (r.key === null) return;
    const key = r.key.toString('utf8');
    const v = r.value === null ? null : (JSON.parse(r.value.toString('utf8')) as Record<string, unknown>);
    const status: Status | null =
      v === null
        ? null
        : {
            state: v.state as State,
            trace: (v.trace as string | null) ?? null,
            workerId: String(v.worker_id ?? ''),
            generation: Number(v.generation ?? 0),
            ...(v.metrics !== null && typeof v.metrics === 'object' && !Array.isArray(v.metrics)
              ? { metrics: v.metrics as TaskStatusMetrics }
              : {}),
          };
    const topic = /^status-topic-(.*):connector-(.*)$/s.exec(key);
    if (topic) {
      this.setTopic(topic[2]!, topic[1]!, v !== null);
      return;
    }
    const connector = /^status-connector-(.*)$/s.exec(key);
    if (connector) {
      this.setConnector(connector[1]!, status);
      return;
    }
    const task = /^status-task-(.*)-(\d+)$/s.exec(key);
    if (task) this.setTask(task[1]!, Number(task[2]), status);
  }

  private write(key: string, value: string | null): void {
    const p = this.log
      .send(key, value)
      .catch((err: unknown) => this.logger?.(`writing status ${key} failed: ${String(err)}`));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  start(): Promise<void> {
    return this.log.start();
  }
  async stop(): Promise<void> {
    await this.flush();
    await this.log.stop();
  }
  refresh(): Promise<void> {
    return this.log.readToEnd();
  }
  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
  putConnector(name: string, status: Status): void {
    this.setConnector(name, status);
    this.write(`status-connector-${name}`, encode(status));
  }
  putTask(name: string, task: number, status: Status): void {
    this.setTask(name, task, status);
    this.write(`status-task-${name}-${task}`, encode(status));
  }
  putTopic(connector: string, topic: string, task: number): void {
    if (this.activeTopics.get(connector)?.has(topic)) return;
    this.setTopic(connector, topic, true);
    this.write(
      `status-topic-${topic}:connector-${connector}`,
      JSON.stringify({ topic: { name: topic, connector, task, discoverTimestamp: Date.now() } }),
    );
  }
  resetTopics(connector: string): void {
    for (const t of this.topics(connector)) this.write(`status-topic-${t}:connector-${connector}`, null);
    this.activeTopics.delete(connector);
  }
  remove(name: string): void {
    this.resetTopics(name);
    const tasks = this.tasks(name);
    this.connectors.delete(name);
    this.taskStatuses.delete(name);
    this.write(`status-connector-${name}`, null);
    for (const t of tasks.keys()) this.write(`status-task-${name}-${t}`, null);
  }
}
