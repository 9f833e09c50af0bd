/**
 * One outbound connection to a peer, kept up on demand: frames are queued (bounded in count
 * and bytes: when full, new frames are dropped — Raft tolerates loss, RPC callers time out),
 * the socket is dialed when there is something to send, and after a failure it is dialed again
 * with exponential backoff (jittered) over the injected Clock. Frames that arrive from the peer
 * on this connection are handed to onData.
 */
import * as net from 'node:net';
import type { Clock, TimerHandle } from '../../env/clock.js';
import type { Random } from '../../env/random.js';
import { type ConnectionKind, encodeHello } from './handshake.js';

export interface PeerConnectionOptions {
  readonly selfId: number;
  readonly host: string;
  readonly port: number;
  readonly kind: ConnectionKind;
  readonly clock: Clock;
  readonly random: Random;
  readonly maxQueuedFrames: number;
  readonly maxQueuedBytes: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly connectTimeoutMs: number;
  /** Bytes received on the connection. */
  readonly onData: (chunk: Buffer, conn: PeerConnection) => void;
  /** The connection closed (a new one is dialed when needed). */
  readonly onClose?: (conn: PeerConnection) => void;
}

export class PeerConnection {
  private socket: net.Socket | null = null;
  private connected = false;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private failures = 0;
  private retryTimer: TimerHandle | null = null;
  private connectTimer: TimerHandle | null = null;
  private nextAttemptMs = 0;
  private closed = false;
  dropped = 0;

  constructor(private readonly opts: PeerConnectionOptions) {}

  get isConnected(): boolean {
    return this.connected;
  }

  /** Queues a frame; false when it was dropped (queue full or closed). */
  send(frame: Buffer): boolean {
    if (this.closed) return false;
    if (this.connected && this.socket !== null) {
      // the socket's own buffer is the queue now; past the limit the peer is too slow: drop
      if (this.socket.writableLength + frame.length > this.opts.maxQueuedBytes) {
        this.dropped++;
        return false;
      }
      this.socket.write(frame);
      return true;
    }
    if (
      this.queue.length >= this.opts.maxQueuedFrames ||
      this.queuedBytes + frame.length > this.opts.maxQueuedBytes
    ) {
      this.dropped++;
      return false;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.ensureConnecting();
    return true;
  }

  /** Drops queued frames (RPC clients fail their calls instead of sending stale ones). */
  clearQueue(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }

  close(): void {
    this.closed = true;
    this.retryTimer?.cancel();
    this.connectTimer?.cancel();
    this.clearQueue();
    this.socket?.destroy();
    this.socket = null;
  }

  private ensureConnecting(): void {
    if (this.socket !== null || this.retryTimer !== null || this.closed) return;
    const wait = this.nextAttemptMs - this.opts.clock.monotonic();
    if (wait > 0) {
      this.retryTimer = this.opts.clock.setTimeout(() => {
        this.retryTimer = null;
        this.ensureConnecting();
      }, wait);
      return;
    }
    this.dial();
  }

  private dial(): void {
    const { host, port } = this.opts;
    const socket = net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    this.connectTimer = this.opts.clock.setTimeout(
      () => socket.destroy(new Error('connect timed out')),
      this.opts.connectTimeoutMs,
    );
    socket.once('connect', () => {
      this.connectTimer?.cancel();
      this.connectTimer = null;
      this.connected = true;
      this.failures = 0;
      socket.write(encodeHello(this.opts.kind, this.opts.selfId));
      const q = this.queue;
      this.clearQueue();
      for (const f of q) socket.write(f);
    });
    socket.on('data', (chunk: Buffer) => this.opts.onData(chunk, this));
    socket.on('error', () => {});
    socket.once('close', () => {
      this.connectTimer?.cancel();
      this.connectTimer = null;
      const wasConnected = this.connected;
      this.connected = false;
      if (this.socket === socket) this.socket = null;
      if (!wasConnected) this.failures++;
      const backoff = Math.min(
        this.opts.maxBackoffMs,
        this.opts.minBackoffMs * 2 ** Math.min(this.failures, 16),
      );
      this.nextAttemptMs = this.opts.clock.monotonic() + backoff * (0.5 + this.opts.random.next() / 2);
      this.opts.onClose?.(this);
      if (this.queue.length > 0) this.ensureConnecting();
    });
  }

  /** Ends the current socket (the frame stream is corrupt); the next send dials again. */
  reset(): void {
    this.socket?.destroy();
  }
}
