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
}

export class RpcServer {
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly controller: ControllerChannel,
    private readonly opts: RpcServerOptions = {},
  ) {}

  attach(socket: net.Socket, rest: Buffer): void {
    this.sockets.add(socket);
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
                  ? { code: err.code, message: err.message, leaderId: err.leaderId }
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
    socket.once('close', () => this.sockets.delete(socket));
    if (rest.length > 0) onData(rest);
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
