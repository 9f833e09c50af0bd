/**
 * A schema registry client with caches, speaking Confluent's REST API (so it works with
 * Tributary's registry and Confluent's). Asynchronous methods for ordinary code; `*Sync` methods
 * for the synchronous serde and converter interfaces, which answer from the caches, then from a
 * registry running in this process (no HTTP), then by blocking HTTP (sync-http.ts).
 *
 * Caches are bounded (`cacheCapacity`, default 1000 entries each): ids → schemas (ids never
 * change meaning), (subject, schema) → id, (subject, schema) → version.
 */
import avro from 'avsc';
import { canonicalForm } from './avro.js';
import { errorFromResponse, RegistryError } from './errors.js';
import type { SchemaRegistry } from './registry.js';
import { CONTENT_TYPE, localRegistries } from './server.js';
import { requestSync } from './sync-http.js';

export interface RegistryClientConfig {
  /** `http://host:port`, or several separated by commas (tried in turn). */
  url: string;
  cacheCapacity?: number;
  requestTimeoutMs?: number;
  /** `user:password` for HTTP basic authentication (Confluent's `basic.auth.user.info`). */
  basicAuth?: string;
}

export interface RegisteredSchema {
  id: number;
  /** The schema text as the registry stores it. */
  schema: string;
  schemaType: string;
}

/** A Map that forgets its oldest entries past `capacity`. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}

const enc = encodeURIComponent;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '[::]']);

export class RegistryClient {
  readonly urls: readonly string[];
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly byId: Lru<number, RegisteredSchema>;
  private readonly idBySubjectSchema: Lru<string, number>;
  private readonly types: Lru<number, avro.Type>;

  constructor(config: RegistryClientConfig | string) {
    const c = typeof config === 'string' ? { url: config } : config;
    this.urls = c.url
      .split(',')
      .map((u) => u.trim().replace(/\/+$/, ''))
      .filter((u) => u.length > 0);
    if (this.urls.length === 0 || this.urls.some((u) => !/^https?:\/\//.test(u))) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `schema.registry.url '${c.url}' is not http(s)://host:port[,...]`,
      );
    }
    this.timeoutMs = c.requestTimeoutMs ?? 30_000;
    this.headers = { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE };
    if (c.basicAuth) this.headers.authorization = `Basic ${Buffer.from(c.basicAuth).toString('base64')}`;
    const cap = c.cacheCapacity ?? 1000;
    this.byId = new Lru(cap);
    this.idBySubjectSchema = new Lru(cap);
    this.types = new Lru(cap);
  }

  /**
   * The registry serving our URL in this process, if there is one: the same URL, or the same port
   * under another name of this machine (localhost for 127.0.0.1…). Blocking HTTP to it would
   * wait for an answer this thread cannot give.
   */
  private local(): SchemaRegistry | undefined {
    const all = localRegistries();
    if (all.size === 0) return undefined;
    for (const u of this.urls) {
      const exact = all.get(u);
      if (exact) return exact;
      const want = new URL(u);
      for (const [url, registry] of all) {
        const have = new URL(url);
        if (have.port === want.port && LOCAL_HOSTS.has(want.hostname) && LOCAL_HOSTS.has(have.hostname)) {
          return registry;
        }
      }
    }
    return undefined;
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    let last: unknown;
    for (const base of this.urls) {
      let res: Response;
      try {
        res = await fetch(base + path, {
          method,
          headers: this.headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        last = err;
        continue;
      }
      const text = await res.text();
      const parsed = parseJson(text);
      if (!res.ok) throw errorFromResponse(res.status, parsed, `${method} ${path}`);
      return parsed;
    }
    throw new RegistryError(
      'REGISTRY_UNAVAILABLE',
      `${method} ${path}: no schema registry answered (${this.urls.join(', ')}): ${last instanceof Error ? last.message : String(last)}`,
      { cause: last },
    );
  }

  private requestBlocking(method: string, path: string, body?: unknown): unknown {
    let last: unknown;
    for (const base of this.urls) {
      let res: { status: number; body: string };
      try {
        res = requestSync(
          method,
          base + path,
          body === undefined ? undefined : JSON.stringify(body),
          this.headers,
          this.timeoutMs,
        );
      } catch (err) {
        last = err;
        continue;
      }
      const parsed = parseJson(res.body);
      if (res.status >= 400) throw errorFromResponse(res.status, parsed, `${method} ${path}`);
      return parsed;
    }
    throw new RegistryError(
      'REGISTRY_UNAVAILABLE',
      `${method} ${path}: no schema registry answered (${this.urls.join(', ')}): ${last instanceof Error ? last.message : String(last)}`,
      { cause: last },
    );
  }

  // --- asynchronous ----------------------------------------------------------------------------

  /** Registers `schema` under `subject` (or finds it there); its id. */
  async register(subject: string, schema: string, schemaType = 'AVRO'): Promise<number> {
    const key = `${subject}\0${canonicalForm(schema, schemaType)}`;
    const cached = this.idBySubjectSchema.get(key);
    if (cached !== undefined) return cached;
    const body = await this.request(
      'POST',
      `/subjects/${enc(subject)}/versions`,
      schemaBody(schema, schemaType),
    );
    const id = (body as { id: number }).id;
    this.idBySubjectSchema.set(key, id);
    return id;
  }

  /** The id of `schema` under `subject` without registering it (40401/40403 when absent). */
  async lookup(
    subject: string,
    schema: string,
    schemaType = 'AVRO',
  ): Promise<{ id: number; version: number }> {
    const body = (await this.request(
      'POST',
      `/subjects/${enc(subject)}`,
      schemaBody(schema, schemaType),
    )) as {
      id: number;
      version: number;
    };
    this.idBySubjectSchema.set(`${subject}\0${canonicalForm(schema, schemaType)}`, body.id);
    return { id: body.id, version: body.version };
  }

  async getSchemaById(id: number): Promise<RegisteredSchema> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const body = (await this.request('GET', `/schemas/ids/${id}`)) as { schema: string; schemaType?: string };
    return this.remember(id, body);
  }

  /** The latest (live) version of a subject. */
  async latest(
    subject: string,
  ): Promise<{ id: number; version: number; schema: string; schemaType: string }> {
    const b = (await this.request('GET', `/subjects/${enc(subject)}/versions/latest`)) as {
      id: number;
      version: number;
      schema: string;
      schemaType?: string;
    };
    this.remember(b.id, b);
    return { id: b.id, version: b.version, schema: b.schema, schemaType: b.schemaType ?? 'AVRO' };
  }

  async subjects(): Promise<string[]> {
    return (await this.request('GET', '/subjects')) as string[];
  }

  async setCompatibility(subject: string | undefined, level: string): Promise<void> {
    await this.request('PUT', subject === undefined ? '/config' : `/config/${enc(subject)}`, {
      compatibility: level,
    });
  }

  // --- synchronous -----------------------------------------------------------------------------

  /** {@link register}, blocking; against a registry in this process, only finds what is already registered. */
  registerSync(subject: string, schema: string, schemaType = 'AVRO'): number {
    const canonical = canonicalForm(schema, schemaType);
    const key = `${subject}\0${canonical}`;
    const cached = this.idBySubjectSchema.get(key);
    if (cached !== undefined) return cached;
    const local = this.local();
    let id: number;
    if (local) {
      const hit = local.store.state.versions(subject, false).find((e) => e.canonical === canonical);
      if (!hit) {
        throw new RegistryError(
          'REGISTRY_UNAVAILABLE',
          `Schema not registered under subject '${subject}', and it cannot be registered synchronously with the ` +
            'registry running in this same thread: register it first (await registryClient.register(...), or ' +
            "a serde's prepare()), or run the registry in another process",
        );
      }
      id = hit.id;
    } else {
      id = (
        this.requestBlocking(
          'POST',
          `/subjects/${enc(subject)}/versions`,
          schemaBody(schema, schemaType),
        ) as { id: number }
      ).id;
    }
    this.idBySubjectSchema.set(key, id);
    return id;
  }

  /** {@link lookup}, blocking (no registration). */
  lookupSync(subject: string, schema: string, schemaType = 'AVRO'): number {
    const canonical = canonicalForm(schema, schemaType);
    const key = `${subject}\0${canonical}`;
    const cached = this.idBySubjectSchema.get(key);
    if (cached !== undefined) return cached;
    const local = this.local();
    let id: number;
    if (local) {
      const hit = local.store.state.versions(subject, false).find((e) => e.canonical === canonical);
      if (!hit) throw new RegistryError('SCHEMA_NOT_FOUND', `Schema not found under subject '${subject}'`);
      id = hit.id;
    } else {
      id = (
        this.requestBlocking('POST', `/subjects/${enc(subject)}`, schemaBody(schema, schemaType)) as {
          id: number;
        }
      ).id;
    }
    this.idBySubjectSchema.set(key, id);
    return id;
  }

  /** {@link latest}, blocking. */
  latestSync(subject: string): { id: number; version: number; schema: string; schemaType: string } {
    const local = this.local();
    if (local) {
      const e = local.store.state.versions(subject, false).pop();
      if (!e) throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
      return { id: e.id, version: e.version, schema: e.schema, schemaType: e.schemaType ?? 'AVRO' };
    }
    const b = this.requestBlocking('GET', `/subjects/${enc(subject)}/versions/latest`) as {
      id: number;
      version: number;
      schema: string;
      schemaType?: string;
    };
    this.remember(b.id, b);
    return { id: b.id, version: b.version, schema: b.schema, schemaType: b.schemaType ?? 'AVRO' };
  }

  /** {@link getSchemaById}, blocking. */
  getSchemaByIdSync(id: number): RegisteredSchema {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const local = this.local();
    if (local) {
      const s = local.store.state.schemaById(id);
      if (!s) throw new RegistryError('SCHEMA_NOT_FOUND', `Schema ${id} not found`);
      return this.remember(id, s);
    }
    return this.remember(
      id,
      this.requestBlocking('GET', `/schemas/ids/${id}`) as { schema: string; schemaType?: string },
    );
  }

  /** The avsc type of a schema id (parsed once). */
  avroTypeSync(id: number): avro.Type {
    let t = this.types.get(id);
    if (!t) {
      const s = this.getSchemaByIdSync(id);
      if (s.schemaType !== 'AVRO') {
        throw new RegistryError('SERIALIZATION_FAILED', `Schema ${id} is ${s.schemaType}, not AVRO`);
      }
      t = avro.Type.forSchema(JSON.parse(s.schema) as avro.Schema, { registry: {} });
      this.types.set(id, t);
    }
    return t;
  }

  private remember(id: number, s: { schema: string; schemaType?: string }): RegisteredSchema {
    const r = { id, schema: s.schema, schemaType: s.schemaType ?? 'AVRO' };
    this.byId.set(id, r);
    return r;
  }
}

function schemaBody(schema: string, schemaType: string): Record<string, unknown> {
  return schemaType === 'AVRO' ? { schema } : { schema, schemaType };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
