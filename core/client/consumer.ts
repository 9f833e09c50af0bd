/**
 * The consumer: fetches whole batches from partition leaders (one Fetch in flight per leader,
 * long polling; a fetch of caught-up partitions alone waits while the leader has records of a
 * partition to hand out, so it cannot hold their next fetch back), checks them (framing, CRC) when
 * they arrive, and decodes their records as it hands them out through poll() or async iteration, max.poll.records at a time.
 * The next Fetch goes out as soon as a response has been taken in, so it is on the wire while the
 * application works through the records before it (Kafka's consumer prefetches likewise). Memory
 * is bounded: as in Kafka's consumer, a partition with nothing buffered is fetched; one whose
 * records are being handed out is fetched ahead once more only while all buffered responses
 * together stay under fetch.max.bytes — so at most two responses per partition are held (as
 * bytes, not decoded records), and the ones ahead add at most about fetch.max.bytes.
 *
 * Positions follow Kafka: `position` is the next record poll() returns; commit() without
 * arguments commits those positions. Auto commit (default on with a group) commits, at the
 * start of each poll(), the positions reached by the previous poll() — so a record is committed
 * only after the loop that received it asked for more (at-least-once) — and on close and before
 * partitions are revoked.
 */

import { isLeasedReadBuffer } from '../log/read-buffers.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/errors.js';
import type { ResponseData } from '../protocol/messages/index.js';
import { type BatchHeader, type RecordHeader, RecordIndex, RecordSetReader } from '../records/index.js';
import { type Assignor, assignorByName } from './assignors/index.js';
import type { Cluster } from './cluster.js';
import { CONSUMER_KEYS, validateConfig } from './config.js';
import { type BatchTag, FetchLease, IndexedConsumerBatch } from './consumer-batch.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './consumer-protocol.js';
import { brokerError, isRetriable, KafkaClientError, METADATA_ERRORS } from './errors.js';
import { type Generation, GroupMember, type JoinedMember } from './group-member.js';
import type {
  AssignorName,
  Consumer,
  ConsumerBatch,
  ConsumerConfig,
  ConsumerRecord,
  OffsetAndTimestamp,
  OffsetsForTimesQuery,
  RebalanceListener,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Next offset poll() returns; null until resolved (committed offset or reset policy). */
  position: number | null;
  /** Next offset to fetch. */
  fetchPosition: number | null;
  /** A pending seekToBeginning/End. */
  reset: 'earliest' | 'latest' | null;
  paused: boolean;
  /** The fetch response being handed out (decoded as poll() takes its records), or null. */
  fetched: Buffered | null;
  /** The response fetched after `fetched`, waiting for it to be handed out, or null. */
  ahead: Buffered | null;
  highWatermark: number;
  leaderEpoch: number;
}

/** One partition's part of a fetch response, held until poll() has handed its records out. */
interface Buffered {
  /** Its records, or null when it held none to hand out (only control batches, say). */
  readonly reader: RecordSetReader | null;
  /** The first offset to hand out (a fetch may start inside a batch). */
  readonly from: number;
  /** The offset after its last batch: the position once it has been handed out. */
  readonly end: number;
  /** Its size in bytes (0 without records), counted against fetch.max.bytes for fetching ahead. */
  readonly bytes: number;
  /** The response buffer's lease while this part holds it (null without records, or once dropped). */
  lease: FetchLease | null;
}

/** Ends a buffered part's hold on its response buffer (once: the lease is cleared). */
function dropBuffered(b: Buffered | null): void {
  if (b?.lease) {
    const lease = b.lease;
    b.lease = null;
    lease.release();
  }
}

/** Whether the batches `s` holds buffered pass their CRC checks (those not reached yet are checked now). */
function buffersIntact(s: PartitionState): boolean {
  try {
    s.fetched?.reader?.checkCrcs();
    s.ahead?.reader?.checkCrcs();
    return true;
  } catch {
    return false;
  }
}

function corruptBatch(s: PartitionState, offset: number | null, err: unknown): KafkaClientError {
  return new KafkaClientError(
    'CORRUPT_MESSAGE',
    `a corrupt record batch was received for ${s.topic}-${s.partition} at offset ${offset}: ${(err as Error).message}`,
    { cause: err },
  );
}

/** Drops what `s` holds buffered (after a seek, a reset, a malformed record or a revocation). */
function clearBuffered(s: PartitionState): void {
  dropBuffered(s.fetched);
  dropBuffered(s.ahead);
  s.fetched = null;
  s.ahead = null;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Whether a partition's last fetch reached its high watermark (nothing more to fetch yet). */
const caughtUp = (s: PartitionState): boolean => s.highWatermark >= 0 && s.fetchPosition! >= s.highWatermark;

export class ConsumerImpl implements Consumer {
  private readonly groupId: string | null;
  private readonly groupInstanceId: string | null;
  private readonly autoOffsetReset: 'earliest' | 'latest' | 'none';
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly maxPollRecords: number;
  private readonly fetchMinBytes: number;
  private readonly fetchMaxBytes: number;
  private readonly fetchMaxWaitMs: number;
  private readonly partitionMaxBytes: number;
  private readonly isolationLevel: number;
  private readonly checkCrcs: boolean;
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly assignors: Assignor[];
  private readonly states = new Map<string, PartitionState>();
  private subscription: {
    topics: readonly string[] | RegExp;
    listener: RebalanceListener | undefined;
  } | null = null;
  private subscribedTopics: string[] = [];
  private member: GroupMember | null = null;
  private readonly fetching = new Set<number>();
  private readonly readyOrder: PartitionState[] = [];
  /** The index of the last released pollBatch() batch, for the next one. */
  private spareIndex: RecordIndex<BatchTag> | null = null;
  private wake: (() => void) | undefined;
  private lastAutoCommit = Date.now();
  private lastPatternCheck = 0;
  private pendingError: Error | undefined;
  private rebalancing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    config: ConsumerConfig = {},
    private readonly onClose?: () => void,
  ) {
    validateConfig('consumer', config, CONSUMER_KEYS);
    this.groupId = config['group.id'] ?? null;
    this.groupInstanceId = config['group.instance.id'] ?? null;
    this.autoOffsetReset = config['auto.offset.reset'] ?? 'latest';
    this.autoCommit = (config['enable.auto.commit'] ?? true) && this.groupId !== null;
    this.autoCommitIntervalMs = config['auto.commit.interval.ms'] ?? 5000;
    this.maxPollRecords = config['max.poll.records'] ?? 500;
    this.fetchMinBytes = config['fetch.min.bytes'] ?? 1;
    this.fetchMaxBytes = config['fetch.max.bytes'] ?? 52_428_800;
    this.fetchMaxWaitMs = config['fetch.max.wait.ms'] ?? 500;
    this.partitionMaxBytes = config['max.partition.fetch.bytes'] ?? 1_048_576;
    this.isolationLevel = config['isolation.level'] === 'read_committed' ? 1 : 0;
    this.checkCrcs = config['check.crcs'] ?? true;
    this.sessionTimeoutMs = config['session.timeout.ms'] ?? 45_000;
    this.heartbeatIntervalMs = config['heartbeat.interval.ms'] ?? 3000;
    this.rebalanceTimeoutMs = config['rebalance.timeout.ms'] ?? config['max.poll.interval.ms'] ?? 300_000;
    const strategy = config['partition.assignment.strategy'] ?? ['range', 'cooperative-sticky'];
    const names: readonly AssignorName[] = typeof strategy === 'string' ? [strategy] : strategy;
    this.assignors = names.map((n) => assignorByName(n));
  }

  // ------------------------------------------------------------------ subscription & assignment

  async subscribe(topics: readonly string[] | RegExp, listener?: RebalanceListener): Promise<void> {
    this.checkOpen();
    if (this.groupId === null) {
      throw new KafkaClientError(
        'INVALID_CONFIG',
        'subscribe() needs a group.id; use assign() to read without a group',
      );
    }
    if (!(topics instanceof RegExp) && topics.length === 0) return this.unsubscribe();
    this.subscription = { topics, listener };
    if (!this.member) {
      this.member = new GroupMember(this.cluster, {
        groupId: this.groupId,
        groupInstanceId: this.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        protocols: () => this.protocols(),
        assign: (protocol, members) => this.leaderAssign(protocol, members),
      });
    }
    await this.resolveSubscription();
    this.member.rejoinNeeded = true;
  }

  async unsubscribe(): Promise<void> {
    if (this.member) {
      await this.revoke(this.assignment(), 'unsubscribe');
      await this.member.leave('the consumer unsubscribed');
      this.member.close();
      this.member = null;
    }
    this.subscription = null;
    this.subscribedTopics = [];
    for (const s of this.states.values()) clearBuffered(s);
    this.states.clear();
  }

  assign(partitions: readonly TopicPartition[]): void {
    this.checkOpen();
    if (this.subscription)
      throw new KafkaClientError('ILLEGAL_STATE', 'assign() cannot be mixed with subscribe()');
    const keep = new Set(partitions.map((p) => key(p.topic, p.partition)));
    for (const k of [...this.states.keys()]) if (!keep.has(k)) this.removeState(k);
    for (const p of partitions) this.addState(p.topic, p.partition);
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Forgets a partition, letting go of what it holds buffered. */
  private removeState(k: string): void {
    const s = this.states.get(k);
    if (s) clearBuffered(s);
    this.states.delete(k);
  }

  private addState(topic: string, partition: number): PartitionState {
    const k = key(topic, partition);
    let s = this.states.get(k);
    if (!s) {
      s = {
        topic,
        partition,
        position: null,
        fetchPosition: null,
        reset: null,
        paused: false,
        fetched: null,
        ahead: null,
        highWatermark: -1,
        leaderEpoch: -1,
      };
      this.states.set(k, s);
    }
    return s;
  }

  private async resolveSubscription(): Promise<boolean> {
    const sub = this.subscription;
    if (!sub) return false;
    let topics: string[];
    if (sub.topics instanceof RegExp) {
      await this.cluster.refreshMetadata(null, false);
      const re = sub.topics;
      topics = [...this.cluster.topics.values()]
        .filter((t) => !t.internal && re.test(t.name))
        .map((t) => t.name);
    } else {
      topics = [...sub.topics];
    }
    topics.sort();
    const changed = topics.join('\u0000') !== this.subscribedTopics.join('\u0000');
    this.subscribedTopics = topics;
    return changed;
  }

  private protocols(): { name: string; metadata: Buffer }[] {
    const owned = this.assignment();
    return this.assignors.map((a) => ({
      name: a.name,
      metadata: encodeSubscription({
        topics: this.subscribedTopics,
        userData:
          a.subscriptionUserData?.(this.subscribedTopics, owned, this.member?.generationId ?? -1) ?? null,
        ownedPartitions: a.rebalanceProtocol === 'COOPERATIVE' ? owned : [],
        generationId: this.member?.generationId ?? -1,
      }),
    }));
  }

  private async leaderAssign(protocol: string, members: JoinedMember[]): Promise<Map<string, Buffer>> {
    const assignor = assignorByName(protocol);
    const decoded = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      subscription: decodeSubscription(m.metadata),
    }));
    const topics = [...new Set(decoded.flatMap((m) => m.subscription.topics))];
    const counts = new Map<string, number>();
    if (topics.length > 0) {
      await this.cluster.refreshMetadata(topics, true);
      for (const t of topics) {
        const meta = this.cluster.topics.get(t);
        if (meta) counts.set(t, meta.partitions.length);
      }
    }
    const plan = assignor.assign(decoded, counts);
    const out = new Map<string, Buffer>();
    for (const m of members)
      out.set(m.memberId, encodeAssignment({ partitions: plan.get(m.memberId) ?? [] }));
    return out;
  }

  /**
   * Starts a rebalance in the background when the group asked for one (or we have not joined
   * yet) and waits for it until `deadline`. Returns whether the group is settled: poll() never
   * waits past its timeout, even for a rebalance that waits for other members.
   */
  private async ensureGroup(deadline: number): Promise<boolean> {
    const member = this.member;
    if (!member || !this.subscription) return true;
    const error = member.takeError();
    if (error) throw error;
    if (Date.now() - this.lastPatternCheck > 30_000 && this.subscription.topics instanceof RegExp) {
      this.lastPatternCheck = Date.now();
      if (await this.resolveSubscription()) member.rejoinNeeded = true;
    }
    if (!this.rebalancing && member.rejoinNeeded && !this.closed) {
      this.rebalancing = this.rebalance(member)
        .catch((err: unknown) => {
          if (!this.closed) this.pendingError = err as Error;
        })
        .finally(() => {
          this.rebalancing = undefined;
          this.wake?.();
        });
    }
    if (!this.rebalancing) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      this.rebalancing.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), left);
      }),
    ]);
    clearTimeout(timer);
    return settled;
  }

  private async rebalance(member: GroupMember): Promise<void> {
    while (member.rejoinNeeded && !this.closed && this.subscription) {
      const cooperative = this.assignors.every((a) => a.rebalanceProtocol === 'COOPERATIVE');
      if (!cooperative) await this.revoke(this.assignment(), 'rebalance');
      else await this.commitBeforeRebalance();
      const gen: Generation = await member.join(this.states.size === 0 ? 'joining' : 'rebalancing');
      const assigned = decodeAssignment(gen.assignment).partitions;
      const target = new Set(assigned.map((p) => key(p.topic, p.partition)));
      const revoked = this.assignment().filter((p) => !target.has(key(p.topic, p.partition)));
      if (revoked.length > 0) {
        await this.revoke(revoked, 'rebalance');
        if (cooperative) member.rejoinNeeded = true; // KIP-429: a second round hands them out
      }
      const added = assigned.filter((p) => !this.states.has(key(p.topic, p.partition)));
      for (const p of added) this.addState(p.topic, p.partition);
      if (added.length > 0 || !cooperative) await this.subscription?.listener?.onPartitionsAssigned?.(added);
    }
  }

  private async commitBeforeRebalance(): Promise<void> {
    if (this.autoCommit) await this.commit().catch(() => undefined);
  }

  private async revoke(partitions: TopicPartition[], _why: string): Promise<void> {
    if (partitions.length === 0) return;
    if (this.autoCommit) {
      await this.commit(this.positionsOf(partitions)).catch(() => undefined);
    }
    try {
      await this.subscription?.listener?.onPartitionsRevoked?.(partitions);
    } finally {
      for (const p of partitions) this.removeState(key(p.topic, p.partition));
    }
  }

  // ------------------------------------------------------------------------------ polling

  async poll(opts: { timeoutMs?: number; maxRecords?: number } = {}): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    await this.pollInto(opts, new ArraySink(out));
    return out;
  }

  async pollBatch(opts: { timeoutMs?: number; maxRecords?: number } = {}): Promise<ConsumerBatch> {
    const maxRecords = Math.min(opts.maxRecords ?? this.maxPollRecords, this.maxPollRecords);
    const spare = this.spareIndex;
    this.spareIndex = null;
    const sink = new IndexSink(() => Math.min(maxRecords, this.bufferedRecords()), spare);
    // A released batch's index is the next one's (its arrays were the largest allocation per poll).
    const reuse = (index: RecordIndex<BatchTag>): void => {
      index.clear();
      this.spareIndex = index;
    };
    let empty = true;
    try {
      await this.pollInto(opts, sink);
      empty = sink.count === 0;
    } finally {
      // Without records (a timeout, an error) the batch holds nothing: what the sink took goes back.
      if (empty) {
        for (const lease of sink.leases) lease.release();
        const index = sink.index ?? spare;
        if (index !== null) reuse(index);
      }
    }
    return empty ? new IndexedConsumerBatch(null) : new IndexedConsumerBatch(sink.index, sink.leases, reuse);
  }

  /** Records buffered (an upper bound: a fetch may start inside a batch), to size pollBatch()'s index. */
  private bufferedRecords(): number {
    let n = 0;
    for (const s of this.readyOrder) n += s.fetched?.reader?.remaining ?? 0;
    return n;
  }

  /** poll() and pollBatch(): waits for records and hands them to `sink`. */
  private async pollInto(opts: { timeoutMs?: number; maxRecords?: number }, sink: RecordSink): Promise<void> {
    this.checkOpen();
    this.throwPending();
    const timeoutMs = opts.timeoutMs ?? this.fetchMaxWaitMs;
    const maxRecords = Math.min(opts.maxRecords ?? this.maxPollRecords, this.maxPollRecords);
    const deadline = Date.now() + timeoutMs;
    await this.maybeAutoCommit();
    for (;;) {
      if (!(await this.ensureGroup(deadline))) {
        this.throwPending();
        return;
      }
      await this.resolvePositions();
      this.drainBuffered(maxRecords, sink);
      this.startFetches();
      if (sink.count > 0) return;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          resolve();
        };
      });
      this.throwPending();
    }
  }

  private throwPending(): void {
    if (this.pendingError) {
      const e = this.pendingError;
      this.pendingError = undefined;
      throw e;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    while (!this.closed) {
      const records = await this.poll({ timeoutMs: 1000 });
      for (const r of records) yield r;
    }
  }

  private drainBuffered(maxRecords: number, sink: RecordSink): void {
    while (sink.count < maxRecords && this.readyOrder.length > 0) {
      const s = this.readyOrder[0]!;
      if (this.states.get(key(s.topic, s.partition)) !== s || s.paused) {
        this.readyOrder.shift();
        if (s.paused && this.states.get(key(s.topic, s.partition)) === s) this.readyOrder.push(s);
        if (this.readyOrder.every((x) => x.paused)) break;
        continue;
      }
      const f = s.fetched;
      if (f === null) {
        this.readyOrder.shift();
        continue;
      }
      const before = sink.count;
      const ok = f.reader === null || this.take(s, f, maxRecords, sink);
      if (sink.count > before) s.position = sink.lastOffset() + 1;
      if (!ok) {
        // A malformed record: nothing of this fetch past it is handed out; fetched again, it fails again.
        clearBuffered(s);
        s.fetchPosition = s.position;
        this.readyOrder.shift();
        break;
      }
      if (f.reader === null || f.reader.done) {
        s.position = Math.max(s.position ?? 0, f.end);
        this.readyOrder.shift();
        this.promoteAhead(s);
      }
    }
  }

  /** The response after the one just handed out becomes the one to hand out. */
  private promoteAhead(s: PartitionState): void {
    dropBuffered(s.fetched);
    s.fetched = s.ahead;
    s.ahead = null;
    if (s.fetched !== null) this.readyOrder.push(s);
  }

  /** Decodes records of `f` into `sink` up to `maxRecords`; false (and pendingError) when one is malformed. */
  private take(s: PartitionState, f: Buffered, maxRecords: number, sink: RecordSink): boolean {
    try {
      sink.take(s, f.reader!, f.from, maxRecords, f.lease);
      return true;
    } catch (err) {
      this.pendingError = new KafkaClientError(
        'CORRUPT_MESSAGE',
        `a corrupt record batch was received for ${s.topic}-${s.partition} after offset ${s.position}: ${(err as Error).message}`,
        { cause: err },
      );
      return false;
    }
  }

  private async maybeAutoCommit(): Promise<void> {
    if (!this.autoCommit || Date.now() - this.lastAutoCommit < this.autoCommitIntervalMs) return;
    this.lastAutoCommit = Date.now();
    try {
      await this.commit();
    } catch {
      // the next interval retries; positions are committed again on close and revoke
    }
  }

  private async resolvePositions(): Promise<void> {
    const needCommitted: PartitionState[] = [];
    const needReset: PartitionState[] = [];
    for (const s of this.states.values()) {
      if (s.reset) needReset.push(s);
      else if (s.position === null) (this.groupId !== null ? needCommitted : needReset).push(s);
    }
    if (needCommitted.length > 0) {
      const committed = await this.committed(needCommitted);
      for (const c of committed) {
        const s = this.states.get(key(c.topic, c.partition));
        if (!s) continue;
        if (c.offset >= 0) {
          s.position = c.offset;
          s.fetchPosition = c.offset;
        } else needReset.push(s);
      }
    }
    if (needReset.length === 0) return;
    const byPolicy = new Map<'earliest' | 'latest', PartitionState[]>();
    for (const s of needReset) {
      const policy = s.reset ?? this.autoOffsetReset;
      if (policy === 'none') {
        throw new KafkaClientError(
          'NO_OFFSET',
          `no committed offset for ${s.topic}-${s.partition} and auto.offset.reset=none: seek() first`,
        );
      }
      const list = byPolicy.get(policy) ?? [];
      list.push(s);
      byPolicy.set(policy, list);
    }
    for (const [policy, list] of byPolicy) {
      const offsets = await this.listOffsets(list, policy === 'earliest' ? -2 : -1);
      for (const o of offsets) {
        const s = this.states.get(key(o.topic, o.partition));
        if (!s) continue;
        s.position = o.offset;
        s.fetchPosition = o.offset;
        s.reset = null;
        clearBuffered(s);
      }
    }
  }

  private startFetches(): void {
    // A partition with nothing buffered is fetched; one with a response buffered is fetched ahead
    // only while all buffered responses together stay under fetch.max.bytes.
    let bufferedBytes = 0;
    for (const s of this.states.values()) bufferedBytes += (s.fetched?.bytes ?? 0) + (s.ahead?.bytes ?? 0);
    const ahead = bufferedBytes < this.fetchMaxBytes;
    const byLeader = new Map<number, PartitionState[]>();
    /** Leaders with records of a partition still to hand out. */
    const busy = new Set<number>();
    for (const s of this.states.values()) {
      if (s.paused || s.fetchPosition === null || s.reset) continue;
      const leader = this.cluster.leaderFor(s.topic, s.partition);
      if (leader < 0) {
        void this.cluster.topic(s.topic, { refresh: true }).catch(() => undefined);
        continue;
      }
      if (s.fetched !== null || s.ahead !== null) busy.add(leader);
      // one response ahead at most, and only while the buffered ones stay under fetch.max.bytes
      if (s.ahead !== null || (s.fetched !== null && !ahead)) continue;
      if (this.fetching.has(leader)) continue;
      const list = byLeader.get(leader) ?? [];
      list.push(s);
      byLeader.set(leader, list);
    }
    for (const [leader, list] of byLeader) {
      // Only caught-up partitions while others of the leader still have records to hand out: the
      // broker would hold this fetch for up to fetch.max.wait.ms, and their next fetch (one per
      // leader) behind it. These go with theirs instead: poll() calls this again as it hands out.
      if (busy.has(leader) && list.every(caughtUp)) continue;
      this.fetching.add(leader);
      let clean = false;
      void this.fetchFrom(leader, list)
        .then((ok) => {
          clean = ok;
        })
        .finally(() => {
          this.fetching.delete(leader);
          // Prefetch: the next Fetch goes out now, while the application works through this one's
          // records (after an error, the next poll() fetches again, so failures are not retried in a loop).
          if (clean && !this.closed) this.startFetches();
          this.wake?.();
        });
    }
  }

  /** One Fetch from `leader`; true when it went through without errors. */
  private async fetchFrom(leader: number, partitions: PartitionState[]): Promise<boolean> {
    const byTopic = new Map<string, PartitionState[]>();
    for (const s of partitions) {
      const list = byTopic.get(s.topic) ?? [];
      list.push(s);
      byTopic.set(s.topic, list);
    }
    const requested = new Map(partitions.map((s) => [s, s.fetchPosition!]));
    let res: ResponseData<typeof ApiKey.Fetch>;
    try {
      res = await this.cluster.request(
        leader,
        ApiKey.Fetch,
        {
          replicaId: -1,
          maxWaitMs: this.fetchMaxWaitMs,
          minBytes: this.fetchMinBytes,
          maxBytes: this.fetchMaxBytes,
          isolationLevel: this.isolationLevel,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...byTopic].map(([topic, list]) => ({
            topic,
            partitions: list.map((s) => ({
              partition: s.partition,
              // The epoch the metadata names (not the last batch's): stale → FENCED_LEADER_EPOCH → refresh.
              currentLeaderEpoch:
                this.cluster.topics.get(s.topic)?.partitions[s.partition]?.leaderEpoch ?? -1,
              fetchOffset: s.fetchPosition!,
              logStartOffset: -1,
              partitionMaxBytes: this.partitionMaxBytes,
            })),
          })),
        },
        { timeoutMs: this.cluster.options.requestTimeoutMs + this.fetchMaxWaitMs },
      );
    } catch (err) {
      if (!isRetriable(err) && !this.closed) this.pendingError = err as Error;
      if (!this.closed) await this.cluster.refreshMetadata([...byTopic.keys()]).catch(() => undefined);
      return false;
    }
    let refresh = false;
    let clean = true;
    /** The response buffer's lease, made when a part of it is first kept (pooled buffers only). */
    let lease: FetchLease | null | undefined;
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const s = this.states.get(key(t.topic, p.partitionIndex));
        if (!s || requested.get(s) !== s.fetchPosition || s.reset) continue; // reassigned or seeked meanwhile
        if (p.errorCode !== 0) {
          clean = false;
          const err = brokerError(p.errorCode, `fetching ${t.topic}-${p.partitionIndex}`);
          if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            // A fetch ahead asked for the offset after batches whose CRCs were not checked yet: a
            // corrupt header could have named it. Then poll() fails on that batch instead.
            if (!buffersIntact(s)) continue;
            if (this.autoOffsetReset === 'none') this.pendingError = err;
            else s.reset = this.autoOffsetReset;
          } else if (METADATA_ERRORS.has(err.code)) {
            refresh = true;
          } else {
            this.pendingError = err;
          }
          continue;
        }
        s.highWatermark = p.highWatermark;
        if (p.records && p.records.length > 0) {
          lease ??= isLeasedReadBuffer(p.records) ? new FetchLease(p.records) : null;
          this.accept(s, p.records, lease);
        }
      }
    }
    if (refresh) await this.cluster.refreshMetadata([...byTopic.keys()]).catch(() => undefined);
    return clean && this.pendingError === undefined;
  }

  private accept(s: PartitionState, data: Buffer, lease: FetchLease | null): void {
    if (s.ahead !== null) return; // not fetched while one is ahead; a stale response
    let reader: RecordSetReader;
    try {
      // CRCs are checked as poll() reaches each batch, so the next Fetch goes out first; its
      // offset comes from headers not checked yet, which fetchFrom() checks before it trusts an
      // OFFSET_OUT_OF_RANGE answer to it.
      reader = new RecordSetReader(data, 0, data.length, {
        verifyCrc: this.checkCrcs,
        skipControl: true,
        crcWhenRead: true,
      });
    } catch (err) {
      this.pendingError = corruptBatch(s, s.fetchPosition, err);
      return;
    }
    const from = s.fetchPosition!;
    let next = from;
    let records = false;
    for (const b of reader.batches) {
      const last = b.baseOffset + b.lastOffsetDelta;
      if (last < from) continue;
      next = Math.max(next, last + 1);
      if (b.partitionLeaderEpoch >= 0) s.leaderEpoch = b.partitionLeaderEpoch;
      if (!b.isControl && b.recordCount > 0) records = true;
    }
    if (reader.batches.length === 0 && data.length > 0) {
      // One batch is larger than max.partition.fetch.bytes: the broker still sends it whole
      // (KIP-74), so this only happens with a non-compliant broker.
      this.pendingError = new KafkaClientError(
        'RECORD_TOO_LARGE',
        `${s.topic}-${s.partition} at offset ${from}: a batch did not fit the fetch response; raise max.partition.fetch.bytes`,
      );
      return;
    }
    if (!records) {
      // Nothing to hand out, so nothing reaches its batches: check them now.
      try {
        reader.checkCrcs();
      } catch (err) {
        this.pendingError = corruptBatch(s, from, err);
        return;
      }
    }
    s.fetchPosition = next;
    // Decoded as poll() hands them out: records (and their garbage) exist only a poll at a time.
    if (records) lease?.retain();
    const buffered: Buffered = records
      ? { reader, from, end: next, bytes: data.length, lease }
      : { reader: null, from, end: next, bytes: 0, lease: null };
    if (s.fetched !== null) s.ahead = buffered;
    else if (records) {
      s.fetched = buffered;
      this.readyOrder.push(s);
    } else s.position = next;
  }

  // ------------------------------------------------------------------------------ positions

  seek(partition: TopicPartition, offset: number): void {
    const s = this.states.get(key(partition.topic, partition.partition));
    if (!s)
      throw new KafkaClientError(
        'ILLEGAL_STATE',
        `${partition.topic}-${partition.partition} is not assigned to this consumer`,
      );
    if (!Number.isInteger(offset) || offset < 0)
      throw new KafkaClientError('INVALID_ARGUMENT', `cannot seek to offset ${offset}`);
    s.position = offset;
    s.fetchPosition = offset;
    s.reset = null;
    clearBuffered(s);
  }

  seekToBeginning(partitions?: readonly TopicPartition[]): void {
    this.markReset(partitions, 'earliest');
  }

  seekToEnd(partitions?: readonly TopicPartition[]): void {
    this.markReset(partitions, 'latest');
  }

  private markReset(partitions: readonly TopicPartition[] | undefined, to: 'earliest' | 'latest'): void {
    const list = partitions ?? this.assignment();
    for (const p of list) {
      const s = this.states.get(key(p.topic, p.partition));
      if (!s) continue;
      s.reset = to;
      clearBuffered(s);
    }
  }

  async position(partition: TopicPartition): Promise<number> {
    const s = this.states.get(key(partition.topic, partition.partition));
    if (!s)
      throw new KafkaClientError(
        'ILLEGAL_STATE',
        `${partition.topic}-${partition.partition} is not assigned to this consumer`,
      );
    if (s.position === null || s.reset) await this.resolvePositions();
    return s.position ?? -1;
  }

  private positionsOf(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const p of partitions) {
      const s = this.states.get(key(p.topic, p.partition));
      if (s && s.position !== null)
        out.push({ topic: s.topic, partition: s.partition, offset: s.position, leaderEpoch: s.leaderEpoch });
    }
    return out;
  }

  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    this.checkOpen();
    if (this.groupId === null) throw new KafkaClientError('INVALID_CONFIG', 'commit() needs a group.id');
    const list = offsets ?? this.positionsOf(this.assignment());
    if (list.length === 0) return;
    const byTopic = new Map<string, TopicPartitionOffset[]>();
    for (const o of list) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    const groupId = this.groupId;
    const deadline = Date.now() + this.cluster.options.requestTimeoutMs;
    await this.cluster.withRetries(`committing offsets of group ${groupId}`, deadline, async () => {
      const node = await this.cluster.coordinator(groupId);
      const res = await this.cluster.request(
        node,
        ApiKey.OffsetCommit,
        {
          groupId,
          generationIdOrMemberEpoch:
            this.member && this.member.generationId >= 0 ? this.member.generationId : -1,
          memberId: this.member?.memberId ?? '',
          groupInstanceId: this.member ? this.groupInstanceId : null,
          topics: [...byTopic].map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({
              partitionIndex: p.partition,
              committedOffset: p.offset,
              committedLeaderEpoch: p.leaderEpoch ?? -1,
              committedMetadata: p.metadata ?? '',
            })),
          })),
        },
        { purpose: 'coordinator' },
      );
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode === 0) continue;
          if (
            p.errorCode === ErrorCode.NOT_COORDINATOR ||
            p.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE
          ) {
            this.cluster.invalidateCoordinator(groupId);
          }
          if (
            p.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
            p.errorCode === ErrorCode.ILLEGAL_GENERATION ||
            p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID
          ) {
            if (this.member) this.member.rejoinNeeded = true;
            throw new KafkaClientError(
              'COMMIT_FAILED',
              `commit failed for ${t.name}-${p.partitionIndex}: the group rebalanced (${brokerError(p.errorCode, 'commit').code}); ` +
                'the partitions may belong to another member now — their records will be redelivered',
            );
          }
          throw brokerError(p.errorCode, `committing ${t.name}-${p.partitionIndex} for group ${groupId}`);
        }
      }
    });
  }

  async committed(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (this.groupId === null) throw new KafkaClientError('INVALID_CONFIG', 'committed() needs a group.id');
    const groupId = this.groupId;
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const deadline = Date.now() + this.cluster.options.requestTimeoutMs;
    return this.cluster.withRetries(`fetching committed offsets of group ${groupId}`, deadline, async () => {
      const node = await this.cluster.coordinator(groupId);
      const res = await this.cluster.request(
        node,
        ApiKey.OffsetFetch,
        { groupId, topics, groups: [{ groupId, topics }], requireStable: true },
        { purpose: 'coordinator' },
      );
      const group = res.groups.length > 0 ? res.groups[0]! : { errorCode: res.errorCode, topics: res.topics };
      if (group.errorCode !== 0) {
        if (group.errorCode === ErrorCode.NOT_COORDINATOR) this.cluster.invalidateCoordinator(groupId);
        throw brokerError(group.errorCode, `fetching committed offsets of group ${groupId}`);
      }
      const out: TopicPartitionOffset[] = [];
      for (const t of group.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0 && p.errorCode !== ErrorCode.UNSTABLE_OFFSET_COMMIT) {
            throw brokerError(p.errorCode, `fetching the committed offset of ${t.name}-${p.partitionIndex}`);
          }
          if (p.errorCode === ErrorCode.UNSTABLE_OFFSET_COMMIT) {
            throw new KafkaClientError('UNSTABLE_OFFSET_COMMIT', 'a commit is pending; retrying', {
              retriable: true,
            });
          }
          out.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.metadata,
          });
        }
      }
      return out;
    });
  }

  private listOffsets(
    partitions: readonly TopicPartition[],
    timestamp: number | ((p: TopicPartition) => number),
  ) {
    return this.cluster.listOffsets(
      partitions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        timestamp: typeof timestamp === 'function' ? timestamp(p) : timestamp,
      })),
      { isolationLevel: this.isolationLevel, allowAutoCreate: true },
    );
  }

  async offsetsForTimes(query: readonly OffsetsForTimesQuery[]): Promise<OffsetAndTimestamp[]> {
    const ts = new Map(query.map((q) => [key(q.topic, q.partition), q.timestamp]));
    const res = await this.listOffsets(query, (p) => ts.get(key(p.topic, p.partition))!);
    return res.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
    }));
  }

  async beginningOffsets(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return this.offsetsInOrder(partitions, -2);
  }

  async endOffsets(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return this.offsetsInOrder(partitions, -1);
  }

  private async offsetsInOrder(
    partitions: readonly TopicPartition[],
    timestamp: number,
  ): Promise<TopicPartitionOffset[]> {
    return (await this.listOffsets(partitions, timestamp)).map(({ topic, partition, offset }) => ({
      topic,
      partition,
      offset,
    }));
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const s = this.states.get(key(p.topic, p.partition));
      if (s) s.paused = true;
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const s = this.states.get(key(p.topic, p.partition));
      if (s) s.paused = false;
    }
    this.wake?.();
  }

  paused(): TopicPartition[] {
    return [...this.states.values()]
      .filter((s) => s.paused)
      .map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  private checkOpen(): void {
    if (this.closed) throw new KafkaClientError('CLIENT_CLOSED', 'the consumer was closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.autoCommit) await this.commit().catch(() => undefined);
      if (this.member) {
        await this.subscription?.listener?.onPartitionsRevoked?.(this.assignment());
        await this.member.leave();
        this.member.close();
      }
    } finally {
      this.closed = true;
      for (const s of this.states.values()) clearBuffered(s);
      this.wake?.();
      await this.cluster.close();
      this.onClose?.();
    }
  }
}

/** Where poll() and pollBatch() put the records they hand out. */
interface RecordSink {
  /** Records taken so far. */
  readonly count: number;
  /** The offset of the last record taken (count > 0). */
  lastOffset(): number;
  /**
   * Takes records of `reader` at or past `from` until `count` reaches `max` or the reader is done.
   * `lease` is the hold on the response buffer the reader reads (null when not pooled). Throws
   * CorruptRecordError.
   */
  take(s: PartitionState, reader: RecordSetReader, from: number, max: number, lease: FetchLease | null): void;
}

/** poll(): a ConsumerRecord object per record. */
class ArraySink implements RecordSink {
  constructor(private readonly out: ConsumerRecord[]) {}

  get count(): number {
    return this.out.length;
  }

  lastOffset(): number {
    return this.out[this.out.length - 1]!.offset;
  }

  take(
    s: PartitionState,
    reader: RecordSetReader,
    from: number,
    max: number,
    lease: FetchLease | null,
  ): void {
    // Its records' keys and values are views of the response buffer, kept for as long as the
    // application likes: that buffer is never reused.
    if (lease !== null) lease.escaped = true;
    const { topic, partition } = s;
    const out = this.out;
    const emit = (
      offset: number,
      timestamp: number,
      key: Buffer | null,
      value: Buffer | null,
      headers: RecordHeader[],
      b: BatchHeader,
    ): void => {
      if (offset < from) return;
      out.push({
        topic,
        partition,
        offset,
        timestamp,
        timestampType: b.timestampType === 1 ? 'LogAppendTime' : 'CreateTime',
        key,
        value,
        headers,
        leaderEpoch: b.partitionLeaderEpoch,
      });
    };
    while (out.length < max && !reader.done) reader.readFields(max - out.length, emit);
  }
}

/** pollBatch(): an index of where the records lie, read through a cursor. */
class IndexSink implements RecordSink {
  /** Made when the first records are taken, sized for what is buffered then. */
  index: RecordIndex<BatchTag> | null = null;
  /** The response buffers the index points into, each retained once until the batch is released. */
  readonly leases: FetchLease[] = [];

  constructor(
    private readonly sizeHint: () => number,
    /** An emptied index to reuse, or null. */
    private readonly spare: RecordIndex<BatchTag> | null,
  ) {}

  get count(): number {
    return this.index?.count ?? 0;
  }

  lastOffset(): number {
    return this.index!.offsets[this.index!.count - 1]!;
  }

  take(
    s: PartitionState,
    reader: RecordSetReader,
    from: number,
    max: number,
    lease: FetchLease | null,
  ): void {
    if (lease !== null && !this.leases.includes(lease)) {
      lease.retain();
      this.leases.push(lease);
    }
    if (this.index === null) {
      if (this.spare !== null) {
        this.index = this.spare;
        this.index.reserve(this.sizeHint());
      } else this.index = new RecordIndex<BatchTag>(this.sizeHint());
    }
    const index = this.index;
    while (index.count < max && !reader.done) reader.readIndex(max - index.count, index, s, from);
  }
}
