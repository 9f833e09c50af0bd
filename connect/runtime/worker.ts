/**
 * The connectors and tasks running in this process (Kafka's Worker): starts and stops them,
 * pauses and resumes them, and reports their statuses. What should run here is decided by the
 * herder (standalone: everything; distributed: this worker's share of the group's assignment).
 */
import type { Admin, KafkaClient } from '../../core/client/types.js';
import { messageOf, traceOf } from '../errors.js';
import type { Connector, ConnectorPlugin, Props, SinkTask, SourceTask, TaskStatusMetrics } from '../sdk.js';
import type { TargetState } from '../storage/configs.js';
import type { OffsetStore } from '../storage/offsets.js';
import type { State, StatusStore } from '../storage/statuses.js';
import type { PluginRegistry } from './plugins.js';
import { WorkerSinkTask } from './sink-task.js';
import { WorkerSourceTask } from './source-task.js';
import { buildTaskEnv, type TaskId, taskKey } from './task-env.js';
import type { WorkerConfig } from './worker-config.js';

export interface WorkerDeps {
  client: KafkaClient;
  admin: Admin;
  config: WorkerConfig;
  plugins: PluginRegistry;
  offsets: OffsetStore;
  statuses: StatusStore;
  workerId: string;
  /** The group generation statuses are written with (0 standalone). */
  generation(): number;
  log(msg: string): void;
  /** A connector produced task configs (first start, or it asked for reconfiguration). */
  onTaskConfigs(connector: string, configs: Props[]): void;
}

export interface TaskMetrics {
  connector: string;
  task: number;
  type: 'source' | 'sink';
  /** Records sent to Kafka (sources) or put into the task (sinks) since the task started. */
  records: number;
}

interface RunningConnector {
  name: string;
  config: Props;
  plugin: ConnectorPlugin;
  connector: Connector | null;
  state: State;
}

interface RunningTask {
  id: TaskId;
  config: Props;
  connectorConfig: Props;
  runner: WorkerSourceTask | WorkerSinkTask;
  ended: Promise<void>;
}

export class Worker {
  private readonly connectors = new Map<string, RunningConnector>();
  private readonly tasks = new Map<string, RunningTask>();
  private metricsTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: WorkerDeps) {}

  /**
   * What a task running here reports about itself (its status() hook), live; undefined when the
   * task does not run here (then the status store has what its worker last wrote).
   */
  taskStatusMetrics(id: TaskId): TaskStatusMetrics | null | undefined {
    return this.tasks.get(taskKey(id))?.runner.statusMetrics();
  }

  /**
   * Every status.metrics.interval.ms, the tasks' own figures go to the status store when they
   * changed — in distributed mode the status topic, which is how other workers' REST answers see
   * them (as they see task states).
   */
  private publishMetrics(): void {
    for (const t of this.tasks.values()) {
      const current = this.deps.statuses.task(t.id.connector, t.id.task);
      if (!current || current.workerId !== this.deps.workerId) continue;
      if (current.state !== 'RUNNING' && current.state !== 'PAUSED') continue;
      const metrics = t.runner.statusMetrics();
      if (JSON.stringify(metrics) === JSON.stringify(current.metrics ?? null)) continue;
      this.deps.statuses.putTask(t.id.connector, t.id.task, { ...current, metrics });
    }
  }

  private updateMetricsTimer(): void {
    const ms = Number(this.deps.config.values['status.metrics.interval.ms'] ?? 0);
    if (this.tasks.size > 0 && ms > 0 && this.metricsTimer === null) {
      this.metricsTimer = setInterval(() => this.publishMetrics(), ms);
      this.metricsTimer.unref();
    } else if (this.tasks.size === 0 && this.metricsTimer !== null) {
      clearInterval(this.metricsTimer);
      this.metricsTimer = null;
    }
  }

  private status(state: State, trace: string | null = null) {
    return { state, trace, workerId: this.deps.workerId, generation: this.deps.generation() };
  }

  runningConnectors(): string[] {
    return [...this.connectors.keys()];
  }

  runningTasks(): TaskId[] {
    return [...this.tasks.values()].map((t) => t.id);
  }

  /** Records each running task has sent (sources) or put (sinks) so far: for live throughput. */
  taskMetrics(): TaskMetrics[] {
    return [...this.tasks.values()].map((t) =>
      t.runner instanceof WorkerSourceTask
        ? { connector: t.id.connector, task: t.id.task, type: 'source' as const, records: t.runner.sent }
        : { connector: t.id.connector, task: t.id.task, type: 'sink' as const, records: t.runner.put },
    );
  }

  connectorConfig(name: string): Props | undefined {
    return this.connectors.get(name)?.config;
  }

  taskConfig(id: TaskId): { config: Props; connectorConfig: Props } | undefined {
    const t = this.tasks.get(taskKey(id));
    return t ? { config: t.config, connectorConfig: t.connectorConfig } : undefined;
  }

  isConnectorFailed(name: string): boolean {
    return this.connectors.get(name)?.state === 'FAILED';
  }

  async startConnector(name: string, config: Props, target: TargetState): Promise<void> {
    const { deps } = this;
    let plugin: ConnectorPlugin;
    try {
      plugin = deps.plugins.get(config['connector.class']);
    } catch (err) {
      deps.statuses.putConnector(name, this.status('FAILED', traceOf(err)));
      return;
    }
    const rc: RunningConnector = { name, config, plugin, connector: null, state: 'UNASSIGNED' };
    this.connectors.set(name, rc);
    try {
      const connector = plugin.create();
      rc.connector = connector;
      await connector.start(config, {
        requestTaskReconfiguration: () => void this.generateTaskConfigs(rc),
        cluster: deps.client,
        raiseError: (err) => {
          rc.state = 'FAILED';
          deps.statuses.putConnector(name, this.status('FAILED', traceOf(err)));
        },
      });
      rc.state = target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
      deps.statuses.putConnector(name, this.status(rc.state));
      deps.log(`connector ${name} started (${plugin.className})`);
      await this.generateTaskConfigs(rc);
    } catch (err) {
      rc.state = 'FAILED';
      deps.log(`connector ${name} failed to start: ${traceOf(err)}`);
      deps.statuses.putConnector(name, this.status('FAILED', traceOf(err)));
    }
  }

  private async generateTaskConfigs(rc: RunningConnector): Promise<void> {
    if (!rc.connector || rc.state === 'FAILED') return;
    try {
      const max = Number(rc.config['tasks.max'] ?? 1);
      const configs = await rc.connector.taskConfigs(max);
      if (configs.length > max && (rc.config['tasks.max.enforce'] ?? 'true') !== 'false') {
        throw new Error(
          `The connector ${rc.name} has generated ${configs.length} tasks, which is greater than ${max}, the maximum number of tasks it is configured to create.`,
        );
      }
      // Task configs carry the task class, as Kafka's do.
      const full = configs.map((c) => ({
        ...c,
        'task.class': rc.plugin.className.replace(/Connector$/, 'Task'),
      }));
      this.deps.onTaskConfigs(rc.name, full);
    } catch (err) {
      rc.state = 'FAILED';
      this.deps.statuses.putConnector(rc.name, this.status('FAILED', traceOf(err)));
    }
  }

  async stopConnector(name: string, finalState: State | null): Promise<void> {
    const rc = this.connectors.get(name);
    if (!rc) return;
    this.connectors.delete(name);
    if (finalState === 'RESTARTING') this.deps.statuses.putConnector(name, this.status('RESTARTING'));
    try {
      await rc.connector?.stop();
    } catch (err) {
      this.deps.log(`stopping connector ${name} failed: ${messageOf(err)}`);
    }
    if (finalState && finalState !== 'RESTARTING')
      this.deps.statuses.putConnector(name, this.status(finalState));
  }

  setConnectorTarget(name: string, target: TargetState): void {
    const rc = this.connectors.get(name);
    if (!rc || rc.state === 'FAILED') return;
    const state: State = target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
    if (rc.state !== state) {
      rc.state = state;
      this.deps.statuses.putConnector(name, this.status(state));
    }
  }

  async startTask(id: TaskId, config: Props, connectorConfig: Props, target: TargetState): Promise<void> {
    const { deps } = this;
    const key = taskKey(id);
    const onStatus = (state: State, trace: string | null = null) =>
      deps.statuses.putTask(id.connector, id.task, this.status(state, trace));
    let runner: WorkerSourceTask | WorkerSinkTask;
    try {
      const plugin = deps.plugins.get(connectorConfig['connector.class']);
      const env = buildTaskEnv({
        id,
        type: plugin.type,
        client: deps.client,
        admin: deps.admin,
        worker: deps.config,
        connectorProps: connectorConfig,
        taskProps: config,
        onStatus,
        onTopic: (topic) => this.noteTopic(id, topic),
        log: deps.log,
      });
      const connector = plugin.create();
      const paused = target === 'PAUSED';
      if (connector.type === 'source') {
        runner = new WorkerSourceTask(env, connector.createTask() as SourceTask, deps.offsets, paused);
      } else {
        runner = new WorkerSinkTask(env, connector.createTask() as SinkTask, paused);
      }
    } catch (err) {
      deps.log(`task ${key} failed to start: ${traceOf(err)}`);
      onStatus('FAILED', traceOf(err));
      return;
    }
    const entry: RunningTask = { id, config, connectorConfig, runner, ended: Promise.resolve() };
    this.tasks.set(key, entry);
    this.updateMetricsTimer();
    entry.ended = runner.start();
  }

  private noteTopic(id: TaskId, topic: string): void {
    this.deps.statuses.putTopic(id.connector, topic, id.task);
  }

  async stopTask(id: TaskId, finalState: State | null = null): Promise<void> {
    const t = this.tasks.get(taskKey(id));
    if (!t) return;
    this.tasks.delete(taskKey(id));
    this.updateMetricsTimer();
    if (finalState === 'RESTARTING')
      this.deps.statuses.putTask(id.connector, id.task, this.status('RESTARTING'));
    const timeoutMs = Number(this.deps.config.values['task.shutdown.graceful.timeout.ms']);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      t.runner.stop(),
      new Promise<void>((r) => {
        timer = setTimeout(
          () => {
            this.deps.log(
              `task ${taskKey(id)} did not stop within ${timeoutMs} ms (task.shutdown.graceful.timeout.ms); abandoning it`,
            );
            r();
          },
          Math.max(timeoutMs, 1000),
        );
      }),
    ]);
    clearTimeout(timer);
    if (finalState && finalState !== 'RESTARTING')
      this.deps.statuses.putTask(id.connector, id.task, this.status(finalState));
  }

  setTaskTarget(id: TaskId, target: TargetState): void {
    this.tasks.get(taskKey(id))?.runner.setPaused(target === 'PAUSED');
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.runningTasks().map((id) => this.stopTask(id)));
    await Promise.all(this.runningConnectors().map((n) => this.stopConnector(n, null)));
  }
}
