/**
 * Serves the broker→controller RPC on connections the listener accepted: decodes requests,
 * calls the controller, writes responses (or errors) with the request's correlation id.
 * Requests in flight per connection are bounded; a malformed stream closes the connection.
 */
import type * as net from 'node:net';
import { ControllerError } from '../controller/errors.js';
import type { ApiRequest, ControllerApi, ControllerChannel } from '../controller/requests.js';
import { DEFAULT_MAX_RPC_BYTES, encodeRpc, parseRequest, RpcFrameDecoder } from './rpc-codec.js';

export interface RpcServerOptions {
  readonly maxFrameBytes?: number;
  readonly maxInFlightPerConnection?: number;
  /** A connection from node `nodeId` (its hello's id) opened. */
  readonly onConnected?: (nodeId: number) => void;
  /** The last open connection from node `nodeId` closed (the broker heartbeats on it). */
  readonly onDisconnected?: (nodeId: number) => void;
}

export class RpcServer {
  private readonly sockets = new Set<net.Socket>();
  /** Open connections per node id. */
  private readonly perNode = new Map<number, number>();

  constructor(
    private readonly controller: ControllerChannel,
    private readonly opts: RpcServerOptions = {},
  ) {}

  /** Serves a connection whose hello said "rpc from nodeId". */
  attach(socket: net.Socket, rest: Buffer, nodeId: number): void {
    this.sockets.add(socket);
    this.perNode.set(nodeId, (this.perNode.get(nodeId) ?? 0) + 1);
    this.opts.onConnected?.(nodeId);
    const decoder = new RpcFrameDecoder(this.opts.maxFrameBytes ?? DEFAULT_MAX_RPC_BYTES);
    const maxInFlight = this.opts.maxInFlightPerConnection ?? 256;
    let inFlight = 0;
    const onData = (chunk: Buffer): void => {
      let frames: ReturnType<RpcFrameDecoder['push']>;
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const f of frames) {
        if (f.kind !== 0) {
          socket.destroy();
          return;
        }
        const parsed = parseRequest(f.body);
        if (typeof parsed === 'string') {
          socket.write(
            encodeRpc(2, f.correlationId, { code: 'INVALID_REQUEST', message: parsed, leaderId: null }),
          );
          continue;
        }
        if (inFlight >= maxInFlight) {
          socket.write(
            encodeRpc(2, f.correlationId, {
              code: 'TOO_MANY_REQUESTS',
              message: 'too many requests in flight',
              leaderId: null,
            }),
          );
          continue;
        }
        inFlight++;
        this.controller
          .call(parsed.api, parsed.request as ApiRequest<ControllerApi>)
          .then(
            (res) => encodeRpc(1, f.correlationId, res),
            (err: unknown) =>
              encodeRpc(
                2,
                f.correlationId,
                err instanceof ControllerError
                  ? { code: err.code, message: err.message, leaderId: err.leaderId, retriable: err.retriable }
                  : {
                      code: 'INVALID_REQUEST',
                      message: (err as Error)?.message ?? String(err),
                      leaderId: null,
                    },
              ),
          )
          .then((frame) => {
            inFlight--;
            if (!socket.destroyed) socket.write(frame);
          });
      }
    };
    socket.on('data', onData);
    socket.once('close', () => {
      if (!this.sockets.delete(socket)) return;
      const left = (this.perNode.get(nodeId) ?? 1) - 1;
      if (left > 0) this.perNode.set(nodeId, left);
      else {
        this.perNode.delete(nodeId);
        this.opts.onDisconnected?.(nodeId);
      }
    });
    if (rest.length > 0) onData(rest);
  }

  close(): void {
    const open = [...this.sockets];
    this.sockets.clear();
    this.perNode.clear();
    for (const s of open) s.destroy();
  }
}
