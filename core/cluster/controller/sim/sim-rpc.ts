/**
 * The broker→controller RPC under simulation: requests and responses travel over a SimNetwork
 * (so they are dropped, delayed, duplicated and partitioned like Raft's messages), encoded as
 * JSON as the TCP RPC does. Each node has one endpoint: a client for its calls, and, on
 * controllers, a server answering them.
 */
import type { Clock } from '../../../env/clock.js';
import type { SimEndpoint, WireCodec } from '../../sim/sim-network.js';
import { ControllerError, type ControllerErrorCode } from '../errors.js';
import type { ApiRequest, ApiResponse, ControllerApi, ControllerChannel } from '../requests.js';

export interface RpcEnvelope {
  readonly kind: 'request' | 'response' | 'error';
  readonly from: number;
  readonly id: number;
  readonly api: string;
  readonly body: unknown;
}

export const rpcWireCodec: WireCodec<RpcEnvelope> = {
  encode: (m) => Buffer.from(JSON.stringify(m)),
  decode: (b) => JSON.parse(Buffer.from(b).toString('utf8')) as RpcEnvelope,
  kind: (m) => `rpc.${m.kind}.${m.api}`,
};

export class SimRpcEndpoint {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  private server: ControllerChannel | null = null;

  constructor(
    private readonly id: number,
    private readonly ep: SimEndpoint<RpcEnvelope>,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {
    ep.onMessage((m) => this.onMessage(m));
  }

  serve(controller: ControllerChannel): void {
    this.server = controller;
  }

  /** A channel to one controller. */
  channel(to: number): ControllerChannel {
    return {
      call: <A extends ControllerApi>(api: A, request: ApiRequest<A>): Promise<ApiResponse<A>> =>
        new Promise((resolve, reject) => {
          const id = this.nextId++;
          const timer = this.clock.setTimeout(() => {
            this.pending.delete(id);
            reject(new ControllerError('REQUEST_TIMED_OUT', `${api} to ${to} timed out`));
          }, this.timeoutMs);
          this.pending.set(id, {
            resolve: (v) => {
              timer.cancel();
              resolve(v as ApiResponse<A>);
            },
            reject: (e) => {
              timer.cancel();
              reject(e);
            },
          });
          this.ep.send(to, { kind: 'request', from: this.id, id, api, body: request });
        }),
    };
  }

  private onMessage(m: RpcEnvelope): void {
    if (m.kind === 'request') {
      const server = this.server;
      if (server === null) return;
      server.call(m.api as ControllerApi, m.body as ApiRequest<ControllerApi>).then(
        (res) => this.ep.send(m.from, { kind: 'response', from: this.id, id: m.id, api: m.api, body: res }),
        (err: unknown) => {
          const e =
            err instanceof ControllerError ? err : new ControllerError('UNKNOWN_SERVER_ERROR', String(err));
          this.ep.send(m.from, {
            kind: 'error',
            from: this.id,
            id: m.id,
            api: m.api,
            body: { code: e.code, message: e.message, leaderId: e.leaderId },
          });
        },
      );
      return;
    }
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.kind === 'response') p.resolve(m.body);
    else {
      const b = m.body as { code: ControllerErrorCode; message: string; leaderId: number | null };
      p.reject(new ControllerError(b.code, b.message, { leaderId: b.leaderId }));
    }
  }
}
