/**
 * `npm run bench`: runs every benchmark module and prints one table per area, then every goal of
 * the issue with MET or MISSED. Benchmarks are programs, not timed tests: rates and ratios against
 * a baseline measured in the same run (Redis Streams for the broker).
 *
 *   npm run bench                       # everything (about 5 minutes)
 *   npm run bench -- --quick            # smaller runs (under a minute)
 *   npm run bench -- --only broker,latency
 *   npm run bench -- --json out.json    # also write the results as JSON
 *   npm run bench -- --markdown out.md  # and as Markdown tables (for bench/RESULTS.md)
 *   npm run bench -- --profile DIR      # broker runs under --cpu-prof; top frames printed
 *
 * Modules: records (bench/records.ts), log (bench/log.ts), redis, broker, latency, the layers
 * above: streams, connect, postgres, s3, mirror, registry, and the replicated cluster: cluster
 * (bench/<name>.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './types.js';
import {
  cpuPressure,
  formatNumber,
  goalMet,
  goalText,
  machineInfo,
  printTable,
  progress,
  psiTotalUs,
  tempDir,
} from './util.js';

/** Benchmarks of the layers above the broker, and the function each exports. */
const EXTRA_MODULES = [
  ['streams', 'runStreamsBench'],
  ['connect', 'runConnectBench'],
  ['postgres', 'runPostgresBench'],
  ['s3', 'runS3Bench'],
  ['mirror', 'runMirrorBench'],
  ['registry', 'run'],
  ['cluster', 'runClusterBench'],
] as const;

const MODULES = [
  'records',
  'log',
  'redis',
  'broker',
  'latency',
  ...EXTRA_MODULES.map(([name]) => name),
] as const;
type ModuleName = (typeof MODULES)[number];

interface Options {
  quick: boolean;
  only: Set<ModuleName>;
  json?: string;
  markdown?: string;
  profileDir?: string;
  /** Internal: run the selected module here and write its sections to this file (see runIsolated). */
  childJson?: string;
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { quick: false, only: new Set(MODULES) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--only') {
      const names = value().split(',');
      for (const n of names) {
        if (!(MODULES as readonly string[]).includes(n)) {
          throw new Error(`--only: unknown module '${n}' (modules: ${MODULES.join(', ')})`);
        }
      }
      opts.only = new Set(names as ModuleName[]);
    } else if (arg === '--json') opts.json = resolve(value());
    else if (arg === '--markdown') opts.markdown = resolve(value());
    else if (arg === '--profile') opts.profileDir = resolve(value());
    else if (arg === '--child-json') opts.childJson = resolve(value());
    else if (arg === '--help' || arg === '-h') {
      console.log(
        `usage: npm run bench -- [--quick] [--only ${MODULES.join(',')}] [--json FILE] [--markdown FILE] [--profile DIR]`,
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  return opts;
}

/**
 * Loads a bench module by name at run time, so that a module another engineer has not finished
 * (or that fails to load) costs its own section, not the whole run.
 */
async function load<T>(file: string): Promise<T> {
  const url = new URL(file, import.meta.url).href;
  return (await import(url)) as T;
}

/**
 * Writes back what earlier modules left dirty in the page cache (the broker module writes and
 * deletes gigabytes), drops the page cache, then waits until the machine is quiet — no task
 * waiting for the disk or a CPU for a whole second (Linux PSI) — for at least 1 s and at most
 * 15 s, so that a module does not pay for its predecessor's aftermath.
 */
function settleDisk(): void {
  try {
    execFileSync('sync', { stdio: 'ignore', timeout: 60_000 });
  } catch {
    // no sync(1): nothing to settle
  }
  // …and drops the clean page cache when allowed (root), so every module starts from the same
  // cache state (each warms what it reads itself). Its effect on the latency tail after the broker
  // module was not established (one run 2.2 ms, the next 6.6 ms); running each module in its own
  // process (runIsolated) is what brought that tail down.
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
  } catch {
    // not root: the cache stays
  }
  const sleep = (ms: number): void => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  };
  const stalledUs = (): number => psiTotalUs('io') + psiTotalUs('cpu');
  sleep(1000);
  const deadline = performance.now() + 14_000;
  let before = stalledUs();
  while (performance.now() < deadline) {
    sleep(1000);
    const now = stalledUs();
    // under 1% of the second stalled (or no PSI at all): quiet
    if (now - before < 10_000) return;
    before = now;
  }
}

interface Section {
  title: string;
  results: BenchResult[];
  error?: string;
  ms: number;
  /** Share of the time some task on the machine waited for a CPU (PSI), during this section. */
  cpuPressure: number;
}

export async function runAll(opts: Options): Promise<Section[]> {
  const sections: Section[] = [];
  const section = async (title: string, fn: () => Promise<BenchResult[]>): Promise<void> => {
    progress(`${title}…`);
    settleDisk();
    const start = performance.now();
    const pressure0 = cpuPressure().reading;
    try {
      const results = await fn();
      const cpu = cpuPressure(pressure0).share;
      sections.push({ title, results, ms: performance.now() - start, cpuPressure: cpu });
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${title} failed: ${error}\n`);
      const cpu = cpuPressure(pressure0).share;
      sections.push({
        title,
        results: [],
        error: String(err),
        ms: performance.now() - start,
        cpuPressure: cpu,
      });
    }
  };
  const quick = opts.quick;

  if (opts.only.has('records')) {
    await section('records (bench/records.ts)', async () => {
      const mod = await load<{ runRecordsBench(): Promise<BenchResult[]> }>('./records.js');
      return mod.runRecordsBench();
    });
  }
  if (opts.only.has('log')) {
    await section('log (bench/log.ts)', async () => {
      const mod = await load<{ runLogBench?(o: { dir: string; quick: boolean }): Promise<BenchResult[]> }>(
        './log.js',
      );
      if (!mod.runLogBench) throw new Error('bench/log.ts does not export runLogBench yet');
      const dir = tempDir('log');
      try {
        return await mod.runLogBench({ dir: dir.path, quick });
      } finally {
        dir.remove();
      }
    });
  }
  if (opts.only.has('redis')) {
    await section('redis streams (bench/redis.ts)', async () => {
      const mod = await load<typeof import('./redis.js')>('./redis.js');
      const out = await mod.runRedisBench({ quick });
      return out.results.map((r, i) =>
        i === 0 ? { ...r, note: `redis-server ${out.version}; ${r.note ?? ''}` } : r,
      );
    });
  }
  if (opts.only.has('broker')) {
    await section('broker (bench/broker.ts)', async () => {
      const mod = await load<typeof import('./broker.js')>('./broker.js');
      return mod.runBrokerBench({ quick, profileDir: opts.profileDir });
    });
  }
  if (opts.only.has('latency')) {
    await section('latency (bench/latency.ts)', async () => {
      const mod = await load<typeof import('./latency.js')>('./latency.js');
      return mod.runLatencyBench({ quick });
    });
  }
  // The layers above the broker: each module exports one `run…Bench({ quick })`.
  for (const [name, fn] of EXTRA_MODULES) {
    if (!opts.only.has(name)) continue;
    await section(`${name} (bench/${name}.ts)`, async () => {
      const mod = await load<
        Record<string, ((o: { quick?: boolean }) => Promise<BenchResult[]>) | undefined>
      >(`./${name}.js`);
      const run = mod[fn];
      if (!run) throw new Error(`bench/${name}.ts does not export ${fn}`);
      return run({ quick });
    });
  }
  return sections;
}

/**
 * Several modules: each runs in a fresh node process (this file with `--only <module>`), one after
 * the other. A module run after another in one process inherited its heap — the broker module's
 * catch-up consumers grow V8's young generation, and the latency module then measured GC pauses
 * up to 8 ms and p99 6–8 ms at 100,000/s instead of 1 ms and 2–3 ms.
 */
async function runIsolated(opts: Options): Promise<Section[]> {
  const sections: Section[] = [];
  const dir = tempDir('run');
  try {
    for (const name of MODULES) {
      if (!opts.only.has(name)) continue;
      const out = `${dir.path}/${name}.json`;
      const args = [fileURLToPath(import.meta.url), '--only', name, '--child-json', out];
      if (opts.quick) args.push('--quick');
      if (opts.profileDir) args.push('--profile', opts.profileDir);
      const code = await new Promise<number | null>((res, rej) => {
        const child = spawn(process.execPath, args, { stdio: 'inherit' });
        child.once('error', rej);
        child.once('exit', (c) => res(c));
      });
      try {
        sections.push(...(JSON.parse(readFileSync(out, 'utf8')) as Section[]));
      } catch {
        sections.push({
          title: name,
          results: [],
          error: `the ${name} module's process exited with ${code}`,
          ms: 0,
          cpuPressure: 0,
        });
      }
    }
  } finally {
    dir.remove();
  }
  return sections;
}

/** "CPU contention 12%": the share of the time some task waited for a CPU (Linux PSI). */
function contention(share: number): string {
  return `CPU contention ${Math.round(share * 100)}%`;
}

async function main(argv: readonly string[]): Promise<number> {
  const opts = parseOptions(argv);
  if (opts.childJson) {
    writeFileSync(opts.childJson, JSON.stringify(await runAll(opts)));
    return 0;
  }
  const machine = machineInfo();
  const load0 = loadavg()[0]!;
  const before = cpuPressure().reading;
  await new Promise((res) => setTimeout(res, 1_000));
  const idleContention = cpuPressure(before).share;
  console.log(`# tributary benchmarks${opts.quick ? ' (--quick)' : ''}`);
  console.log(
    `${machine.date} · ${machine.nproc} × ${machine.cpu} · node ${machine.node} · linux ${machine.kernel} · ` +
      `load average at start ${load0.toFixed(2)}, ${contention(idleContention)} before the first bench`,
  );
  if (idleContention > 0.1 || load0 > 0.5 * machine.nproc) {
    console.log(
      'warning: other processes are using the CPUs: figures will be low and noisy. "CPU contention" below is ' +
        'the share of the time some task waited for a CPU (Linux PSI), the benches’ own processes included.',
    );
  }
  const start = performance.now();
  const sections = opts.only.size > 1 ? await runIsolated(opts) : await runAll(opts);
  for (const s of sections) {
    printTable(s.results, `${s.title} — ${(s.ms / 1000).toFixed(1)} s, ${contention(s.cpuPressure)}`);
    if (s.error) console.log(`FAILED: ${s.error}`);
  }
  const goals = sections.flatMap((s) => s.results.filter((r) => r.goal));
  if (goals.length > 0) {
    console.log('\n## goals');
    for (const r of goals) {
      const shown =
        r.goal!.of === 'ratio' ? `${r.ratio?.value.toFixed(2)}×` : `${r.value.toPrecision(3)} ${r.unit}`;
      console.log(`${goalMet(r) ? 'MET   ' : 'MISSED'} ${r.name}: ${shown} (goal ${goalText(r)})`);
    }
  }
  console.log(
    `\n${((performance.now() - start) / 1000).toFixed(1)} s in all; load average at end ${loadavg()[0]!.toFixed(2)}`,
  );
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ machine, quick: opts.quick, sections }, null, 2)}\n`);
    console.log(`results written to ${opts.json}`);
  }
  if (opts.markdown) {
    writeFileSync(opts.markdown, markdown(sections, machine, opts.quick));
    console.log(`tables written to ${opts.markdown}`);
  }
  return sections.some((s) => s.error) ? 1 : 0;
}

/** The sections as Markdown tables: figure, value, ratio to the baseline, goal, note. */
function markdown(
  sections: readonly Section[],
  machine: ReturnType<typeof machineInfo>,
  quick: boolean,
): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = [
    `Run of ${machine.date}${quick ? ' (--quick)' : ''}: ${machine.nproc} × ${machine.cpu}, node ${machine.node}, linux ${machine.kernel}.`,
    '',
  ];
  for (const s of sections) {
    lines.push(`### ${s.title}`, '', `${(s.ms / 1000).toFixed(1)} s; ${contention(s.cpuPressure)}.`, '');
    if (s.error) lines.push(`Failed: ${cell(s.error)}`, '');
    if (s.results.length === 0) continue;
    lines.push('| figure | value | vs baseline | goal | note |', '|---|---:|---|---|---|');
    for (const r of s.results) {
      const ratio = r.ratio ? `${r.ratio.value.toFixed(2)}× ${r.ratio.of}` : '';
      const met = goalMet(r);
      const goal = r.goal ? `${goalText(r)}: **${met ? 'met' : 'missed'}**` : '';
      lines.push(
        `| ${cell(r.name)} | ${formatNumber(r.value)} ${cell(r.unit)} | ${cell(ratio)} | ${cell(goal)} | ${cell(r.note ?? '')} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
