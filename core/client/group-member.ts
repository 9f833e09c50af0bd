/**
 * Membership of one group through Kafka's classic group protocol: JoinGroup (with the
 * MEMBER_ID_REQUIRED round trip), SyncGroup (the leader computes the assignment), Heartbeat,
 * LeaveGroup. It knows nothing of what is assigned: consumers, Connect workers and streams
 * applications each bring their protocol type, metadata and assignment logic.
 */
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode, errorInfo } from '../protocol/errors.js';
import type { RequestInput, ResponseData, SupportedApiKey } from '../protocol/messages/index.js';
import type { Cluster } from './cluster.js';
import { brokerError, KafkaClientError } from './errors.js';

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinedMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface GroupMemberOptions {
  groupId: string;
  groupInstanceId: string | null;
  protocolType: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** The protocols this member supports, best first; asked before every join. */
  protocols(): GroupProtocol[] | Promise<GroupProtocol[]>;
  /** Leader only: computes every member's assignment. */
  assign(protocol: string, members: JoinedMember[]): Promise<Map<string, Buffer>> | Map<string, Buffer>;
  log?: (msg: string) => void;
}

export interface Generation {
  generationId: number;
  memberId: string;
  protocol: string;
  leader: boolean;
  assignment: Buffer;
}

const COORDINATOR_ERRORS = new Set<number>([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

export class GroupMember {
  memberId = '';
  generationId = -1;
  protocol: string | null = null;
  /** Set when the coordinator asked for a rebalance, or membership was lost. */
  rejoinNeeded = true;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeating = false;
  private closed = false;
  private lastError: Error | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: GroupMemberOptions,
  ) {}

  get groupId(): string {
    return this.opts.groupId;
  }

  /** A fatal error seen by the heartbeat (e.g. a fenced static member), reported once. */
  takeError(): Error | undefined {
    const e = this.lastError;
    this.lastError = undefined;
    return e;
  }

  private async coordinatorRequest<K extends SupportedApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    timeoutMs?: number,
  ): Promise<ResponseData<K>> {
    const node = await this.cluster.coordinator(this.opts.groupId);
    return this.cluster.request(node, apiKey, body, { purpose: 'coordinator', timeoutMs });
  }

  /** Joins (or rejoins) the group and returns the new generation with this member's assignment. */
  async join(reason: string): Promise<Generation> {
    this.stopHeartbeat();
    let backoff = this.cluster.options.retryBackoffMs;
    for (;;) {
      if (this.closed) throw new KafkaClientError('CLIENT_CLOSED', 'the consumer was closed');
      const protocols = await this.opts.protocols();
      let j: ResponseData<typeof ApiKey.JoinGroup>;
      try {
        j = await this.coordinatorRequest(
          ApiKey.JoinGroup,
          {
            groupId: this.opts.groupId,
            sessionTimeoutMs: this.opts.sessionTimeoutMs,
            rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs,
            memberId: this.memberId,
            groupInstanceId: this.opts.groupInstanceId,
            protocolType: this.opts.protocolType,
            protocols,
            reason,
          },
          this.opts.rebalanceTimeoutMs + 5000,
        );
      } catch (err) {
        if ((err as { retriable?: boolean }).retriable) {
          this.cluster.invalidateCoordinator(this.opts.groupId);
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 1000);
          continue;
        }
        throw err;
      }
      if (j.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = j.memberId;
        continue;
      }
      if (j.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (COORDINATOR_ERRORS.has(j.errorCode) || j.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
        if (j.errorCode !== ErrorCode.REBALANCE_IN_PROGRESS)
          this.cluster.invalidateCoordinator(this.opts.groupId);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
        continue;
      }
      if (j.errorCode !== 0) throw brokerError(j.errorCode, `joining group ${this.opts.groupId}`);
      this.memberId = j.memberId;
      this.generationId = j.generationId;
      this.protocol = j.protocolName;
      const leader = j.leader === j.memberId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (leader) {
        const map = await this.opts.assign(j.protocolName ?? '', j.members);
        assignments = [...map].map(([memberId, assignment]) => ({ memberId, assignment }));
      }
      const sync = await this.coordinatorRequest(ApiKey.SyncGroup, {
        groupId: this.opts.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.opts.groupInstanceId,
        protocolType: this.opts.protocolType,
        protocolName: j.protocolName,
        assignments,
      });
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
        continue;
      }
      if (COORDINATOR_ERRORS.has(sync.errorCode)) {
        this.cluster.invalidateCoordinator(this.opts.groupId);
        await sleep(backoff);
        continue;
      }
      if (sync.errorCode !== 0) throw brokerError(sync.errorCode, `syncing group ${this.opts.groupId}`);
      this.rejoinNeeded = false;
      this.startHeartbeat();
      return {
        generationId: this.generationId,
        memberId: this.memberId,
        protocol: j.protocolName ?? '',
        leader,
        assignment: sync.assignment,
      };
    }
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const tick = (): void => {
      this.heartbeatTimer = setTimeout(
        () =>
          void this.heartbeat().finally(() => {
            if (!this.closed && !this.rejoinNeeded) tick();
          }),
        this.opts.heartbeatIntervalMs,
      );
      this.heartbeatTimer.unref?.();
    };
    tick();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeating || this.closed) return;
    this.heartbeating = true;
    try {
      const res = await this.coordinatorRequest(ApiKey.Heartbeat, {
        groupId: this.opts.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.opts.groupInstanceId,
      });
      switch (res.errorCode) {
        case 0:
          return;
        case ErrorCode.REBALANCE_IN_PROGRESS:
          this.rejoinNeeded = true;
          return;
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.memberId = '';
          this.rejoinNeeded = true;
          return;
        case ErrorCode.ILLEGAL_GENERATION:
          this.rejoinNeeded = true;
          return;
        default:
          if (COORDINATOR_ERRORS.has(res.errorCode)) {
            this.cluster.invalidateCoordinator(this.opts.groupId);
            return;
          }
          this.lastError = brokerError(res.errorCode, `heartbeat in group ${this.opts.groupId}`);
          this.rejoinNeeded = errorInfo(res.errorCode).retriable;
      }
    } catch {
      this.cluster.invalidateCoordinator(this.opts.groupId);
    } finally {
      this.heartbeating = false;
    }
  }

  /** Leaves the group (static members stay, as in Kafka, so a restart keeps the assignment). */
  async leave(reason = 'the consumer is closing'): Promise<void> {
    this.stopHeartbeat();
    const memberId = this.memberId;
    this.memberId = '';
    this.generationId = -1;
    this.rejoinNeeded = true;
    if (memberId === '' || this.opts.groupInstanceId !== null) return;
    try {
      await this.coordinatorRequest(ApiKey.LeaveGroup, {
        groupId: this.opts.groupId,
        memberId,
        members: [{ memberId, groupInstanceId: null, reason }],
      });
    } catch {
      // the session timeout removes us anyway
    }
  }

  close(): void {
    this.closed = true;
    this.stopHeartbeat();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
