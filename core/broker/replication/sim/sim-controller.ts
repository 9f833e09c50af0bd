/**
 * The controller of the data-path simulation, and the brokers' view of it.
 *
 * SimController holds the partitions' state (replicas, ISR, leader, leader and partition epochs)
 * and applies the controller's rules as docs/cluster.md states them: brokers heartbeat; one not
 * heard from for the session timeout is fenced; a broker that comes back with a new incarnation
 * fences its previous one first; a fenced broker loses its leaderships (new leader: the first
 * live ISR member in replica order, none when there is none — unless unclean election is on) and
 * leaves every ISR except as its last member; a leaderless partition elects the broker of its
 * ISR that comes back. Every leader change bumps the leader epoch, every change the partition
 * epoch. AlterPartition is accepted only from the current leader at the current epochs, with
 * live new members.
 *
 * It is deliberately not the Raft-replicated controller (core/cluster/controller, simulated on
 * its own in core/cluster/controller/sim): here it never crashes, so that the faults land on
 * the data path. Everything it says still travels over the faulty network: metadata reaches
 * brokers late, out of order (versions make brokers ignore stale snapshots) or not at all until
 * the next heartbeat answer; AlterPartition requests and answers are lost and duplicated.
 */
import type { Clock, TimerHandle } from '../../../env/clock.js';
import {
  type AlterPartitionChange,
  AlterPartitionError,
  type BrokerEndpoint,
  type ClusterView,
  type PartitionAssignment,
  type TopicDescription,
} from '../../cluster-view.js';
import { jsonPayload, KIND_CONTROL, parseJson, type SimEnvelope, type SimNodeNet } from './sim-wire.js';

export const CONTROLLER_ID = 0;

export interface MetadataSnapshot {
  readonly version: number;
  readonly brokers: readonly number[];
  readonly topics: readonly TopicDescription[];
  readonly partitions: readonly PartitionAssignment[];
}

type ControlMessage =
  | { readonly type: 'heartbeat'; readonly incarnation: number; readonly version: number }
  | { readonly type: 'metadata'; readonly snapshot: MetadataSnapshot }
  | { readonly type: 'alterPartition'; readonly change: AlterPartitionChange }
  | {
      readonly type: 'alterPartitionResult';
      readonly error: { code: AlterPartitionError['code']; message: string } | null;
      readonly partition: PartitionAssignment | null;
      readonly snapshot: MetadataSnapshot;
    };

export interface ControllerUnsafe {
  /** Elect a live replica outside the ISR when no ISR member is live (loses acknowledged records). */
  readonly uncleanElection?: boolean;
  /** Keep the leader epoch when the leader changes (two leaders share an epoch). */
  readonly skipLeaderEpochBump?: boolean;
}

interface BrokerState {
  incarnation: number;
  lastSeenMs: number;
  fenced: boolean;
}

const key = (topic: string, partition: number): string => `${topic}-${partition}`;
const copy = (p: PartitionAssignment): PartitionAssignment => ({
  ...p,
  replicas: [...p.replicas],
  isr: [...p.isr],
});

export function endpointOf(nodeId: number): BrokerEndpoint {
  return { nodeId, host: 'sim', port: 9000 + nodeId, rack: null };
}

export class SimController {
  private readonly brokers = new Map<number, BrokerState>();
  private readonly parts = new Map<string, PartitionAssignment>();
  private readonly topics: TopicDescription[];
  private version = 1;
  private readonly seenAlters = new Set<string>();
  private timer: TimerHandle | null = null;
  elections = 0;
  uncleanElections = 0;
  fences = 0;
  isrChanges = 0;

  constructor(
    private readonly net: SimNodeNet,
    private readonly clock: Clock,
    brokerIds: readonly number[],
    topic: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string> },
    private readonly sessionTimeoutMs: number,
    private readonly unsafe: ControllerUnsafe,
    private readonly log: (line: string) => void,
  ) {
    for (const id of brokerIds) this.brokers.set(id, { incarnation: 1, lastSeenMs: 0, fenced: false });
    this.topics = [{ name: topic.name, topicId: 'c2ltLWRhdGEtcGF0aC0w', configs: { ...topic.configs } }];
    for (let p = 0; p < topic.partitions; p++) {
      const replicas = Array.from(
        { length: topic.replicationFactor },
        (_, i) => brokerIds[(p + i) % brokerIds.length]!,
      );
      this.parts.set(key(topic.name, p), {
        topic: topic.name,
        partition: p,
        replicas,
        isr: [...replicas],
        leader: replicas[0]!,
        leaderEpoch: 0,
        partitionEpoch: 0,
      });
    }
  }

  start(): void {
    const tick = (): void => {
      this.checkSessions();
      this.timer = this.clock.setTimeout(tick, 50);
    };
    this.timer = this.clock.setTimeout(tick, 50);
  }

  stop(): void {
    this.timer?.cancel();
  }

  snapshot(): MetadataSnapshot {
    return {
      version: this.version,
      brokers: [...this.brokers.keys()],
      topics: this.topics,
      partitions: [...this.parts.values()].map(copy),
    };
  }

  partition(topic: string, partition: number): PartitionAssignment | undefined {
    const p = this.parts.get(key(topic, partition));
    return p && copy(p);
  }

  isFenced(id: number): boolean {
    return this.brokers.get(id)?.fenced ?? true;
  }

  onMessage(m: SimEnvelope): void {
    if (m.kind !== KIND_CONTROL) return;
    const msg = parseJson<ControlMessage>(m.payload);
    if (msg.type === 'heartbeat') this.heartbeat(m.from, msg.incarnation, msg.version);
    else if (msg.type === 'alterPartition') this.alterPartition(m.from, m.id, msg.change);
  }

  private heartbeat(from: number, incarnation: number, version: number): void {
    const b = this.brokers.get(from);
    if (!b || incarnation < b.incarnation) return; // a late heartbeat of a dead incarnation
    if (incarnation > b.incarnation) {
      this.log(`controller: broker ${from} is back as incarnation ${incarnation}`);
      if (!b.fenced) this.fence(from, 'its previous incarnation is dead');
      b.incarnation = incarnation;
    }
    b.lastSeenMs = this.clock.monotonic();
    if (b.fenced) this.unfence(from);
    if (version < this.version) this.sendMetadata(from);
  }

  private checkSessions(): void {
    const now = this.clock.monotonic();
    for (const [id, b] of this.brokers) {
      if (!b.fenced && now - b.lastSeenMs > this.sessionTimeoutMs) this.fence(id, 'its session expired');
    }
  }

  private fence(id: number, why: string): void {
    const b = this.brokers.get(id)!;
    b.fenced = true;
    this.fences++;
    this.log(`controller: fences broker ${id} (${why})`);
    for (const p of this.parts.values()) {
      let changed = false;
      if (p.isr.includes(id) && p.isr.length > 1) {
        p.isr = p.isr.filter((x) => x !== id);
        changed = true;
      }
      if (p.leader === id) {
        this.elect(p);
        changed = true;
      }
      if (changed) p.partitionEpoch++;
    }
    this.changed();
  }

  private unfence(id: number): void {
    this.brokers.get(id)!.fenced = false;
    this.log(`controller: unfences broker ${id}`);
    for (const p of this.parts.values()) {
      if (p.leader !== -1 || !p.replicas.includes(id)) continue;
      if (p.isr.includes(id) || this.unsafe.uncleanElection) {
        this.elect(p);
        if (p.leader !== -1) p.partitionEpoch++;
      }
    }
    this.changed();
  }

  private live(id: number): boolean {
    return this.brokers.get(id)?.fenced === false;
  }

  /** Picks a new leader for p (its current one is gone): first live ISR member in replica order. */
  private elect(p: PartitionAssignment): void {
    const before = p.leader;
    let leader = p.replicas.find((r) => p.isr.includes(r) && this.live(r)) ?? -1;
    if (leader === -1 && this.unsafe.uncleanElection) {
      leader = p.replicas.find((r) => this.live(r)) ?? -1;
      if (leader !== -1) {
        p.isr = [leader];
        this.uncleanElections++;
        this.log(`controller: UNCLEAN election of ${leader} for ${key(p.topic, p.partition)}`);
      }
    }
    p.leader = leader;
    if (leader !== before && !this.unsafe.skipLeaderEpochBump) p.leaderEpoch++;
    if (leader !== -1) this.elections++;
    this.log(
      `controller: ${key(p.topic, p.partition)} leader ${leader} epoch ${p.leaderEpoch} isr [${p.isr}]`,
    );
  }

  private alterPartition(from: number, id: number, change: AlterPartitionChange): void {
    // A broker's requests travel on one TCP connection in the real system: never twice.
    const request = `${from}/${id}`;
    if (this.seenAlters.has(request)) return;
    this.seenAlters.add(request);
    const p = this.parts.get(key(change.topic, change.partition));
    let error: { code: AlterPartitionError['code']; message: string } | null = null;
    const where = key(change.topic, change.partition);
    if (!p) error = { code: 'UNKNOWN_TOPIC_OR_PARTITION', message: `${where} does not exist` };
    else if (from !== p.leader || change.leaderEpoch !== p.leaderEpoch)
      error = {
        code: 'FENCED_LEADER_EPOCH',
        message: `${where}: not the leader at epoch ${change.leaderEpoch}`,
      };
    else if (change.partitionEpoch !== p.partitionEpoch)
      error = {
        code: 'INVALID_UPDATE_VERSION',
        message: `${where}: partition epoch ${change.partitionEpoch}`,
      };
    else if (
      !change.newIsr.includes(p.leader) ||
      change.newIsr.some((r) => !p.replicas.includes(r) || (!p.isr.includes(r) && !this.live(r)))
    )
      error = { code: 'INELIGIBLE_REPLICA', message: `${where}: ISR [${change.newIsr}] is not eligible` };
    if (error === null && p) {
      p.isr = [...change.newIsr];
      p.partitionEpoch++;
      this.isrChanges++;
      this.log(`controller: ${where} ISR [${p.isr}] (partition epoch ${p.partitionEpoch}) from ${from}`);
      this.changed();
    }
    const result: ControlMessage = {
      type: 'alterPartitionResult',
      error,
      partition: error === null && p ? copy(p) : null,
      snapshot: this.snapshot(),
    };
    this.net.send(from, KIND_CONTROL, id, jsonPayload(result));
  }

  private changed(): void {
    this.version++;
    for (const id of this.brokers.keys()) this.sendMetadata(id);
  }

  private sendMetadata(to: number): void {
    const msg: ControlMessage = { type: 'metadata', snapshot: this.snapshot() };
    this.net.send(to, KIND_CONTROL, 0, jsonPayload(msg));
  }
}

/**
 * A broker's ClusterView in the simulation: the newest metadata snapshot it received, heartbeats
 * to the controller, AlterPartition over the network (rejected on timeout).
 */
export class SimClusterView implements ClusterView {
  private current: MetadataSnapshot = { version: 0, brokers: [], topics: [], partitions: [] };
  private readonly listeners = new Set<() => void>();
  private readonly pendingAlters = new Map<
    number,
    { resolve: (p: PartitionAssignment) => void; reject: (e: Error) => void; timer: TimerHandle }
  >();
  /** Request ids, unique across the broker's incarnations (the controller drops duplicates by id). */
  private nextId: number;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly net: SimNodeNet,
    private readonly clock: Clock,
    private readonly incarnation: number,
    private readonly heartbeatMs: number,
    private readonly rpcTimeoutMs: number,
  ) {
    this.nextId = incarnation * 1_000_000 + 1;
  }

  get version(): number {
    return this.current.version;
  }

  start(): void {
    const beat = (): void => {
      const msg: ControlMessage = { type: 'heartbeat', incarnation: this.incarnation, version: this.version };
      this.net.send(CONTROLLER_ID, KIND_CONTROL, 0, jsonPayload(msg));
      this.timer = this.clock.setTimeout(beat, this.heartbeatMs);
    };
    beat();
  }

  stop(): void {
    this.timer?.cancel();
    for (const p of this.pendingAlters.values()) {
      p.timer.cancel();
      p.reject(new Error('broker stopping'));
    }
    this.pendingAlters.clear();
  }

  brokers(): BrokerEndpoint[] {
    return this.current.brokers.map(endpointOf);
  }
  topics(): Iterable<TopicDescription> {
    return this.current.topics;
  }
  partitions(): Iterable<PartitionAssignment> {
    return this.current.partitions.map(copy);
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  alterPartition(change: AlterPartitionChange): Promise<PartitionAssignment> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pendingAlters.delete(id);
        reject(new Error(`AlterPartition ${id} timed out`));
      }, this.rpcTimeoutMs);
      this.pendingAlters.set(id, { resolve, reject, timer });
      const msg: ControlMessage = { type: 'alterPartition', change };
      this.net.send(CONTROLLER_ID, KIND_CONTROL, id, jsonPayload(msg));
    });
  }

  onMessage(m: SimEnvelope): void {
    if (m.kind !== KIND_CONTROL || m.from !== CONTROLLER_ID) return;
    const msg = parseJson<ControlMessage>(m.payload);
    if (msg.type === 'metadata') this.apply(msg.snapshot);
    else if (msg.type === 'alterPartitionResult') {
      // Newer metadata first, as a metadata log would deliver it before the answer.
      this.apply(msg.snapshot);
      const p = this.pendingAlters.get(m.id);
      if (!p) return;
      this.pendingAlters.delete(m.id);
      p.timer.cancel();
      if (msg.error !== null) p.reject(new AlterPartitionError(msg.error.code, msg.error.message));
      else p.resolve(msg.partition!);
    }
  }

  private apply(s: MetadataSnapshot): void {
    if (s.version <= this.current.version) return; // stale or duplicate
    this.current = s;
    for (const l of [...this.listeners]) l();
  }
}
