/**
 * Raft over TCP. Each node dials every peer whose address it knows (the voters, from
 * --controller-quorum) and sends its messages on that outbound connection; frames are raft's
 * codec (length-prefixed, see raft/codec.ts) after a 12-byte hello (handshake.ts). A node also
 * reads frames on connections others dialed to it, and answers a node it has no address for (a
 * learner: a broker following the metadata log) on that node's own inbound connection.
 *
 * Delivery is best effort, as the Transport contract allows: queues are bounded and drop when
 * full, a corrupt frame closes its connection, and handlers run from socket events (never
 * inside send()).
 */
import type * as net from 'node:net';
import { type Clock, systemClock } from '../../env/clock.js';
import { type Random, systemRandom } from '../../env/random.js';
import { encodeMessage, FrameDecoder } from '../raft/codec.js';
import type { RaftMessage } from '../raft/messages.js';
import type { Transport } from '../raft/transport.js';
import type { NodeId } from '../raft/types.js';
import type { HostPort } from './address.js';
import { PeerConnection } from './peer-connection.js';

export interface TcpRaftTransportOptions {
  readonly selfId: NodeId;
  /** Addresses of the peers this node dials (the voters other than itself). */
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Largest frame accepted (Raft's maxMessageBytes). */
  readonly maxMessageBytes?: number;
  readonly maxQueuedFrames?: number;
  readonly maxQueuedBytes?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly connectTimeoutMs?: number;
  /** Inbound connections kept per remote node id (older ones are closed). */
  readonly maxInboundPerNode?: number;
  /**
   * A connection to or from node `nodeId` closed (or a dial to it failed) and no newer inbound
   * one from it is open: a killed process's kernel closes its sockets at once, so this is the
   * first sign of a dead peer. (A silent network cut gives none.)
   */
  readonly onPeerLost?: (nodeId: NodeId) => void;
  /** A message arrived from node `nodeId`. */
  readonly onPeerHeard?: (nodeId: NodeId) => void;
}

export class TcpRaftTransport implements Transport {
  private handler: ((msg: RaftMessage) => void) | null = null;
  private readonly outbound = new Map<NodeId, PeerConnection>();
  private readonly decoders = new Map<PeerConnection, FrameDecoder>();
  /** The latest inbound socket from each node that dialed us. */
  private readonly inbound = new Map<NodeId, net.Socket>();
  private readonly maxMessageBytes: number;
  private readonly maxQueuedBytes: number;
  private closed = false;
  private readonly onPeerLost: (nodeId: NodeId) => void;
  private readonly onPeerHeard: ((nodeId: NodeId) => void) | null;
  /** Frames dropped (full queues, unknown destinations) and connections closed for corrupt frames. */
  dropped = 0;
  corrupt = 0;

  constructor(opts: TcpRaftTransportOptions) {
    this.maxMessageBytes = opts.maxMessageBytes ?? 8 * 1024 * 1024;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 32 * 1024 * 1024;
    this.onPeerLost = opts.onPeerLost ?? (() => {});
    this.onPeerHeard = opts.onPeerHeard ?? null;
    for (const [id, addr] of opts.peers) {
      if (id === opts.selfId) continue;
      const conn = new PeerConnection({
        selfId: opts.selfId,
        host: addr.host,
        port: addr.port,
        kind: 'raft',
        clock: opts.clock ?? systemClock,
        random: opts.random ?? systemRandom,
        maxQueuedFrames: opts.maxQueuedFrames ?? 4096,
        maxQueuedBytes: this.maxQueuedBytes,
        minBackoffMs: opts.minBackoffMs ?? 50,
        maxBackoffMs: opts.maxBackoffMs ?? 2000,
        connectTimeoutMs: opts.connectTimeoutMs ?? 3000,
        onData: (chunk, c) => this.onOutboundData(chunk, c),
        onClose: (c) => {
          this.decoders.delete(c);
          if (!this.closed) this.onPeerLost(id);
        },
      });
      this.outbound.set(id, conn);
    }
  }

  onMessage(handler: (msg: RaftMessage) => void): void {
    this.handler = handler;
  }

  send(to: NodeId, msg: RaftMessage): void {
    if (this.closed) return;
    const frame = encodeMessage(msg);
    const conn = this.outbound.get(to);
    if (conn !== undefined) {
      if (!conn.send(frame)) this.dropped++;
      return;
    }
    const socket = this.inbound.get(to);
    if (socket === undefined || socket.destroyed || socket.writableLength > this.maxQueuedBytes) {
      this.dropped++;
      return;
    }
    socket.write(frame);
  }

  /** Called by the listener for a connection whose hello said "raft from nodeId". */
  attachInbound(socket: net.Socket, nodeId: NodeId, rest: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const prev = this.inbound.get(nodeId);
    if (prev !== undefined && prev !== socket) prev.destroy();
    this.inbound.set(nodeId, socket);
    const decoder = new FrameDecoder(this.maxMessageBytes);
    const onData = (chunk: Buffer): void => {
      if (!this.deliver(decoder, chunk)) socket.destroy();
    };
    socket.on('data', onData);
    socket.once('close', () => {
      if (this.inbound.get(nodeId) !== socket) return; // replaced by a newer connection
      this.inbound.delete(nodeId);
      if (!this.closed) this.onPeerLost(nodeId);
    });
    if (rest.length > 0) onData(rest);
  }

  private onOutboundData(chunk: Buffer, conn: PeerConnection): void {
    let dec = this.decoders.get(conn);
    if (dec === undefined) {
      dec = new FrameDecoder(this.maxMessageBytes);
      this.decoders.set(conn, dec);
    }
    if (!this.deliver(dec, chunk)) {
      this.decoders.delete(conn);
      conn.reset();
    }
  }

  /** False when the stream is corrupt (the connection must be closed). */
  private deliver(decoder: FrameDecoder, chunk: Buffer): boolean {
    let msgs: RaftMessage[];
    try {
      msgs = decoder.push(chunk);
    } catch {
      this.corrupt++;
      return false;
    }
    for (const m of msgs) {
      if (this.closed) return true;
      this.onPeerHeard?.(m.from);
      this.handler?.(m);
    }
    return true;
  }

  close(): void {
    this.closed = true;
    for (const c of this.outbound.values()) c.close();
    for (const s of this.inbound.values()) s.destroy();
    this.inbound.clear();
  }
}
