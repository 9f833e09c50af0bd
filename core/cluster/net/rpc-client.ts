/**
 * A ControllerChannel to one controller over TCP (rpc-codec.ts framing): requests are
 * correlated by id, each with a timeout over the injected Clock; a closed connection fails the
 * calls in flight with REQUEST_TIMED_OUT-like retriable errors so that ControllerRouter moves on.
 */
import { type Clock, systemClock, type TimerHandle } from '../../env/clock.js';
import { type Random, systemRandom } from '../../env/random.js';
import { ControllerError, type ControllerErrorCode } from '../controller/errors.js';
import type { ApiRequest, ApiResponse, ControllerApi, ControllerChannel } from '../controller/requests.js';
import type { HostPort } from './address.js';
import { PeerConnection } from './peer-connection.js';
import { DEFAULT_MAX_RPC_BYTES, encodeRpc, RpcFrameDecoder } from './rpc-codec.js';

export interface RpcClientOptions {
  readonly selfId: number;
  readonly address: HostPort;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly requestTimeoutMs?: number;
  readonly maxInFlight?: number;
  readonly maxFrameBytes?: number;
  /** The connection closed (the calls in flight have failed). */
  readonly onClose?: () => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: TimerHandle;
}

export class RpcClient implements ControllerChannel {
  private readonly conn: PeerConnection;
  private decoder: RpcFrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly clock: Clock;

  constructor(private readonly opts: RpcClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.decoder = new RpcFrameDecoder(opts.maxFrameBytes ?? DEFAULT_MAX_RPC_BYTES);
    this.conn = new PeerConnection({
      selfId: opts.selfId,
      host: opts.address.host,
      port: opts.address.port,
      kind: 'rpc',
      clock: this.clock,
      random: opts.random ?? systemRandom,
      maxQueuedFrames: opts.maxInFlight ?? 256,
      maxQueuedBytes: 16 * 1024 * 1024,
      minBackoffMs: 50,
      maxBackoffMs: 1000,
      connectTimeoutMs: 3000,
      onData: (chunk) => this.onData(chunk),
      onClose: () => {
        this.onClose();
        opts.onClose?.();
      },
    });
  }

  call<A extends ControllerApi>(api: A, request: ApiRequest<A>): Promise<ApiResponse<A>> {
    if (this.closed) return Promise.reject(this.closedError(api));
    if (this.pending.size >= (this.opts.maxInFlight ?? 256)) {
      return Promise.reject(new ControllerError('TOO_MANY_REQUESTS', 'too many controller calls in flight'));
    }
    const id = this.nextId;
    this.nextId = (this.nextId % 0x7fffffff) + 1;
    return new Promise<ApiResponse<A>>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ControllerError(
            'REQUEST_TIMED_OUT',
            `${api} to controller ${this.opts.address.host}:${this.opts.address.port} timed out`,
          ),
        );
      }, this.opts.requestTimeoutMs ?? 5000);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      if (!this.conn.send(encodeRpc(0, id, { api, request }))) {
        timer.cancel();
        this.pending.delete(id);
        reject(new ControllerError('TOO_MANY_REQUESTS', 'controller connection queue is full'));
      }
    });
  }

  private onData(chunk: Buffer): void {
    let frames: ReturnType<RpcFrameDecoder['push']>;
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.conn.reset();
      return;
    }
    for (const f of frames) {
      const p = this.pending.get(f.correlationId);
      if (p === undefined) continue;
      this.pending.delete(f.correlationId);
      p.timer.cancel();
      if (f.kind === 1) p.resolve(f.body);
      else {
        const e = (f.body ?? {}) as {
          code?: string;
          message?: string;
          leaderId?: number | null;
          retriable?: boolean;
        };
        p.reject(
          new ControllerError(
            (e.code ?? 'UNKNOWN_SERVER_ERROR') as ControllerErrorCode,
            e.message ?? 'controller error',
            {
              leaderId: typeof e.leaderId === 'number' ? e.leaderId : null,
              // a controller's "outcome unknown" REQUEST_TIMED_OUT is not re-sent by the router
              ...(typeof e.retriable === 'boolean' ? { retriable: e.retriable } : {}),
            },
          ),
        );
      }
    }
  }

  private onClose(): void {
    this.decoder = new RpcFrameDecoder(this.opts.maxFrameBytes ?? DEFAULT_MAX_RPC_BYTES);
    const err = new ControllerError('REQUEST_TIMED_OUT', 'controller connection closed');
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.reject(err);
    }
    this.pending.clear();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Calls in flight fail with the same non-retriable error, so a router stops retrying them.
    const err = this.closedError('calls in flight');
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.reject(err);
    }
    this.pending.clear();
    this.conn.close();
    this.onClose();
  }

  /** Set by close(): calls fail at once (not retriable), instead of queueing on a dead connection. */
  private closed = false;

  private closedError(what: string): ControllerError {
    const { host, port } = this.opts.address;
    return new ControllerError(
      'UNKNOWN_SERVER_ERROR',
      `${what}: the client of controller ${host}:${port} was closed (this node is shutting down)`,
      { retriable: false },
    );
  }
}
