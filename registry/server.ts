/**
 * The registry's HTTP API: Confluent Schema Registry's paths, bodies, status codes and error
 * bodies (`{"error_code": 40401, "message": "..."}`), answered as
 * `application/vnd.schemaregistry.v1+json`. docs/schema-registry.md lists the paths.
 *
 * Limits: request bodies over `maxRequestBytes` are refused with 413; schemas over
 * `maxSchemaBytes` with 42209; requests are served concurrently, writes of one instance one at a
 * time (store.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KafkaClient } from '../core/client/index.js';
import { RegistryError } from './errors.js';
import { parseVersion, type RegistryOptions, SchemaRegistry, type SchemaRequest } from './registry.js';
import { SchemaStore, type StoreOptions } from './store.js';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const ACCEPTED_TYPES = new Set([
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
  'application/json',
  'application/octet-stream',
]);
export const DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024;

export interface RegistryServerOptions extends RegistryOptions, StoreOptions {
  /** The cluster (or embedded log) holding `_schemas`. Closing the registry leaves it open. */
  client: KafkaClient;
  /** `HOST:PORT` (port 0 picks one). Default 127.0.0.1:8081, Confluent's port. */
  listen?: string;
  maxRequestBytes?: number;
  /** Where unexpected (500) errors are reported. Default: nowhere. */
  log?: (message: string) => void;
}

export interface RunningRegistry {
  /** `http://host:port`, what clients put in `schema.registry.url`. */
  readonly url: string;
  readonly registry: SchemaRegistry;
  close(): Promise<void>;
}

type Json = unknown;

interface Request {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: () => Promise<Json>;
}

/** In-process registries by URL, so that synchronous serdes in the same process can read their state. */
const LOCAL = Symbol.for('tributary.registry.local');
type LocalMap = Map<string, SchemaRegistry>;
export function localRegistries(): LocalMap {
  const g = globalThis as { [LOCAL]?: LocalMap };
  g[LOCAL] ??= new Map();
  return g[LOCAL];
}

function bool(q: URLSearchParams, name: string): boolean {
  return q.get(name)?.toLowerCase() === 'true';
}

function schemaRequest(body: Json): SchemaRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RegistryError(
      'INVALID_SCHEMA',
      'Invalid schema: the body must be a JSON object with a "schema" field',
    );
  }
  const b = body as Record<string, unknown>;
  if (typeof b.schema !== 'string') throw new RegistryError('INVALID_SCHEMA', 'Empty schema');
  return {
    schema: b.schema,
    ...(typeof b.schemaType === 'string' ? { schemaType: b.schemaType.toUpperCase() } : {}),
    ...(Array.isArray(b.references) ? { references: b.references } : {}),
    ...(typeof b.id === 'number' && b.id >= 0 ? { id: b.id } : {}),
    ...(typeof b.version === 'number' && b.version >= 0 ? { version: b.version } : {}),
  };
}

function parseId(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 2 ** 31 - 1) {
    throw new RegistryError('NOT_FOUND', 'HTTP 404 Not Found');
  }
  return Number(text);
}

const notFound = (): RegistryError => new RegistryError('NOT_FOUND', 'HTTP 404 Not Found');
const methodNotAllowed = (): RegistryError =>
  new RegistryError('METHOD_NOT_ALLOWED', 'HTTP 405 Method Not Allowed');

/** A raw schema text is itself the body (`/schema` endpoints). */
class Raw {
  constructor(readonly text: string) {}
}

async function route(r: SchemaRegistry, req: Request): Promise<Json | Raw> {
  const { method, segments: s, query: q } = req;
  const on = (m: string): boolean => method === m;
  const [top, ...rest] = s;
  switch (top) {
    case undefined:
      if (on('GET')) return {};
      throw methodNotAllowed();
    case 'schemas': {
      if (rest.length === 0) {
        if (!on('GET')) throw methodNotAllowed();
        return r.schemas({
          prefix: q.get('subjectPrefix') ?? undefined,
          deleted: bool(q, 'deleted'),
          latestOnly: bool(q, 'latestOnly'),
        });
      }
      if (rest.length === 1 && rest[0] === 'types') {
        if (!on('GET')) throw methodNotAllowed();
        return ['AVRO'];
      }
      if (rest[0] !== 'ids' || rest.length < 2 || rest.length > 3) throw notFound();
      const id = parseId(rest[1]!);
      if (!on('GET')) throw methodNotAllowed();
      if (rest.length === 2) {
        const found = await r.schemaById(id);
        return found.schemaType === 'AVRO' ? { schema: found.schema } : found;
      }
      switch (rest[2]) {
        case 'schema':
          return new Raw((await r.schemaById(id)).schema);
        case 'versions':
          return r.versionsOfId(id, bool(q, 'deleted'));
        case 'subjects':
          return [...new Set((await r.versionsOfId(id, bool(q, 'deleted'))).map((v) => v.subject))];
        default:
          throw notFound();
      }
    }
    case 'subjects': {
      if (rest.length === 0) {
        if (!on('GET')) throw methodNotAllowed();
        return r.subjects({
          prefix: q.get('subjectPrefix') ?? undefined,
          deleted: bool(q, 'deleted'),
          deletedOnly: bool(q, 'deletedOnly'),
        });
      }
      const subject = rest[0]!;
      if (rest.length === 1) {
        if (on('POST')) return r.lookup(subject, schemaRequest(await req.body()), bool(q, 'deleted'));
        if (on('DELETE')) return r.deleteSubject(subject, bool(q, 'permanent'));
        throw methodNotAllowed();
      }
      if (rest[1] !== 'versions') throw notFound();
      if (rest.length === 2) {
        if (on('GET'))
          return r.versions(subject, { deleted: bool(q, 'deleted'), deletedOnly: bool(q, 'deletedOnly') });
        if (on('POST')) return r.register(subject, schemaRequest(await req.body()));
        throw methodNotAllowed();
      }
      const version = parseVersion(rest[2]!);
      if (rest.length === 3) {
        if (on('GET')) return r.version(subject, version, bool(q, 'deleted'));
        if (on('DELETE')) return r.deleteVersion(subject, version, bool(q, 'permanent'));
        throw methodNotAllowed();
      }
      if (rest.length === 4 && rest[3] === 'schema') {
        if (!on('GET')) throw methodNotAllowed();
        return new Raw((await r.version(subject, version, bool(q, 'deleted'))).schema);
      }
      if (rest.length === 4 && rest[3] === 'referencedby') {
        if (!on('GET')) throw methodNotAllowed();
        await r.version(subject, version, bool(q, 'deleted'));
        return [];
      }
      throw notFound();
    }
    case 'compatibility': {
      if (rest[0] !== 'subjects' || rest.length < 3 || rest[2] !== 'versions' || rest.length > 4)
        throw notFound();
      if (!on('POST')) throw methodNotAllowed();
      const version = rest.length === 4 ? parseVersion(rest[3]!) : undefined;
      return r.testCompatibility(rest[1]!, version, schemaRequest(await req.body()), bool(q, 'verbose'));
    }
    case 'config': {
      if (rest.length > 1) throw notFound();
      const subject = rest[0];
      if (on('GET')) return r.getConfig(subject, bool(q, 'defaultToGlobal'));
      if (on('PUT')) {
        const body = (await req.body()) as Record<string, unknown> | null;
        return r.setConfig(subject, body?.compatibility ?? body?.compatibilityLevel);
      }
      if (on('DELETE')) return r.deleteConfig(subject);
      throw methodNotAllowed();
    }
    case 'mode': {
      if (rest.length > 1) throw notFound();
      const subject = rest[0];
      if (on('GET')) return r.getMode(subject, bool(q, 'defaultToGlobal'));
      if (on('PUT')) {
        const body = (await req.body()) as Record<string, unknown> | null;
        return r.setMode(subject, body?.mode, bool(q, 'force'));
      }
      if (on('DELETE') && subject !== undefined) return r.deleteMode(subject);
      throw methodNotAllowed();
    }
    default:
      throw notFound();
  }
}

function readBody(msg: IncomingMessage, maxBytes: number): Promise<Json> {
  const type = (msg.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== '' && !ACCEPTED_TYPES.has(type)) {
    msg.resume();
    return Promise.reject(new RegistryError('UNSUPPORTED_MEDIA_TYPE', 'HTTP 415 Unsupported Media Type'));
  }
  const declared = Number(msg.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    msg.resume();
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    msg.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(tooLarge(maxBytes));
        msg.removeAllListeners('data');
        msg.resume();
        return;
      }
      chunks.push(c);
    });
    msg.on('error', reject);
    msg.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(null);
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(
          new RegistryError(
            'BAD_REQUEST',
            `Invalid JSON: ${err instanceof Error ? err.message : String(err)}`,
            {
              cause: err,
            },
          ),
        );
      }
    });
  });
}

function tooLarge(maxBytes: number): RegistryError {
  return new RegistryError('PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${maxBytes} bytes`);
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Handles one HTTP request against `registry` (exported for hosting in another server). */
export async function handleRequest(
  registry: SchemaRegistry,
  msg: IncomingMessage,
  res: ServerResponse,
  opts: { maxRequestBytes?: number; log?: (message: string) => void } = {},
): Promise<void> {
  const url = new URL(msg.url ?? '/', 'http://registry');
  let body: Promise<Json> | undefined;
  try {
    const segments = url.pathname
      .split('/')
      .filter((p) => p.length > 0)
      .map((p) => decodeURIComponent(p));
    const result = await route(registry, {
      method: (msg.method ?? 'GET').toUpperCase(),
      segments,
      query: url.searchParams,
      body: () => {
        body ??= readBody(msg, opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES);
        return body;
      },
    });
    if (!body) msg.resume();
    send(res, 200, result instanceof Raw ? result.text : JSON.stringify(result));
  } catch (err) {
    if (!body) msg.resume();
    const e =
      err instanceof RegistryError
        ? err
        : err instanceof URIError
          ? new RegistryError('NOT_FOUND', 'HTTP 404 Not Found')
          : new RegistryError(
              'STORE_ERROR',
              `Internal error: ${err instanceof Error ? err.message : String(err)}`,
              {
                cause: err,
              },
            );
    if (e.status >= 500) opts.log?.(`schema registry: ${msg.method} ${url.pathname}: ${e.message}`);
    send(res, e.status, JSON.stringify(e.toJSON()));
  }
}

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]*):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) {
    throw new RegistryError(
      'INVALID_CONFIG',
      `listen address '${listen}' is not HOST:PORT (e.g. 127.0.0.1:8081)`,
    );
  }
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
}

/**
 * Starts a registry over `client`: reads `_schemas` (creating it if needed), then serves the API
 * on `listen`. Several registries (in several processes) may share one cluster; see store.ts for
 * what they guarantee each other.
 */
export async function startRegistry(opts: RegistryServerOptions): Promise<RunningRegistry> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:8081');
  const store = await SchemaStore.open(opts.client, opts);
  const registry = new SchemaRegistry(store, opts);
  const server: Server = createServer((msg, res) => {
    void handleRequest(registry, msg, res, opts);
  });
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await store.close();
    throw new RegistryError(
      'INVALID_CONFIG',
      `Cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const address = server.address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;
  localRegistries().set(url, registry);
  let closing: Promise<void> | undefined;
  return {
    url,
    registry,
    close() {
      closing ??= (async () => {
        localRegistries().delete(url);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await store.close();
      })();
      return closing;
    },
  };
}
