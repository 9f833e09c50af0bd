/**
 * One classic group: its members, its generation and its committed offsets (Kafka's
 * GroupMetadata/MemberMetadata). A plain state holder: timers, persistence and the protocol
 * flows live in group-coordinator.ts, which is the only writer.
 *
 * States and transitions (Kafka's):
 *
 *   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
 *     ▲                 ▲    │                                        │ leader's SyncGroup stored
 *     │                 │    └──no member left──▶ Empty               ▼
 *     │                 └─────── join / leave / session expiry ──── Stable
 *   Dead: final (deleted, expired, or unloaded); reached from any state.
 *
 * Not thread-safe and not re-entrant in any interesting way: the coordinator mutates it from
 * one event loop and re-checks state after every await.
 */
import type { TimerHandle } from '../env/clock.js';
import type { JoinGroupResponse, SyncGroupResponse } from './group-coordinator.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = [
  'Empty',
  'PreparingRebalance',
  'CompletingRebalance',
  'Stable',
  'Dead',
];

const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  Empty: ['PreparingRebalance'],
};

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

/** A committed offset as the coordinator keeps it. */
export interface OffsetAndMetadata {
  committedOffset: number;
  /** -1 when the committer did not say. */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** -1 unless the commit asked for its own retention (OffsetCommit v2–v4 retentionTimeMs). */
  expireTimestampMs: number;
}

export type JoinCallback = (response: JoinGroupResponse) => void;
export type SyncCallback = (response: SyncGroupResponse) => void;

const EMPTY_BYTES = Buffer.alloc(0);

export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  supportedProtocols: GroupProtocol[];
  assignment: Buffer = EMPTY_BYTES;
  awaitingJoin: JoinCallback | null = null;
  awaitingSync: SyncCallback | null = null;
  /** Joined in the current rebalance and not yet told the outcome (expires even while waiting). */
  isNew = false;
  /** The session (or new-member join) expiration. */
  heartbeatTimer: TimerHandle | null = null;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    supportedProtocols: GroupProtocol[];
    assignment?: Buffer;
  }) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.supportedProtocols = init.supportedProtocols;
    if (init.assignment) this.assignment = init.assignment;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /**
   * Whether the session expiration that just fired is excused: members parked in a JoinGroup or
   * SyncGroup cannot heartbeat, so they are alive by definition — except new members, whose
   * JoinGroup is bounded by the new-member timeout.
   */
  get hasSatisfiedHeartbeat(): boolean {
    return !this.isNew && (this.isAwaitingJoin || this.isAwaitingSync);
  }

  /** The metadata this member sent for `protocol`. */
  metadata(protocol: string): Buffer {
    const p = this.supportedProtocols.find((x) => x.name === protocol);
    if (!p) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, same order, same metadata bytes. */
  matches(protocols: readonly GroupProtocol[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i]!;
      const b = this.supportedProtocols[i]!;
      if (a.name !== b.name || !a.metadata.equals(b.metadata)) return false;
    }
    return true;
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.supportedProtocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return p.name;
  }
}

interface CachedOffset {
  value: OffsetAndMetadata;
  /**
   * Append order of the record that carried it (0 for loaded offsets): a completion that arrives
   * late never overwrites a newer commit.
   */
  seq: number;
}

/** The rebalance deadline of PreparingRebalance (Kafka's DelayedJoin / InitialDelayedJoin). */
export interface PendingJoin {
  timer: TimerHandle;
  /** The initial delay of an empty group cannot complete early; a normal one completes when all have joined. */
  initial: boolean;
}

/** The deadline for every member to send SyncGroup after a rebalance (Kafka's DelayedSync). */
export interface PendingSync {
  timer: TimerHandle;
  generationId: number;
}

export class ClassicGroup {
  readonly groupId: string;
  private _state: GroupState;
  /** When the group entered its current state (wall clock); null when unknown (old records). */
  currentStateTimestampMs: number | null;
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  /** A member joined during the initial rebalance delay, which may then be extended. */
  newMemberAdded = false;

  /** Insertion-ordered: leader re-election and listings are deterministic. */
  readonly members = new Map<string, GroupMember>();
  /** groupInstanceId → memberId. */
  private readonly staticMembers = new Map<string, string>();
  /** Members given an id by MEMBER_ID_REQUIRED that have not joined with it yet, with their expirations. */
  readonly pendingMembers = new Map<string, TimerHandle | null>();
  private readonly pendingSyncMembers = new Set<string>();
  private numMembersAwaitingJoin = 0;
  /** protocol name → number of members supporting it. */
  private readonly protocolSupport = new Map<string, number>();

  /** topic → partition → offset. */
  private readonly offsets = new Map<string, Map<number, CachedOffset>>();
  /** `${topic}\0${partition}` → commits appended but not yet durable. */
  private readonly pendingOffsetCommits = new Map<string, number>();

  pendingJoin: PendingJoin | null = null;
  pendingSync: PendingSync | null = null;

  constructor(groupId: string, state: GroupState, nowMs: number | null) {
    this.groupId = groupId;
    this._state = state;
    this.currentStateTimestampMs = nowMs;
  }

  get state(): GroupState {
    return this._state;
  }

  is(state: GroupState): boolean {
    return this._state === state;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember {
    const m = this.members.get(memberId);
    if (!m) throw new Error(`group ${this.groupId} has no member ${memberId}`);
    return m;
  }

  get size(): number {
    return this.members.size;
  }

  get numAwaitingJoin(): number {
    return this.numMembersAwaitingJoin;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this._state);
  }

  transitionTo(state: GroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this._state)) {
      throw new Error(`group ${this.groupId}: invalid transition ${this._state} -> ${state}`);
    }
    this._state = state;
    this.currentStateTimestampMs = nowMs;
  }

  // -------------------------------------------------------------------------------------------
  // members

  add(member: GroupMember, callback: JoinCallback | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`group ${this.groupId} already has static member ${member.groupInstanceId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, 1);
    member.awaitingJoin = callback;
    if (callback) this.numMembersAwaitingJoin++;
    this.clearPendingMember(member.memberId);
  }

  remove(memberId: string): void {
    const member = this.members.get(memberId);
    if (member) {
      this.members.delete(memberId);
      this.countProtocols(member, -1);
      if (member.isAwaitingJoin) this.numMembersAwaitingJoin--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.clearPendingMember(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  updateMember(
    member: GroupMember,
    protocols: GroupProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    callback: JoinCallback | null,
  ): void {
    this.countProtocols(member, -1);
    member.supportedProtocols = protocols;
    this.countProtocols(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (callback && !member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    else if (!callback && member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    member.awaitingJoin = callback;
  }

  /** Answers a parked JoinGroup, if any. */
  maybeInvokeJoinCallback(member: GroupMember, response: JoinGroupResponse): void {
    const cb = member.awaitingJoin;
    if (!cb) return;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoin--;
    cb(response);
  }

  /** Answers a parked SyncGroup, if any; true if there was one. */
  maybeInvokeSyncCallback(member: GroupMember, response: SyncGroupResponse): boolean {
    const cb = member.awaitingSync;
    if (!cb) return false;
    member.awaitingSync = null;
    cb(response);
    return true;
  }

  /**
   * If the leader did not rejoin, makes some member that did the leader. False when there is no
   * leader or nobody rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  currentStaticMemberId(groupInstanceId: string): string | null {
    return this.staticMembers.get(groupInstanceId) ?? null;
  }

  get staticMemberCount(): number {
    return this.staticMembers.size;
  }

  /**
   * A static member rejoined with a new member id: the old id is fenced (its parked requests get
   * FENCED_INSTANCE_ID) and everything else carries over.
   */
  replaceStaticMember(
    groupInstanceId: string,
    oldMemberId: string,
    newMemberId: string,
    fenced: { join: JoinGroupResponse; sync: SyncGroupResponse },
  ): GroupMember {
    const member = this.get(oldMemberId);
    this.members.delete(oldMemberId);
    this.maybeInvokeJoinCallback(member, fenced.join);
    this.maybeInvokeSyncCallback(member, fenced.sync);
    member.memberId = newMemberId;
    // Re-inserted at the end; Kafka's hash map has no order to preserve either.
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  addPendingMember(memberId: string, expiration: TimerHandle | null): void {
    if (this.has(memberId))
      throw new Error(`pending member ${memberId} is already a member of ${this.groupId}`);
    this.pendingMembers.set(memberId, expiration);
  }

  private clearPendingMember(memberId: string): void {
    const timer = this.pendingMembers.get(memberId);
    if (timer === undefined) return;
    timer?.cancel();
    this.pendingMembers.delete(memberId);
  }

  /** Members that have not rejoined in the current rebalance. */
  notYetRejoinedMembers(): GroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0;
  }

  /** The longest rebalance timeout of the members (0 when empty). */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  addPendingSyncMember(memberId: string): void {
    if (!this.has(memberId)) throw new Error(`pending sync for non-member ${memberId}`);
    this.pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.delete(memberId);
  }

  hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  allPendingSyncMembers(): string[] {
    return [...this.pendingSyncMembers];
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  // -------------------------------------------------------------------------------------------
  // protocols

  private countProtocols(member: GroupMember, delta: 1 | -1): void {
    for (const p of member.supportedProtocols) {
      const n = (this.protocolSupport.get(p.name) ?? 0) + delta;
      if (n === 0) this.protocolSupport.delete(p.name);
      else this.protocolSupport.set(p.name, n);
    }
  }

  private candidateProtocols(): Set<string> {
    const all = new Set<string>();
    for (const [name, n] of this.protocolSupport) if (n === this.members.size) all.add(name);
    return all;
  }

  /**
   * Whether a member with these protocols may join: an empty group takes any non-empty type and
   * list; otherwise the type must match and one protocol must be supported by every member.
   */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocolNames.length > 0;
    return (
      this.protocolType === protocolType &&
      protocolNames.some((name) => (this.protocolSupport.get(name) ?? 0) === this.members.size)
    );
  }

  /** Among the protocols every member supports, the one most members prefer (ties: first counted). */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const p = m.vote(candidates);
      votes.set(p, (votes.get(p) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [p, n] of votes) {
      if (n > bestVotes) {
        best = p;
        bestVotes = n;
      }
    }
    return best;
  }

  /** Starts the next generation: CompletingRebalance with a chosen protocol, or Empty. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.transitionTo('Empty', nowMs);
    }
    this.clearPendingSyncMembers();
  }

  /** What the leader is given in its JoinGroup response. */
  currentMemberMetadata(): { memberId: string; groupInstanceId: string | null; metadata: Buffer }[] {
    if (this.is('Dead') || this.is('PreparingRebalance') || this.protocolName === null) {
      throw new Error(`group ${this.groupId} has no member metadata in state ${this._state}`);
    }
    const protocol = this.protocolName;
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocol),
    }));
  }

  // -------------------------------------------------------------------------------------------
  // offsets

  offset(topic: string, partition: number): OffsetAndMetadata | null {
    return this.offsets.get(topic)?.get(partition)?.value ?? null;
  }

  /** Every committed offset, grouped by topic (insertion order). */
  allOffsets(): Map<string, Map<number, OffsetAndMetadata>> {
    const out = new Map<string, Map<number, OffsetAndMetadata>>();
    for (const [topic, parts] of this.offsets) {
      const m = new Map<number, OffsetAndMetadata>();
      for (const [p, c] of parts) m.set(p, c.value);
      out.set(topic, m);
    }
    return out;
  }

  get numOffsets(): number {
    let n = 0;
    for (const parts of this.offsets.values()) n += parts.size;
    return n;
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingOffsetCommits.size > 0;
  }

  hasPendingOffsetCommit(topic: string, partition: number): boolean {
    return this.pendingOffsetCommits.has(tpKey(topic, partition));
  }

  /** Loading: sets an offset read from the log (older than any commit made afterwards). */
  initializeOffset(topic: string, partition: number, value: OffsetAndMetadata): void {
    this.putOffset(topic, partition, value, 0);
  }

  /** An offset commit was handed to storage. */
  prepareOffsetCommit(topic: string, partition: number): void {
    const k = tpKey(topic, partition);
    this.pendingOffsetCommits.set(k, (this.pendingOffsetCommits.get(k) ?? 0) + 1);
  }

  /** The commit is durable: it becomes the committed offset unless a later one already did. */
  onOffsetCommitAppend(topic: string, partition: number, value: OffsetAndMetadata, seq: number): void {
    const k = tpKey(topic, partition);
    // The partition's pending commit may have been removed meanwhile (offsets deleted).
    if (this.pendingOffsetCommits.has(k)) this.putOffset(topic, partition, value, seq);
    this.completePending(k);
  }

  failPendingOffsetWrite(topic: string, partition: number): void {
    this.completePending(tpKey(topic, partition));
  }

  private completePending(k: string): void {
    const n = this.pendingOffsetCommits.get(k);
    if (n === undefined) return;
    if (n <= 1) this.pendingOffsetCommits.delete(k);
    else this.pendingOffsetCommits.set(k, n - 1);
  }

  private putOffset(topic: string, partition: number, value: OffsetAndMetadata, seq: number): void {
    let parts = this.offsets.get(topic);
    if (!parts) {
      parts = new Map();
      this.offsets.set(topic, parts);
    }
    const cur = parts.get(partition);
    if (!cur || cur.seq < seq) parts.set(partition, { value, seq });
  }

  /** Removes the offsets of the given partitions (all when null); returns what was removed. */
  removeOffsets(
    partitions: { topic: string; partition: number }[] | null,
  ): { topic: string; partition: number }[] {
    const removed: { topic: string; partition: number }[] = [];
    if (partitions === null) {
      for (const [topic, parts] of this.offsets)
        for (const p of parts.keys()) removed.push({ topic, partition: p });
      this.offsets.clear();
      this.pendingOffsetCommits.clear();
      return removed;
    }
    for (const { topic, partition } of partitions) {
      this.pendingOffsetCommits.delete(tpKey(topic, partition));
      const parts = this.offsets.get(topic);
      if (parts?.delete(partition)) {
        removed.push({ topic, partition });
        if (parts.size === 0) this.offsets.delete(topic);
      }
    }
    return removed;
  }

  /** All partitions with an offset of one of these topics. */
  partitionsOfTopics(topics: ReadonlySet<string>): { topic: string; partition: number }[] {
    const out: { topic: string; partition: number }[] = [];
    for (const [topic, parts] of this.offsets) {
      if (topics.has(topic)) for (const p of parts.keys()) out.push({ topic, partition: p });
    }
    return out;
  }

  /**
   * Kafka's offset expiration (offsets.retention.minutes):
   * - an Empty group with a protocol type (it had members): every offset, once retention has
   *   passed since the group became Empty (or since the commit when that time is unknown);
   * - a group that never had members (simple consumers committing with generation -1): each
   *   offset once retention has passed since it was committed;
   * - a commit with its own expire timestamp (OffsetCommit v2–v4 retention) expires then.
   * Offsets of groups with members never expire here (Kafka expires unsubscribed topics of
   * Stable consumer groups; we do not parse the consumer protocol). Pending commits are kept.
   */
  removeExpiredOffsets(nowMs: number, retentionMs: number): { topic: string; partition: number }[] {
    let base: ((o: OffsetAndMetadata) => number) | null = null;
    if (this.protocolType !== null && this.is('Empty')) {
      const since = this.currentStateTimestampMs;
      base = (o) => since ?? o.commitTimestampMs;
    } else if (this.protocolType === null) {
      base = (o) => o.commitTimestampMs;
    }
    if (base === null) return [];
    const expired: { topic: string; partition: number }[] = [];
    for (const [topic, parts] of this.offsets) {
      for (const [partition, { value }] of parts) {
        if (this.pendingOffsetCommits.has(tpKey(topic, partition))) continue;
        const due =
          value.expireTimestampMs >= 0
            ? nowMs >= value.expireTimestampMs
            : nowMs - base(value) >= retentionMs;
        if (due) expired.push({ topic, partition });
      }
    }
    return this.removeOffsets(expired);
  }
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
