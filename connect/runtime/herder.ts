/**
 * The herder (Kafka's AbstractHerder): what the REST API talks to. It validates configs, keeps
 * them in the config store, answers statuses from the status store, and reconciles the worker
 * with what should run here: `ownsConnector`/`ownsTask` (everything in standalone mode, the
 * group's assignment in distributed mode). Reconciliations are serialized.
 */
import type { Admin, KafkaClient } from '../../core/client/types.js';
import type { ConfigDef, ConfigInfo } from '../config-def.js';
import { ConnectError, messageOf } from '../errors.js';
import type { ConnectorPlugin, Props, TaskStatusMetrics } from '../sdk.js';
import type { ConfigStore, RestartRequest, TargetState } from '../storage/configs.js';
import { sameTasks } from '../storage/configs.js';
import type { OffsetStore } from '../storage/offsets.js';
import type { State, Status, StatusStore } from '../storage/statuses.js';
import { predicateFactory, transformFactory, transformPlugins } from '../transforms/index.js';
import { commonConfigDef } from './connector-config.js';
import {
  alterOffsets,
  type ConnectorOffsets,
  type OffsetOpsTarget,
  readOffsets,
  resetOffsets,
} from './offset-ops.js';
import type { PluginRegistry } from './plugins.js';
import { validateConnectorConfig } from './validate.js';
import { Worker } from './worker.js';
import type { WorkerConfig } from './worker-config.js';

export const CONNECT_VERSION = '3.9.0-tributary';

export interface HerderDeps {
  client: KafkaClient;
  admin: Admin;
  config: WorkerConfig;
  plugins: PluginRegistry;
  configs: ConfigStore;
  statuses: StatusStore;
  offsets: OffsetStore;
  workerId: string;
  log(msg: string): void;
}

export interface ConnectorInfo {
  name: string;
  config: Props;
  tasks: { connector: string; task: number }[];
  type: 'source' | 'sink' | 'unknown';
}

interface StateInfo {
  state: State;
  worker_id: string;
  trace?: string;
}

/** A task's entry: Kafka's fields, plus what the task reports about itself (its status() hook), when it does. */
export interface TaskStateInfo extends StateInfo {
  id: number;
  metrics?: TaskStatusMetrics;
}

export interface ConnectorStateInfo {
  name: string;
  connector: StateInfo;
  tasks: TaskStateInfo[];
  type: 'source' | 'sink' | 'unknown';
}

export interface ConfigInfos {
  name: string;
  error_count: number;
  groups: string[];
  configs: ConfigInfo[];
}

/** ISO control characters, which Kafka refuses in connector names. */
const hasControlChars = (s: string): boolean =>
  [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

export abstract class Herder {
  readonly worker: Worker;
  private chain: Promise<void> = Promise.resolve();
  private clusterId: string | null = null;

  constructor(readonly deps: HerderDeps) {
    this.worker = new Worker({
      client: deps.client,
      admin: deps.admin,
      config: deps.config,
      plugins: deps.plugins,
      offsets: deps.offsets,
      statuses: deps.statuses,
      workerId: deps.workerId,
      generation: () => this.generation(),
      log: deps.log,
      onTaskConfigs: (name, configs) => void this.taskConfigsGenerated(name, configs),
    });
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  protected abstract ownsConnector(name: string): boolean;
  protected abstract ownsTask(name: string, task: number): boolean;
  /** Throws a 409 ConnectError while a rebalance is in progress. */
  protected abstract checkReady(): void;
  protected abstract generation(): number;

  private async taskConfigsGenerated(name: string, configs: Props[]): Promise<void> {
    const entry = this.deps.configs.get(name);
    if (!entry || sameTasks(entry.tasks, configs)) return;
    try {
      await this.deps.configs.putTaskConfigs(name, configs);
    } catch (err) {
      this.deps.log(`writing task configs of ${name} failed: ${messageOf(err)}`);
    }
  }

  /** Runs `fn` after every earlier worker change (changes never interleave). */
  protected serialized(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain
      .then(fn)
      .catch((err: unknown) => this.deps.log(`worker change failed: ${messageOf(err)}`));
    return this.chain;
  }

  /** Brings the worker in line with the configs and this worker's share (serialized). */
  reconcile(): Promise<void> {
    return this.serialized(() => this.doReconcile());
  }

  private async doReconcile(): Promise<void> {
    const { configs } = this.deps;
    const w = this.worker;
    // Stop tasks that are no longer ours or whose config changed.
    await Promise.all(
      w.runningTasks().map(async (id) => {
        const entry = configs.get(id.connector);
        const want =
          entry &&
          entry.targetState !== 'STOPPED' &&
          entry.tasks?.[id.task] &&
          this.ownsTask(id.connector, id.task);
        const running = w.taskConfig(id)!;
        if (
          !want ||
          !sameTasks([running.config], [entry.tasks![id.task]!]) ||
          !sameTasks([running.connectorConfig], [entry.config])
        ) {
          await w.stopTask(id);
        }
      }),
    );
    for (const name of w.runningConnectors()) {
      const entry = configs.get(name);
      const want = entry && entry.targetState !== 'STOPPED' && this.ownsConnector(name);
      if (!want || !sameTasks([w.connectorConfig(name)!], [entry.config])) {
        await w.stopConnector(name, entry?.targetState === 'STOPPED' ? 'STOPPED' : null);
      }
    }
    for (const name of configs.connectors()) {
      const entry = configs.get(name)!;
      if (this.ownsConnector(name)) {
        if (entry.targetState === 'STOPPED') {
          const s = this.deps.statuses.connector(name);
          if (s?.state !== 'STOPPED' || s.workerId !== this.deps.workerId)
            this.deps.statuses.putConnector(name, {
              state: 'STOPPED',
              trace: null,
              workerId: this.deps.workerId,
              generation: this.generation(),
            });
        } else if (!w.runningConnectors().includes(name))
          await w.startConnector(name, entry.config, entry.targetState);
        else w.setConnectorTarget(name, entry.targetState);
      }
      if (entry.targetState === 'STOPPED' || !entry.tasks) continue;
      const running = new Set(
        w
          .runningTasks()
          .filter((t) => t.connector === name)
          .map((t) => t.task),
      );
      for (let i = 0; i < entry.tasks.length; i++) {
        if (!this.ownsTask(name, i)) continue;
        if (running.has(i)) w.setTaskTarget({ connector: name, task: i }, entry.targetState);
        else
          await w.startTask({ connector: name, task: i }, entry.tasks[i]!, entry.config, entry.targetState);
      }
    }
  }

  /** Handles a restart request for a connector this worker may own. */
  protected handleRestart(req: RestartRequest): Promise<void> {
    return this.serialized(async () => {
      await this.doRestart(req);
      await this.doReconcile();
    });
  }

  private async doRestart(req: RestartRequest): Promise<void> {
    const entry = this.deps.configs.get(req.connector);
    if (!entry) return;
    const w = this.worker;
    if (req.task !== undefined) {
      if (this.ownsTask(req.connector, req.task))
        await w.stopTask({ connector: req.connector, task: req.task }, 'RESTARTING');
      return;
    }
    if (this.ownsConnector(req.connector)) {
      const failed = this.deps.statuses.connector(req.connector)?.state === 'FAILED';
      if (!req.onlyFailed || failed) await w.stopConnector(req.connector, 'RESTARTING');
    }
    if (req.includeTasks && entry.tasks) {
      for (let i = 0; i < entry.tasks.length; i++) {
        if (!this.ownsTask(req.connector, i)) continue;
        const failed = this.deps.statuses.task(req.connector, i)?.state === 'FAILED';
        if (!req.onlyFailed || failed) await w.stopTask({ connector: req.connector, task: i }, 'RESTARTING');
      }
    }
  }

  // ─── REST operations ──────────────────────────────────────────────────────────────────────────

  async serverInfo(): Promise<{ version: string; commit: string; kafka_cluster_id: string }> {
    if (this.clusterId === null) {
      try {
        this.clusterId = (await this.deps.admin.describeCluster()).clusterId;
      } catch {
        return { version: CONNECT_VERSION, commit: 'tributary', kafka_cluster_id: '' };
      }
    }
    return { version: CONNECT_VERSION, commit: 'tributary', kafka_cluster_id: this.clusterId };
  }

  plugins(connectorsOnly: boolean): { class: string; type: string; version?: string }[] {
    const out: { class: string; type: string; version?: string }[] = this.deps.plugins
      .list()
      .map((p) => ({ class: p.className, type: p.type, version: p.version }));
    if (!connectorsOnly) {
      for (const t of transformPlugins())
        out.push({ class: t.className, type: t.type, version: CONNECT_VERSION });
      for (const c of [
        'org.apache.kafka.connect.json.JsonConverter',
        'org.apache.kafka.connect.storage.StringConverter',
        'org.apache.kafka.connect.converters.ByteArrayConverter',
      ]) {
        out.push({ class: c, type: 'converter', version: CONNECT_VERSION });
      }
      out.push({
        class: 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
        type: 'header_converter',
        version: CONNECT_VERSION,
      });
    }
    return out;
  }

  pluginConfig(type: string): ConfigInfo['definition'][] {
    const plugin = this.deps.plugins.find(type);
    if (!plugin) {
      // Transforms and predicates describe their options too (Kafka ≥ 3.2).
      const other = transformFactory(type)?.() ?? predicateFactory(type)?.();
      if (other)
        return other
          .config()
          .validate({})
          .map((c) => c.definition);
      throw new ConnectError('NOT_FOUND', `Unknown plugin ${type}.`);
    }
    return plugin
      .create()
      .config()
      .validate({})
      .map((c) => c.definition);
  }

  connectorDef(plugin: ConnectorPlugin): ConfigDef {
    return commonConfigDef(plugin.type).merge(plugin.create().config());
  }

  validate(config: Props, pathType?: string): Promise<ConfigInfos> {
    return validateConnectorConfig(this.deps.plugins, config, pathType);
  }

  private async validateOrThrow(config: Props): Promise<ConnectorPlugin> {
    const result = await this.validate(config);
    if (result.error_count > 0) {
      const messages = result.configs.flatMap((c) => c.value.errors.map((e) => `${c.definition.name}: ${e}`));
      throw new ConnectError(
        'CONFIG',
        `Connector configuration is invalid and contains the following ${result.error_count} error(s):\n${messages.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``,
      );
    }
    return this.deps.plugins.get(config['connector.class']);
  }

  connectors(): string[] {
    return this.deps.configs.connectors();
  }

  private entry(name: string) {
    const e = this.deps.configs.get(name);
    if (!e) throw new ConnectError('NOT_FOUND', `Connector ${name} not found`);
    return e;
  }

  private typeOf(config: Props): 'source' | 'sink' | 'unknown' {
    return this.deps.plugins.find(config['connector.class'] ?? '')?.type ?? 'unknown';
  }

  info(name: string): ConnectorInfo {
    const e = this.entry(name);
    return {
      name,
      config: e.config,
      tasks: (e.tasks ?? []).map((_, task) => ({ connector: name, task })),
      type: this.typeOf(e.config),
    };
  }

  config(name: string): Props {
    return this.entry(name).config;
  }

  async putConnector(
    name: string,
    config: Props,
    opts: { allowReplace: boolean; initialState?: TargetState },
  ): Promise<{ created: boolean; info: ConnectorInfo }> {
    this.checkReady();
    if (name.trim() === '' || hasControlChars(name)) {
      throw new ConnectError(
        'BAD_REQUEST',
        'Connector name cannot contain ISO control characters and cannot be empty',
      );
    }
    if (config.name !== undefined && config.name !== name) {
      throw new ConnectError(
        'BAD_REQUEST',
        `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`,
      );
    }
    const full = { ...config, name };
    await this.validateOrThrow(full);
    await this.deps.configs.refresh();
    const exists = this.deps.configs.get(name) !== undefined;
    if (exists && !opts.allowReplace)
      throw new ConnectError('ALREADY_EXISTS', `Connector ${name} already exists`);
    await this.deps.configs.putConnectorConfig(
      name,
      full,
      exists ? undefined : (opts.initialState ?? 'STARTED'),
    );
    await this.afterConfigChange();
    return { created: !exists, info: this.info(name) };
  }

  async patchConfig(name: string, patch: Readonly<Record<string, string | null>>): Promise<ConnectorInfo> {
    const current = this.entry(name).config;
    const next: Record<string, string> = { ...current };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    return (await this.putConnector(name, next, { allowReplace: true })).info;
  }

  async deleteConnector(name: string): Promise<void> {
    this.checkReady();
    this.entry(name);
    await this.deps.configs.removeConnector(name);
    await this.afterConfigChange();
    this.deps.statuses.remove(name);
  }

  /** Standalone reconciles at once; distributed lets the group decide. */
  protected async afterConfigChange(): Promise<void> {
    await this.reconcile();
  }

  private stateInfo(s: Status | undefined): StateInfo {
    if (!s) return { state: 'UNASSIGNED', worker_id: this.deps.workerId };
    return {
      state: s.state,
      worker_id: s.workerId,
      ...(s.state === 'FAILED' && s.trace ? { trace: s.trace } : {}),
    };
  }

  /**
   * A task's status entry. While the task is RUNNING or PAUSED it carries the task's metrics: live
   * when the task runs in this worker, otherwise what its worker last wrote to the status store
   * (every status.metrics.interval.ms).
   */
  private taskStateInfo(name: string, id: number): TaskStateInfo {
    const s = this.deps.statuses.task(name, id);
    const info: TaskStateInfo = { id, ...this.stateInfo(s) };
    if (s?.state !== 'RUNNING' && s?.state !== 'PAUSED') return info;
    const live = this.worker.taskStatusMetrics({ connector: name, task: id });
    const metrics = live !== undefined ? live : s.metrics;
    if (metrics) info.metrics = metrics;
    return info;
  }

  status(name: string): ConnectorStateInfo {
    const e = this.entry(name);
    const tasks = (e.tasks ?? []).map((_, id) => this.taskStateInfo(name, id));
    let connector = this.stateInfo(this.deps.statuses.connector(name));
    if (e.targetState === 'STOPPED' && connector.state !== 'FAILED')
      connector = { ...connector, state: 'STOPPED' };
    return { name, connector, tasks, type: this.typeOf(e.config) };
  }

  taskStatus(name: string, task: number): TaskStateInfo {
    const e = this.entry(name);
    if (!e.tasks || task < 0 || task >= e.tasks.length)
      throw new ConnectError('NOT_FOUND', `No status found for task ${name}-${task}`);
    return this.taskStateInfo(name, task);
  }

  taskConfigs(name: string): { id: { connector: string; task: number }; config: Props }[] {
    const e = this.entry(name);
    return (e.tasks ?? []).map((config, task) => ({ id: { connector: name, task }, config }));
  }

  /** null: the plain restart (204); otherwise the status with RESTARTING where work restarts (202). */
  async restartConnector(
    name: string,
    includeTasks: boolean,
    onlyFailed: boolean,
  ): Promise<ConnectorStateInfo | null> {
    this.checkReady();
    const before = this.status(name);
    await this.deps.configs.requestRestart({ connector: name, includeTasks, onlyFailed });
    if (!includeTasks && !onlyFailed) return null;
    const restarting = (s: State) => (!onlyFailed || s === 'FAILED' ? 'RESTARTING' : s);
    return {
      ...before,
      connector: { ...before.connector, state: restarting(before.connector.state) },
      tasks: before.tasks.map((t) => (includeTasks ? { ...t, state: restarting(t.state) } : t)),
    };
  }

  async restartTask(name: string, task: number): Promise<void> {
    this.checkReady();
    this.taskStatus(name, task);
    await this.requestTaskRestart(name, task);
  }

  protected requestTaskRestart(name: string, task: number): Promise<void> {
    return this.handleRestart({ connector: name, includeTasks: true, onlyFailed: false, task });
  }

  async setTargetState(name: string, state: TargetState): Promise<void> {
    this.checkReady();
    this.entry(name);
    await this.deps.configs.putTargetState(name, state);
    if (state === 'STOPPED') await this.deps.configs.putTaskConfigs(name, []);
    await this.afterConfigChange();
  }

  // ─── Offsets ────────────────────────────────────────────────────────────────────────────────

  async offsets(name: string): Promise<ConnectorOffsets> {
    return readOffsets(this.offsetOps(name));
  }

  async alterOffsets(name: string, body: unknown): Promise<{ message: string }> {
    this.checkReady();
    return alterOffsets(this.offsetOps(name, true), body);
  }

  async resetOffsets(name: string): Promise<{ message: string }> {
    this.checkReady();
    return resetOffsets(this.offsetOps(name, true));
  }

  private offsetOps(name: string, mustBeStopped = false): OffsetOpsTarget {
    const e = this.entry(name);
    if (mustBeStopped && e.targetState !== 'STOPPED') {
      throw new ConnectError(
        'BAD_REQUEST',
        `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
      );
    }
    return { name, type: this.typeOf(e.config), admin: this.deps.admin, offsets: this.deps.offsets };
  }

  topics(name: string): Record<string, { topics: string[] }> {
    this.entry(name);
    return { [name]: { topics: this.deps.statuses.topics(name) } };
  }

  resetTopics(name: string): void {
    this.entry(name);
    this.deps.statuses.resetTopics(name);
  }
}
