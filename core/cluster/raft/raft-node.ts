/**
 * One member of the metadata quorum: a voter (controller) or a learner (a broker following
 * the metadata log). RaftNode wires the parts together, owns role transitions and is the API:
 *
 *   const node = RaftNode.open({ id, config: { voters: [1, 2, 3] }, dir, fs, clock, random,
 *                                transport, stateMachine });
 *   node.start();
 *   const { index, term } = await node.propose(bytes); // committed and applied here
 *   const readIndex = await node.readIndex();          // then read the local state machine
 *
 * Everything runs on the caller's event loop; time, randomness, disk and network come in
 * through Clock, Random, FileSystem and Transport, so the simulator can drive it.
 * On-disk layout of dir: `quorum-state` (term and vote), `<index>.raftlog` segments,
 * `<index>.raftsnap` snapshots.
 */
import type { Clock } from '../../env/clock.js';
import type { FileSystem } from '../../env/fs.js';
import type { Random } from '../../env/random.js';
import { Applier } from './applier.js';
import { type RaftConfig, type RaftConfigInput, resolveRaftConfig } from './config.js';
import type { RaftContext, RaftHost, VolatileState } from './context.js';
import { Durability } from './durability.js';
import { Election } from './election.js';
import { notLeader, RaftError } from './errors.js';
import { Follower } from './follower.js';
import { HardState } from './hard-state.js';
import { learnerEntryData, Membership } from './membership.js';
import type { AppendRequest, RaftMessage, SnapshotRequest } from './messages.js';
import { RaftLog } from './raft-log.js';
import { ReadIndex } from './read-index.js';
import { type FollowerInfo, Replicator } from './replication.js';
import { SnapshotStore } from './snapshot-store.js';
import { Snapshots } from './snapshots.js';
import type { Transport } from './transport.js';
import {
  EntryType,
  type LogEntry,
  type NodeId,
  type ProposeResult,
  type RaftStatus,
  type StateMachine,
} from './types.js';

export interface RaftNodeOptions {
  readonly id: NodeId;
  readonly config: RaftConfigInput;
  /** Directory for this node's quorum state, log segments and snapshots. */
  readonly dir: string;
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly random: Random;
  readonly transport: Transport;
  readonly stateMachine: StateMachine;
  /** Told when the node stops itself (an I/O error or a broken invariant). */
  readonly onFatal?: (err: unknown) => void;
  /** Told on every role, term or leader change. */
  readonly onStateChange?: (status: RaftStatus) => void;
}

export class RaftNode {
  readonly id: NodeId;
  readonly config: RaftConfig;
  private readonly ctx: RaftContext;
  private readonly state: VolatileState;
  private readonly applier: Applier;
  private readonly snapshots: Snapshots;
  private readonly election: Election;
  private readonly replicator: Replicator;
  private readonly follower: Follower;
  private readonly reads: ReadIndex;
  private broadcastScheduled = false;
  private started = false;
  private _failure: unknown = null;
  private lastNotified = '';

  static open(opts: RaftNodeOptions): RaftNode {
    return new RaftNode(opts);
  }

  private constructor(private readonly opts: RaftNodeOptions) {
    this.id = opts.id;
    this.config = resolveRaftConfig(opts.config);
    const { fs, dir } = opts;
    fs.mkdirp(dir);
    const durability = new Durability((err) => this.fail(err));
    const hardState = HardState.open(fs, dir, durability);
    const store = new SnapshotStore(fs, dir, this.config.maxSnapshotBytes);
    const snap = store.latest();
    const log = openLogOrClose(hardState, () =>
      RaftLog.open(
        {
          fs,
          dir,
          segmentBytes: this.config.segmentBytes,
          // recovery accepts any entry a message could carry, even if maxCommandBytes was lowered since
          maxEntryBytes: this.config.maxMessageBytes,
          durability,
        },
        snap,
      ),
    );
    // the log may hold a term whose quorum-state write was lost in a crash; no vote in it was ever sent
    if (log.lastTerm > hardState.term) hardState.set(log.lastTerm, null);
    const membership = new Membership(this.config.voters);
    this.state = {
      role: membership.isVoter(opts.id) ? 'follower' : 'learner',
      leaderId: null,
      commitIndex: snap?.index ?? 0,
      lastLeaderContactMs: Number.NEGATIVE_INFINITY,
      leaderDurableIndex: 0,
      stopped: false,
    };
    const host: RaftHost = {
      send: (to, msg) => durability.after(() => opts.transport.send(to, msg)),
      sendNow: (to, msg) => opts.transport.send(to, msg),
      becomeFollower: (term, leaderId) => this.becomeFollower(term, leaderId),
      becomeLeader: () => this.becomeLeader(),
      committed: () => this.committed(),
      fail: (err) => this.fail(err),
    };
    this.ctx = {
      id: opts.id,
      config: this.config,
      clock: opts.clock,
      random: opts.random,
      log,
      hardState,
      durability,
      membership,
      state: this.state,
      host,
    };
    this.applier = new Applier(this.ctx, opts.stateMachine);
    if (snap !== null) this.applier.restore(snap);
    else membership.recompute(log, 0);
    const membershipChanged = (): void => {
      if (this.state.role === 'leader') this.replicator.syncPeers();
    };
    this.snapshots = new Snapshots(this.ctx, store, opts.stateMachine, this.applier, snap, membershipChanged);
    this.election = new Election(this.ctx);
    this.replicator = new Replicator(
      this.ctx,
      () => this.snapshots.latest,
      () => this.reads.check(),
    );
    this.follower = new Follower(this.ctx, membershipChanged, () => this.applier.lastApplied);
    this.reads = new ReadIndex(this.ctx, this.replicator, this.applier);
  }

  /** Starts listening and the election timer. */
  start(): void {
    if (this.started || this.state.stopped) return;
    this.started = true;
    this.opts.transport.onMessage((msg) => this.onMessage(msg));
    this.election.resetTimer();
    this.notify();
  }

  /**
   * Appends a command; resolves once it is committed and applied on this node. Rejects with
   * NOT_LEADER (carrying the known leader) when this node is not the leader or the entry was
   * overwritten, REQUEST_TIMED_OUT (outcome unknown) after proposeTimeoutMs.
   */
  propose(command: Uint8Array): Promise<ProposeResult> {
    if (command.length > this.config.maxCommandBytes) {
      return Promise.reject(
        new RaftError(
          'PROPOSAL_TOO_LARGE',
          `a ${command.length}-byte command exceeds maxCommandBytes (${this.config.maxCommandBytes})`,
        ),
      );
    }
    return this.proposeEntry(EntryType.command, new Uint8Array(command));
  }

  /** Adds a non-voting learner; the leader starts replicating to it once the entry is appended. */
  addLearner(id: NodeId): Promise<ProposeResult> {
    if (this.ctx.membership.isVoter(id)) {
      return Promise.reject(new RaftError('INVALID_CONFIG', `node ${id} is a voter, not a learner`));
    }
    if (this.ctx.membership.learnerCount >= this.config.maxLearners && !this.ctx.membership.isLearner(id)) {
      return Promise.reject(new RaftError('TOO_MANY_PENDING', `already ${this.config.maxLearners} learners`));
    }
    return this.proposeEntry(EntryType.addLearner, learnerEntryData(id));
  }

  removeLearner(id: NodeId): Promise<ProposeResult> {
    return this.proposeEntry(EntryType.removeLearner, learnerEntryData(id));
  }

  /**
   * The transport saw its connection to `peer` close (a killed process's kernel closes its
   * sockets at once). If `peer` is the leader this voter follows, the leader's lease ends here
   * (pre-votes are granted again) and a pre-vote starts within a fraction of the election
   * timeout (Election.soon) instead of after a full one. Only liveness changes: a live leader's next append cancels it, and a
   * pre-vote changes no term, so safety still rests on votes and log checks alone.
   */
  peerLost(peer: NodeId): void {
    const s = this.state;
    if (!this.started || s.stopped || s.role !== 'follower' || s.leaderId !== peer) return;
    s.lastLeaderContactMs = Number.NEGATIVE_INFINITY;
    this.election.soon(peer);
  }

  /** Linearizable read point: once it resolves, local state at or after this index is current. */
  readIndex(): Promise<number> {
    return this.reads.read();
  }

  status(): RaftStatus {
    const { log, hardState, membership } = this.ctx;
    return {
      id: this.id,
      role: this.state.role,
      term: hardState.term,
      votedFor: hardState.votedFor,
      leaderId: this.state.leaderId,
      commitIndex: this.state.commitIndex,
      lastApplied: this.applier.lastApplied,
      firstIndex: log.firstIndex,
      lastIndex: log.lastIndex,
      snapshotIndex: log.snapshotIndex,
      snapshotTerm: log.snapshotTerm,
      learners: membership.learners,
      stopped: this.state.stopped,
    };
  }

  /** On the leader: each follower's and learner's replication progress (DescribeQuorum); else []. */
  followers(): FollowerInfo[] {
    return this.state.role === 'leader' ? this.replicator.describe() : [];
  }

  /** The log entry at index, if this node still holds it (inspection; not a read API). */
  entry(index: number): LogEntry | null {
    return this.ctx.log.entryAt(index);
  }

  /** Why the node stopped itself, if it did. */
  get failure(): unknown {
    return this._failure;
  }

  /** Stops timers and closes files; pending proposals and reads fail with SHUT_DOWN. */
  stop(): void {
    if (this.state.stopped) return;
    this.state.stopped = true;
    this.election.stopTimer();
    this.replicator.stop();
    this.ctx.durability.close();
    const err = new RaftError('SHUT_DOWN', `raft node ${this.id} stopped`);
    this.applier.rejectAll(err);
    this.reads.rejectAll(err);
    this.ctx.log.close();
    this.ctx.hardState.close();
    this.notify();
  }

  private proposeEntry(type: EntryType, data: Uint8Array): Promise<ProposeResult> {
    if (this.state.stopped)
      return Promise.reject(new RaftError('SHUT_DOWN', `raft node ${this.id} is stopped`));
    if (this.state.role !== 'leader') return Promise.reject(notLeader(this.state.leaderId, 'propose'));
    if (this.applier.pendingCount >= this.config.maxPendingProposals) {
      return Promise.reject(
        new RaftError('TOO_MANY_PENDING', `${this.applier.pendingCount} proposals are pending; retry later`),
      );
    }
    const e = this.appendAsLeader(type, data);
    return this.applier.track(e.index, e.term);
  }

  private appendAsLeader(type: EntryType, data: Uint8Array): LogEntry {
    const { log, hardState, membership, durability } = this.ctx;
    const term = hardState.term;
    const entry: LogEntry = { index: log.lastIndex + 1, term, type, data };
    log.append([entry]);
    if (membership.onAppended([entry])) this.replicator.syncPeers();
    durability.after(() => {
      if (this.state.role !== 'leader' || hardState.term !== term) return;
      if (entry.index > this.state.leaderDurableIndex) this.state.leaderDurableIndex = entry.index;
      this.replicator.maybeCommit();
    });
    if (!this.broadcastScheduled) {
      // proposals made in the same turn go out together
      this.broadcastScheduled = true;
      queueMicrotask(() => {
        this.broadcastScheduled = false;
        if (this.state.role === 'leader' && !this.state.stopped) this.replicator.broadcast();
      });
    }
    return entry;
  }

  private onMessage(m: RaftMessage): void {
    if (this.state.stopped || m.from === this.id) return;
    // only members take part (a learner not yet added may only ask to join)
    if (m.type !== 'learnerJoin' && !this.ctx.membership.isMember(m.from)) return;
    try {
      switch (m.type) {
        case 'vote':
          this.election.onVoteRequest(m);
          break;
        case 'voteResponse':
          this.election.onVoteResponse(m);
          break;
        case 'append':
          this.onLeaderMessage(m, () => this.follower.onAppend(m));
          break;
        case 'snapshot':
          this.onLeaderMessage(m, () => this.snapshots.onChunk(m));
          break;
        case 'appendResponse':
        case 'snapshotResponse':
          if (m.term > this.ctx.hardState.term) this.becomeFollower(m.term, null);
          else if (m.type === 'appendResponse') this.replicator.onAppendResponse(m);
          else this.replicator.onSnapshotResponse(m);
          break;
        case 'learnerJoin':
          this.onLearnerJoin(m.from);
          break;
      }
    } catch (err) {
      this.fail(err);
    }
    this.notify();
  }

  /** Term and leader bookkeeping common to AppendEntries and InstallSnapshot. */
  private onLeaderMessage(m: AppendRequest | SnapshotRequest, handle: () => void): void {
    const { hardState, membership, clock, host, id } = this.ctx;
    if (!membership.isVoter(m.from)) return;
    if (m.term < hardState.term) {
      // a deposed leader: tell it the newer term
      if (m.type === 'append') {
        host.send(m.from, {
          type: 'appendResponse',
          from: id,
          term: hardState.term,
          success: false,
          matchIndex: 0,
          rejectedIndex: m.prevLogIndex,
          conflictIndex: 0,
          conflictTerm: 0,
          seq: m.seq,
        });
      } else {
        host.send(m.from, {
          type: 'snapshotResponse',
          from: id,
          term: hardState.term,
          snapshotIndex: m.snapshotIndex,
          nextOffsetBytes: 0,
          done: false,
          seq: m.seq,
        });
      }
      return;
    }
    if (this.state.role === 'leader' && m.term === hardState.term) {
      throw new RaftError(
        'SAFETY_VIOLATION',
        `node ${this.id}: two leaders in term ${m.term} (us and ${m.from})`,
      );
    }
    if (m.term > hardState.term || this.state.leaderId !== m.from || this.isCampaigning()) {
      this.becomeFollower(m.term, m.from);
    }
    this.state.lastLeaderContactMs = clock.monotonic();
    this.election.resetTimer();
    handle();
  }

  private isCampaigning(): boolean {
    return this.state.role === 'preCandidate' || this.state.role === 'candidate';
  }

  private onLearnerJoin(from: NodeId): void {
    const { membership } = this.ctx;
    if (this.state.role !== 'leader' || from < 0) return;
    if (membership.isMember(from)) {
      this.replicator.poke(from);
      return;
    }
    if (membership.learnerCount >= this.config.maxLearners) return;
    this.appendAsLeader(EntryType.addLearner, learnerEntryData(from));
  }

  private becomeFollower(term: number, leaderId: NodeId | null): void {
    const { hardState, membership } = this.ctx;
    if (term > hardState.term) hardState.set(term, null);
    const wasLeader = this.state.role === 'leader';
    this.state.role = membership.isVoter(this.id) ? 'follower' : 'learner';
    this.state.leaderId = leaderId;
    if (wasLeader) {
      this.replicator.stop();
      this.reads.rejectAll(notLeader(leaderId, 'readIndex'));
    }
    this.election.resetTimer();
    this.notify();
  }

  private becomeLeader(): void {
    this.state.role = 'leader';
    this.state.leaderId = this.id;
    this.state.lastLeaderContactMs = this.ctx.clock.monotonic();
    this.state.leaderDurableIndex = 0;
    this.election.stopTimer();
    this.replicator.start();
    // entries of earlier terms commit only through one of ours (Raft §5.4.2)
    this.appendAsLeader(EntryType.noop, new Uint8Array(0));
    this.notify();
  }

  private committed(): void {
    this.applier.applyCommitted();
    this.snapshots.maybeTake();
    this.reads.onCommit();
    this.reads.check();
  }

  private fail(err: unknown): void {
    if (this.state.stopped) return;
    this._failure = err;
    this.stop();
    if (this.opts.onFatal) this.opts.onFatal(err);
    else {
      // nobody listens: surface it as an uncaught exception rather than lose it
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private notify(): void {
    if (!this.opts.onStateChange) return;
    const s = this.status();
    const key = `${s.role}/${s.term}/${s.leaderId}/${s.stopped}`;
    if (key === this.lastNotified) return;
    this.lastNotified = key;
    this.opts.onStateChange(s);
  }
}

function openLogOrClose(hardState: HardState, open: () => RaftLog): RaftLog {
  try {
    return open();
  } catch (err) {
    hardState.close();
    throw err;
  }
}
