/**
 * The REST API, with Kafka Connect's paths, bodies and status codes, on node:http. Errors are
 * `{"error_code": <HTTP status>, "message": "..."}`: 400 for malformed JSON or an invalid config,
 * 404 for an unknown connector, task, plugin or path, 405 for a method a path does not take, 409
 * for an existing connector or a rebalance in progress, 413 for a body over
 * `rest.request.max.bytes`, 500 otherwise.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigException, ConnectError, messageOf } from '../errors.js';
import type { Herder } from '../runtime/herder.js';
import type { TargetState } from '../storage/configs.js';

interface Request {
  method: string;
  params: string[];
  query: URLSearchParams;
  body(): Promise<unknown>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (req: Request) => Promise<Reply> | Reply;

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const SEG = '([^/]+)';

function route(path: string, methods: Partial<Record<string, Handler>>): Route {
  return { pattern: new RegExp(`^${path.replaceAll('{}', SEG)}/?$`), methods };
}

function stringProps(value: unknown, what: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConnectError('BAD_REQUEST', `${what} must be a JSON object of string keys and values`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'object')
      throw new ConnectError('BAD_REQUEST', `${what}: the value of '${k}' must be a string`);
    out[k] = String(v);
  }
  return out;
}

function taskId(text: string): number {
  if (!/^\d+$/.test(text)) throw new ConnectError('NOT_FOUND', 'HTTP 404 Not Found');
  return Number(text);
}

function flag(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? 'false').toLowerCase() === 'true';
}

export function routes(herder: Herder): Route[] {
  const h = herder;
  return [
    route('/', { GET: async () => ({ status: 200, body: await h.serverInfo() }) }),
    route('/connector-plugins', {
      GET: (r) => ({
        status: 200,
        body: h.plugins((r.query.get('connectorsOnly') ?? 'true').toLowerCase() !== 'false'),
      }),
    }),
    route('/connector-plugins/{}/config', {
      GET: (r) => ({ status: 200, body: h.pluginConfig(r.params[0]!) }),
    }),
    route('/connector-plugins/{}/config/validate', {
      PUT: async (r) => {
        const config = stringProps(await r.body(), 'the config');
        const type = r.params[0]!;
        if (config['connector.class'] === undefined) config['connector.class'] = type;
        return { status: 200, body: await h.validate(config, type) };
      },
    }),
    route('/connectors', {
      GET: (r) => {
        const expand = r.query.getAll('expand');
        const names = h.connectors();
        if (expand.length === 0) return { status: 200, body: names };
        const out: Record<string, Record<string, unknown>> = {};
        for (const n of names) {
          const entry: Record<string, unknown> = {};
          if (expand.includes('status')) entry.status = h.status(n);
          if (expand.includes('info')) entry.info = h.info(n);
          out[n] = entry;
        }
        return { status: 200, body: out };
      },
      POST: async (r) => {
        const body = (await r.body()) as { name?: unknown; config?: unknown; initial_state?: unknown } | null;
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          throw new ConnectError(
            'BAD_REQUEST',
            'The request body must be a JSON object with "name" and "config"',
          );
        const config = stringProps(body.config ?? {}, 'config');
        const name = typeof body.name === 'string' ? body.name : config.name;
        if (name === undefined || name === '')
          throw new ConnectError(
            'BAD_REQUEST',
            'Connector name configuration must be specified (the "name" field)',
          );
        let initialState: TargetState | undefined;
        if (body.initial_state !== undefined && body.initial_state !== null) {
          const s = String(body.initial_state).toUpperCase();
          if (s !== 'RUNNING' && s !== 'PAUSED' && s !== 'STOPPED')
            throw new ConnectError(
              'BAD_REQUEST',
              `Invalid initial state ${String(body.initial_state)}: one of RUNNING, PAUSED, STOPPED`,
            );
          initialState = s === 'RUNNING' ? 'STARTED' : s;
        }
        // A `name` inside the config must match the body's (Kafka answers 400 otherwise).
        const { info } = await h.putConnector(name, config, {
          allowReplace: false,
          ...(initialState ? { initialState } : {}),
        });
        return { status: 201, body: info, headers: { Location: `/connectors/${encodeURIComponent(name)}` } };
      },
    }),
    route('/connectors/{}', {
      GET: (r) => ({ status: 200, body: h.info(r.params[0]!) }),
      PUT: (r) => putConfig(h, r),
      DELETE: async (r) => {
        await h.deleteConnector(r.params[0]!);
        return { status: 204 };
      },
    }),
    route('/connectors/{}/config', {
      GET: (r) => ({ status: 200, body: h.config(r.params[0]!) }),
      PUT: (r) => putConfig(h, r),
      PATCH: async (r) => {
        const body = await r.body();
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          throw new ConnectError('BAD_REQUEST', 'The patch must be a JSON object');
        const patch: Record<string, string | null> = {};
        for (const [k, v] of Object.entries(body)) patch[k] = v === null ? null : String(v);
        return { status: 200, body: await h.patchConfig(r.params[0]!, patch) };
      },
    }),
    route('/connectors/{}/status', { GET: (r) => ({ status: 200, body: h.status(r.params[0]!) }) }),
    route('/connectors/{}/restart', {
      POST: async (r) => {
        const result = await h.restartConnector(
          r.params[0]!,
          flag(r.query, 'includeTasks'),
          flag(r.query, 'onlyFailed'),
        );
        return result === null ? { status: 204 } : { status: 202, body: result };
      },
    }),
    route('/connectors/{}/pause', {
      PUT: async (r) => {
        await h.setTargetState(r.params[0]!, 'PAUSED');
        return { status: 202 };
      },
    }),
    route('/connectors/{}/resume', {
      PUT: async (r) => {
        await h.setTargetState(r.params[0]!, 'STARTED');
        return { status: 202 };
      },
    }),
    route('/connectors/{}/stop', {
      PUT: async (r) => {
        await h.setTargetState(r.params[0]!, 'STOPPED');
        return { status: 204 };
      },
    }),
    route('/connectors/{}/tasks', { GET: (r) => ({ status: 200, body: h.taskConfigs(r.params[0]!) }) }),
    route('/connectors/{}/tasks/{}/status', {
      GET: (r) => ({ status: 200, body: h.taskStatus(r.params[0]!, taskId(r.params[1]!)) }),
    }),
    route('/connectors/{}/tasks/{}/restart', {
      POST: async (r) => {
        await h.restartTask(r.params[0]!, taskId(r.params[1]!));
        return { status: 204 };
      },
    }),
    route('/connectors/{}/offsets', {
      GET: async (r) => ({ status: 200, body: await h.offsets(r.params[0]!) }),
      PATCH: async (r) => ({ status: 200, body: await h.alterOffsets(r.params[0]!, await r.body()) }),
      DELETE: async (r) => ({ status: 200, body: await h.resetOffsets(r.params[0]!) }),
    }),
    route('/connectors/{}/topics', { GET: (r) => ({ status: 200, body: h.topics(r.params[0]!) }) }),
    route('/connectors/{}/topics/reset', {
      PUT: (r) => {
        h.resetTopics(r.params[0]!);
        return { status: 202 };
      },
    }),
  ];
}

async function putConfig(h: Herder, r: Request): Promise<Reply> {
  const name = r.params[0]!;
  const config = stringProps(await r.body(), 'the connector config');
  const { created, info } = await h.putConnector(name, config, { allowReplace: true });
  return created
    ? { status: 201, body: info, headers: { Location: `/connectors/${encodeURIComponent(name)}` } }
    : { status: 200, body: info };
}

function errorReply(err: unknown): Reply {
  if (err instanceof ConnectError)
    return { status: err.httpStatus, body: { error_code: err.httpStatus, message: err.message } };
  if (err instanceof ConfigException) return { status: 400, body: { error_code: 400, message: err.message } };
  return { status: 500, body: { error_code: 500, message: messageOf(err) } };
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      reject(
        new ConnectError(
          'PAYLOAD_TOO_LARGE',
          `Request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes (rest.request.max.bytes)`,
        ),
      );
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(
          new ConnectError(
            'PAYLOAD_TOO_LARGE',
            `Request body exceeds the limit of ${maxBytes} bytes (rest.request.max.bytes)`,
          ),
        );
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface RestServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  allowOrigin?: string;
  log?: (msg: string) => void;
}

export class RestServer {
  private server: Server | null = null;
  private readonly table: Route[];

  constructor(
    herder: Herder,
    private readonly opts: RestServerOptions,
  ) {
    this.table = routes(herder);
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.dispatch(req);
    } catch (err) {
      reply = errorReply(err);
      if (reply.status >= 500) this.opts.log?.(`REST ${req.method} ${req.url} failed: ${messageOf(err)}`);
    }
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    if (this.opts.allowOrigin) headers['Access-Control-Allow-Origin'] = this.opts.allowOrigin;
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...headers,
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  private async dispatch(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    for (const r of this.table) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      const handler = r.methods[method];
      if (!handler) {
        req.resume();
        return { status: 405, body: { error_code: 405, message: 'HTTP 405 Method Not Allowed' } };
      }
      let params: string[];
      try {
        params = m.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        throw new ConnectError('BAD_REQUEST', 'malformed URL encoding in the path');
      }
      let bodyPromise: Promise<unknown> | null = null;
      const body = () =>
        (bodyPromise ??= readBody(req, this.opts.maxBodyBytes).then((buf) => {
          const text = buf.toString('utf8');
          if (text.trim() === '') throw new ConnectError('BAD_REQUEST', 'The request needs a JSON body');
          try {
            return JSON.parse(text) as unknown;
          } catch (err) {
            throw new ConnectError('BAD_REQUEST', `Malformed JSON in the request body: ${messageOf(err)}`);
          }
        }));
      try {
        return await handler({ method, params, query: url.searchParams, body });
      } finally {
        if (bodyPromise === null) req.resume();
      }
    }
    req.resume();
    return { status: 404, body: { error_code: 404, message: 'HTTP 404 Not Found' } };
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeIdleConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
