/** Runs the built `trib` (bin/trib.js → dist/) as a child process, as a user's shell would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** bin/trib.js, or TRIB_TEST_BIN: a trib built elsewhere (e.g. a private outDir while others rebuild dist/). */
export const BIN = process.env.TRIB_TEST_BIN ?? fileURLToPath(new URL('../../bin/trib.js', import.meta.url));

export interface TribResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as UTF-8. */
  out: string;
}

export interface TribOptions {
  /** Written to stdin, which is then closed (an empty stdin when absent). */
  input?: string | Buffer;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** The environment without the caller's TRIB_* settings, so tests say where the log is themselves. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TRIB_') || k === 'NO_COLOR') delete env[k];
  return { ...env, ...extra };
}

export interface RunningTrib {
  child: ChildProcess;
  result: Promise<TribResult>;
}

export function startTrib(args: readonly string[], opts: TribOptions = {}): RunningTrib {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: cleanEnv(opts.env),
    stdio: 'pipe',
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdin!.on('error', () => {}); // the command may exit before reading all of it
  child.stdin!.end(opts.input ?? '');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const result = new Promise<TribResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trib ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolve({ code, signal, stdout, stderr: err, out: stdout.toString('utf8') });
    });
  });
  return { child, result };
}

export function trib(args: readonly string[], opts: TribOptions = {}): Promise<TribResult> {
  return startTrib(args, opts).result;
}

/** Polls `check` every 20 ms until it returns true, or fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
