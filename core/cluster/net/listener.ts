/**
 * The controller listener (--controller-listen): one TCP port for Raft traffic from other
 * controllers and from brokers following the metadata log, and for the broker→controller RPC.
 * The hello (handshake.ts) says which; a connection that sends no valid hello within
 * helloTimeoutMs is closed. Connections are bounded.
 */
import * as net from 'node:net';
import { type Clock, systemClock } from '../../env/clock.js';
import type { HostPort } from './address.js';
import { decodeHello, HELLO_BYTES } from './handshake.js';
import type { RpcServer } from './rpc-server.js';
import type { RaftMessageSink } from './types.js';

export interface ControllerListenerOptions {
  readonly listen: HostPort;
  readonly raft: RaftMessageSink;
  readonly rpc: RpcServer | null;
  readonly clock?: Clock;
  readonly helloTimeoutMs?: number;
  readonly maxConnections?: number;
}

export class ControllerListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly clock: Clock;

  private constructor(private readonly opts: ControllerListenerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.server = net.createServer((s) => this.accept(s));
    this.server.maxConnections = opts.maxConnections ?? 1024;
  }

  /** Listens; resolves with the bound address (port 0 picks a free port). */
  static async start(opts: ControllerListenerOptions): Promise<ControllerListener> {
    const l = new ControllerListener(opts);
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(opts.listen.port, opts.listen.host, () => {
        l.server.off('error', reject);
        resolve();
      });
    });
    return l;
  }

  get address(): HostPort {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.once('close', () => this.sockets.delete(socket));
    let head = Buffer.alloc(0);
    const timer = this.clock.setTimeout(() => socket.destroy(), this.opts.helloTimeoutMs ?? 5000);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < HELLO_BYTES) return;
      socket.off('data', onData);
      timer.cancel();
      const hello = decodeHello(head.subarray(0, HELLO_BYTES));
      const rest = head.subarray(HELLO_BYTES);
      if (typeof hello === 'string') {
        socket.destroy();
        return;
      }
      if (hello.kind === 'raft') this.opts.raft.attachInbound(socket, hello.nodeId, rest);
      else if (this.opts.rpc !== null) this.opts.rpc.attach(socket, rest, hello.nodeId);
      else socket.destroy();
    };
    socket.on('data', onData);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
