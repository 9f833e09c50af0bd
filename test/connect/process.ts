/**
 * `trib connect standalone|distributed` as a child process. Until the command is registered in
 * the CLI's table (bin/trib.js answers "not available"), the same command module,
 * dist/core/cli/connect.js, runs through a small launcher. Workers started here are killed when
 * the test file ends.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'trib.js');
const LAUNCHER = `
import { connectCommand } from ${JSON.stringify(join(ROOT, 'dist/core/cli/connect.js'))};
import { parseArgs } from ${JSON.stringify(join(ROOT, 'dist/core/cli/args.js'))};
import { processIO } from ${JSON.stringify(join(ROOT, 'dist/core/cli/main.js'))};
const [verb, ...rest] = process.argv.slice(1);
const cmd = connectCommand.subcommands.find((c) => c.spec.name === 'connect ' + verb);
process.exitCode = await cmd.run(parseArgs(cmd.spec, rest), processIO());
`;

let registered: boolean | undefined;
function commandArgs(args: readonly string[]): string[] {
  if (registered === undefined) {
    let out = '';
    try {
      out = execFileSync(process.execPath, [BIN, 'connect', '--help'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      out = String((err as { stderr?: string }).stderr ?? '');
    }
    registered = !/not available/.test(out);
  }
  return registered ? [BIN, 'connect', ...args] : ['--input-type=module', '-e', LAUNCHER, '--', ...args];
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();
afterAll(async () => {
  for (const c of running) c.kill('SIGKILL');
});

export async function startWorkerProcess(
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, commandArgs(args), {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let log = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', () => running.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker did not start in ${timeoutMs} ms:\n${log}`)),
      timeoutMs,
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before listening:\n${log}`));
    });
  });
  return {
    child,
    url,
    output: () => log,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}
