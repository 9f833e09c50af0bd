/**
 * A registry over the embedded log in a temporary directory, and a small HTTP helper. Everything
 * started here is closed when the test (or, from beforeAll, the file) finishes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { connect, type KafkaClient } from '../../core/client/index.js';
import { type RunningRegistry, startRegistry } from '../../registry/index.js';

const fileCleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of fileCleanups.splice(0).reverse()) await c().catch(() => {});
});

export function cleanup(fn: () => Promise<void>): void {
  try {
    onTestFinished(fn);
  } catch {
    fileCleanups.push(fn);
  }
}

export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trib-registry-'));
  cleanup(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestRegistry extends RunningRegistry {
  client: KafkaClient;
  dataDir: string;
}

/** A client on the embedded log in `dataDir` (default a fresh one) and a registry over it. */
export async function startTestRegistry(dataDir = tempDataDir()): Promise<TestRegistry> {
  const client = await connect({ 'data.dir': dataDir });
  const running = await startRegistry({ client, listen: '127.0.0.1:0' });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await running.close();
    await client.close();
  };
  cleanup(close);
  return { ...running, close, client, dataDir };
}

export interface Reply {
  status: number;
  contentType: string | null;
  body: unknown;
}

/** One request; the body is sent as JSON (a string as it is). */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, contentType: res.headers.get('content-type'), body: parsed };
}

/** A record schema with the given fields. */
export function record(name: string, fields: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'record', name, fields, ...extra });
}

/**
 * `trib registry` in a child process over a fresh embedded data dir, for the synchronous
 * (blocking HTTP) paths of serdes and converters, which cannot target a registry in their own
 * thread. Killed when the test or file finishes.
 */
export async function startRegistryProcess(): Promise<{ url: string }> {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const dataDir = tempDataDir();
  const script = fileURLToPath(new URL('./fixtures/registry-process.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, '--data-dir', dataDir, '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  cleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry process did not start:\n${log}`)), 30_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry process exited (${code}):\n${log}`));
    });
  });
}
