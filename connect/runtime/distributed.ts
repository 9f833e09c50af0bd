/**
 * Distributed mode: workers with the same `group.id` form a group through Kafka's group protocol
 * (protocol type "connect", eager rebalancing) and share connectors and tasks. Configs, source
 * offsets and statuses live in the compacted topics `config.storage.topic`,
 * `offset.storage.topic` and `status.storage.topic`, so any worker can answer any REST request
 * and a worker that dies loses nothing: when its session times out the group rebalances and its
 * work starts elsewhere, from the offsets it committed.
 *
 * The leader triggers a rebalance whenever the configs no longer match what it assigned (a
 * connector was added or removed, or produced a different number of tasks). REST writes go
 * straight to the config topic from whichever worker received them (Kafka forwards them to the
 * leader; the topic serializes them either way). While a rebalance is in progress, writes answer
 * 409.
 */
import type { GroupMembership } from '../../core/client/types.js';
import { ConnectError, messageOf } from '../errors.js';
import {
  ASSIGNMENT_NO_ERROR,
  assignRoundRobin,
  CONFIG_MISMATCH,
  CONNECT_PROTOCOL,
  CONNECTOR_TASK,
  type ConnectAssignment,
  decodeAssignment,
  decodeWorkerState,
  encodeAssignment,
  encodeWorkerState,
} from './connect-protocol.js';
import { Herder, type HerderDeps } from './herder.js';

const LOOP_INTERVAL_MS = 100;
const STOP_WAIT_MS = 5000;

export class DistributedHerder extends Herder {
  private membership: GroupMembership | null = null;
  private assignment: ConnectAssignment | null = null;
  private generationId = -1;
  private leader = false;
  private rebalancing = true;
  private rejoinRequested = true;
  private stopped = false;
  private loop: Promise<void> | null = null;
  /** The work the leader assigned at the last rebalance, to notice when configs moved on. */
  private assignedWork = '';

  constructor(
    deps: HerderDeps,
    private readonly url: string,
  ) {
    super(deps);
  }

  async start(): Promise<void> {
    const { deps } = this;
    const v = deps.config.values;
    deps.configs.listen(
      () => {
        if (!this.rebalancing) void this.reconcile();
      },
      (req) => void this.handleRestart(req),
    );
    this.membership = deps.client.groupMembership({
      groupId: String(v['group.id']),
      protocolType: 'connect',
      sessionTimeoutMs: Number(v['session.timeout.ms']),
      rebalanceTimeoutMs: Number(v['rebalance.timeout.ms']),
      heartbeatIntervalMs: Number(v['heartbeat.interval.ms']),
      protocols: () => [
        {
          name: CONNECT_PROTOCOL,
          metadata: encodeWorkerState({ url: this.url, configOffset: deps.configs.version }),
        },
      ],
      assign: (_protocol, members) => this.assign(members),
    });
    this.loop = this.run();
  }

  private async assign(members: { memberId: string; metadata: Buffer }[]): Promise<Map<string, Buffer>> {
    const { configs } = this.deps;
    await configs.refresh().catch(() => {});
    const states = members.map((m) => ({ id: m.memberId, ...decodeWorkerState(m.metadata) }));
    const maxOffset = Math.max(configs.version, ...states.map((s) => s.configOffset));
    const leaderState = states.find((s) => s.id === this.membership?.memberId);
    const work = configs
      .connectors()
      .map((c) => ({ connector: c, tasks: configs.get(c)?.tasks?.length ?? 0 }));
    this.assignedWork = workKey(work);
    const error = configs.version < maxOffset ? CONFIG_MISMATCH : ASSIGNMENT_NO_ERROR;
    const byMember = assignRoundRobin(
      states.map((s) => s.id),
      work,
    );
    const out = new Map<string, Buffer>();
    for (const s of states) {
      out.set(
        s.id,
        encodeAssignment({
          error,
          leader: this.membership?.memberId ?? '',
          leaderUrl: leaderState?.url ?? this.url,
          configOffset: configs.version,
          assignment: error === ASSIGNMENT_NO_ERROR ? (byMember.get(s.id) ?? new Map()) : new Map(),
        }),
      );
    }
    return out;
  }

  private async run(): Promise<void> {
    const m = this.membership!;
    while (!this.stopped) {
      try {
        if (this.rejoinRequested || m.rejoinNeeded) {
          this.rebalancing = true;
          this.rejoinRequested = false;
          await this.reconcile(); // let a reconcile in flight finish
          await this.worker.stopAll(); // eager: give everything back before rejoining
          await this.deps.statuses.flush();
          const gen = await m.join('connect worker rebalance');
          if (this.stopped) break;
          const a = decodeAssignment(gen.assignment);
          this.generationId = gen.generationId;
          this.leader = gen.leader;
          if (a.error === CONFIG_MISMATCH) {
            await this.deps.configs.refresh();
            this.rejoinRequested = true;
            continue;
          }
          await this.deps.configs.refresh();
          await this.deps.offsets.refresh();
          this.assignment = a;
          this.rebalancing = false;
          const mine = [...a.assignment].map(([c, t]) => `${c}[${t.join(',')}]`).join(' ');
          this.deps.log(
            `joined group generation ${gen.generationId}${gen.leader ? ' as leader' : ''}; assigned: ${mine || 'nothing'}`,
          );
          await this.reconcile();
        } else if (this.leader && this.workChanged()) {
          this.rejoinRequested = true;
          continue;
        }
      } catch (err) {
        if (this.stopped) break;
        this.deps.log(`group membership failed, retrying: ${messageOf(err)}`);
        this.rejoinRequested = true;
        await sleep(1000);
      }
      await sleep(LOOP_INTERVAL_MS);
    }
  }

  private workChanged(): boolean {
    const { configs } = this.deps;
    const work = configs
      .connectors()
      .map((c) => ({ connector: c, tasks: configs.get(c)?.tasks?.length ?? 0 }));
    return workKey(work) !== this.assignedWork;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.rebalancing = true;
    await this.reconcile();
    await this.worker.stopAll();
    await this.deps.statuses.flush();
    await this.membership?.close().catch(() => {});
    // A join in flight may wait for the group; do not let it hold the shutdown.
    await Promise.race([this.loop, sleep(STOP_WAIT_MS)]);
  }

  protected ownsConnector(name: string): boolean {
    return !this.rebalancing && (this.assignment?.assignment.get(name)?.includes(CONNECTOR_TASK) ?? false);
  }

  protected ownsTask(name: string, task: number): boolean {
    return !this.rebalancing && (this.assignment?.assignment.get(name)?.includes(task) ?? false);
  }

  protected checkReady(): void {
    if (this.rebalancing) {
      throw new ConnectError(
        'REBALANCING',
        'Cannot complete request because of a conflicting operation (e.g. worker rebalance)',
      );
    }
  }

  protected generation(): number {
    return this.generationId;
  }

  protected override async afterConfigChange(): Promise<void> {
    // The leader notices changed work and rebalances; owners reconcile on the config change.
  }

  protected override async requestTaskRestart(name: string, task: number): Promise<void> {
    if (this.ownsTask(name, task)) {
      await this.handleRestart({ connector: name, includeTasks: true, onlyFailed: false, task });
      return;
    }
    // Another worker owns it: a restart request for just this task travels through the config topic.
    await this.deps.configs.requestRestart({ connector: name, includeTasks: true, onlyFailed: false, task });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get isRebalancing(): boolean {
    return this.rebalancing;
  }
}

function workKey(work: readonly { connector: string; tasks: number }[]): string {
  return work
    .map((w) => `${w.connector}:${w.tasks}`)
    .sort()
    .join('|');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
