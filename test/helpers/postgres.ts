/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temporary directory,
 * started with `wal_level=logical` (plus replication slots and WAL senders) on a free TCP port
 * of 127.0.0.1, its unix socket inside the same directory, trust authentication.
 *
 * Speed over durability: `fsync=off`, `synchronous_commit=off`, `full_page_writes=off` — a crashed
 * test server is thrown away anyway, so nothing here needs to survive a power loss.
 *
 * When we run as root, the data directory is chowned to the `postgres` OS user and initdb/pg_ctl
 * run through `runuser -u postgres --` (PostgreSQL refuses to run as root). The binaries come from
 * `/usr/lib/postgresql/<newest version>/bin`; when there are none and we are root, the Debian
 * `postgresql` package is installed first (apt-get update, then install).
 *
 * `usePostgres()` starts one server for the calling test file and stops it in `afterAll`;
 * `startPostgres()` (what benchmarks use) leaves stopping to the caller.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The directory holding the data directory and the unix socket. */
  readonly dir: string;
  /** Where pg_recvlogical, psql and friends live. */
  readonly binDir: string;
  /** `{ host, port, user, database }` for `pg.Client`. */
  connection(database?: string): pg.ClientConfig;
  /** Runs SQL (one or more statements) in `database` (default `postgres`) and returns the rows of the last. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<R[]>;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The bin directory of the newest installed PostgreSQL, installing the Debian package when missing (root only). */
export function postgresBinDir(): string {
  const find = (): string | null => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return null;
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions.length > 0 ? join(base, versions[0]!, 'bin') : null;
  };
  const found = find();
  if (found) return found;
  if (!isRoot())
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); install the postgresql package',
    );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'pipe', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { stdio: 'pipe', env });
  const after = find();
  if (!after)
    throw new Error('installed the postgresql package but found no initdb under /usr/lib/postgresql');
  return after;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
function runPg(bin: string, args: string[]): string {
  const cmd = isRoot() ? 'runuser' : bin;
  const argv = isRoot() ? ['-u', 'postgres', '--', bin, ...args] : args;
  try {
    return execFileSync(cmd, argv, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: START_TIMEOUT_MS,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export async function startPostgres(
  opts: { settings?: Readonly<Record<string, string>> } = {},
): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'trib-pg-'));
  const data = join(dir, 'data');
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  runPg(join(binDir, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    wal_level: 'logical',
    max_replication_slots: '20',
    max_wal_senders: '20',
    max_connections: '100',
    // Test servers are disposable: trade durability for speed.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '64MB',
    wal_sender_timeout: '60s',
    TimeZone: 'UTC',
    ...opts.settings,
  };
  const o = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  runPg(join(binDir, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    o,
    'start',
  ]);
  let stopped = false;
  const host = '127.0.0.1';
  const user = 'postgres';
  const connection = (database = 'postgres'): pg.ClientConfig => ({ host, port, user, database });
  const server: PostgresServer = {
    host,
    port,
    user,
    dir,
    binDir,
    connection,
    async query<R extends Record<string, unknown>>(
      sql: string,
      params?: unknown[],
      database?: string,
    ): Promise<R[]> {
      const c = new pg.Client(connection(database));
      await c.connect();
      try {
        const res = (await c.query(sql, params)) as unknown as pg.QueryResult<R> | pg.QueryResult<R>[];
        return Array.isArray(res) ? (res[res.length - 1]?.rows ?? []) : res.rows;
      } finally {
        await c.end();
      }
    },
    async createDatabase(name: string): Promise<void> {
      await server.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      try {
        runPg(join(binDir, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

type Hook = (fn: () => unknown, timeoutMs?: number) => void;

/**
 * One server for the calling test file: started in beforeAll, stopped and removed in afterAll.
 * Pass vitest's hooks (this module does not import vitest, so benchmarks can use it):
 * `const pgServer = usePostgres({ beforeAll, afterAll });` then `pgServer()` inside tests.
 */
export function usePostgres(
  hooks: { beforeAll: Hook; afterAll: Hook },
  opts: { settings?: Readonly<Record<string, string>> } = {},
): () => PostgresServer {
  let server: PostgresServer | null = null;
  hooks.beforeAll(async () => {
    server = await startPostgres(opts);
  }, START_TIMEOUT_MS * 2);
  hooks.afterAll(() => server?.stop());
  return () => {
    if (!server) throw new Error('the PostgreSQL server is not started yet (call it inside a test or hook)');
    return server;
  };
}
