/**
 * TCP proxies a test controls, to cut nodes of a cluster off each other without firewall rules
 * (test/cluster/network-cut.test.ts).
 *
 * Each proxy fronts one node's port (its Kafka listener, or its controller listener) and forwards
 * byte for byte. A proxy tells who dialed from the first bytes of a connection (`Identify`: the
 * controller hello carries the dialing node's id, a Kafka request header its client id), so one
 * proxy per node and port is enough to cut a node in both directions: the connections *to* it
 * pass through its own proxies, the connections *from* it through the other nodes' proxies, which
 * recognise it as the source.
 *
 * `ProxyNetwork.isolate(node)` puts the node (and any client named with it) on its own side:
 * every connection between the two sides stops. How it stops is the network's `mode`:
 * - 'blackhole' (a real partition): bytes stop flowing both ways, the sockets stay open, new
 *   connections are accepted but go nowhere; `heal()` lets the held bytes through again, as TCP
 *   would after a short outage.
 * - 'reset': existing connections are destroyed (RST) and new ones refused at once.
 */
import * as net from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Who dialed, from the connection's first bytes: a name, null when it cannot be told (such
 * connections count as coming from the majority side), or undefined when more bytes are needed.
 */
export type Identify = (head: Buffer) => string | null | undefined;

/** The controller hello (core/cluster/net/handshake.ts): "TRBC" | version | kind | 0 u16 | nodeId i32. */
export const identifyController: Identify = (head) => {
  if (head.length < 12) return undefined;
  if (head.toString('latin1', 0, 4) !== 'TRBC') return null;
  return String(head.readInt32BE(8));
};

/**
 * The client id of the first Kafka request (size i32 | apiKey i16 | apiVersion i16 |
 * correlationId i32 | clientId nullable string). A follower's fetcher uses
 * `tributary-replica-<id>` (core/broker/replication/replica-fetcher.ts): that is node `<id>`;
 * anything else is `client:<client id>`.
 */
export const identifyKafka: Identify = (head) => {
  if (head.length < 14) return undefined;
  const len = head.readInt16BE(12);
  if (len < 0) return 'client:';
  if (head.length < 14 + len) return undefined;
  const clientId = head.toString('utf8', 14, 14 + len);
  const m = /^tributary-replica-(\d+)$/.exec(clientId);
  return m ? m[1]! : `client:${clientId}`;
};

/** Bytes read before giving up on identifying a connection (its source is then null). */
const MAX_HEAD_BYTES = 4096;

class ProxiedConnection {
  upstream: net.Socket | null = null;
  source: string | null | undefined = undefined;
  head: Buffer[] = [];
  headBytes = 0;
  held = false;
  closed = false;

  constructor(
    readonly downstream: net.Socket,
    private readonly proxy: TcpProxy,
  ) {}

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.downstream.destroy();
    this.upstream?.destroy();
    this.proxy.forget(this);
  }

  /** Stops (or restarts) the bytes both ways without closing anything. */
  hold(held: boolean): void {
    this.held = held;
    if (held) {
      this.downstream.pause();
      this.upstream?.pause();
    } else if (this.upstream) {
      this.downstream.resume();
      this.upstream.resume();
    }
  }

  /** Connects upstream once the source is known and allowed; forwards the head first. */
  open(target: Endpoint): void {
    const up = net.createConnection({ host: target.host, port: target.port, noDelay: true });
    this.upstream = up;
    up.on('error', () => this.destroy());
    up.on('close', () => this.destroy());
    this.downstream.on('close', () => this.destroy());
    up.on('data', (chunk: Buffer) => {
      if (!this.downstream.write(chunk)) up.pause();
    });
    this.downstream.on('drain', () => {
      if (!this.held) up.resume();
    });
    up.on('drain', () => {
      if (!this.held) this.downstream.resume();
    });
    for (const b of this.head) up.write(b);
    this.head = [];
    if (this.held) up.pause();
    else this.downstream.resume();
  }
}

/** One listening port that forwards to `target`, subject to its network's cuts. */
export class TcpProxy {
  private readonly server: net.Server;
  private readonly connections = new Set<ProxiedConnection>();
  port = 0;
  /** Connections accepted, and how many of them were refused or held on arrival. */
  readonly stats = { accepted: 0, refused: 0, held: 0 };
  /** Connections identified so far, by source ('1', 'client:main', 'null' when unknown). */
  readonly sourcesSeen = new Map<string, number>();

  constructor(
    /** The node this proxy fronts. */
    readonly node: string,
    readonly target: Endpoint,
    private readonly identify: Identify,
    private readonly network: ProxyNetwork,
  ) {
    this.server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => this.accept(socket));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  listen(port = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(socket: net.Socket): void {
    this.stats.accepted++;
    const c = new ProxiedConnection(socket, this);
    this.connections.add(c);
    const giveUp = setTimeout(() => this.identified(c, null), 10_000);
    socket.on('error', () => c.destroy());
    socket.on('close', () => {
      clearTimeout(giveUp);
      if (!c.upstream) c.destroy();
    });
    const onData = (chunk: Buffer): void => {
      c.head.push(chunk);
      c.headBytes += chunk.length;
      const who = this.identify(Buffer.concat(c.head));
      if (who === undefined && c.headBytes < MAX_HEAD_BYTES) return;
      clearTimeout(giveUp);
      socket.off('data', onData);
      socket.pause();
      this.identified(c, who ?? null);
    };
    socket.on('data', onData);
  }

  private identified(c: ProxiedConnection, source: string | null): void {
    if (c.closed || c.source !== undefined) return;
    c.source = source;
    this.sourcesSeen.set(String(source), (this.sourcesSeen.get(String(source)) ?? 0) + 1);
    c.downstream.pause();
    if (this.network.allowed(source, this.node)) {
      c.downstream.on('data', (chunk: Buffer) => {
        if (c.upstream && !c.upstream.write(chunk)) c.downstream.pause();
      });
      c.open(this.target);
    } else if (this.network.mode === 'reset') {
      this.stats.refused++;
      c.destroy();
    } else {
      this.stats.held++;
      c.held = true;
      c.downstream.on('data', (chunk: Buffer) => {
        if (c.upstream && !c.upstream.write(chunk)) c.downstream.pause();
      });
    }
  }

  /** Applies the network's current cuts to the connections this proxy carries. */
  enforce(): void {
    for (const c of [...this.connections]) {
      if (c.closed || c.source === undefined) continue;
      const ok = this.network.allowed(c.source, this.node);
      if (ok) {
        if (!c.upstream) {
          c.held = false;
          c.open(this.target);
        } else if (c.held) c.hold(false);
      } else if (this.network.mode === 'reset') c.destroy();
      else if (!c.held) c.hold(true);
    }
  }

  forget(c: ProxiedConnection): void {
    this.connections.delete(c);
  }

  /** Connections open now, by source (for diagnostics). */
  sources(): (string | null | undefined)[] {
    return [...this.connections].map((c) => c.source);
  }

  close(): Promise<void> {
    for (const c of [...this.connections]) c.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The proxies of one test cluster and the cuts between its nodes. Nodes are named by their id
 * ('1', '2', …); clients by `client:<client.id>`. Unknown sources (null) and clients not named in
 * an isolation are on the majority side.
 */
export class ProxyNetwork {
  mode: 'blackhole' | 'reset' = 'blackhole';
  private readonly proxies: TcpProxy[] = [];
  /** Each isolated node's side: the node and the clients cut off with it. */
  private readonly sides = new Map<string, Set<string>>();

  /** Starts a proxy in front of `node`'s `target` (on `port`, or a free one). */
  async add(node: string, target: Endpoint, identify: Identify, port = 0): Promise<TcpProxy> {
    const p = new TcpProxy(node, target, identify, this);
    await p.listen(port);
    this.proxies.push(p);
    return p;
  }

  private sideOf(who: string | null): string {
    if (who === null) return '';
    for (const [node, side] of this.sides) if (side.has(who)) return node;
    return '';
  }

  /** Whether a connection from `source` may reach `node` now. */
  allowed(source: string | null, node: string): boolean {
    return this.sideOf(source) === this.sideOf(node);
  }

  /** Cuts `node` (and `withClients`, e.g. 'client:probe') off everything else, both directions. */
  isolate(node: string, opts: { mode?: 'blackhole' | 'reset'; withClients?: readonly string[] } = {}): void {
    if (opts.mode) this.mode = opts.mode;
    this.sides.set(node, new Set([node, ...(opts.withClients ?? [])]));
    for (const p of this.proxies) p.enforce();
  }

  /** Ends the isolation of `node` (of every node without an argument). */
  heal(node?: string): void {
    if (node === undefined) this.sides.clear();
    else this.sides.delete(node);
    for (const p of this.proxies) p.enforce();
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.splice(0).map((p) => p.close()));
  }
}
