/**
 * The broker's TCP server: accepts connections (bounded by `max.connections` and
 * `max.connections.per.ip`), gives each a BrokerConnection, and shares one RequestBudget
 * (`queued.max.requests`, `queued.max.request.bytes`) among them. Everything about frames,
 * requests and responses lives in connection.ts.
 *
 * Close: graceful stops accepting, lets every in-flight request finish and its response be
 * written (bounded by `timeoutMs`, after which what is left is destroyed), then closes the
 * sockets; otherwise every socket is destroyed at once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { type Clock, systemClock } from '../env/clock.js';
import { BrokerConnection, RequestBudget, type RequestHandler } from './connection.js';
import { type SocketConfig, socketConfig } from './socket-config.js';

export type { ApiHandlers, HandlerResult, RequestContext, RequestHandler } from './connection.js';
export { CLOSE_CONNECTION, routeByApiKey } from './connection.js';

export interface KafkaServerOptions {
  readonly host: string;
  /** 0 picks a free port; `listen()` reports the real one. */
  readonly port: number;
  /** The host `listen()` reports (what clients are told to reach); defaults to `host`. */
  readonly advertisedHost?: string;
  readonly handler: RequestHandler;
  /** Socket settings; missing keys take Kafka's defaults. */
  readonly config?: Partial<SocketConfig>;
  /** Listener name reported to handlers. Default 'PLAINTEXT'. */
  readonly listener?: string;
  readonly clock?: Clock;
  readonly log?: (msg: string) => void;
}

export interface CloseOptions {
  /** Let in-flight requests finish and their responses be written. Default true. */
  readonly graceful?: boolean;
  /** Upper bound of a graceful close; then what is left is destroyed. Default 30000. */
  readonly timeoutMs?: number;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

export class KafkaServer {
  readonly config: SocketConfig;
  private readonly server: Server;
  private readonly connections = new Set<BrokerConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly budget: RequestBudget;
  private readonly clock: Clock;
  private readonly log: (msg: string) => void;
  private readonly listener: string;
  private connectionIndex = 0;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: KafkaServerOptions) {
    this.config = socketConfig(opts.config ?? {});
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => {});
    this.listener = opts.listener ?? 'PLAINTEXT';
    this.budget = new RequestBudget(
      this.config['queued.max.requests'],
      this.config['queued.max.request.bytes'],
    );
    // allowHalfOpen: a client that half-closes after its requests still gets the responses.
    this.server = createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true }, (socket) =>
      this.accept(socket),
    );
    this.server.on('error', (err) => this.log(`listener error: ${err.message}`));
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Starts listening; resolves with the advertised host and the real port. */
  listen(): Promise<ListenAddress> {
    if (this.state !== 'new') return Promise.reject(new Error(`cannot listen: the server is ${this.state}`));
    this.state = 'listening';
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.state = 'closed';
        reject(err);
      };
      this.server.once('error', onError);
      this.server.listen(
        { host: this.opts.host, port: this.opts.port, backlog: this.config['socket.listen.backlog.size'] },
        () => {
          this.server.off('error', onError);
          const addr = this.server.address();
          const port = typeof addr === 'object' && addr !== null ? addr.port : this.opts.port;
          this.log(`listening on ${this.opts.host}:${port} (${this.listener})`);
          resolve({ host: this.opts.advertisedHost ?? this.opts.host, port });
        },
      );
    });
  }

  /** Stops accepting and closes every connection (gracefully by default). Idempotent. */
  close(opts: CloseOptions = {}): Promise<void> {
    if (this.closing === null) this.closing = this.doClose(opts);
    return this.closing;
  }

  private async doClose(opts: CloseOptions): Promise<void> {
    const wasListening = this.state === 'listening';
    this.state = 'closing';
    const serverClosed = wasListening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    const conns = [...this.connections];
    if (opts.graceful ?? true) {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
      let fire!: () => void;
      const timedOut = new Promise<void>((resolve) => {
        fire = resolve;
      });
      const timer = this.clock.setTimeout(() => fire(), timeoutMs);
      await Promise.race([Promise.all(conns.map((c) => c.drain())), timedOut]);
      timer.cancel();
      for (const c of conns) {
        if (!c.isClosed) c.destroy(`still open ${timeoutMs} ms into a graceful shutdown`);
      }
    } else {
      for (const c of conns) c.destroy();
    }
    await Promise.all(conns.map((c) => c.whenClosed()));
    await serverClosed;
    this.state = 'closed';
  }

  private accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    if (this.state !== 'listening') {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.config['max.connections']) {
      this.log(`refusing a connection from ${ip}: max.connections=${this.config['max.connections']} reached`);
      socket.destroy();
      return;
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.config['max.connections.per.ip']) {
      this.log(
        `refusing a connection from ${ip}: max.connections.per.ip=${this.config['max.connections.per.ip']} reached`,
      );
      socket.destroy();
      return;
    }
    this.perIp.set(ip, fromIp + 1);
    const connectionId = `${socket.localAddress}:${socket.localPort}-${ip}:${socket.remotePort}-${this.connectionIndex++}`;
    const conn = new BrokerConnection(socket, {
      connectionId,
      listener: this.listener,
      handler: this.opts.handler,
      config: this.config,
      budget: this.budget,
      clock: this.clock,
      log: this.log,
      onClose: (c) => {
        this.connections.delete(c);
        const n = (this.perIp.get(ip) ?? 1) - 1;
        if (n <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, n);
      },
    });
    this.connections.add(conn);
  }
}
