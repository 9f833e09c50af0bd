/**
 * Interactive queries over HTTP (node:http), served when `application.server` is set:
 *
 *   GET /v1/stores/STORE/KEY  → 200 {"key","value","partition"} from this instance;
 *                               404 {"error","owner"} where owner is the instance holding KEY
 *                               (its host:port; null when it is this one and the key is absent)
 *   GET /v1/instances         → [{"endpoint","partitions"}] every instance of the application
 *
 * Instances advertise their endpoint in their consumer's client.id (`<application.id>@host:port`),
 * so the group's description (Admin.describeGroups) is the registry: no extra topic.
 * Keys in the URL are strings; the owning partition is the default partitioner's of the key as
 * the store serializes it (matches the topic when the repartition/source used the same serde).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Admin } from '../../core/client/types.js';
import { partitionOf } from './partition-of.js';

const MAX_URL_BYTES = 8192;

export interface QueryHost {
  readonly applicationId: string;
  readonly endpoint: string;
  partitions(): number;
  /** The key's bytes as the store keeps them, or undefined for an unknown store. */
  keyBytes(store: string, key: string): Buffer | undefined;
  /** The value from a local task (undefined: not here). */
  lookup(store: string, key: string): { value: unknown; partition: number } | undefined;
  localPartitions(): number[];
  admin(): Admin;
}

export interface InstanceInfo {
  endpoint: string;
  partitions: number[];
}

export async function instances(host: QueryHost): Promise<InstanceInfo[]> {
  const admin = host.admin();
  try {
    const [group] = await admin.describeGroups([host.applicationId]);
    const out: InstanceInfo[] = [];
    for (const m of group?.members ?? []) {
      const at = m.clientId.indexOf('@');
      if (at < 0) continue;
      const parts = [...new Set(m.assignment.map((a) => a.partition))].sort((a, b) => a - b);
      out.push({ endpoint: m.clientId.slice(at + 1), partitions: parts });
    }
    return out;
  } finally {
    await admin.close();
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(host: QueryHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' || !req.url || req.url.length > MAX_URL_BYTES)
    return reply(res, 400, { error: 'GET only' });
  const url = new URL(req.url, 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'v1')
    return reply(res, 404, { error: 'unknown path; try /v1/instances or /v1/stores/STORE/KEY' });
  if (parts[1] === 'instances' && parts.length === 2) return reply(res, 200, await instances(host));
  if (parts[1] === 'stores' && parts.length === 4) {
    const [, , store, key] = parts as [string, string, string, string];
    const bytes = host.keyBytes(store, key);
    if (!bytes) return reply(res, 404, { error: `no store '${store}' on this instance` });
    const local = host.lookup(store, key);
    if (local) return reply(res, 200, { key, value: local.value, partition: local.partition });
    const partition = partitionOf(bytes, host.partitions());
    if (host.localPartitions().includes(partition))
      return reply(res, 404, { error: 'no such key', owner: null, partition });
    const owner = (await instances(host)).find((i) => i.partitions.includes(partition));
    return reply(res, 404, { error: 'held by another instance', owner: owner?.endpoint ?? null, partition });
  }
  return reply(res, 404, { error: 'unknown path; try /v1/instances or /v1/stores/STORE/KEY' });
}

/** Listens on host:port; resolves with the server and the bound port (port 0 picks one). */
export function startQueryServer(
  hostPort: string,
  host: () => QueryHost,
): Promise<{ server: Server; port: number; hostname: string }> {
  const i = hostPort.lastIndexOf(':');
  const hostname = hostPort.slice(0, i);
  const port = Number(hostPort.slice(i + 1));
  const server = createServer((req, res) => {
    handle(host(), req, res).catch((err: unknown) =>
      reply(res, 500, { error: err instanceof Error ? err.message : String(err) }),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port, hostname });
    });
  });
}
