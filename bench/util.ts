/**
 * Helpers shared by the benchmark programs: clocks, CPU time of other processes (from
 * /proc/<pid>/stat), percentiles, free ports, temporary directories, record payloads, a broker in
 * a child process, and timed runs of native tools (kcat, redis-benchmark) with their own CPU time.
 *
 * CPU time comes from Linux's /proc: utime + stime of every thread of a process, in clock ticks
 * (CLK_TCK, usually 100 per second). A measured phase must last long enough for 10 ms ticks to be
 * a small error; the benches size their runs for that.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';

/** The repository root (this file runs from dist/bench/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Monotonic milliseconds. */
export const nowMs = (): number => performance.now();

/** CLOCK_MONOTONIC in microseconds: the clock of V8's CPU profiles, so profiles can be cut to a phase. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

const CLK_TCK = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** User and system CPU time of every thread of process `pid` so far, in milliseconds (10 ms resolution). */
export function procCpuSplitMs(pid: number): { user: number; sys: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return { user: (Number(fields[11]) * 1000) / CLK_TCK, sys: (Number(fields[12]) * 1000) / CLK_TCK };
}

/**
 * Minor page faults of process `pid` so far (/proc/<pid>/stat field 10): fresh memory touched for
 * the first time. A path that allocates new buffers per request shows them, and pays for them in
 * kernel time.
 */
export function procMinorFaults(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[7]);
}

/**
 * CPU time of process `pid` so far, in milliseconds, at nanosecond resolution: the sum of its
 * live threads' run time (/proc/<pid>/task/<tid>/schedstat, the figure /proc/<pid>/stat rounds
 * to ticks). Falls back to /proc/<pid>/stat when schedstat is unavailable.
 */
export function procCpuMs(pid: number): number {
  const ns = schedstatSum(pid, 0);
  if (ns > 0) return ns / 1e6;
  const { user, sys } = procCpuSplitMs(pid);
  return user + sys;
}

/**
 * How long the threads of process `pid` have waited, runnable, for a CPU so far (ms): the
 * second field of schedstat. A phase where this grows much was slowed down by other processes
 * on the machine. 0 when schedstat is unavailable.
 */
export function procRunQueueWaitMs(pid: number): number {
  return schedstatSum(pid, 1) / 1e6;
}

/** Sum of one field of /proc/<pid>/task/<tid>/schedstat over the live threads (ns); 0 when absent. */
function schedstatSum(pid: number, field: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[field]);
      } catch {
        // the thread just exited
      }
    }
  } catch {
    return 0;
  }
  return ns;
}

/**
 * The share of time (0..1) some runnable task waited for a CPU, from /proc/pressure/cpu, since
 * `since` (a value this function returned before), and the new reading. The machine's contention
 * during a run: other sessions' work on the same cores makes every figure lower and noisier.
 */
/** Linux PSI: microseconds some task stalled on `resource` since boot (0 without PSI). */
export function psiTotalUs(resource: 'cpu' | 'io'): number {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync(`/proc/pressure/${resource}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // no PSI
  }
}

export function cpuPressure(since?: { totalUs: number; atMs: number }): {
  share: number;
  reading: { totalUs: number; atMs: number };
} {
  const totalUs = psiTotalUs('cpu');
  const reading = { totalUs, atMs: nowMs() };
  const share = since ? (totalUs - since.totalUs) / 1000 / Math.max(1, reading.atMs - since.atMs) : 0;
  return { share, reading };
}

/** This process's own CPU time (user + system) in milliseconds, at µs resolution. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The p-th percentile (0..100) of ascending `sorted` values, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** A TCP port nothing listens on right now (on `host`). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const tempDirs = new Set<string>();

/**
 * A fresh directory under the OS temp dir; `remove()` deletes it with everything inside (and so
 * does this process's exit, when a bench fails or is interrupted before removing it).
 */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `trib-bench-${prefix}-`));
  hookExit();
  tempDirs.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      tempDirs.delete(path);
    },
  };
}

/** Absolute path of an executable on PATH, or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

/**
 * `count` printable values of `size` bytes each, from a fixed seed (the same bytes every run),
 * in one buffer; with `newline` each value is followed by '\n' (kcat's line mode input).
 */
export function makePayload(size: number, count: number, newline = false): Buffer {
  const stride = size + (newline ? 1 : 0);
  const out = Buffer.allocUnsafe(stride * count);
  let seed = 0x9e3779b9;
  // One random block of letters reused at shifting offsets: cheap, and no two neighbours are equal.
  const block = Buffer.allocUnsafe(size + 4096);
  for (let i = 0; i < block.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    block[i] = 97 + ((seed >>> 16) % 26);
  }
  for (let i = 0; i < count; i++) {
    const at = i * stride;
    const from = (i * 37) % 4096;
    block.copy(out, at, from, from + size);
    if (newline) out[at + size] = 10;
  }
  return out;
}

export interface MachineInfo {
  date: string;
  nproc: number;
  cpu: string;
  node: string;
  kernel: string;
}

export function machineInfo(): MachineInfo {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  let kernel: string = process.platform;
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux
  }
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu,
    node: process.version,
    kernel,
  };
}

const children = new Set<ChildProcess>();
let exitHooked = false;

/** On exit (or SIGINT/SIGTERM): kill the children still running, then remove the temp dirs. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const cleanUp = (): void => {
    for (const c of children) c.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }
}

/**
 * Kills `child` (SIGKILL) if this process exits first — a bench that fails or is interrupted
 * must not leave a broker or a redis-server behind.
 */
export function killOnExit(child: ChildProcess): void {
  hookExit();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Waits for a child to exit; resolves with its exit code (or 128 + signal number-ish on a signal). */
export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(1);
  return new Promise((res) => child.once('exit', (code) => res(code ?? 1)));
}

// ─── A broker in a child process ────────────────────────────────────────────────────────────────

export interface BrokerProcess {
  readonly pid: number;
  /** "127.0.0.1:PORT" */
  readonly bootstrap: string;
  readonly dataDir: string;
  /** The broker process's CPU time so far (ms, ns resolution). */
  cpuMs(): number;
  /** How long its threads have waited for a CPU so far (ms). */
  runQueueWaitMs(): number;
  /** Its minor page faults so far. */
  minorFaults(): number;
  /** The same in ticks (10 ms), split into user (JavaScript, V8) and system (kernel: sockets, files) time. */
  cpuSplitMs(): { user: number; sys: number };
  /** SIGTERM, wait for a graceful exit (which writes a CPU profile when one was asked for). */
  stop(): Promise<void>;
}

export interface BrokerProcessOptions {
  dataDir: string;
  /** Write a V8 CPU profile to this file (….cpuprofile) when the broker exits. */
  cpuProfile?: string;
  /** Broker settings (`--set key=value`). */
  settings?: Readonly<Record<string, string | number>>;
}

/**
 * Used when `trib broker` is not registered in the CLI's command table yet (bin/trib.js answers
 * "not available in this release"): runs the same command module, core/cli/broker.ts, directly.
 */
const BROKER_LAUNCHER = `
import { brokerCommand } from ${JSON.stringify(join(REPO_ROOT, 'dist/core/cli/broker.js'))};
import { parseArgs } from ${JSON.stringify(join(REPO_ROOT, 'dist/core/cli/args.js'))};
import { processIO } from ${JSON.stringify(join(REPO_ROOT, 'dist/core/cli/main.js'))};
process.exitCode = await brokerCommand.run(parseArgs(brokerCommand.spec, process.argv.slice(1)), processIO());
`;

let launcherNeeded: boolean | undefined;

/** Starts `node bin/trib.js broker --data-dir D --listen 127.0.0.1:0` and waits until it listens. */
export async function startBrokerProcess(opts: BrokerProcessOptions): Promise<BrokerProcess> {
  if (launcherNeeded === undefined) {
    const out = (() => {
      try {
        return execFileSync(process.execPath, [join(REPO_ROOT, 'bin/trib.js'), 'broker', '--help'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (err) {
        return String((err as { stderr?: string }).stderr ?? '');
      }
    })();
    launcherNeeded = /not available/.test(out);
  }
  const brokerArgs = ['--data-dir', opts.dataDir, '--listen', '127.0.0.1:0'];
  for (const [k, v] of Object.entries(opts.settings ?? {})) brokerArgs.push('--set', `${k}=${v}`);
  const nodeArgs: string[] = [];
  if (opts.cpuProfile) {
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${dirname(opts.cpuProfile)}`,
      `--cpu-prof-name=${basename(opts.cpuProfile)}`,
    );
  }
  const args = launcherNeeded
    ? [...nodeArgs, '--input-type=module', '-e', BROKER_LAUNCHER, '--', ...brokerArgs]
    : [...nodeArgs, join(REPO_ROOT, 'bin/trib.js'), 'broker', ...brokerArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO_ROOT });
  killOnExit(child);
  let stderr = '';
  const bootstrap = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`broker did not start within 20 s:\n${stderr}`)), 20_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const m = /tributary broker \d+ listening on (\S+?:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`broker exited with ${code} before listening:\n${stderr}`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    bootstrap,
    dataDir: opts.dataDir,
    cpuMs: () => procCpuMs(pid),
    cpuSplitMs: () => procCpuSplitMs(pid),
    runQueueWaitMs: () => procRunQueueWaitMs(pid),
    minorFaults: () => procMinorFaults(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await done;
      clearTimeout(timer);
    },
  };
}

// ─── Timed runs of native tools ─────────────────────────────────────────────────────────────────

export interface ToolRun {
  code: number;
  wallMs: number;
  /** The tool's own CPU time (user + system), ms. */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd args` with stdin from `stdinFile` (or nothing) and measures its wall time and its own
 * CPU time: a `sh` wrapper waits for it, then reports its children's CPU time (cutime + cstime of
 * /proc/$$/stat) on fd 3. `onStdout` sees stdout as it arrives; `stdoutFile` receives it;
 * otherwise stdout is kept (text).
 */
export async function runTool(
  cmd: string,
  args: readonly string[],
  opts: {
    stdinFile?: string;
    onStdout?: (chunk: Buffer) => void;
    discardStdout?: boolean;
    /** Write stdout into this file (nothing passes through this process while the tool runs). */
    stdoutFile?: string;
  } = {},
): Promise<ToolRun> {
  const script = '"$@" <&4; rc=$?; cat /proc/$$/stat >&3; exit $rc';
  const stdinFd = opts.stdinFile ? openSync(opts.stdinFile, 'r') : openSync('/dev/null', 'r');
  const stdoutFd = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : undefined;
  const start = nowMs();
  const child = spawn('sh', ['-c', script, 'sh', cmd, ...args], {
    stdio: ['ignore', stdoutFd ?? (opts.discardStdout ? 'ignore' : 'pipe'), 'pipe', 'pipe', stdinFd],
  });
  closeSync(stdinFd);
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  let stdout = '';
  let stderr = '';
  let stat = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (opts.onStdout) opts.onStdout(chunk);
    else stdout += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
    stat += chunk.toString('utf8');
  });
  const closed = new Promise<void>((res) => child.once('close', () => res()));
  const code = await exited(child);
  const wallMs = nowMs() - start;
  await closed;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime is field 16, cstime field 17 (fields[0] is field 3).
  const cpuMs = ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
  return { code, wallMs, cpuMs, stdout, stderr };
}

// ─── Formatting ─────────────────────────────────────────────────────────────────────────────────

/** 1234567 → "1,234,567"; small values keep 2–3 significant decimals. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** Whether a result meets its goal: true, false, or undefined when it has none. */
export function goalMet(r: BenchResult): boolean | undefined {
  if (!r.goal) return undefined;
  const v = r.goal.of === 'ratio' ? r.ratio?.value : r.value;
  if (v === undefined) return undefined;
  return (r.goal.direction ?? 'min') === 'min' ? v >= r.goal.value : v <= r.goal.value;
}

/** The goal as text: "≥ 3× redis XADD", "≤ 0.3 µs/record". */
export function goalText(r: BenchResult): string {
  if (!r.goal) return '';
  const op = (r.goal.direction ?? 'min') === 'min' ? '≥' : '≤';
  return r.goal.of === 'ratio'
    ? `${op} ${r.goal.value}× ${r.ratio?.of ?? ''}`.trim()
    : `${op} ${r.goal.value} ${r.unit}`;
}

/** One aligned table: name, value, unit, ratio to the baseline, goal and whether it is met, note. */
export function printTable(results: readonly BenchResult[], title?: string): void {
  if (title) console.log(`\n## ${title}`);
  const nameWidth = Math.max(20, ...results.map((r) => r.name.length));
  for (const r of results) {
    const ratio = r.ratio ? `${r.ratio.value.toFixed(2)}× ${r.ratio.of}` : '';
    const met = goalMet(r);
    const goal = r.goal ? `${met ? 'MET' : 'MISSED'} (${goalText(r)})` : '';
    console.log(
      [
        r.name.padEnd(nameWidth),
        formatNumber(r.value).padStart(12),
        r.unit.padEnd(9),
        ratio.padEnd(20),
        goal.padEnd(32),
        r.note ?? '',
      ]
        .join(' ')
        .trimEnd(),
    );
  }
}

/** Logs progress to stderr (the table goes to stdout). */
export function progress(msg: string): void {
  process.stderr.write(`  · ${msg}\n`);
}

// ─── CPU profiles ───────────────────────────────────────────────────────────────────────────────

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** "file.ts-or-js:function:line", or a V8 pseudo-frame such as "(garbage collector)". */
  frame: string;
  /** Share of the busy (non-idle) samples in this frame itself. */
  selfShare: number;
  /** Share of the busy samples with this frame anywhere on the stack. */
  totalShare: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  entries: ProfileEntry[];
}

/**
 * Self and inclusive time per function of a V8 .cpuprofile, as shares of the busy time (samples
 * outside "(idle)"), sorted by self time. Frames are named by file (relative to the repository),
 * function and line. With `window` (CLOCK_MONOTONIC µs, see monotonicUs) only the samples taken
 * within it count: a phase of the run, without the process's start-up and shutdown.
 */
export function summarizeCpuProfile(file: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const names = new Map<number, string>();
  const nameOf = (id: number): string => {
    let name = names.get(id);
    if (name === undefined) {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      if (!url) name = functionName || '(anonymous)';
      else {
        const path = url.replace(/^file:\/\//, '');
        const rel = path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length + 1) : path;
        name = `${rel}:${functionName || '(anonymous)'}:${lineNumber + 1}`;
      }
      names.set(id, name);
    }
    return name;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const leaf = nameOf(id);
    if (leaf === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = nameOf(at);
      if (name === '(root)' || seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + dt);
    }
  }
  const entries = [...total.keys()].map((frame) => ({
    frame,
    selfShare: (self.get(frame) ?? 0) / busy,
    totalShare: (total.get(frame) ?? 0) / busy,
  }));
  entries.sort((a, b) => b.selfShare - a.selfShare);
  return { busyMs: busy / 1000, idleMs: idle / 1000, entries };
}

/** A profile summary as lines of text: the top frames by self time, then by inclusive time. */
export function formatProfile(title: string, summary: ProfileSummary, top = 15): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `${title}: ${formatNumber(summary.busyMs)} ms busy, ${formatNumber(summary.idleMs)} ms idle`,
  ];
  lines.push('  self    total  frame (by self time)');
  for (const e of summary.entries.slice(0, top)) {
    lines.push(`  ${pct(e.selfShare)} ${pct(e.totalShare)}  ${e.frame}`);
  }
  const inclusive = [...summary.entries]
    .filter((e) => !e.frame.startsWith('('))
    .sort((a, b) => b.totalShare - a.totalShare)
    .slice(0, top);
  lines.push('  self    total  frame (by inclusive time)');
  for (const e of inclusive) lines.push(`  ${pct(e.selfShare)} ${pct(e.totalShare)}  ${e.frame}`);
  return lines.join('\n');
}
