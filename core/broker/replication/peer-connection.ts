/**
 * A broker's own connection to another broker (followers fetching from leaders). The client
 * layer sits above the broker, so this is a small Kafka-protocol client of its own: frames from
 * core/protocol, split by framing.ts, one TCP socket, requests matched by correlation id.
 * Versions are fixed (our brokers' ranges include them); no ApiVersions round trip.
 */
import * as net from 'node:net';
import type { Clock, TimerHandle } from '../../env/clock.js';
import { decodeResponseFrame, encodeRequestFrame, peekCorrelationId } from '../../protocol/frames.js';
import type { RequestInput, ResponseData, SupportedApiKey } from '../../protocol/messages/index.js';
import { DirectFrameReader } from '../framing.js';

/** Largest response accepted (a fetch is bounded by replica.fetch.response.max.bytes). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Requests in flight on one connection. */
const MAX_IN_FLIGHT = 16;

interface Pending {
  apiKey: SupportedApiKey;
  apiVersion: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

export class PeerConnection {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private closed = false;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly clock: Clock,
    private readonly clientId: string,
  ) {}

  async request<K extends SupportedApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    timeoutMs: number,
  ): Promise<ResponseData<K>> {
    if (this.pending.size >= MAX_IN_FLIGHT) throw new Error(`more than ${MAX_IN_FLIGHT} requests in flight`);
    const socket = await this.connect(timeoutMs);
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    const chunks = encodeRequestFrame({ apiKey, apiVersion, correlationId, clientId: this.clientId }, body);
    return new Promise<ResponseData<K>>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`request to ${this.host}:${this.port} timed out after ${timeoutMs} ms`));
        this.destroy(new Error('request timed out'));
      }, timeoutMs);
      this.pending.set(correlationId, {
        apiKey,
        apiVersion,
        resolve: resolve as (b: unknown) => void,
        reject,
        timer,
      });
      socket.cork();
      for (const c of chunks) socket.write(c);
      socket.uncork();
    });
  }

  private connect(timeoutMs: number): Promise<net.Socket> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      // Responses are read straight into their own buffers (framing.ts DirectFrameReader): a
      // fetch response is neither reassembled from Node's 64 KiB chunks nor copied.
      const reader = new DirectFrameReader(MAX_RESPONSE_BYTES, (frame) => this.onFrame(frame));
      const socket: net.Socket = net.createConnection({
        host: this.host,
        port: this.port,
        noDelay: true,
        onread: {
          buffer: () => reader.nextBuffer(),
          callback: (n: number): boolean => {
            try {
              reader.received(n);
            } catch (err) {
              reader.stop();
              socket.destroy(err as Error);
            }
            return true;
          },
        },
      });
      const timer = this.clock.setTimeout(() => {
        socket.destroy(new Error(`connect to ${this.host}:${this.port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        timer.cancel();
        this.socket = socket;
        this.connecting = undefined;
        resolve(socket);
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        timer.cancel();
        if (this.socket === socket) this.socket = undefined;
        if (this.connecting) {
          this.connecting = undefined;
          reject(new Error(`could not connect to ${this.host}:${this.port}`));
        }
        this.failAll(new Error(`connection to ${this.host}:${this.port} closed`));
      });
    });
    return this.connecting;
  }

  private onFrame(frame: Buffer): void {
    const id = peekCorrelationId(frame);
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.timer.cancel();
    try {
      p.resolve(decodeResponseFrame(p.apiKey, p.apiVersion, frame).body);
    } catch (err) {
      p.reject(err as Error);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.reject(err);
    }
    this.pending.clear();
  }

  private destroy(err: Error): void {
    this.socket?.destroy(err);
    this.socket = undefined;
  }

  close(): void {
    this.closed = true;
    this.destroy(new Error('closed'));
    this.failAll(new Error('connection closed'));
  }
}
