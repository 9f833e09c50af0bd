/**
 * The quorum controller: runs on every controller node and is *active* on the Raft leader.
 * It turns requests (broker registration and heartbeats, AlterPartition, topic and config admin)
 * into metadata records and proposes them through Raft; only committed records change the
 * image. Operations run one at a time in arrival order, each against the image that all earlier
 * operations' records produced (a proposal resolves once it is committed and applied here).
 *
 * Liveness: the active controller keeps broker sessions in memory; a broker that misses
 * heartbeats for broker.session.timeout.ms is fenced (leaderships move to other ISR members,
 * it leaves every ISR). On becoming active, the controller first waits until its image holds
 * everything committed (a readIndex), then gives every known broker a fresh session.
 *
 * All time comes from the injected Clock; randomness (replica placement, topic ids) from Random.
 */
import type { Clock, TimerHandle } from '../../env/clock.js';
import type { Random } from '../../env/random.js';
import { encodeRecords, recordBytes } from '../metadata/codec.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataSource } from '../metadata/listener.js';
import type { MetadataRecord } from '../metadata/records.js';
import { newTopicId } from '../metadata/uuid.js';
import { isRaftError } from '../raft/errors.js';
import type { ProposeResult, RaftStatus } from '../raft/types.js';
import { checkRegistration, heartbeatAction, registrationRecords } from './broker-ops.js';
import { type ControllerConfig, type ControllerConfigInput, resolveControllerConfig } from './config.js';
import { ControllerError } from './errors.js';
import {
  alterPartition,
  alterReassignments,
  electLeaders,
  fenceBroker,
  listReassignments,
  unfenceBroker,
} from './partition-ops.js';
import { allocateProducerIds } from './producer-id-ops.js';
import type { ApiRequest, ApiResponse, ControllerApi, ControllerChannel } from './requests.js';
import { BrokerSessions } from './sessions.js';
import { alterConfigs, createPartitions, createTopics, deleteTopics, type OpContext } from './topic-ops.js';

/** What the controller needs from Raft (RaftNode implements it). */
const BARRIER_POLL_MS = 50;

export interface MetadataLog {
  propose(command: Uint8Array): Promise<ProposeResult>;
  readIndex(): Promise<number>;
  status(): RaftStatus;
}

export interface QuorumControllerOptions {
  readonly log: MetadataLog;
  readonly metadata: MetadataSource;
  readonly clock: Clock;
  readonly random: Random;
  readonly config?: ControllerConfigInput;
  /**
   * The cluster id the first active controller writes (ClusterIdRecord) when the metadata has
   * none yet: the node's `cluster.id` when set, else a new random one. Ignored once written.
   */
  readonly clusterId?: string;
  /** Diagnostics (fencing, elections); default: nothing. */
  readonly logger?: (line: string) => void;
}

export class QuorumController implements ControllerChannel {
  readonly config: ControllerConfig;
  private readonly sessions: BrokerSessions;
  private readonly ctx: OpContext;
  private active = false;
  /** A timed-out proposal whose outcome later operations must wait for. */
  private barrier: { index: number; term: number } | null = null;
  private activating = false;
  private writingClusterId = false;
  /** Bumped on every activation change: operations of an older generation are refused. */
  private generation = 0;
  private chain: Promise<unknown> = Promise.resolve();
  /**
   * Callers waiting on operations of the current generation, answered on deactivation:
   * NOT_CONTROLLER when nothing of theirs was proposed (safe to send elsewhere), else
   * REQUEST_TIMED_OUT (the change may still commit under the new leader).
   */
  private readonly waiting = new Set<(notController: ControllerError) => void>();
  /** The operation running now (operations run one at a time) and whether it proposed records. */
  private running: { proposed: boolean } | null = null;
  private pending = 0;
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly opts: QuorumControllerOptions) {
    this.config = resolveControllerConfig(opts.config);
    this.sessions = new BrokerSessions(
      this.config.brokerSessionTimeoutMs,
      this.config.brokerSessionReconnectGraceMs,
    );
    this.ctx = { config: this.config, random: opts.random };
  }

  get isActive(): boolean {
    return this.active;
  }

  private image(): MetadataImage {
    return this.opts.metadata.image();
  }

  private log(line: string): void {
    this.opts.logger?.(line);
  }

  /**
   * A connection from or to node `nodeId` closed (core/cluster/net). `carriedHeartbeats`: the
   * broker heartbeats on it, so its session is cut to broker.session.reconnect.grace.ms.
   */
  onConnectionLost(nodeId: number, carriedHeartbeats: boolean): void {
    if (this.stopped) return;
    this.sessions.connectionLost(nodeId, this.opts.clock.monotonic(), carriedHeartbeats && this.active);
  }

  /** Node `nodeId` was heard from (a connection or a message from it). */
  onNodeHeard(nodeId: number): void {
    this.sessions.heard(nodeId);
  }

  /** Tell the controller about Raft role changes (RaftNode's onStateChange). */
  onRaftStateChange(status: RaftStatus): void {
    if (this.stopped) return;
    const leading = status.role === 'leader' && !status.stopped;
    if (leading && !this.active && !this.activating) void this.activate();
    else if (!leading && (this.active || this.activating)) this.deactivate();
  }

  /** Becomes active once the local image holds everything committed (a readIndex in our term). */
  private async activate(): Promise<void> {
    const gen = ++this.generation;
    this.activating = true;
    let ok = true;
    try {
      await this.opts.log.readIndex();
    } catch {
      ok = false;
    }
    if (gen !== this.generation || this.stopped) return;
    this.activating = false;
    if (this.opts.log.status().role !== 'leader') return;
    if (!ok) {
      // timed out (no quorum yet): try again while we are leader
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = null;
        this.onRaftStateChange(this.opts.log.status());
      }, 100);
      return;
    }
    this.active = true;
    const now = this.opts.clock.monotonic();
    this.sessions.clear();
    // a full session each, but only the reconnect grace for a node seen to go away (sessions.ts)
    for (const b of this.image().brokers.values()) this.sessions.restart(b.id, b.epoch, now);
    this.log(`controller ${this.opts.log.status().id} active at offset ${this.image().offset}`);
    this.scheduleCheck();
    this.ensureClusterId();
  }

  /**
   * The first active controller of a cluster gives it its id; a failed write is tried again on the
   * next session check (and by the next active controller).
   */
  private ensureClusterId(): void {
    if (this.writingClusterId || this.image().clusterId !== null) return;
    this.writingClusterId = true;
    this.enqueue(async () => {
      if (this.image().clusterId !== null) return;
      const clusterId = this.opts.clusterId ?? newTopicId(this.opts.random);
      await this.propose([{ type: 'clusterId', clusterId }]);
      this.log(`controller ${this.opts.log.status().id} gave the cluster its id ${clusterId}`);
    })
      .catch((err: unknown) => this.log(`writing the cluster id failed (tried again): ${String(err)}`))
      .finally(() => {
        this.writingClusterId = false;
      });
  }

  private deactivate(): void {
    const was = this.active;
    this.barrier = null;
    this.generation++;
    this.active = false;
    this.activating = false;
    this.timer?.cancel();
    this.timer = null;
    this.sessions.clear();
    // An operation in flight may wait for its proposal's outcome for up to Raft's propose
    // timeout (an entry of a deposed leader commits or is overwritten only once the new leader's
    // log reaches it). Its caller is told now, so that it goes to the new controller at once; the
    // outcome is unknown to it, as with any timeout.
    if (this.waiting.size > 0) {
      const err = this.notController();
      for (const fail of [...this.waiting]) fail(err);
      this.waiting.clear();
    }
    if (was) this.log(`controller ${this.opts.log.status().id} inactive`);
  }

  stop(): void {
    this.stopped = true;
    this.deactivate();
  }

  private scheduleCheck(): void {
    this.timer = this.opts.clock.setTimeout(() => {
      if (!this.active) return;
      this.checkSessions();
      this.ensureClusterId();
      this.scheduleCheck();
    }, this.config.sessionCheckIntervalMs);
  }

  private checkSessions(): void {
    const now = this.opts.clock.monotonic();
    for (const id of this.sessions.expired(now)) {
      const b = this.image().brokers.get(id);
      if (b === undefined || b.fenced) continue;
      this.enqueue(async () => {
        if (this.sessions.isValid(id, this.opts.clock.monotonic())) return;
        const recs = fenceBroker(this.image(), id);
        if (recs.length > 0) this.log(`fencing broker ${id}: session expired`);
        await this.propose(recs);
      }).catch(() => {});
    }
  }

  private notController(): ControllerError {
    const s = this.opts.log.status();
    const leaderId = s.leaderId !== null && s.leaderId !== s.id ? s.leaderId : null;
    return new ControllerError(
      'NOT_CONTROLLER',
      `node ${s.id} is not the active controller${leaderId !== null ? `; try node ${leaderId}` : ''}`,
      { leaderId },
    );
  }

  /**
   * The answer to a caller whose change was proposed when this controller lost its leadership: it
   * may still commit under the new leader, so the caller must not blindly re-send it (a retry
   * would answer TOPIC_ALREADY_EXISTS and the like for a change that took effect). Not retriable
   * by the router; the client decides, as after any timeout.
   */
  private outcomeUnknown(): ControllerError {
    const s = this.opts.log.status();
    return new ControllerError(
      'REQUEST_TIMED_OUT',
      `node ${s.id} lost the controller role while committing the change: it may or may not take effect`,
      { retriable: false },
    );
  }

  /** Runs fn after every earlier operation, if still active in the same generation. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.active) return Promise.reject(this.notController());
    if (this.pending >= this.config.maxPendingOperations) {
      return Promise.reject(
        new ControllerError('TOO_MANY_REQUESTS', `${this.pending} controller operations are queued`),
      );
    }
    const gen = this.generation;
    this.pending++;
    const op = { proposed: false };
    const run = async (): Promise<T> => {
      if (!this.active || gen !== this.generation) throw this.notController();
      await this.awaitBarrier();
      if (!this.active || gen !== this.generation) throw this.notController();
      this.running = op;
      try {
        return await fn();
      } finally {
        if (this.running === op) this.running = null;
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.then(
      () => {},
      () => {},
    );
    const settled = p.finally(() => {
      this.pending--;
    });
    return new Promise<T>((resolve, reject) => {
      const fail = (notController: ControllerError): void =>
        reject(op.proposed ? this.outcomeUnknown() : notController);
      this.waiting.add(fail);
      settled.then(
        (v) => {
          this.waiting.delete(fail);
          resolve(v);
        },
        (err: unknown) => {
          this.waiting.delete(fail);
          reject(err);
        },
      );
    });
  }

  /**
   * After a proposal timed out, its entry may still commit: wait until the image has applied
   * it (or our term ended, which makes us inactive) so that no operation decides on a state
   * that misses it.
   */
  private async awaitBarrier(): Promise<void> {
    while (this.barrier !== null) {
      const { index, term } = this.barrier;
      const s = this.opts.log.status();
      if (this.image().offset >= index || s.lastApplied >= index) {
        this.barrier = null;
        return;
      }
      if (s.term !== term || s.role !== 'leader') {
        this.barrier = null;
        this.deactivate();
        throw this.notController();
      }
      await this.opts.clock.sleep(BARRIER_POLL_MS);
    }
  }

  /** Proposes records in batches of at most maxBatchBytes; resolves when all are applied. */
  private async propose(records: readonly MetadataRecord[]): Promise<number> {
    let index = this.image().offset;
    let batch: MetadataRecord[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const b = batch;
      batch = [];
      bytes = 0;
      const op = this.running;
      const proposedBefore = op?.proposed ?? false;
      if (op !== null) op.proposed = true;
      const pending = this.opts.log.propose(encodeRecords(b));
      // propose appends synchronously on the leader: this is the entry's index if it was accepted
      const { lastIndex, term } = this.opts.log.status();
      try {
        index = (await pending).index;
      } catch (err) {
        if (isRaftError(err, 'NOT_LEADER')) {
          // refused, not appended: this batch is not pending anywhere
          if (op !== null) op.proposed = proposedBefore;
          this.deactivate();
          throw this.notController();
        }
        if (isRaftError(err, 'REQUEST_TIMED_OUT')) {
          // the entry may still commit: later operations must see its outcome first
          this.barrier = { index: lastIndex, term };
        }
        if (isRaftError(err)) throw new ControllerError('REQUEST_TIMED_OUT', err.message, { cause: err });
        throw err;
      }
    };
    for (const r of records) {
      const n = recordBytes(r);
      if (bytes + n > this.config.maxBatchBytes) await flush();
      batch.push(r);
      bytes += n;
    }
    await flush();
    return index;
  }

  /** Answers one API call (the RPC server calls this). */
  call<A extends ControllerApi>(api: A, request: ApiRequest<A>): Promise<ApiResponse<A>> {
    return this.dispatch(api, request) as Promise<ApiResponse<A>>;
  }

  private checkSize(n: number): void {
    if (n > this.config.maxItemsPerRequest)
      throw new ControllerError(
        'INVALID_REQUEST',
        `${n} items in one request (limit ${this.config.maxItemsPerRequest})`,
      );
  }

  private async dispatch(api: ControllerApi, req: unknown): Promise<unknown> {
    switch (api) {
      case 'registerBroker':
        return this.registerBroker(req as ApiRequest<'registerBroker'>);
      case 'brokerHeartbeat':
        return this.heartbeat(req as ApiRequest<'brokerHeartbeat'>);
      case 'alterPartition': {
        const r = req as ApiRequest<'alterPartition'>;
        this.checkSize(r.partitions.length);
        return this.simple((img) => alterPartition(img, r));
      }
      case 'createTopics': {
        const r = req as ApiRequest<'createTopics'>;
        this.checkSize(r.topics.length);
        return this.simple((img) => createTopics(img, r, this.ctx));
      }
      case 'deleteTopics': {
        const r = req as ApiRequest<'deleteTopics'>;
        this.checkSize(r.topics.length);
        return this.simple((img) => deleteTopics(img, r));
      }
      case 'createPartitions': {
        const r = req as ApiRequest<'createPartitions'>;
        this.checkSize(r.topics.length);
        return this.simple((img) => createPartitions(img, r, this.ctx));
      }
      case 'alterConfigs': {
        const r = req as ApiRequest<'alterConfigs'>;
        this.checkSize(r.resources.length);
        return this.simple((img) => alterConfigs(img, r));
      }
      case 'electLeaders': {
        const r = req as ApiRequest<'electLeaders'>;
        this.checkSize(r.partitions?.length ?? 0);
        return this.simple((img) => electLeaders(img, r));
      }
      case 'alterPartitionReassignments': {
        const r = req as ApiRequest<'alterPartitionReassignments'>;
        this.checkSize(r.reassignments.length);
        return this.simple((img) => alterReassignments(img, r));
      }
      case 'allocateProducerIds': {
        const r = req as ApiRequest<'allocateProducerIds'>;
        return this.simple((img) => allocateProducerIds(img, r));
      }
      case 'listPartitionReassignments': {
        const r = req as ApiRequest<'listPartitionReassignments'>;
        return this.enqueue(async () => listReassignments(this.image(), r));
      }
      default:
        throw new ControllerError('INVALID_REQUEST', `unknown controller API "${String(api)}"`);
    }
  }

  private simple<R>(op: (image: MetadataImage) => { records: MetadataRecord[]; response: R }): Promise<R> {
    return this.enqueue(async () => {
      const { records, response } = op(this.image());
      await this.propose(records);
      return response;
    });
  }

  private registerBroker(req: ApiRequest<'registerBroker'>): Promise<ApiResponse<'registerBroker'>> {
    const bad = checkRegistration(req);
    if (bad !== null) return Promise.reject(bad);
    return this.enqueue(async () => {
      const prev = this.image().brokers.get(req.brokerId);
      const session = this.sessions.get(req.brokerId);
      if (prev !== undefined && session?.incarnationId === req.incarnationId) {
        // the same process asking again (a retry): same answer
        this.sessions.touch(req.brokerId, prev.epoch, this.opts.clock.monotonic());
        return { brokerEpoch: prev.epoch };
      }
      const { records, brokerEpoch } = registrationRecords(this.image(), req);
      const offset = await this.propose(records);
      const s = this.sessions.touch(req.brokerId, brokerEpoch, this.opts.clock.monotonic());
      s.incarnationId = req.incarnationId;
      s.registeredAtOffset = offset;
      this.log(`broker ${req.brokerId} registered with epoch ${brokerEpoch}`);
      return { brokerEpoch };
    });
  }

  private heartbeat(req: ApiRequest<'brokerHeartbeat'>): Promise<ApiResponse<'brokerHeartbeat'>> {
    if (!this.active) return Promise.reject(this.notController());
    const b = this.image().brokers.get(req.brokerId);
    if (b === undefined) {
      const msg = `broker ${req.brokerId} is not registered`;
      return Promise.reject(new ControllerError('BROKER_ID_NOT_REGISTERED', msg));
    }
    if (b.epoch !== req.brokerEpoch) {
      const msg = `broker epoch ${req.brokerEpoch} is not ${b.epoch}`;
      return Promise.reject(new ControllerError('STALE_BROKER_EPOCH', msg));
    }
    const session = this.sessions.touch(req.brokerId, b.epoch, this.opts.clock.monotonic());
    const action = heartbeatAction(this.image(), req, session);
    if (action === 'none') return Promise.resolve({ isFenced: b.fenced, shouldShutdown: false });
    return this.enqueue(async () => {
      const now = this.image().brokers.get(req.brokerId);
      if (now === undefined || now.epoch !== req.brokerEpoch)
        throw new ControllerError('STALE_BROKER_EPOCH', `broker ${req.brokerId} re-registered meanwhile`);
      const records =
        action === 'unfence'
          ? unfenceBroker(this.image(), req.brokerId)
          : fenceBroker(this.image(), req.brokerId);
      await this.propose(records);
      const fenced = this.image().brokers.get(req.brokerId)?.fenced ?? true;
      return { isFenced: fenced, shouldShutdown: action === 'shutdown' };
    });
  }
}
