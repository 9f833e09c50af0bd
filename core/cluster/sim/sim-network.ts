/**
 * A simulated network between nodes, generic over the message type (Raft messages today, the
 * replication protocol next). Every message is encoded with its wire codec when sent and
 * decoded on delivery (so the codec is exercised and no object is shared between nodes), then:
 * dropped with dropProbability, duplicated with duplicateProbability, delayed uniformly in
 * [minDelayMs, maxDelayMs] or, with longDelayProbability, up to longDelayMaxMs more — which
 * reorders messages. Links can be cut one way or both (network partitions); a cut link drops
 * messages at send and at delivery. Messages to a node that is down are lost.
 */
import type { Random } from '../../env/random.js';
import { decodeMessage, encodeMessage } from '../raft/codec.js';
import type { RaftMessage } from '../raft/messages.js';
import type { NodeId } from '../raft/types.js';
import type { SimClock } from './sim-clock.js';
import type { Trace } from './trace.js';

export interface NetworkOptions {
  dropProbability: number;
  duplicateProbability: number;
  minDelayMs: number;
  maxDelayMs: number;
  longDelayProbability: number;
  longDelayMaxMs: number;
}

export const QUIET_NETWORK: NetworkOptions = {
  dropProbability: 0,
  duplicateProbability: 0,
  minDelayMs: 0.5,
  maxDelayMs: 5,
  longDelayProbability: 0,
  longDelayMaxMs: 0,
};

/** How messages of type M travel: bytes on the wire, and a short name for statistics. */
export interface WireCodec<M> {
  encode(msg: M): Uint8Array;
  decode(frame: Uint8Array): M;
  kind(msg: M): string;
}

export function raftWireCodec(maxMessageBytes: number): WireCodec<RaftMessage> {
  return {
    encode: encodeMessage,
    decode: (frame) => decodeMessage(frame, maxMessageBytes),
    kind: (msg) => msg.type,
  };
}

/** One node's attachment to the network (for Raft, it is the node's Transport). */
export interface SimEndpoint<M> {
  send(to: NodeId, msg: M): void;
  onMessage(handler: (msg: M) => void): void;
}

class Endpoint<M> implements SimEndpoint<M> {
  handler: ((msg: M) => void) | null = null;
  alive = true;

  constructor(
    private readonly net: SimNetwork<M>,
    private readonly id: NodeId,
  ) {}

  send(to: NodeId, msg: M): void {
    if (this.alive) this.net.send(this.id, to, msg);
  }

  onMessage(handler: (msg: M) => void): void {
    this.handler = handler;
  }
}

function hashKind(kind: string): number {
  let h = 0;
  for (let i = 0; i < kind.length; i++) h = (Math.imul(h, 31) + kind.charCodeAt(i)) | 0;
  return h;
}

export class SimNetwork<M> {
  private readonly endpoints = new Map<NodeId, Endpoint<M>>();
  private readonly cut = new Set<string>();
  sent = 0;
  delivered = 0;
  dropped = 0;
  duplicated = 0;
  /** Messages sent, by kind. */
  readonly sentByKind = new Map<string, number>();

  constructor(
    private readonly clock: SimClock,
    private readonly random: Random,
    public options: NetworkOptions,
    private readonly trace: Trace,
    private readonly codec: WireCodec<M>,
  ) {}

  sentOf(kind: string): number {
    return this.sentByKind.get(kind) ?? 0;
  }

  /** A fresh endpoint for a (re)started node; the previous incarnation's is detached. */
  attach(id: NodeId): SimEndpoint<M> {
    this.detach(id);
    const ep = new Endpoint<M>(this, id);
    this.endpoints.set(id, ep);
    return ep;
  }

  detach(id: NodeId): void {
    const ep = this.endpoints.get(id);
    if (ep) ep.alive = false;
    this.endpoints.delete(id);
  }

  /** Cuts every link between different groups (both ways). Nodes in no group keep their links. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.cut.add(`${a}>${b}`);
      }
    }
  }

  /** Cuts the link from a to b only (asymmetric failure). */
  cutOneWay(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
  }

  heal(): void {
    this.cut.clear();
  }

  get cutLinks(): number {
    return this.cut.size;
  }

  linked(a: NodeId, b: NodeId): boolean {
    return !this.cut.has(`${a}>${b}`);
  }

  send(from: NodeId, to: NodeId, msg: M): void {
    this.sent++;
    const kind = this.codec.kind(msg);
    this.sentByKind.set(kind, (this.sentByKind.get(kind) ?? 0) + 1);
    const code = hashKind(kind);
    const o = this.options;
    if (!this.linked(from, to) || this.random.next() < o.dropProbability) {
      this.dropped++;
      this.trace.mix(1, from, to, code);
      return;
    }
    const frame = this.codec.encode(msg);
    const copies = this.random.next() < o.duplicateProbability ? 2 : 1;
    if (copies === 2) this.duplicated++;
    for (let c = 0; c < copies; c++) {
      const delayMs =
        this.random.next() < o.longDelayProbability
          ? o.maxDelayMs + this.random.next() * o.longDelayMaxMs
          : o.minDelayMs + this.random.next() * (o.maxDelayMs - o.minDelayMs);
      this.trace.mix(2, from, to, code, delayMs);
      this.clock.setTimeout(() => this.deliver(from, to, frame), delayMs);
    }
  }

  private deliver(from: NodeId, to: NodeId, frame: Uint8Array): void {
    const ep = this.endpoints.get(to);
    if (ep === undefined || ep.handler === null || !this.linked(from, to)) {
      this.dropped++;
      this.trace.mix(3, from, to);
      return;
    }
    this.delivered++;
    this.trace.mix(4, from, to, frame.length);
    ep.handler(this.codec.decode(frame));
  }
}
