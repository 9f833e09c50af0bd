/**
 * Shared plumbing for tests that run a cluster of real `trib broker` child processes (each started
 * with --controller-quorum): free ports, starting a node and waiting until it runs in the cluster,
 * collecting its stderr, killing it, and retrying a cluster start that lost a port (EADDRINUSE).
 * Each test file still builds its own brokers' arguments (ports, proxies, extra --set flags).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { BIN, ROOT } from '../cli/spawn.js';

/** A broker process of a cluster test; `args` follow `trib broker`. */
export interface ClusterNode {
  id: number;
  args: string[];
  child: ChildProcess | null;
  /** Everything the node wrote on stderr, across restarts. */
  stderr: string;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (listen on 0, read the port, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The environment without the caller's TRIB_* settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TRIB_')) delete env[k];
  return env;
}

/** Starts (or restarts) a node; resolves once it says it runs in the cluster (registered, unfenced). */
export function startNode(node: ClusterNode, timeoutMs = 20_000): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'broker', ...node.args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  node.child = child;
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`broker ${node.id} did not join in ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    const marker = `broker ${node.id} is running in the cluster`;
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      node.stderr += d.toString();
      if (seen.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`broker ${node.id} exited (${code ?? signal}):\n${seen}`));
    });
  });
}

/** Sends `signal` to the node's process, if it still runs, and waits for it to exit. */
export function killNode(node: ClusterNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const child = node.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * Free ports are found by binding port 0 and closing it, so another test running at the same time
 * may take one before a broker binds it: `start` failing with EADDRINUSE is retried (on new ports)
 * up to three attempts in all, SIGKILLing the nodes it started (removed from `nodes`) in between.
 */
export async function withPortRetry<T>(nodes: ClusterNode[], start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
      for (const n of nodes.splice(0)) await killNode(n, 'SIGKILL');
    }
  }
}

/** Where one node of a three-node cluster listens and keeps its data, and its `trib broker` arguments. */
export interface NodeSpec {
  id: number;
  /** Its Kafka listener on 127.0.0.1. */
  port: number;
  dataDir: string;
  args: string[];
}

/**
 * Nodes 1–3 on six free ports, each a broker and a controller of one quorum, data in root/d<id>;
 * `extraArgs` (e.g. --set flags) follow the listener and quorum arguments of every node.
 */
export async function threeNodeSpecs(root: string, extraArgs: readonly string[] = []): Promise<NodeSpec[]> {
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort());
  const quorum = [1, 2, 3].map((id) => `${id}@127.0.0.1:${ports[id + 2]}`).join(',');
  return [1, 2, 3].map((id) => {
    const dataDir = path.join(root, `d${id}`);
    return {
      id,
      port: ports[id - 1]!,
      dataDir,
      args: [
        ...['--node-id', String(id), '--data-dir', dataDir],
        ...['--listen', `127.0.0.1:${ports[id - 1]}`],
        ...['--controller-listen', `127.0.0.1:${ports[id + 2]}`, '--controller-quorum', quorum],
        ...extraArgs,
      ],
    };
  });
}

/**
 * Polls f until it returns a value (errors count as "not yet"), every pollMs; fails after
 * timeoutMs with what was awaited and the last error.
 */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined>,
  timeoutMs: number,
  pollMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (${(last as Error)?.message ?? 'no error'})`);
}
