/**
 * Brokers for tests that talk the Kafka protocol: in this process (`startTestBroker`) or as a
 * `trib broker` child process (`startBrokerProcess`, which can be killed and restarted on the
 * same data directory and port). Both listen on 127.0.0.1 and clean up after themselves:
 * started inside a test they stop when it finishes; started in beforeAll/describe they stop in
 * this file's afterAll. Their temporary data directories are removed with them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, onTestFinished } from 'vitest';
import { type RunningBroker, startBroker } from '../../core/broker/node.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'trib.js');

/** Broker settings that make tests fast without changing what a client sees. */
export const TEST_BROKER_CONFIG: Readonly<Record<string, string | number | boolean>> = {
  'group.initial.rebalance.delay.ms': 0,
  'offsets.topic.num.partitions': 4,
};

/** Cleanups of things started outside a test, run when this test file ends. */
const fileCleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  const all = fileCleanups.splice(0).reverse();
  for (const c of all) await c().catch(() => {});
});

/** Runs `cleanup` when the current test finishes, or at the end of the file outside a test. */
function registerCleanup(cleanup: () => Promise<void>): void {
  try {
    onTestFinished(cleanup);
  } catch {
    fileCleanups.push(cleanup);
  }
}

function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'trib-interop-'));
}

export interface TestBrokerOptions {
  /** Broker settings on top of TEST_BROKER_CONFIG. */
  config?: Readonly<Record<string, string | number | boolean>>;
  /** A data directory to use (kept afterwards); default a fresh temporary one (removed). */
  dataDir?: string;
  /** HOST:PORT; default 127.0.0.1:0. */
  listen?: string;
}

export interface TestBroker extends RunningBroker {
  readonly dataDir: string;
}

/** A broker in this process on 127.0.0.1 and a free port, stopped (and its data removed) afterwards. */
export async function startTestBroker(opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const dataDir = opts.dataDir ?? tempDataDir();
  let running: RunningBroker;
  try {
    running = await startBroker({
      dataDir,
      listen: opts.listen ?? '127.0.0.1:0',
      config: { ...TEST_BROKER_CONFIG, ...opts.config },
    });
  } catch (err) {
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  registerCleanup(async () => {
    await running.close();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return { ...running, dataDir };
}

/** A TCP port that was free a moment ago (listen on 0, read the port, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface BrokerProcessOptions {
  /** Broker settings (passed as --set key=value) on top of TEST_BROKER_CONFIG. */
  config?: Readonly<Record<string, string | number | boolean>>;
  dataDir?: string;
  /** Port to listen on; default 0 (a free one). Restarts reuse the port first given out. */
  port?: number;
  /** How long to wait for the "listening on" line. Default 30 s. */
  startTimeoutMs?: number;
}

export interface BrokerProcess {
  readonly dataDir: string;
  /** "127.0.0.1:PORT" of the running process; the same after restart(). */
  readonly bootstrap: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the broker wrote on stderr, across restarts. */
  output(): string;
  /** Sends `signal` (default SIGTERM) and waits for the process to exit. */
  kill(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the running process (SIGTERM) if any, then starts a new one on the same data dir and port. */
  restart(): Promise<void>;
}

const LISTENING = /tributary broker \d+ listening on (\S+):(\d+)/;

/** `node bin/trib.js broker` as a child process (dist/ is built by vitest's globalSetup). */
export async function startBrokerProcess(opts: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const config = { ...TEST_BROKER_CONFIG, ...opts.config };
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  let log = '';
  let child!: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({
    code: null,
    signal: null,
  });
  let port = opts.port ?? 0;
  let host = '127.0.0.1';

  const launch = async (): Promise<void> => {
    const args = [BIN, 'broker', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`];
    for (const [k, v] of Object.entries(config)) args.push('--set', `${k}=${v}`);
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const stderrStart = log.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`trib broker did not start in ${startTimeoutMs} ms:\n${log.slice(stderrStart)}`));
      }, startTimeoutMs);
      proc.stderr!.setEncoding('utf8');
      proc.stderr!.on('data', (text: string) => {
        log += text;
        const m = LISTENING.exec(log.slice(stderrStart));
        if (m) {
          clearTimeout(timer);
          host = m[1]!;
          port = Number(m[2]);
          resolve();
        }
      });
      proc.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`trib broker exited (${code ?? signal}) before listening:\n${log.slice(stderrStart)}`),
        );
      });
    });
  };

  const kill = async (
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 15_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await launch();
  } catch (err) {
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  registerCleanup(async () => {
    await kill('SIGTERM', 5_000);
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    dataDir,
    get bootstrap() {
      return `${host}:${port}`;
    },
    get port() {
      return port;
    },
    get child() {
      return child;
    },
    output: () => log,
    kill,
    async restart() {
      await kill('SIGTERM');
      // The port was ours a moment ago; if something grabbed it in between, try a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (err) {
          if (attempt >= 5 || !/EADDRINUSE/.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    },
  };
}
