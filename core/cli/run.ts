/**
 * `trib run JOB.ts`: runs a streams job module as a worker of its application.
 *
 * The module default-exports a job (`defineJob({ applicationId, build })`); TypeScript is loaded
 * directly through tsx's `tsImport` (esbuild per file, no type check, nothing written to disk),
 * JavaScript with a plain import. Several `trib run` of one job share its partitions (one consumer
 * group per application id). Progress goes to stderr: records/s in and out, lag per partition
 * and a restore progress bar on a terminal; plain lines every few seconds when piped.
 * SIGINT/SIGTERM: commit, flush, close the stores, leave the group, exit 0.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobDefinition, JobHandle, RuntimeEvent } from '../../streams/index.js';
import type { ParsedArgs } from './args.js';
import { type CliIO, type LeafCommand, listFlag, stringFlag } from './command.js';
import { resolveClientConfig, withClient, withConnectionFlags } from './connection.js';
import { CliError } from './errors.js';
import { formatCount, parseKeyValue, perSecond } from './text.js';

const NAME = 'run';
const TTY_REFRESH_MS = 500;
const PLAIN_REFRESH_MS = 5000;
const BAR_WIDTH = 30;

/** Loads a job module (TypeScript through tsx) and returns its default export, checked. */
export async function loadJob(file: string): Promise<JobDefinition> {
  const path = isAbsolute(file) ? file : resolve(process.cwd(), file);
  const url = pathToFileURL(path).href;
  let mod: unknown;
  try {
    if (/\.[cm]?tsx?$/.test(path)) {
      const { tsImport } = await import('tsx/esm/api');
      mod = await tsImport(url, import.meta.url);
    } else {
      mod = await import(url);
    }
  } catch (err) {
    throw new CliError(`cannot load ${file}: ${err instanceof Error ? err.message : String(err)}`, 1, {
      cause: err,
    });
  }
  const { isJobDefinition } = await import('../../streams/job.js');
  let job: unknown = (mod as { default?: unknown }).default;
  if (!isJobDefinition(job)) job = (job as { default?: unknown } | undefined)?.default;
  if (!isJobDefinition(job)) {
    throw new CliError(
      `${file} must default-export a job: export default defineJob({ applicationId, build(builder) { ... } })`,
    );
  }
  return job;
}

/** `--set key=value` → job config overrides (numbers stay numbers). */
function configOverrides(args: ParsedArgs): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const text of listFlag(args, 'set')) {
    const [k, v] = parseKeyValue(NAME, 'set', text);
    out[k] = /^\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

class Progress {
  private lastIn = 0;
  private lastOut = 0;
  private lastAt = performance.now();
  private restoring = new Map<string, { restored: number; total: number }>();
  private lineOpen = false;

  constructor(private readonly io: CliIO) {}

  get tty(): boolean {
    return this.io.stderr.isTTY === true;
  }

  private write(line: string): void {
    if (this.tty) {
      this.io.stderr.write(`\r\u001b[2K${line}`);
      this.lineOpen = true;
    } else {
      this.io.stderr.write(`${line}\n`);
    }
  }

  /** Ends the status line before something else is printed. */
  println(text: string): void {
    if (this.lineOpen) this.io.stderr.write('\r\u001b[2K');
    this.lineOpen = false;
    this.io.stderr.write(`${text}\n`);
  }

  event(e: RuntimeEvent): void {
    switch (e.type) {
      case 'started':
        this.println(
          `reading ${e.inputs.join(', ')} (${e.partitions} partition${e.partitions === 1 ? '' : 's'})`,
        );
        return;
      case 'assigned':
        this.println(`tasks: ${e.tasks.length > 0 ? e.tasks.join(', ') : 'none'}`);
        return;
      case 'restore': {
        const k = `${e.task}/${e.store}`;
        this.restoring.set(k, { restored: e.restored, total: e.total });
        const done = e.restored >= e.total;
        if (this.tty) {
          const frac = e.total > 0 ? Math.min(1, e.restored / e.total) : 1;
          const filled = Math.round(frac * BAR_WIDTH);
          this.write(
            `restoring ${e.store} (task ${e.task}) [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${formatCount(e.restored)}/${formatCount(e.total)}`,
          );
        } else if (done) {
          this.write(`restored ${e.store} (task ${e.task}): ${formatCount(e.total)} records`);
        }
        if (done) this.restoring.delete(k);
        return;
      }
      case 'log':
        this.println(e.message);
        return;
      default:
        return;
    }
  }

  async tick(handle: JobHandle): Promise<void> {
    const m = handle.metrics();
    const now = performance.now();
    const ms = now - this.lastAt;
    const rin = perSecond(m.recordsIn - this.lastIn, ms);
    const rout = perSecond(m.recordsOut - this.lastOut, ms);
    this.lastIn = m.recordsIn;
    this.lastOut = m.recordsOut;
    this.lastAt = now;
    let lagText = '';
    try {
      const lag = await handle.lag();
      const total = lag.reduce((s, l) => s + l.lag, 0);
      const parts = lag
        .filter((l) => !l.topic.endsWith('-repartition'))
        .map((l) => `${l.partition}:${formatCount(l.lag)}`);
      lagText = ` lag ${formatCount(total)}${parts.length > 0 && parts.length <= 16 ? ` [${parts.join(' ')}]` : ''}`;
    } catch {
      // lag is informational
    }
    this.write(
      `in ${formatCount(rin)} rec/s, out ${formatCount(rout)} rec/s, total in ${formatCount(m.recordsIn)}${lagText}` +
        `${m.lateRecordsDropped > 0 ? `, late dropped ${formatCount(m.lateRecordsDropped)}` : ''}, tasks ${m.tasks.join(',') || '-'}`,
    );
  }
}

async function run(args: ParsedArgs, io: CliIO): Promise<number | undefined> {
  const file = args.positionals[0]!;
  const config = resolveClientConfig(NAME, args, io.env);
  const overrides = configOverrides(args);
  const job = await loadJob(file);
  const { runJob } = await import('../../streams/index.js');
  const progress = new Progress(io);
  const quiet = args.flags.quiet === true;
  let stop: (() => void) | undefined;
  const stopped = new Promise<void>((r) => {
    stop = r;
  });
  const offSignal = io.onSignal(() => stop?.());
  try {
    return await withClient(config, async (client) => {
      const applicationId = stringFlag(args, 'application-id');
      let handle: JobHandle;
      try {
        handle = await runJob(job, {
          client,
          stateDir: stringFlag(args, 'state-dir') ?? '.trib-state',
          ...(applicationId !== undefined ? { applicationId } : {}),
          config: overrides,
          onEvent: (e) => {
            if (!quiet || e.type === 'log') progress.event(e);
          },
        });
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err), 1, { cause: err });
      }
      const timer = quiet
        ? undefined
        : setInterval(() => void progress.tick(handle), progress.tty ? TTY_REFRESH_MS : PLAIN_REFRESH_MS);
      try {
        await Promise.race([stopped, handle.done]);
      } catch (err) {
        await handle.close().catch(() => undefined);
        throw new CliError(
          `job ${handle.applicationId} failed: ${err instanceof Error ? err.message : String(err)}`,
          1,
          {
            cause: err,
          },
        );
      } finally {
        if (timer) clearInterval(timer);
      }
      await handle.close();
      const m = handle.metrics();
      if (!quiet)
        progress.println(`stopped: ${formatCount(m.recordsIn)} records in, ${formatCount(m.recordsOut)} out`);
      return 0;
    });
  } finally {
    offSignal();
  }
}

export const runCommand: LeafCommand = {
  kind: 'command',
  spec: {
    name: NAME,
    summary:
      'Run a streams job (a module whose default export is defineJob({...}); TypeScript runs directly). ' +
      'Instances of one job share its partitions; SIGTERM commits, closes the stores and leaves the group.',
    usage: 'trib run JOB.ts [--bootstrap B | --data-dir D] [--state-dir S] [--application-id ID]',
    positionals: [1, 1],
    flags: withConnectionFlags({
      'state-dir': { type: 'string', arg: 'DIR', help: 'where state stores live (default ./.trib-state)' },
      'application-id': { type: 'string', arg: 'ID', help: "override the job's application id" },
      set: { type: 'list', arg: 'KEY=VALUE', help: 'job config, e.g. commit.interval.ms=100' },
      quiet: { type: 'bool', help: 'no progress output' },
    }),
  },
  run,
};
