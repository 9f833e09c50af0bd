/**
 * The peer: Redis Streams on the same machine, in the same run. redis-server (installed with
 * apt-get when missing) runs on a free port in a temporary directory with `--appendonly yes
 * --appendfsync everysec`, no RDB snapshots and no automatic AOF rewrite. Measured:
 *
 * - XADD of 100-byte values, pipelined, by redis-benchmark (native, like kcat: one connection,
 *   100 commands in flight) and by a raw-RESP Node client (10,000 commands in flight);
 *   the better of the two is the baseline the broker is compared with.
 * - Catch-up read of the whole stream with `XRANGE key (last-id + COUNT 10000`, one request
 *   at a time (what a consumer catching up does), from the Node client; and the same XRANGE
 *   from redis-benchmark (native). The better of the two is the consume baseline.
 * - redis-server's own CPU time per record for each (the broker's is set next to it).
 *
 *   npm run build && node dist/bench/redis.js [--quick]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { BenchResult } from './types.js';
import {
  exited,
  formatNumber,
  freePort,
  killOnExit,
  makePayload,
  nowMs,
  procCpuMs,
  progress,
  runTool,
  tempDir,
  which,
} from './util.js';

export interface RedisFigures {
  /** Best XADD rate (records/s) of the two clients: the baseline for produce. */
  xaddPerSec: number;
  /** Best read rate (records/s) of the two clients: the baseline for consume. */
  readPerSec: number;
  /** redis-server's CPU time per record (µs) in those best runs. */
  xaddCpuUs: number;
  readCpuUs: number;
}

export interface RedisBenchOptions {
  quick?: boolean;
}

const VALUE_SIZE = 100;
const KEY = 'bench';

/** Installs redis-server (Debian's package) when it is missing. Throws when that is impossible. */
export function ensureRedis(): { server: string; benchmark: string | null } {
  let server = which('redis-server');
  if (!server) {
    progress('redis-server not found: apt-get install redis-server');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-q', 'redis-server'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
    server = which('redis-server');
    if (!server) throw new Error('redis-server is still missing after apt-get install redis-server');
  }
  return { server, benchmark: which('redis-benchmark') };
}

interface RedisServer {
  pid: number;
  port: number;
  version: string;
  stop(): Promise<void>;
}

async function startRedis(server: string, dir: string): Promise<RedisServer> {
  const port = await freePort();
  // biome-ignore format: one option per line reads better
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
    // No background AOF rewrite (a forked child writing the whole stream) during the broker's runs.
    '--auto-aof-rewrite-percentage', '0',
    '--daemonize', 'no', '--protected-mode', 'no', '--logfile', '',
  ];
  const child: ChildProcess = spawn(server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`redis-server did not start:\n${out}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
  const version = /version=([\d.]+)/.exec(out)?.[1] ?? /v=([\d.]+)/.exec(out)?.[1] ?? '?';
  return {
    pid: child.pid!,
    port,
    version,
    async stop() {
      const done = exited(child);
      child.kill('SIGTERM');
      await done;
    },
  };
}

// ─── A minimal RESP client: pipelined writes, an incremental reader that builds no values ──────

/**
 * Counts top-level replies without materialising them. For stream replies (XRANGE) it also keeps
 * the id of the last entry seen and the number of entries of the last top-level array.
 */
class RespReader {
  private rest: Buffer | null = null;
  /** Remaining element counts of the open arrays, outermost first. */
  private readonly open: number[] = [];
  /** Inside a bulk string: bytes still to skip, its CRLF included. */
  private inBulk = false;
  private bulkLeft = 0;
  private bulkCapture = false;
  private captured: Buffer[] = [];
  replies = 0;
  errors: string[] = [];
  lastId = '';
  lastArrayLength = 0;

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      if (this.inBulk) {
        const take = Math.min(this.bulkLeft, end - pos);
        if (this.bulkCapture) this.captured.push(buf.subarray(pos, pos + take));
        pos += take;
        this.bulkLeft -= take;
        if (this.bulkLeft > 0) continue; // the rest comes with the next chunk
        this.inBulk = false;
        if (this.bulkCapture) {
          const all = Buffer.concat(this.captured);
          this.lastId = all.toString('latin1', 0, all.length - 2);
          this.captured = [];
          this.bulkCapture = false;
        }
        this.completeValue();
        continue;
      }
      const cr = buf.indexOf(13, pos);
      if (cr < 0 || cr + 1 >= end) break;
      const type = buf[pos]!;
      const start = pos + 1;
      pos = cr + 2;
      if (type === 0x24 /* $ */ || type === 0x2a /* * */) {
        let n = 0;
        let negative = false;
        for (let i = start; i < cr; i++) {
          const c = buf[i]!;
          if (c === 0x2d) negative = true;
          else n = n * 10 + (c - 48);
        }
        if (negative) n = -n;
        if (type === 0x24) {
          if (n < 0) {
            this.completeValue();
            continue;
          }
          this.inBulk = true;
          this.bulkLeft = n + 2;
          // The entry id: first element of an entry array, inside the top-level array.
          this.bulkCapture = this.open.length === 2 && this.open[1] === 2;
        } else {
          if (this.open.length === 0) this.lastArrayLength = Math.max(0, n);
          if (n <= 0) this.completeValue();
          else this.open.push(n);
        }
      } else {
        if (type === 0x2d /* - */) this.errors.push(buf.toString('latin1', start, cr));
        this.completeValue();
      }
    }
    if (pos < end) this.rest = buf.subarray(pos);
  }

  private completeValue(): void {
    for (;;) {
      const depth = this.open.length;
      if (depth === 0) {
        this.replies++;
        return;
      }
      const left = --this.open[depth - 1]!;
      if (left > 0) return;
      this.open.pop();
    }
  }
}

class RespClient {
  readonly reader = new RespReader();
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      const w = this.wake;
      this.wake = null;
      w?.();
    });
  }

  static open(port: number): Promise<RespClient> {
    return new Promise((res, rej) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('error', rej);
      socket.once('connect', () => res(new RespClient(socket)));
    });
  }

  /** Writes; resolves when the socket accepted it (back-pressure). */
  write(data: Buffer | string): Promise<void> {
    return new Promise((res) => {
      if (this.socket.write(data)) res();
      else this.socket.once('drain', () => res());
    });
  }

  /** Resolves once `replies` top-level replies have arrived in total. */
  async until(replies: number): Promise<void> {
    while (this.reader.replies < replies) {
      await new Promise<void>((res) => {
        this.wake = res;
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function command(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Pipelined XADD of `count` 100-byte values; at most `window` commands unanswered. */
async function xaddNode(port: number, count: number, window: number): Promise<number> {
  const client = await RespClient.open(port);
  const perWrite = 500;
  const values = makePayload(VALUE_SIZE, perWrite);
  const chunk = Buffer.concat(
    Array.from({ length: perWrite }, (_, i) =>
      command('XADD', KEY, '*', 'v', values.subarray(i * VALUE_SIZE, (i + 1) * VALUE_SIZE)),
    ),
  );
  const commandSize = chunk.length / perWrite; // every command has the same length
  const start = nowMs();
  let sent = 0;
  while (sent < count) {
    if (sent - client.reader.replies >= window) await client.until(sent - window + perWrite);
    const n = Math.min(perWrite, count - sent);
    await client.write(n === perWrite ? chunk : chunk.subarray(0, n * commandSize));
    sent += n;
  }
  await client.until(sent);
  const ms = nowMs() - start;
  if (client.reader.errors.length > 0) throw new Error(`XADD failed: ${client.reader.errors[0]}`);
  client.close();
  return ms;
}

/** Reads the whole stream, COUNT entries per XRANGE, each request after the previous answer. */
async function xrangeCatchUp(port: number, expected: number, count: number): Promise<number> {
  const client = await RespClient.open(port);
  const start = nowMs();
  let read = 0;
  let from = '-';
  for (;;) {
    const before = client.reader.replies;
    await client.write(command('XRANGE', KEY, from, '+', 'COUNT', String(count)));
    await client.until(before + 1);
    const n = client.reader.lastArrayLength;
    read += n;
    if (n < count) break;
    from = `(${client.reader.lastId}`;
  }
  const ms = nowMs() - start;
  if (client.reader.errors.length > 0) throw new Error(`XRANGE failed: ${client.reader.errors[0]}`);
  if (read !== expected) throw new Error(`XRANGE catch-up read ${read} entries, expected ${expected}`);
  client.close();
  return ms;
}

async function simple(port: number, ...args: string[]): Promise<void> {
  const client = await RespClient.open(port);
  await client.write(command(...args));
  await client.until(1);
  client.close();
}

export interface Run {
  perSec: number;
  /** redis-server CPU time per record, µs. */
  cpuUs: number;
}

/** The run with the highest rate, and a note listing every run's rate. */
export function best(runs: readonly Run[]): Run & { note: string } {
  const top = runs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
  const note =
    runs.length > 1 ? `best of ${runs.length}: ${runs.map((r) => formatNumber(r.perSec)).join(', ')}` : '';
  return { ...top, note };
}

/** redis-benchmark's rate (requests/s) from its --csv output. */
function csvRate(run: { code: number; stdout: string; stderr: string }, command: string): number {
  // CSV: "test","rps",...; the rate is the second field of the data line.
  const line = run.stdout.split('\n').find((l) => l.startsWith(`"${command}`));
  const rps = line ? Number(line.split(',')[1]!.replace(/"/g, '')) : Number.NaN;
  if (run.code !== 0 || !Number.isFinite(rps)) {
    throw new Error(`redis-benchmark failed (${run.code}): ${run.stderr || run.stdout}`);
  }
  return rps;
}

/**
 * A running redis-server and the four measurements. The broker bench keeps one open and runs a
 * Redis measurement right before each of its own, so that both see the same machine: on a machine
 * shared with other work, figures taken a minute apart are not comparable.
 */
export interface RedisPeer {
  readonly version: string;
  /** `records` XADDs into a fresh stream by redis-benchmark (native) and by the Node client. */
  xadd(records: number): Promise<{ native: Run | null; node: Run }>;
  /** Reads the stream the last xadd() left: Node catch-up with XRANGE, and redis-benchmark's XRANGE. */
  read(records: number): Promise<{ catchUp: Run; native: Run | null }>;
  close(): Promise<void>;
}

export async function openRedisPeer(): Promise<RedisPeer> {
  const { server, benchmark } = ensureRedis();
  const dir = tempDir('redis');
  const redis = await startRedis(server, dir.path).catch((err: unknown) => {
    dir.remove();
    throw err;
  });
  /** Runs `fn` and returns its rate and redis-server's CPU time per record. */
  const measure = async (count: number, fn: () => Promise<number>): Promise<Run> => {
    const cpu0 = procCpuMs(redis.pid);
    const perSec = await fn();
    return { perSec, cpuUs: ((procCpuMs(redis.pid) - cpu0) * 1000) / count };
  };
  const value = makePayload(VALUE_SIZE, 1).toString('latin1');
  let closed = false;
  return {
    version: redis.version,
    async xadd(records) {
      const n = records.toLocaleString('en-US');
      let native: Run | null = null;
      if (benchmark) {
        progress(`redis: redis-benchmark XADD ${n} × ${VALUE_SIZE} B`);
        await simple(redis.port, 'DEL', KEY);
        native = await measure(records, async () =>
          // biome-ignore format: flags and their values in pairs
          csvRate(await runTool(benchmark, [
            '-h', '127.0.0.1', '-p', String(redis.port), '-c', '1', '-P', '100',
            '-n', String(records), '--csv', 'XADD', KEY, '*', 'v', value,
          ]), 'XADD'),
        );
      }
      // Our raw-RESP client, more in flight. The stream it leaves is the one read() reads.
      progress(`redis: Node RESP client XADD ${n} × ${VALUE_SIZE} B`);
      await simple(redis.port, 'DEL', KEY);
      const node = await measure(
        records,
        async () => (records * 1000) / (await xaddNode(redis.port, records, 10_000)),
      );
      return { native, node };
    },
    async read(records) {
      progress(`redis: XRANGE catch-up of ${records.toLocaleString('en-US')} entries`);
      const catchUp = await measure(
        records,
        async () => (records * 1000) / (await xrangeCatchUp(redis.port, records, 10_000)),
      );
      // The same reads from a native client, to see past the Node client's parsing: redis-benchmark
      // repeats one XRANGE COUNT 10000 (from the start: an XRANGE costs the same wherever it starts).
      let native: Run | null = null;
      if (benchmark) {
        const requests = Math.max(30, Math.round(records / 10_000));
        progress(`redis: redis-benchmark XRANGE COUNT 10000 × ${requests}`);
        native = await measure(requests * 10_000, async () => {
          // biome-ignore format: flags and their values in pairs
          const run = await runTool(benchmark, [
            '-h', '127.0.0.1', '-p', String(redis.port), '-c', '1', '-P', '1',
            '-n', String(requests), '--csv', 'XRANGE', KEY, '-', '+', 'COUNT', '10000',
          ]);
          return csvRate(run, 'XRANGE') * 10_000;
        });
      }
      return { catchUp, native };
    },
    async close() {
      if (closed) return;
      closed = true;
      await redis.stop();
      dir.remove();
    },
  };
}

/** How many 100-byte records each Redis measurement moves. */
export const redisRecords = (quick: boolean | undefined): number => (quick ? 300_000 : 1_000_000);

/**
 * The Redis Streams peer on its own: one round of the four measurements (the broker bench
 * repeats them, paired with its own runs), with redis-server's CPU time per record.
 */
export async function runRedisBench(
  opts: RedisBenchOptions = {},
): Promise<{ results: BenchResult[]; figures: RedisFigures; version: string }> {
  const records = redisRecords(opts.quick);
  const peer = await openRedisPeer();
  const results: BenchResult[] = [];
  const push = (name: string, run: Run | null, note: string): void => {
    if (!run) return;
    results.push({ name, value: run.perSec, unit: 'records/s', note });
    results.push({ name: `${name}: redis-server CPU`, value: run.cpuUs, unit: 'µs/record' });
  };
  try {
    const w = await peer.xadd(records);
    push('redis XADD 100 B (redis-benchmark)', w.native, '1 connection, pipeline 100, AOF everysec');
    push('redis XADD 100 B (Node RESP)', w.node, '1 connection, 10,000 in flight, AOF everysec');
    const r = await peer.read(records);
    push('redis XRANGE catch-up 100 B (Node RESP)', r.catchUp, 'COUNT 10000 per request, one at a time');
    push('redis XRANGE COUNT 10000 (redis-benchmark)', r.native, 'one request at a time, from the start');
    const xadd = best([w.node, ...(w.native ? [w.native] : [])]);
    const read = best([r.catchUp, ...(r.native ? [r.native] : [])]);
    return {
      results,
      figures: {
        xaddPerSec: xadd.perSec,
        readPerSec: read.perSec,
        xaddCpuUs: xadd.cpuUs,
        readCpuUs: read.cpuUs,
      },
      version: peer.version,
    };
  } finally {
    await peer.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { results, version } = await runRedisBench({ quick: process.argv.includes('--quick') });
  console.log(`redis-server ${version}`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(42)} ${formatNumber(r.value).padStart(12)} ${r.unit.padEnd(10)} ${r.note ?? ''}`,
    );
  }
}
