/**
 * Connector configs, task configs and target states: in memory (standalone) or in the config
 * topic (distributed), in Kafka Connect's record format so the topic reads the same:
 *
 *   connector-<name>        {"properties": {...}}            (null: deleted)
 *   task-<name>-<n>         {"properties": {...}}
 *   commit-<name>           {"tasks": N}                     (task configs apply once committed)
 *   target-state-<name>     {"state": "PAUSED", "state.v2": "STOPPED"}
 *   restart-connector-<name> {"include-tasks": true, "only-failed": false}
 */
import type { Admin, ConsumerRecord, KafkaClient } from '../../core/client/types.js';
import type { Props } from '../sdk.js';
import { KafkaLog } from './kafka-log.js';

export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED';

export interface ConnectorEntry {
  config: Props;
  targetState: TargetState;
  /** null until the connector generated them. */
  tasks: Props[] | null;
}

export interface RestartRequest {
  connector: string;
  includeTasks: boolean;
  onlyFailed: boolean;
  /** Restart just this task (ours: `restart-task-<name>-<n>`; Kafka forwards such requests over REST). */
  task?: number;
}

export interface ConfigStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  refresh(): Promise<void>;
  /** A version that changes with every applied change (the config topic's read position). */
  readonly version: number;
  connectors(): string[];
  get(name: string): ConnectorEntry | undefined;
  putConnectorConfig(name: string, config: Props, targetState?: TargetState): Promise<void>;
  removeConnector(name: string): Promise<void>;
  putTaskConfigs(name: string, tasks: Props[]): Promise<void>;
  putTargetState(name: string, state: TargetState): Promise<void>;
  requestRestart(req: RestartRequest): Promise<void>;
  /** Called after every applied change; restart requests separately. */
  listen(onChange: () => void, onRestart: (req: RestartRequest) => Promise<void> | void): void;
}

function sameTasks(a: Props[] | null, b: Props[]): boolean {
  if (a === null || a.length !== b.length) return false;
  return a.every(
    (t, i) => JSON.stringify(Object.entries(t).sort()) === JSON.stringify(Object.entries(b[i]!).sort()),
  );
}

export { sameTasks };

abstract class BaseConfigStore implements ConfigStore {
  protected readonly entries = new Map<string, ConnectorEntry>();
  protected changed: () => void = () => {};
  protected restart: (req: RestartRequest) => Promise<void> | void = () => {};
  version = 0;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  abstract refresh(): Promise<void>;
  abstract putConnectorConfig(name: string, config: Props, targetState?: TargetState): Promise<void>;
  abstract removeConnector(name: string): Promise<void>;
  abstract putTaskConfigs(name: string, tasks: Props[]): Promise<void>;
  abstract putTargetState(name: string, state: TargetState): Promise<void>;
  abstract requestRestart(req: RestartRequest): Promise<void>;

  connectors(): string[] {
    return [...this.entries.keys()].sort();
  }
  get(name: string): ConnectorEntry | undefined {
    return this.entries.get(name);
  }
  listen(onChange: () => void, onRestart: (req: RestartRequest) => Promise<void> | void): void {
    this.changed = onChange;
    this.restart = onRestart;
  }
}

export class MemoryConfigStore extends BaseConfigStore {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async refresh(): Promise<void> {}
  private bump(): void {
    this.version++;
    this.changed();
  }
  async putConnectorConfig(name: string, config: Props, targetState?: TargetState): Promise<void> {
    const prev = this.entries.get(name);
    this.entries.set(name, {
      config,
      targetState: targetState ?? prev?.targetState ?? 'STARTED',
      tasks: prev?.tasks ?? null,
    });
    this.bump();
  }
  async removeConnector(name: string): Promise<void> {
    this.entries.delete(name);
    this.bump();
  }
  async putTaskConfigs(name: string, tasks: Props[]): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    e.tasks = tasks;
    this.bump();
  }
  async putTargetState(name: string, state: TargetState): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    e.targetState = state;
    this.bump();
  }
  async requestRestart(req: RestartRequest): Promise<void> {
    await this.restart(req);
  }
}

/** The config topic's record kinds, by key. */
const KEY_KINDS: readonly [string, RegExp][] = [
  ['connector', /^connector-(.*)$/s],
  ['task', /^task-(.*)-(\d+)$/s],
  ['commit', /^commit-(.*)$/s],
  ['target-state', /^target-state-(.*)$/s],
  ['restart-task', /^restart-task-(.*)-(\d+)$/s],
  ['restart-connector', /^restart-connector-(.*)$/s],
];

export class KafkaConfigStore extends BaseConfigStore {
  private readonly log: KafkaLog;
  /** Task configs read but not committed yet. */
  private readonly pendingTasks = new Map<string, Map<number, Props>>();
  private readonly targetStates = new Map<string, TargetState>();

  constructor(
    client: KafkaClient,
    admin: Admin,
    topic: string,
    replicationFactor: number,
    logger?: (m: string) => void,
  ) {
    super();
    this.log = new KafkaLog(client, admin, {
      topic,
      partitions: 1,
      replicationFactor,
      onRecord: (r) => this.onRecord(r),
      log: logger,
    });
  }

  private onRecord(r: ConsumerRecord): void {
    if (r.key === null) return;
    const key = r.key.toString('utf8');
    const value = r.value === null ? null : (JSON.parse(r.value.toString('utf8')) as Record<string, unknown>);
    this.version = r.offset + 1;
    const kind = KEY_KINDS.find(([, re]) => re.test(key));
    if (!kind) return;
    const m = kind[1].exec(key)!;
    switch (kind[0]) {
      case 'connector': {
        const name = m[1]!;
        if (value === null) {
          this.entries.delete(name);
          this.pendingTasks.delete(name);
          this.targetStates.delete(name);
        } else {
          const prev = this.entries.get(name);
          this.entries.set(name, {
            config: value.properties as Props,
            targetState: this.targetStates.get(name) ?? prev?.targetState ?? 'STARTED',
            tasks: prev?.tasks ?? null,
          });
        }
        break;
      }
      case 'task': {
        if (value === null) return;
        const pending = this.pendingTasks.get(m[1]!) ?? new Map<number, Props>();
        this.pendingTasks.set(m[1]!, pending);
        pending.set(Number(m[2]), value.properties as Props);
        break;
      }
      case 'commit': {
        const name = m[1]!;
        const n = Number(value?.tasks ?? 0);
        const pending = this.pendingTasks.get(name) ?? new Map<number, Props>();
        const e = this.entries.get(name);
        if (e) {
          const tasks: Props[] = [];
          for (let i = 0; i < n; i++) {
            const t = pending.get(i);
            if (!t) return; // incomplete: Kafka ignores such a commit
            tasks.push(t);
          }
          e.tasks = tasks;
        }
        this.pendingTasks.delete(name);
        break;
      }
      case 'target-state': {
        const name = m[1]!;
        const state = (value?.['state.v2'] ?? value?.state ?? 'STARTED') as TargetState;
        this.targetStates.set(name, state);
        const e = this.entries.get(name);
        if (e) e.targetState = state;
        break;
      }
      case 'restart-task':
        if (value !== null)
          void this.restart({ connector: m[1]!, includeTasks: true, onlyFailed: false, task: Number(m[2]) });
        return;
      case 'restart-connector':
        if (value !== null) {
          void this.restart({
            connector: m[1]!,
            includeTasks: value['include-tasks'] === true,
            onlyFailed: value['only-failed'] === true,
          });
        }
        return;
    }
    this.changed();
  }

  start(): Promise<void> {
    return this.log.start();
  }
  stop(): Promise<void> {
    return this.log.stop();
  }
  refresh(): Promise<void> {
    return this.log.readToEnd();
  }

  async putConnectorConfig(name: string, config: Props, targetState?: TargetState): Promise<void> {
    if (targetState !== undefined)
      await this.log.send(`target-state-${name}`, JSON.stringify(targetStateValue(targetState)));
    await this.log.send(`connector-${name}`, JSON.stringify({ properties: config }));
    await this.log.readToEnd();
  }
  async removeConnector(name: string): Promise<void> {
    await this.log.send(`connector-${name}`, null);
    await this.log.send(`target-state-${name}`, null);
    await this.log.readToEnd();
  }
  async putTaskConfigs(name: string, tasks: Props[]): Promise<void> {
    await this.log.sendAll([
      ...tasks.map((t, i) => ({ key: `task-${name}-${i}`, value: JSON.stringify({ properties: t }) })),
      { key: `commit-${name}`, value: JSON.stringify({ tasks: tasks.length }) },
    ]);
    await this.log.readToEnd();
  }
  async putTargetState(name: string, state: TargetState): Promise<void> {
    await this.log.send(`target-state-${name}`, JSON.stringify(targetStateValue(state)));
    await this.log.readToEnd();
  }
  async requestRestart(req: RestartRequest): Promise<void> {
    if (req.task !== undefined) {
      await this.log.send(`restart-task-${req.connector}-${req.task}`, JSON.stringify({ task: req.task }));
      return;
    }
    await this.log.send(
      `restart-connector-${req.connector}`,
      JSON.stringify({ 'include-tasks': req.includeTasks, 'only-failed': req.onlyFailed }),
    );
  }
}

function targetStateValue(state: TargetState): Record<string, string> {
  // Kafka writes STOPPED only in state.v2; older readers see PAUSED.
  return { state: state === 'STOPPED' ? 'PAUSED' : state, 'state.v2': state };
}
