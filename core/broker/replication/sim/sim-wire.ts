/**
 * What travels on the data-path simulation's network, and how. Kafka requests and responses are
 * real Kafka frames (core/protocol encodes and decodes them, as over TCP); the controller's
 * messages (broker heartbeats, metadata pushes, AlterPartition) are JSON. The network
 * (core/cluster/sim/sim-network.ts) drops, delays, duplicates and reorders both, and partitions
 * links: a Kafka connection here is therefore less reliable than TCP — requests and responses
 * may be lost (the caller times out), duplicated or overtaken by later ones.
 *
 * Envelope: kind u8 | from i32 | id i32 | payload (a Kafka frame without its size prefix, or
 * UTF-8 JSON).
 */

import type { SimEndpoint, WireCodec } from '../../../cluster/sim/sim-network.js';
import type { Clock, TimerHandle } from '../../../env/clock.js';
import { decodeResponseFrame, encodeRequestFrame } from '../../../protocol/frames.js';
import type { RequestInput, ResponseData, SupportedApiKey } from '../../../protocol/messages/index.js';
import type { BrokerEndpoint } from '../../cluster-view.js';
import type { PeerClient, PeerConnector } from '../replica-fetcher.js';

export const KIND_KAFKA_REQUEST = 1;
export const KIND_KAFKA_RESPONSE = 2;
export const KIND_CONTROL = 3;

export interface SimEnvelope {
  readonly kind: number;
  readonly from: number;
  readonly id: number;
  readonly payload: Uint8Array;
}

const KIND_NAMES = ['?', 'kafka.request', 'kafka.response', 'control'];

export const simWireCodec: WireCodec<SimEnvelope> = {
  encode(m) {
    const out = Buffer.allocUnsafe(9 + m.payload.length);
    out.writeUInt8(m.kind, 0);
    out.writeInt32BE(m.from, 1);
    out.writeInt32BE(m.id, 5);
    out.set(m.payload, 9);
    return out;
  },
  decode(frame) {
    // A copy per delivery: a duplicated message must not share memory with its twin (the log
    // patches offsets into a produce request's batch in place).
    const b = Buffer.from(frame);
    return { kind: b.readUInt8(0), from: b.readInt32BE(1), id: b.readInt32BE(5), payload: b.subarray(9) };
  },
  kind: (m) => KIND_NAMES[m.kind] ?? '?',
};

export function jsonPayload(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function parseJson<T>(payload: Uint8Array): T {
  return JSON.parse(
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'),
  ) as T;
}

interface Pending {
  readonly apiKey: SupportedApiKey;
  readonly apiVersion: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: TimerHandle;
}

/**
 * One simulated node's side of the network: the Kafka client (requests it sends, matched with
 * their responses by id) and the dispatch of everything else it receives.
 */
export class SimNodeNet {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly selfId: number,
    private readonly ep: SimEndpoint<SimEnvelope>,
    private readonly clock: Clock,
    private readonly onOther: (m: SimEnvelope) => void,
  ) {
    ep.onMessage((m) => this.onMessage(m));
  }

  send(to: number, kind: number, id: number, payload: Uint8Array): void {
    this.ep.send(to, { kind, from: this.selfId, id, payload });
  }

  /** A Kafka request to node `to`; rejects after timeoutMs without an answer. */
  request<K extends SupportedApiKey>(
    to: number,
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    timeoutMs: number,
    clientId: string,
  ): Promise<ResponseData<K>> {
    const id = this.nextId++;
    const chunks = encodeRequestFrame({ apiKey, apiVersion, correlationId: id, clientId }, body);
    const frame = Buffer.concat(chunks).subarray(4);
    return new Promise<ResponseData<K>>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`request ${id} to node ${to} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { apiKey, apiVersion, resolve: resolve as (b: unknown) => void, reject, timer });
      this.send(to, KIND_KAFKA_REQUEST, id, frame);
    });
  }

  /** Fails the given requests (a closed connection). */
  abort(ids: Iterable<number>, why: string): void {
    for (const id of ids) {
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      p.timer.cancel();
      p.reject(new Error(why));
    }
  }

  get lastRequestId(): number {
    return this.nextId - 1;
  }

  private onMessage(m: SimEnvelope): void {
    if (m.kind !== KIND_KAFKA_RESPONSE) {
      this.onOther(m);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return; // timed out, aborted, or a duplicate
    this.pending.delete(m.id);
    p.timer.cancel();
    try {
      const frame = Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
      p.resolve(decodeResponseFrame(p.apiKey, p.apiVersion, frame).body);
    } catch (err) {
      p.reject(err as Error);
    }
  }

  /** The replica fetchers' connector: a "connection" to a leader over this node's network. */
  connector(): PeerConnector {
    return (leader: BrokerEndpoint, clientId: string): PeerClient => {
      const mine = new Set<number>();
      let closed = false;
      return {
        request: <K extends SupportedApiKey>(
          apiKey: K,
          apiVersion: number,
          body: RequestInput<K>,
          timeoutMs: number,
        ): Promise<ResponseData<K>> => {
          if (closed) return Promise.reject(new Error('connection closed'));
          const p = this.request(leader.nodeId, apiKey, apiVersion, body, timeoutMs, clientId);
          const id = this.lastRequestId;
          mine.add(id);
          return p.finally(() => mine.delete(id));
        },
        close: () => {
          closed = true;
          this.abort([...mine], 'connection closed');
        },
      };
    };
  }
}
