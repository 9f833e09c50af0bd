/**
 * Kafka's classic group coordinator (GroupCoordinator.scala semantics): group membership
 * (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), committed offsets (OffsetCommit, OffsetFetch)
 * and group administration (ListGroups, DescribeGroups, DeleteGroups), for any protocol type —
 * consumers, Connect workers and streams applications all use it the same way.
 *
 * Wire-independent: every method takes and returns plain objects whose field names are those
 * of Kafka's request/response JSON (JoinGroupRequest.json …), so the broker's handlers pass
 * decoded requests straight in and encode the results; the embedded client calls it directly.
 * Behaviour that depends on the request version takes `ctx.apiVersion`.
 *
 * State lives in memory (group.ts) and in `__consumer_offsets` (offsets-store.ts, Kafka's record
 * formats): group metadata is written when a generation completes, offsets when committed
 * (responses wait until the append is durable). `load()` replays the topic; until a partition
 * is loaded its groups answer COORDINATOR_LOAD_IN_PROGRESS.
 *
 * Timers (all through the injected Clock): session expiry per member, the rebalance deadline
 * (with `group.initial.rebalance.delay.ms` for a group's first rebalance), the SyncGroup
 * deadline, MEMBER_ID_REQUIRED ids that are never used, and the periodic offset expiration.
 *
 * Limits beyond Kafka's: `group.max.size` defaults to 1000 (Kafka: unlimited); at most
 * {@link MAX_PROTOCOLS_PER_MEMBER} protocols of at most {@link MAX_PROTOCOL_METADATA_BYTES}
 * each per JoinGroup (INVALID_REQUEST otherwise); pending member ids (MEMBER_ID_REQUIRED) count
 * against `group.max.size`. Not implemented: transactional offset commits (TxnOffsetCommit),
 * OffsetDelete, the KIP-848 consumer protocol, expiring offsets of topics a Stable consumer
 * group no longer subscribes to (that needs parsing the consumer protocol).
 */
import { type Clock, systemClock, type TimerHandle } from '../env/clock.js';
import { type Random, systemRandom } from '../env/random.js';
import { ClassicGroup, GroupMember, type GroupProtocol, type GroupState } from './group.js';
import { ErrorCode } from './group-errors.js';
import { type GroupStorage, LoadAbandoned, type OffsetCommitEntry, OffsetsStore } from './offsets-store.js';

// =============================================================================================
// Requests and responses (Kafka's JSON field names; fields absent in some versions optional)

export interface GroupRequestContext {
  /** The version of the request's API. */
  apiVersion: number;
  /** The request header's client id (member ids, DescribeGroups). */
  clientId?: string;
  /** The client's address as DescribeGroups shows it. */
  clientHost?: string;
}

export interface JoinGroupRequestProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  /** v1+; -1 or absent: the session timeout. */
  rebalanceTimeoutMs?: number;
  memberId: string;
  /** v5+. */
  groupInstanceId?: string | null;
  protocolType: string;
  protocols: JoinGroupRequestProtocol[];
  /** v8+. */
  reason?: string | null;
}

export interface JoinGroupResponseMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  /** null only from v7; earlier versions get ''. */
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: JoinGroupResponseMember[];
}

export interface SyncGroupRequestAssignment {
  memberId: string;
  assignment: Buffer;
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+. */
  groupInstanceId?: string | null;
  /** v5+: checked against the group's when present. */
  protocolType?: string | null;
  protocolName?: string | null;
  assignments: SyncGroupRequestAssignment[];
}

export interface SyncGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+. */
  groupInstanceId?: string | null;
}

export interface HeartbeatResponse {
  throttleTimeMs: number;
  errorCode: number;
}

export interface LeaveGroupMemberIdentity {
  memberId: string;
  groupInstanceId?: string | null;
  reason?: string | null;
}

export interface LeaveGroupRequest {
  groupId: string;
  /** v0–2: the one member leaving. */
  memberId?: string;
  /** v3+: the members leaving (by member id, or by instance id with an empty member id). */
  members?: LeaveGroupMemberIdentity[];
}

export interface LeaveGroupResponseMember {
  memberId: string;
  groupInstanceId: string | null;
  errorCode: number;
}

export interface LeaveGroupResponse {
  throttleTimeMs: number;
  /** v0–2: the member's error when the group-level one is NONE. */
  errorCode: number;
  /** v3+ only (empty before). */
  members: LeaveGroupResponseMember[];
}

export interface OffsetCommitRequestPartition {
  partitionIndex: number;
  committedOffset: number;
  /** v6+; -1: unknown. */
  committedLeaderEpoch?: number;
  /** v1 only; -1: now. */
  commitTimestamp?: number;
  committedMetadata: string | null;
}

export interface OffsetCommitRequestTopic {
  name: string;
  partitions: OffsetCommitRequestPartition[];
}

export interface OffsetCommitRequest {
  groupId: string;
  /** v1+; -1 (or absent): a commit from outside group management ("simple" consumers). */
  generationIdOrMemberEpoch?: number;
  /** v1+. */
  memberId?: string;
  /** v7+. */
  groupInstanceId?: string | null;
  /** v2–v4; -1: the broker's retention. */
  retentionTimeMs?: number;
  topics: OffsetCommitRequestTopic[];
}

export interface OffsetCommitResponsePartition {
  partitionIndex: number;
  errorCode: number;
}

export interface OffsetCommitResponseTopic {
  name: string;
  partitions: OffsetCommitResponsePartition[];
}

export interface OffsetCommitResponse {
  throttleTimeMs: number;
  topics: OffsetCommitResponseTopic[];
}

export interface OffsetFetchRequestTopic {
  name: string;
  partitionIndexes: number[];
}

export interface OffsetFetchRequestGroup {
  groupId: string;
  /** v9+ (KIP-848 consumers only; ignored by the classic coordinator). */
  memberId?: string | null;
  memberEpoch?: number;
  /** null: every partition the group has an offset for. */
  topics: OffsetFetchRequestTopic[] | null;
}

export interface OffsetFetchRequest {
  /** v0–7. */
  groupId?: string;
  /** v0–7; null (v2+): all partitions. */
  topics?: OffsetFetchRequestTopic[] | null;
  /** v8+. */
  groups?: OffsetFetchRequestGroup[];
  /** v7+. */
  requireStable?: boolean;
}

export interface OffsetFetchResponsePartition {
  partitionIndex: number;
  /** -1 when nothing is committed. */
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchResponseTopic {
  name: string;
  partitions: OffsetFetchResponsePartition[];
}

export interface OffsetFetchResponseGroup {
  groupId: string;
  topics: OffsetFetchResponseTopic[];
  errorCode: number;
}

export interface OffsetFetchResponse {
  throttleTimeMs: number;
  /** v0–7. */
  topics: OffsetFetchResponseTopic[];
  /** v2–7. */
  errorCode: number;
  /** v8+. */
  groups: OffsetFetchResponseGroup[];
}

export interface ListGroupsRequest {
  /** v4+; empty or absent: every state. Case-insensitive. */
  statesFilter?: string[];
  /** v5+; empty or absent: every type. All groups here are 'classic'. */
  typesFilter?: string[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

export interface ListGroupsResponse {
  throttleTimeMs: number;
  errorCode: number;
  groups: ListedGroup[];
}

export interface DescribeGroupsRequest {
  groups: string[];
  includeAuthorizedOperations?: boolean;
}

export interface DescribedGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Only while Stable (empty otherwise), as in Kafka. */
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: DescribedGroupMember[];
  authorizedOperations: number;
}

export interface DescribeGroupsResponse {
  throttleTimeMs: number;
  groups: DescribedGroup[];
}

export interface DeleteGroupsRequest {
  groupsNames: string[];
}

export interface DeletableGroupResult {
  groupId: string;
  errorCode: number;
}

export interface DeleteGroupsResponse {
  throttleTimeMs: number;
  results: DeletableGroupResult[];
}

// =============================================================================================
// Configuration

export interface GroupCoordinatorConfig {
  'group.min.session.timeout.ms': number;
  'group.max.session.timeout.ms': number;
  /** Delay of an empty group's first rebalance, so that members starting together join one generation. */
  'group.initial.rebalance.delay.ms': number;
  /** Kafka's default is unlimited; ours is 1000. */
  'group.max.size': number;
  'offset.metadata.max.bytes': number;
  'offsets.retention.minutes': number;
  'offsets.retention.check.interval.ms': number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = Object.freeze({
  'group.min.session.timeout.ms': 6000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.initial.rebalance.delay.ms': 3000,
  'group.max.size': 1000,
  'offset.metadata.max.bytes': 4096,
  'offsets.retention.minutes': 10_080,
  'offsets.retention.check.interval.ms': 600_000,
});

/** How long a new member's JoinGroup may wait for the rebalance (Kafka's NewMemberJoinTimeoutMs). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
export const MAX_PROTOCOLS_PER_MEMBER = 64;
export const MAX_PROTOCOL_METADATA_BYTES = 1024 * 1024;
/** Strings in `__consumer_offsets` records are int16-length. */
const MAX_STRING_BYTES = 0x7fff;
const UNKNOWN_MEMBER_ID = '';
const NO_GENERATION = -1;
const EMPTY_BYTES = Buffer.alloc(0);
/** DescribeGroups' AuthorizedOperations when not computed. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export interface GroupCoordinatorLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

const defaultLogger: GroupCoordinatorLogger = {
  info: () => {},
  warn: (m) => console.warn(`[group-coordinator] ${m}`),
  error: (m, err) => console.error(`[group-coordinator] ${m}`, err ?? ''),
};

export interface GroupCoordinatorOptions {
  storage: GroupStorage;
  clock?: Clock;
  random?: Random;
  config?: Partial<GroupCoordinatorConfig>;
  /**
   * Whether a topic partition exists; commits to others get UNKNOWN_TOPIC_OR_PARTITION (Kafka
   * checks this in KafkaApis). Absent: every partition is accepted.
   */
  partitionExists?: (topic: string, partition: number) => boolean;
  logger?: GroupCoordinatorLogger;
}

export function resolveGroupCoordinatorConfig(
  overrides: Partial<GroupCoordinatorConfig> = {},
): Readonly<GroupCoordinatorConfig> {
  const c: GroupCoordinatorConfig = { ...DEFAULT_GROUP_COORDINATOR_CONFIG };
  for (const [k, v] of Object.entries(overrides) as [keyof GroupCoordinatorConfig, number | undefined][]) {
    if (v === undefined) continue;
    if (!Object.hasOwn(DEFAULT_GROUP_COORDINATOR_CONFIG, k))
      throw new RangeError(`unknown group coordinator config ${k}`);
    c[k] = v;
  }
  for (const [k, v] of Object.entries(c)) {
    const min = k === 'group.initial.rebalance.delay.ms' ? 0 : 1;
    if (!Number.isSafeInteger(v) || v < min)
      throw new RangeError(`${k} must be an integer >= ${min}, got ${v}`);
  }
  if (c['group.min.session.timeout.ms'] > c['group.max.session.timeout.ms']) {
    throw new RangeError('group.min.session.timeout.ms must not exceed group.max.session.timeout.ms');
  }
  return Object.freeze(c);
}

type GroupApi =
  | 'JoinGroup'
  | 'SyncGroup'
  | 'Heartbeat'
  | 'LeaveGroup'
  | 'OffsetCommit'
  | 'OffsetFetch'
  | 'DescribeGroups'
  | 'DeleteGroups';

/** APIs that accept the empty group id (offsets of old clients, admin views of every group). */
const EMPTY_GROUP_ID_OK: ReadonlySet<GroupApi> = new Set([
  'OffsetCommit',
  'OffsetFetch',
  'DescribeGroups',
  'DeleteGroups',
]);

/** Everything a join needs once the request is validated. */
interface JoinParams {
  groupInstanceId: string | null;
  requireKnownMemberId: boolean;
  supportSkippingAssignment: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  reason: string;
  respond: (r: JoinGroupResponse) => void;
}

function joinError(memberId: string, errorCode: number): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: NO_GENERATION,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

function syncError(errorCode: number): SyncGroupResponse {
  return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

type Phase = 'starting' | 'running' | 'closed';

// =============================================================================================

export class GroupCoordinator {
  readonly config: Readonly<GroupCoordinatorConfig>;
  private readonly store: OffsetsStore;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly partitionExists: ((topic: string, partition: number) => boolean) | null;
  private readonly log: GroupCoordinatorLogger;

  private readonly groups = new Map<string, ClassicGroup>();
  /** Partitions being loaded, each with the token of its load (a reload after an unload gets a new one). */
  private readonly loadingPartitions = new Map<number, object>();
  private readonly ownedPartitions = new Set<number>();
  private phase: Phase = 'starting';
  private expirationTimer: TimerHandle | null = null;

  constructor(options: GroupCoordinatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.config = resolveGroupCoordinatorConfig(options.config);
    this.partitionExists = options.partitionExists ?? null;
    this.log = options.logger ?? defaultLogger;
    this.store = new OffsetsStore(
      options.storage,
      this.clock,
      this.log,
      this.config['offset.metadata.max.bytes'],
    );
  }

  /** The `__consumer_offsets` partition of a group. */
  partitionFor(groupId: string): number {
    return this.store.partitionFor(groupId);
  }

  // -------------------------------------------------------------------------------------------
  // lifecycle

  /**
   * Loads the given `__consumer_offsets` partitions (default: all) and starts serving their
   * groups; meanwhile they answer COORDINATOR_LOAD_IN_PROGRESS, and partitions not loaded
   * answer NOT_COORDINATOR. Rejects if a partition could not be read (it is then not served).
   * A partition unloaded while it loads is dropped quietly, as is one whose storage gave up the
   * load ({@link LoadAbandoned}: this broker stopped leading it); loading it again later starts
   * a fresh read. `load([])` starts the coordinator with no partition (a broker of a cluster
   * that leads none yet).
   */
  async load(partitions?: readonly number[]): Promise<void> {
    if (this.phase === 'closed') throw new Error('the group coordinator is closed');
    const list = partitions ?? Array.from({ length: this.store.partitionCount }, (_, i) => i);
    for (const p of list) {
      if (!Number.isInteger(p) || p < 0 || p >= this.store.partitionCount) {
        throw new RangeError(`no __consumer_offsets partition ${p} (of ${this.store.partitionCount})`);
      }
    }
    const toLoad = list.filter((p) => !this.ownedPartitions.has(p) && !this.loadingPartitions.has(p));
    const tokens = toLoad.map((p) => {
      const token = {};
      this.loadingPartitions.set(p, token);
      return token;
    });
    this.phase = 'running';
    this.scheduleOffsetExpiration();
    const failures: unknown[] = [];
    for (const [i, p] of toLoad.entries()) {
      const token = tokens[i]!;
      try {
        await this.loadOne(p, token);
      } catch (err) {
        if (this.loadingPartitions.get(p) !== token) continue; // unloaded meanwhile: nothing to report
        this.loadingPartitions.delete(p);
        if (err instanceof LoadAbandoned) continue;
        this.log.error(`failed to load __consumer_offsets-${p}`, err);
        failures.push(err);
      }
    }
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} __consumer_offsets partition(s) failed to load`);
  }

  /** Whether the partition's groups are loaded and served here. */
  isLoaded(partition: number): boolean {
    return this.ownedPartitions.has(partition);
  }

  private async loadOne(partition: number, token: object): Promise<void> {
    const groups = await this.store.loadGroups(partition);
    // Unloaded (and maybe reloaded) meanwhile: this read is stale.
    if (this.phase === 'closed' || this.loadingPartitions.get(partition) !== token) return;
    for (const group of groups) this.groups.set(group.groupId, group);
    this.loadingPartitions.delete(partition);
    this.ownedPartitions.add(partition);
    for (const group of groups) this.onGroupLoaded(group);
  }

  private onGroupLoaded(group: ClassicGroup): void {
    if (group.size > this.config['group.max.size']) {
      this.prepareRebalance(group, `loaded group is over capacity (${this.config['group.max.size']})`);
    }
    for (const member of group.members.values())
      this.completeAndScheduleNextHeartbeatExpiration(group, member);
  }

  /**
   * Stops serving a partition's groups (leadership moved): parked requests get NOT_COORDINATOR,
   * timers stop, state is dropped (it stays in the log).
   */
  unloadPartition(partition: number): void {
    this.loadingPartitions.delete(partition);
    this.ownedPartitions.delete(partition);
    for (const group of [...this.groups.values()]) {
      if (this.partitionFor(group.groupId) !== partition) continue;
      this.groups.delete(group.groupId);
      this.onGroupUnloaded(group);
    }
  }

  private onGroupUnloaded(group: ClassicGroup): void {
    group.transitionTo('Dead', this.clock.now());
    for (const member of group.members.values()) {
      group.maybeInvokeJoinCallback(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
      group.maybeInvokeSyncCallback(member, syncError(ErrorCode.NOT_COORDINATOR));
    }
    this.cancelGroupTimers(group);
  }

  /** Stops all timers and answers parked requests; afterwards every call answers COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    if (this.phase === 'closed') return;
    for (const p of [...this.ownedPartitions, ...this.loadingPartitions.keys()]) this.unloadPartition(p);
    this.phase = 'closed';
    this.expirationTimer?.cancel();
    this.expirationTimer = null;
  }

  private cancelGroupTimers(group: ClassicGroup): void {
    group.pendingJoin?.timer.cancel();
    group.pendingJoin = null;
    group.pendingSync?.timer.cancel();
    group.pendingSync = null;
    for (const m of group.members.values()) {
      m.heartbeatTimer?.cancel();
      m.heartbeatTimer = null;
    }
    for (const t of group.pendingMembers.values()) t?.cancel();
  }

  // -------------------------------------------------------------------------------------------
  // validation

  /** Kafka's validateGroupStatus: NONE, or why this coordinator cannot serve the group now. */
  private groupStatusError(groupId: string, api: GroupApi): number {
    if ((groupId === '' && !EMPTY_GROUP_ID_OK.has(api)) || utf8Length(groupId) > MAX_STRING_BYTES) {
      return ErrorCode.INVALID_GROUP_ID;
    }
    if (this.phase === 'closed') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.phase === 'starting') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    const p = this.partitionFor(groupId);
    if (this.loadingPartitions.has(p)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (!this.ownedPartitions.has(p)) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  /** Whether a missing group is known not to exist (as opposed to living elsewhere). */
  private groupNotExists(groupId: string): boolean {
    const p = this.partitionFor(groupId);
    return this.ownedPartitions.has(p) && !this.loadingPartitions.has(p) && !this.groups.has(groupId);
  }

  /** FENCED_INSTANCE_ID / UNKNOWN_MEMBER_ID unless memberId (and its instance id, if given) is current. */
  private validateCurrentMember(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
  ): number {
    if (groupInstanceId !== null) {
      const current = group.currentStaticMemberId(groupInstanceId);
      if (current === null) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return group.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  private protocolsError(protocols: readonly JoinGroupRequestProtocol[]): number {
    if (protocols.length > MAX_PROTOCOLS_PER_MEMBER) return ErrorCode.INVALID_REQUEST;
    for (const p of protocols)
      if (p.metadata.length > MAX_PROTOCOL_METADATA_BYTES) return ErrorCode.INVALID_REQUEST;
    return ErrorCode.NONE;
  }

  private getOrMaybeCreateGroup(groupId: string, create: boolean): ClassicGroup | null {
    const g = this.groups.get(groupId);
    if (g || !create) return g ?? null;
    const group = new ClassicGroup(groupId, 'Empty', this.clock.now());
    this.groups.set(groupId, group);
    return group;
  }

  // -------------------------------------------------------------------------------------------
  // JoinGroup

  /**
   * JoinGroup. Resolves when the member's rebalance completes (or at once with an error, or with
   * MEMBER_ID_REQUIRED and a new member id for v4+ dynamic members that joined without one).
   */
  async joinGroup(request: JoinGroupRequest, ctx: GroupRequestContext): Promise<JoinGroupResponse> {
    const response = await this.doJoinGroup(request, ctx);
    // Before v7 ProtocolName is not nullable.
    if (ctx.apiVersion < 7 && response.protocolName === null) response.protocolName = '';
    return response;
  }

  private doJoinGroup(
    request: JoinGroupRequest,
    ctx: GroupRequestContext,
  ): Promise<JoinGroupResponse> | JoinGroupResponse {
    const memberId = request.memberId;
    const status = this.groupStatusError(request.groupId, 'JoinGroup');
    if (status !== ErrorCode.NONE) return joinError(memberId, status);
    const sessionTimeoutMs = request.sessionTimeoutMs;
    if (
      sessionTimeoutMs < this.config['group.min.session.timeout.ms'] ||
      sessionTimeoutMs > this.config['group.max.session.timeout.ms']
    ) {
      return joinError(memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const protocolsStatus = this.protocolsError(request.protocols);
    if (protocolsStatus !== ErrorCode.NONE) return joinError(memberId, protocolsStatus);

    const isUnknownMember = memberId === UNKNOWN_MEMBER_ID;
    // A group is created by a member without an id; a member with an id joins an existing one.
    const group = this.getOrMaybeCreateGroup(request.groupId, isUnknownMember);
    if (!group) return joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID);

    const groupInstanceId = request.groupInstanceId ?? null;
    const rebalanceTimeoutMs =
      ctx.apiVersion === 0 || request.rebalanceTimeoutMs === undefined || request.rebalanceTimeoutMs < 0
        ? sessionTimeoutMs
        : request.rebalanceTimeoutMs;
    return new Promise<JoinGroupResponse>((resolve) => {
      const params: JoinParams = {
        groupInstanceId,
        requireKnownMemberId: ctx.apiVersion >= 4 && groupInstanceId === null,
        supportSkippingAssignment: ctx.apiVersion >= 9,
        clientId: ctx.clientId ?? '',
        clientHost: ctx.clientHost ?? '',
        rebalanceTimeoutMs,
        sessionTimeoutMs,
        protocolType: request.protocolType,
        protocols: uniqueProtocols(request.protocols),
        reason: request.reason ?? 'not provided',
        respond: resolve,
      };
      if (!this.acceptJoiningMember(group, memberId)) {
        const member = group.members.get(memberId);
        if (member) {
          member.heartbeatTimer?.cancel();
          member.heartbeatTimer = null;
        }
        group.remove(memberId);
        resolve(joinError(UNKNOWN_MEMBER_ID, ErrorCode.GROUP_MAX_SIZE_REACHED));
      } else if (isUnknownMember) {
        this.doNewMemberJoinGroup(group, params);
      } else {
        this.doCurrentMemberJoinGroup(group, memberId, params);
      }
      if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
    });
  }

  /** Kafka's acceptJoiningMember: room for this member under `group.max.size`? */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.config['group.max.size'];
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        // Awaiting members, not the size: the size may exceed a lowered maximum, and counting
        // the awaiting ones lets the last members to rejoin be the ones turned away.
        return (group.members.get(memberId)?.isAwaitingJoin ?? false) || group.numAwaitingJoin < max;
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < max;
    }
  }

  private doNewMemberJoinGroup(group: ClassicGroup, p: JoinParams): void {
    if (group.is('Dead')) {
      // Deleted or unloaded meanwhile: the client rediscovers the coordinator and rejoins.
      p.respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (
      !group.supportsProtocols(
        p.protocolType,
        p.protocols.map((x) => x.name),
      )
    ) {
      p.respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    const newMemberId = this.generateMemberId(p.groupInstanceId ?? p.clientId);
    if (p.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(p.groupInstanceId);
      if (oldMemberId !== null) this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, p);
      else this.addMemberAndRebalance(group, newMemberId, p);
    } else if (p.requireKnownMemberId) {
      // v4+: the member must come back with this id; an id never used expires with the session.
      if (group.pendingMembers.size >= this.config['group.max.size']) {
        p.respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.GROUP_MAX_SIZE_REACHED));
        return;
      }
      const timer = this.schedule(() => {
        if (!group.is('Dead') && group.isPendingMember(newMemberId))
          this.removePendingMemberAndUpdateGroup(group, newMemberId);
      }, p.sessionTimeoutMs);
      group.addPendingMember(newMemberId, timer);
      p.respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, p);
    }
  }

  private doCurrentMemberJoinGroup(group: ClassicGroup, memberId: string, p: JoinParams): void {
    if (group.is('Dead')) {
      p.respond(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (
      !group.supportsProtocols(
        p.protocolType,
        p.protocols.map((x) => x.name),
      )
    ) {
      p.respond(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    if (group.isPendingMember(memberId)) {
      // The second JoinGroup of the MEMBER_ID_REQUIRED round trip. Pending ids are dynamic only.
      if (p.groupInstanceId !== null) {
        p.respond(joinError(memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
        return;
      }
      this.addMemberAndRebalance(group, memberId, p);
      return;
    }
    const error = this.validateCurrentMember(group, memberId, p.groupInstanceId);
    if (error !== ErrorCode.NONE) {
      p.respond(joinError(memberId, error));
      return;
    }
    const member = group.get(memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(
          group,
          member,
          p,
          `member ${memberId} joining during PreparingRebalance`,
        );
        return;
      case 'CompletingRebalance':
        if (member.matches(p.protocols)) {
          // Same metadata (it probably missed the JoinGroup response): the current generation.
          p.respond(this.currentGenerationResponse(group, memberId, group.isLeader(memberId)));
        } else {
          this.updateMemberAndRebalance(group, member, p, `member ${memberId} changed its metadata`);
        }
        return;
      case 'Stable':
        if (group.isLeader(memberId)) {
          // The leader rejoins to trigger a rebalance (e.g. for topic metadata changes).
          this.updateMemberAndRebalance(group, member, p, `leader ${memberId} rejoining`);
        } else if (!member.matches(p.protocols)) {
          this.updateMemberAndRebalance(group, member, p, `member ${memberId} changed its metadata`);
        } else {
          p.respond(this.currentGenerationResponse(group, memberId, false));
        }
        return;
      case 'Empty':
      case 'Dead':
        p.respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private currentGenerationResponse(
    group: ClassicGroup,
    memberId: string,
    withMembers: boolean,
  ): JoinGroupResponse {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, p: JoinParams): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: p.groupInstanceId,
      clientId: p.clientId,
      clientHost: p.clientHost,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs,
      sessionTimeoutMs: p.sessionTimeoutMs,
      protocolType: p.protocolType,
      supportedProtocols: p.protocols,
    });
    member.isNew = true;
    // A member joining during the initial delay may extend it.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, p.respond);
    // New members cannot heartbeat yet and a client that gave up would leave a ghost in the
    // rebalance: its JoinGroup is bounded by the new-member timeout instead.
    this.completeAndScheduleNextExpiration(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, `adding member ${memberId} (${p.reason})`);
  }

  private updateMemberAndRebalance(
    group: ClassicGroup,
    member: GroupMember,
    p: JoinParams,
    reason: string,
  ): void {
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, p.respond);
    this.maybePrepareRebalance(group, `${reason} (${p.reason})`);
  }

  /**
   * A static member rejoined without its member id (a restarted instance): it takes over the
   * old id's place. A Stable group whose protocol would not change keeps its generation and
   * assignment (no rebalance); otherwise the group rebalances.
   */
  private updateStaticMemberAndRebalance(
    group: ClassicGroup,
    oldMemberId: string,
    newMemberId: string,
    p: JoinParams,
  ): void {
    const instanceId = p.groupInstanceId!;
    const currentLeader = group.leaderId;
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId, {
      join: joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID),
      sync: syncError(ErrorCode.FENCED_INSTANCE_ID),
    });
    this.completeAndScheduleNextHeartbeatExpiration(group, member);
    const old = {
      protocols: member.supportedProtocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, p.respond);

    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(group, `static member ${instanceId} rejoined with other protocols`);
          return;
        }
        const assignment = new Map<string, Buffer>();
        for (const m of group.members.values()) assignment.set(m.memberId, m.assignment);
        const generationId = group.generationId;
        void this.store
          .storeGroup(group, assignment)
          .then((error) => {
            if (
              !group.is('Stable') ||
              group.generationId !== generationId ||
              group.members.get(newMemberId) !== member
            ) {
              // The group moved on meanwhile; whatever happened answered or will answer the join.
              return;
            }
            if (error !== ErrorCode.NONE) {
              // Not persisted: undo, so the old member id stays the one the log knows.
              this.log.warn(
                `group ${group.groupId}: could not persist static member ${instanceId} (error ${error})`,
              );
              group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
              const restored = group.replaceStaticMember(instanceId, newMemberId, oldMemberId, {
                join: joinError(newMemberId, error),
                sync: syncError(error),
              });
              this.completeAndScheduleNextHeartbeatExpiration(group, restored);
              p.respond({
                ...joinError(UNKNOWN_MEMBER_ID, error),
                generationId: group.generationId,
                protocolType: group.protocolType,
                protocolName: group.protocolName,
                leader: currentLeader ?? '',
              });
            } else if (p.supportSkippingAssignment) {
              // v9+: a rejoining static leader learns it leads but must not run the assignor.
              const isLeader = group.isLeader(newMemberId);
              group.maybeInvokeJoinCallback(member, {
                ...this.currentGenerationResponse(group, newMemberId, isLeader),
                skipAssignment: isLeader,
              });
            } else {
              // Before v9: answer with the old leader id, so a rejoining leader does not think it
              // leads and compute an assignment a Stable group would ignore.
              group.maybeInvokeJoinCallback(member, {
                ...this.currentGenerationResponse(group, newMemberId, false),
                leader: currentLeader ?? '',
              });
            }
          })
          .catch(this.logFailure('static member rejoin'));
        return;
      }
      case 'CompletingRebalance':
        // The leader may be assigning with the old member id: start over.
        this.prepareRebalance(group, `static member ${instanceId} rejoined during CompletingRebalance`);
        return;
      case 'PreparingRebalance':
        return;
      case 'Empty':
      case 'Dead':
        throw new Error(
          `group ${group.groupId} in state ${group.state} cannot have static member ${instanceId}`,
        );
    }
  }

  private generateMemberId(prefix: string): string {
    const b = Buffer.alloc(16);
    this.random.fill(b);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${prefix}-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // -------------------------------------------------------------------------------------------
  // rebalance

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members waiting for an assignment must rejoin instead.
    if (group.is('CompletingRebalance'))
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const wasEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance', this.clock.now());
    this.log.info(
      `group ${group.groupId}: preparing to rebalance, generation ${group.generationId} (${reason})`,
    );
    group.pendingJoin?.timer.cancel();
    group.pendingJoin = null;
    const delayMs = this.config['group.initial.rebalance.delay.ms'];
    if (wasEmpty && delayMs > 0) {
      this.scheduleInitialJoin(group, delayMs, Math.max(group.rebalanceTimeoutMs - delayMs, 0));
    } else {
      this.scheduleJoin(group);
    }
  }

  /** Kafka's DelayedJoin: completes when every member has rejoined, or at the rebalance timeout. */
  private scheduleJoin(group: ClassicGroup): void {
    const pending = {
      initial: false,
      timer: this.schedule(() => {
        if (group.pendingJoin !== pending) return;
        group.pendingJoin = null;
        this.onCompleteJoin(group);
      }, group.rebalanceTimeoutMs),
    };
    group.pendingJoin = pending;
    this.tryCompleteJoin(group);
  }

  /**
   * Kafka's InitialDelayedJoin: an empty group's first rebalance waits `delayMs`, and again (up
   * to the rebalance timeout) while new members keep arriving.
   */
  private scheduleInitialJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    const configured = this.config['group.initial.rebalance.delay.ms'];
    const pending = {
      initial: true,
      timer: this.schedule(() => {
        if (group.pendingJoin !== pending) return;
        group.pendingJoin = null;
        if (group.newMemberAdded && remainingMs !== 0) {
          group.newMemberAdded = false;
          this.scheduleInitialJoin(
            group,
            Math.min(configured, remainingMs),
            Math.max(remainingMs - delayMs, 0),
          );
        } else {
          this.onCompleteJoin(group);
        }
      }, delayMs),
    };
    group.pendingJoin = pending;
  }

  /** Completes the join phase now if it is waiting only for members that have all rejoined. */
  private tryCompleteJoin(group: ClassicGroup): void {
    const pending = group.pendingJoin;
    if (!pending || pending.initial || !group.hasAllMembersJoined()) return;
    pending.timer.cancel();
    group.pendingJoin = null;
    this.onCompleteJoin(group);
  }

  private onCompleteJoin(group: ClassicGroup): void {
    // Dynamic members that did not rejoin in time are gone; static ones keep their place.
    for (const m of group.notYetRejoinedMembers()) {
      if (m.isStatic) continue;
      m.heartbeatTimer?.cancel();
      m.heartbeatTimer = null;
      group.maybeInvokeSyncCallback(m, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      group.remove(m.memberId);
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined: wait for them (or their session expiry).
      this.log.warn(`group ${group.groupId}: no member rejoined; waiting another rebalance timeout`);
      this.scheduleJoin(group);
      return;
    }
    group.initNextGeneration(this.clock.now());
    if (group.is('Empty')) {
      this.log.info(`group ${group.groupId}: generation ${group.generationId} is empty`);
      void this.store
        .storeGroup(group, new Map())
        .then((error) => {
          // Harmless: the previous generation in the log has members that will time out.
          if (error !== ErrorCode.NONE)
            this.log.warn(`group ${group.groupId}: could not persist empty group (${error})`);
        })
        .catch(this.logFailure('empty group store'));
      return;
    }
    this.log.info(`group ${group.groupId}: generation ${group.generationId} with ${group.size} members`);
    for (const member of group.members.values()) {
      group.maybeInvokeJoinCallback(
        member,
        this.currentGenerationResponse(group, member.memberId, group.isLeader(member.memberId)),
      );
      this.completeAndScheduleNextHeartbeatExpiration(group, member);
      member.isNew = false;
      group.addPendingSyncMember(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  /** Kafka's DelayedSync: members that do not send SyncGroup within the rebalance timeout are removed. */
  private schedulePendingSync(group: ClassicGroup): void {
    group.pendingSync?.timer.cancel();
    const generationId = group.generationId;
    const pending = {
      generationId,
      timer: this.schedule(() => {
        if (group.pendingSync !== pending) return;
        group.pendingSync = null;
        this.onExpirePendingSync(group, generationId);
      }, group.rebalanceTimeoutMs),
    };
    group.pendingSync = pending;
  }

  private onExpirePendingSync(group: ClassicGroup, generationId: number): void {
    if (generationId !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.hasReceivedSyncFromAllMembers()) return;
    const missing = group.allPendingSyncMembers();
    for (const memberId of missing) {
      const m = group.members.get(memberId);
      if (m) {
        m.heartbeatTimer?.cancel();
        m.heartbeatTimer = null;
      }
      group.remove(memberId);
    }
    this.prepareRebalance(group, `members ${missing.join(', ')} did not send SyncGroup in time`);
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.removePendingSyncMember(memberId);
    this.maybeCompleteSyncExpiration(group);
  }

  private removeSyncExpiration(group: ClassicGroup): void {
    group.clearPendingSyncMembers();
    this.maybeCompleteSyncExpiration(group);
  }

  private maybeCompleteSyncExpiration(group: ClassicGroup): void {
    const pending = group.pendingSync;
    if (!pending) return;
    const done =
      pending.generationId !== group.generationId ||
      !(group.is('CompletingRebalance') || group.is('Stable')) ||
      group.hasReceivedSyncFromAllMembers();
    if (!done) return;
    pending.timer.cancel();
    group.pendingSync = null;
  }

  // -------------------------------------------------------------------------------------------
  // sessions

  private completeAndScheduleNextHeartbeatExpiration(group: ClassicGroup, member: GroupMember): void {
    this.completeAndScheduleNextExpiration(group, member, member.sessionTimeoutMs);
  }

  private completeAndScheduleNextExpiration(
    group: ClassicGroup,
    member: GroupMember,
    timeoutMs: number,
  ): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = this.schedule(() => {
      member.heartbeatTimer = null;
      this.onExpireHeartbeat(group, member);
    }, timeoutMs);
  }

  private onExpireHeartbeat(group: ClassicGroup, member: GroupMember): void {
    if (group.is('Dead') || group.members.get(member.memberId) !== member) return;
    if (member.hasSatisfiedHeartbeat) return;
    this.log.info(`group ${group.groupId}: member ${member.memberId} session expired`);
    this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} session expired`);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    // A new member may still be parked in JoinGroup: it retries with UNKNOWN_MEMBER_ID.
    group.maybeInvokeJoinCallback(member, joinError(UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID));
    group.maybeInvokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = null;
    group.remove(member.memberId);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, reason);
        return;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        return;
      case 'Empty':
      case 'Dead':
        return;
    }
  }

  private removePendingMemberAndUpdateGroup(group: ClassicGroup, memberId: string): void {
    group.remove(memberId);
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  // -------------------------------------------------------------------------------------------
  // SyncGroup

  /** SyncGroup. The leader's call carries the assignment; every member's resolves with its own. */
  async syncGroup(request: SyncGroupRequest, _ctx?: GroupRequestContext): Promise<SyncGroupResponse> {
    const status = this.groupStatusError(request.groupId, 'SyncGroup');
    // The rebalance in progress was lost with the load: rejoin (older clients do not expect LOAD_IN_PROGRESS).
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    if (status !== ErrorCode.NONE) return syncError(status);
    const group = this.groups.get(request.groupId);
    if (!group) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    return new Promise((resolve) => this.doSyncGroup(group, request, resolve));
  }

  private validateSyncGroup(group: ClassicGroup, request: SyncGroupRequest): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, request.memberId, request.groupInstanceId ?? null);
    if (memberError !== ErrorCode.NONE) return memberError;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (request.protocolType != null && request.protocolType !== group.protocolType) {
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    }
    if (request.protocolName != null && request.protocolName !== group.protocolName) {
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    }
    return ErrorCode.NONE;
  }

  private doSyncGroup(
    group: ClassicGroup,
    request: SyncGroupRequest,
    respond: (r: SyncGroupResponse) => void,
  ): void {
    const error = this.validateSyncGroup(group, request);
    if (error !== ErrorCode.NONE) {
      respond(syncError(error));
      return;
    }
    const memberId = request.memberId;
    switch (group.state) {
      case 'Empty':
        respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
        return;
      case 'PreparingRebalance':
        respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        return;
      case 'CompletingRebalance': {
        const member = group.get(memberId);
        // A duplicate SyncGroup replaces the parked one, which is told to rejoin.
        group.maybeInvokeSyncCallback(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.awaitingSync = respond;
        this.removePendingSyncMember(group, memberId);
        if (group.isLeader(memberId)) this.completeRebalanceWithLeaderAssignment(group, request);
        return;
      }
      case 'Stable': {
        this.removePendingSyncMember(group, memberId);
        const member = group.get(memberId);
        respond({
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
        this.completeAndScheduleNextHeartbeatExpiration(group, member);
        return;
      }
      case 'Dead':
        respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
        return;
    }
  }

  /** Persists the leader's assignment, then hands every member its part and makes the group Stable. */
  private completeRebalanceWithLeaderAssignment(group: ClassicGroup, request: SyncGroupRequest): void {
    const assignment = new Map<string, Buffer>();
    for (const a of request.assignments) assignment.set(a.memberId, a.assignment);
    const missing = [...group.members.keys()].filter((id) => !assignment.has(id));
    if (missing.length > 0) {
      this.log.warn(
        `group ${group.groupId}: empty assignment for ${missing.join(', ')} in generation ${group.generationId}`,
      );
      for (const id of missing) assignment.set(id, EMPTY_BYTES);
    }
    const generationId = group.generationId;
    void this.store
      .storeGroup(group, assignment)
      .then((error) => {
        // Another member may have joined meanwhile: only the same generation, still completing.
        if (!group.is('CompletingRebalance') || group.generationId !== generationId) return;
        if (error !== ErrorCode.NONE) {
          this.resetAndPropagateAssignmentError(group, error);
          this.maybePrepareRebalance(group, `could not store the assignment (error ${error})`);
        } else {
          for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_BYTES;
          this.propagateAssignment(group, ErrorCode.NONE);
          group.transitionTo('Stable', this.clock.now());
        }
      })
      .catch(this.logFailure('assignment store'));
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, error: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_BYTES;
    this.propagateAssignment(group, error);
  }

  private propagateAssignment(group: ClassicGroup, error: number): void {
    const ok = error === ErrorCode.NONE;
    for (const member of group.members.values()) {
      const answered = group.maybeInvokeSyncCallback(member, {
        throttleTimeMs: 0,
        errorCode: error,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      });
      // A session that expired while the member was parked was excused without a new deadline.
      if (answered) this.completeAndScheduleNextHeartbeatExpiration(group, member);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeat

  async heartbeat(request: HeartbeatRequest, _ctx?: GroupRequestContext): Promise<HeartbeatResponse> {
    return { throttleTimeMs: 0, errorCode: this.doHeartbeat(request) };
  }

  private doHeartbeat(request: HeartbeatRequest): number {
    const status = this.groupStatusError(request.groupId, 'Heartbeat');
    // Still loading: answer blindly, the member is fine as far as we know.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (status !== ErrorCode.NONE) return status;
    const group = this.groups.get(request.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, request.memberId, request.groupInstanceId ?? null);
    if (memberError !== ErrorCode.NONE) return memberError;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
      case 'Stable':
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(request.memberId));
        return ErrorCode.NONE;
      case 'PreparingRebalance':
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(request.memberId));
        return ErrorCode.REBALANCE_IN_PROGRESS;
    }
  }

  // -------------------------------------------------------------------------------------------
  // LeaveGroup

  /** LeaveGroup: by member id, or (v3+, admin removal) by instance id with an empty member id. */
  async leaveGroup(request: LeaveGroupRequest, ctx: GroupRequestContext): Promise<LeaveGroupResponse> {
    const identities: LeaveGroupMemberIdentity[] =
      ctx.apiVersion >= 3 && request.members !== undefined
        ? request.members
        : [{ memberId: request.memberId ?? UNKNOWN_MEMBER_ID, groupInstanceId: null }];
    const result = this.doLeaveGroup(request.groupId, identities);
    if (ctx.apiVersion >= 3) return result;
    // v0–2: one member, its error at the top level.
    const memberError =
      result.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : memberError,
      members: [],
    };
  }

  private doLeaveGroup(groupId: string, identities: LeaveGroupMemberIdentity[]): LeaveGroupResponse {
    const status = this.groupStatusError(groupId, 'LeaveGroup');
    if (status !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: status, members: [] };
    const answer = (id: LeaveGroupMemberIdentity, errorCode: number): LeaveGroupResponseMember => ({
      memberId: id.memberId,
      groupInstanceId: id.groupInstanceId ?? null,
      errorCode,
    });
    const group = this.groups.get(groupId);
    if (!group) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        members: identities.map((id) => answer(id, ErrorCode.UNKNOWN_MEMBER_ID)),
      };
    }
    if (group.is('Dead'))
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = identities.map((id) => {
      const instanceId = id.groupInstanceId ?? null;
      const reason = id.reason ?? 'not provided';
      if (id.memberId === UNKNOWN_MEMBER_ID) {
        // Administrative removal of a static member by its instance id.
        const current = instanceId === null ? null : group.currentStaticMemberId(instanceId);
        if (current === null) return answer(id, ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(
          group,
          group.get(current),
          `static member ${instanceId} removed (${reason})`,
        );
        return answer(id, ErrorCode.NONE);
      }
      if (group.isPendingMember(id.memberId)) {
        this.removePendingMemberAndUpdateGroup(group, id.memberId);
        return answer(id, ErrorCode.NONE);
      }
      const error = this.validateCurrentMember(group, id.memberId, instanceId);
      if (error !== ErrorCode.NONE) return answer(id, error);
      this.removeMemberAndUpdateGroup(
        group,
        group.get(id.memberId),
        `member ${id.memberId} left (${reason})`,
      );
      return answer(id, ErrorCode.NONE);
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, members };
  }

  // -------------------------------------------------------------------------------------------
  // OffsetCommit

  /**
   * OffsetCommit: from a member of the current generation, or with generation -1 from outside
   * group management when the group has no members. Resolves when the offsets are durable.
   */
  async offsetCommit(request: OffsetCommitRequest, ctx: GroupRequestContext): Promise<OffsetCommitResponse> {
    const now = this.clock.now();
    const retentionTimeMs = request.retentionTimeMs ?? -1;
    const entries: OffsetCommitEntry[] = [];
    for (const t of request.topics) {
      for (const p of t.partitions) {
        const commitTimestamp = p.commitTimestamp ?? -1;
        entries.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: {
            committedOffset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch ?? -1,
            metadata: p.committedMetadata ?? '',
            // v1 may say when; otherwise now. v2–v4 may ask for their own retention.
            commitTimestampMs: ctx.apiVersion === 1 && commitTimestamp !== -1 ? commitTimestamp : now,
            expireTimestampMs: retentionTimeMs === -1 ? -1 : now + retentionTimeMs,
          },
          errorCode: ErrorCode.NONE,
        });
      }
    }
    const valid: OffsetCommitEntry[] = [];
    for (const e of entries) {
      if (utf8Length(e.topic) > MAX_STRING_BYTES) e.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
      else if (this.partitionExists && !this.partitionExists(e.topic, e.partition)) {
        e.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      } else valid.push(e);
    }
    if (valid.length > 0) {
      const error = await this.commitOffsets(request, valid);
      if (error !== ErrorCode.NONE) for (const e of valid) e.errorCode = error;
    }
    return {
      throttleTimeMs: 0,
      topics: groupByTopic(entries, (e) => ({ partitionIndex: e.partition, errorCode: e.errorCode })),
    };
  }

  /** Returns an error for all entries, or NONE with per-entry codes set. */
  private async commitOffsets(request: OffsetCommitRequest, entries: OffsetCommitEntry[]): Promise<number> {
    const status = this.groupStatusError(request.groupId, 'OffsetCommit');
    if (status !== ErrorCode.NONE) return status;
    const generationId = request.generationIdOrMemberEpoch ?? -1;
    const memberId = request.memberId ?? UNKNOWN_MEMBER_ID;
    const groupInstanceId = request.groupInstanceId ?? null;
    let group = this.groups.get(request.groupId);
    if (!group) {
      // Only commits from outside group management create a group; others are from a lost generation.
      if (generationId >= 0) return ErrorCode.ILLEGAL_GENERATION;
      group = new ClassicGroup(request.groupId, 'Empty', this.clock.now());
      this.groups.set(request.groupId, group);
    }
    const error = this.validateOffsetCommit(group, generationId, memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    switch (group.state) {
      case 'Empty':
        break;
      case 'Stable':
      case 'PreparingRebalance':
        // A commit is a sign of life; the rebalance is signalled by the next heartbeat.
        if (group.has(memberId)) this.completeAndScheduleNextHeartbeatExpiration(group, group.get(memberId));
        break;
      case 'CompletingRebalance':
        // The member has its new generation but no assignment yet.
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'Dead':
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    await this.store.storeOffsets(group, entries);
    return ErrorCode.NONE;
  }

  private validateOffsetCommit(
    group: ClassicGroup,
    generationId: number,
    memberId: string,
    groupInstanceId: string | null,
  ): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Admin clients and consumers with manual assignment: allowed while the group has no members.
    if (generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== UNKNOWN_MEMBER_ID || groupInstanceId !== null) {
      const memberError = this.validateCurrentMember(group, memberId, groupInstanceId);
      if (memberError !== ErrorCode.NONE) return memberError;
      return generationId === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    }
    // Only members may commit to a group that has them.
    return group.is('Empty') ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  // -------------------------------------------------------------------------------------------
  // OffsetFetch

  /** OffsetFetch in the request version's shape (one group before v8, several from v8). */
  async offsetFetch(request: OffsetFetchRequest, ctx: GroupRequestContext): Promise<OffsetFetchResponse> {
    const requireStable = request.requireStable ?? false;
    if (ctx.apiVersion >= 8) {
      const groups = (request.groups ?? []).map((g) => this.fetchOffsets(g.groupId, g.topics, requireStable));
      return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups };
    }
    const g = this.fetchOffsets(request.groupId ?? '', request.topics ?? null, requireStable);
    // Before v2 there is no top-level error: it goes to every partition.
    const topics =
      ctx.apiVersion < 2 && g.errorCode !== ErrorCode.NONE
        ? g.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              committedOffset: -1,
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: g.errorCode,
            })),
          }))
        : g.topics;
    return { throttleTimeMs: 0, topics, errorCode: g.errorCode, groups: [] };
  }

  /**
   * The committed offsets of one group: of the given partitions (-1 where nothing is
   * committed), or of every partition it has committed when `topics` is null. With
   * `requireStable`, partitions with a commit still being written answer UNSTABLE_OFFSET_COMMIT.
   */
  fetchOffsets(
    groupId: string,
    topics: readonly OffsetFetchRequestTopic[] | null,
    requireStable: boolean,
  ): OffsetFetchResponseGroup {
    const status = this.groupStatusError(groupId, 'OffsetFetch');
    if (status !== ErrorCode.NONE) return { groupId, topics: [], errorCode: status };
    const group = this.groups.get(groupId);
    const none = (
      partitionIndex: number,
      errorCode: number = ErrorCode.NONE,
    ): OffsetFetchResponsePartition => ({
      partitionIndex,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode,
    });
    if (!group || group.is('Dead')) {
      return {
        groupId,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => none(p)),
        })),
        errorCode: ErrorCode.NONE,
      };
    }
    const lookup = (topic: string, partition: number): OffsetFetchResponsePartition => {
      if (requireStable && group.hasPendingOffsetCommit(topic, partition)) {
        return none(partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      }
      const o = group.offset(topic, partition);
      if (!o) return none(partition);
      return {
        partitionIndex: partition,
        committedOffset: o.committedOffset,
        committedLeaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        errorCode: ErrorCode.NONE,
      };
    };
    if (topics !== null) {
      return {
        groupId,
        topics: topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => lookup(t.name, p)),
        })),
        errorCode: ErrorCode.NONE,
      };
    }
    const all: OffsetFetchResponseTopic[] = [];
    for (const [topic, parts] of group.allOffsets()) {
      all.push({ name: topic, partitions: [...parts.keys()].map((p) => lookup(topic, p)) });
    }
    return { groupId, topics: all, errorCode: ErrorCode.NONE };
  }

  // -------------------------------------------------------------------------------------------
  // ListGroups, DescribeGroups, DeleteGroups

  async listGroups(request: ListGroupsRequest = {}, _ctx?: GroupRequestContext): Promise<ListGroupsResponse> {
    if (this.phase === 'closed')
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const loading = this.phase === 'starting' || this.loadingPartitions.size > 0;
    const states = new Set((request.statesFilter ?? []).map((s) => s.toLowerCase()));
    const types = new Set((request.typesFilter ?? []).map((s) => s.toLowerCase()));
    const groups: ListedGroup[] = [];
    if (types.size === 0 || types.has('classic')) {
      for (const g of this.groups.values()) {
        if (g.is('Dead')) continue;
        if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
        groups.push({
          groupId: g.groupId,
          protocolType: g.protocolType ?? '',
          groupState: g.state,
          groupType: 'classic',
        });
      }
    }
    return {
      throttleTimeMs: 0,
      errorCode: loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE,
      groups,
    };
  }

  async describeGroups(
    request: DescribeGroupsRequest,
    _ctx?: GroupRequestContext,
  ): Promise<DescribeGroupsResponse> {
    return { throttleTimeMs: 0, groups: request.groups.map((id) => this.describeGroup(id)) };
  }

  private describeGroup(groupId: string): DescribedGroup {
    const described = (errorCode: number, groupState: string): DescribedGroup => ({
      errorCode,
      groupId,
      groupState,
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    });
    const status = this.groupStatusError(groupId, 'DescribeGroups');
    if (status !== ErrorCode.NONE) return described(status, '');
    const group = this.groups.get(groupId);
    if (!group) return described(ErrorCode.NONE, 'Dead');
    const stable = group.is('Stable') && group.protocolName !== null;
    const protocol = group.protocolName ?? '';
    return {
      ...described(ErrorCode.NONE, group.state),
      protocolType: group.protocolType ?? '',
      protocolData: stable ? protocol : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(protocol) : EMPTY_BYTES,
        memberAssignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** DeleteGroups: only groups without members (NON_EMPTY_GROUP otherwise); offsets go with them. */
  async deleteGroups(
    request: DeleteGroupsRequest,
    _ctx?: GroupRequestContext,
  ): Promise<DeleteGroupsResponse> {
    const results = new Map<string, number>();
    const eligible: ClassicGroup[] = [];
    for (const groupId of request.groupsNames) {
      if (results.has(groupId)) continue;
      const status = this.groupStatusError(groupId, 'DeleteGroups');
      if (status !== ErrorCode.NONE) {
        results.set(groupId, status);
        continue;
      }
      const group = this.groups.get(groupId);
      if (!group || group.is('Dead')) {
        results.set(
          groupId,
          this.groupNotExists(groupId) ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NOT_COORDINATOR,
        );
      } else if (group.is('Empty')) {
        group.transitionTo('Dead', this.clock.now());
        eligible.push(group);
        results.set(groupId, ErrorCode.NONE);
      } else {
        results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
      }
    }
    await Promise.all(
      eligible.map(async (group) => {
        const error = await this.cleanupGroupMetadata(group, group.removeOffsets(null));
        results.set(group.groupId, error);
      }),
    );
    return {
      throttleTimeMs: 0,
      results: [...results].map(([groupId, errorCode]) => ({ groupId, errorCode })),
    };
  }

  /**
   * After offsets were removed from a group: an Empty group without offsets dies; tombstones
   * for the offsets (and the group, if it ever had a generation) are appended. Returns the
   * append's error code.
   */
  private async cleanupGroupMetadata(
    group: ClassicGroup,
    removed: readonly { topic: string; partition: number }[],
  ): Promise<number> {
    if (group.is('Empty') && !group.hasOffsets() && group.pendingMembers.size === 0) {
      group.transitionTo('Dead', this.clock.now());
    }
    let groupToo = false;
    if (group.is('Dead') && this.groups.get(group.groupId) === group) {
      this.groups.delete(group.groupId);
      this.cancelGroupTimers(group);
      // A group that never had a generation never wrote a group record.
      groupToo = group.generationId > 0;
    }
    return this.store.appendTombstones(group.groupId, removed, groupToo);
  }

  /** Drops the offsets of deleted topics from every group (Kafka's handleDeletedPartitions). */
  async onTopicsDeleted(topics: readonly string[]): Promise<number> {
    const set = new Set(topics);
    let removed = 0;
    await Promise.all(
      [...this.groups.values()].map(async (group) => {
        const gone = group.removeOffsets(group.partitionsOfTopics(set));
        removed += gone.length;
        if (gone.length > 0) await this.cleanupGroupMetadata(group, gone);
      }),
    );
    return removed;
  }

  /** One run of the offset expiration (`offsets.retention.minutes`); returns the offsets removed. */
  async expireOffsets(): Promise<number> {
    const now = this.clock.now();
    const retentionMs = this.config['offsets.retention.minutes'] * 60_000;
    let removed = 0;
    await Promise.all(
      [...this.groups.values()].map(async (group) => {
        const gone = group.removeExpiredOffsets(now, retentionMs);
        removed += gone.length;
        await this.cleanupGroupMetadata(group, gone);
      }),
    );
    if (removed > 0) this.log.info(`expired ${removed} offsets`);
    return removed;
  }

  private scheduleOffsetExpiration(): void {
    if (this.expirationTimer || this.phase !== 'running') return;
    this.expirationTimer = this.schedule(() => {
      this.expirationTimer = null;
      void this.expireOffsets()
        .catch((err: unknown) => this.log.error('offset expiration failed', err))
        .finally(() => this.scheduleOffsetExpiration());
    }, this.config['offsets.retention.check.interval.ms']);
  }

  /** A rejection handler for fire-and-forget work: failures are logged, never unhandled. */
  private logFailure(what: string): (err: unknown) => void {
    return (err) => this.log.error(`${what} failed`, err);
  }

  /** A timer whose callback failures are logged, never thrown into the clock. */
  private schedule(fn: () => void, delayMs: number): TimerHandle {
    return this.clock.setTimeout(() => {
      try {
        fn();
      } catch (err) {
        this.log.error('timer callback failed', err);
      }
    }, delayMs);
  }

  // -------------------------------------------------------------------------------------------
  // introspection (tests, tools)

  /** The state of a group, or null when it is not known here. */
  groupState(groupId: string): GroupState | null {
    return this.groups.get(groupId)?.state ?? null;
  }

  /** The group itself, read-only by convention (tests and diagnostics). */
  group(groupId: string): ClassicGroup | null {
    return this.groups.get(groupId) ?? null;
  }
}

/** The member's protocols in preference order, a repeated name keeping its first occurrence. */
function uniqueProtocols(protocols: readonly JoinGroupRequestProtocol[]): GroupProtocol[] {
  const seen = new Set<string>();
  const out: GroupProtocol[] = [];
  for (const p of protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, metadata: p.metadata });
  }
  return out;
}

/** Groups per-partition results by topic, keeping the order topics first appear in. */
function groupByTopic<E extends { topic: string }, P>(
  entries: readonly E[],
  toPartition: (e: E) => P,
): { name: string; partitions: P[] }[] {
  const byTopic = new Map<string, P[]>();
  for (const e of entries) {
    let list = byTopic.get(e.topic);
    if (!list) {
      list = [];
      byTopic.set(e.topic, list);
    }
    list.push(toPartition(e));
  }
  return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
}
