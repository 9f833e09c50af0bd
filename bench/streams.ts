/**
 * Streams benchmark: end-to-end records/s of two jobs on the embedded log, each against a
 * hand-written loop doing the same work over the same records with the client API directly
 * (consumer → the same functions → producer), measured in the same run:
 *
 *   1. stateless: filter + mapValues + to() (goal ≥ 1,000,000 records/s);
 *   2. word count: split, groupBy (repartition), count in a LevelDB store, to()
 *      (goal ≥ 300,000 records/s, counted in input words); the baseline counts in a Map and
 *      produces the same running counts without repartition or store;
 *   3. each as a ratio of its baseline (goal ≥ 0.3).
 *
 * Timing: N records are pre-loaded into the input topic; the clock runs from the job's start
 * until the output topic holds every result.
 *
 * The baselines poll as many records at a time as a job does by default (max.poll.records 1000,
 * as Kafka Streams) and send with sendAll() (no per-record metadata), as a job's runtime does, so
 * the ratios compare like with like. (Before, they polled 5000 and used sendBatch(), whose
 * metadata, one object per record, they kept until the end: a slower loop than need be.) The
 * stateless baseline forwards each record's key, as the job does (it dropped it before).
 *
 * Each figure's note gives the rate per CPU-second of this process (main thread plus LevelDB's
 * and libuv's threads) next to the wall times: on a shared machine the CPU rate is the steadier
 * figure to compare runs by.
 *
 *   npm run build && node dist/bench/streams.js [--quick] [--part stateless|wordcount] [--job-only]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from '../core/client/index.js';
import type { KafkaClient, ProducerRecord } from '../core/client/types.js';
import {
  count,
  defineJob,
  filter,
  flatMapValues,
  groupBy,
  type JobDefinition,
  mapValues,
  runJob,
  to,
} from '../streams/index.js';
import type { BenchResult } from './types.js';

const PARTITIONS = 2;
const LOAD_CHUNK = 20_000;
const WATCH_MS = 10;
const VOCABULARY = 1000;
const WORDS_PER_LINE = 5;
/** A job's default max.poll.records (streams/job.ts): what the baselines poll at a time too. */
const JOB_MAX_POLL_RECORDS = 1000;

export interface StreamsBenchOptions {
  quick?: boolean;
  /** Which jobs to run (default both); `node dist/bench/streams.js --part wordcount`. */
  parts?: readonly ('stateless' | 'wordcount')[];
  /** Skip the hand-written baselines (for profiling a job). */
  jobOnly?: boolean;
}

const keep = (value: string): boolean => !value.endsWith('7');
const transform = (value: string): string => value.toUpperCase();
const words = (line: string): string[] =>
  line
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);

function statelessJob(): JobDefinition {
  return defineJob({
    applicationId: 'bench-stateless',
    build(b) {
      b.stream<string, string>('in').pipe(
        filter((_k, v) => keep(v)),
        mapValues(transform),
        to('out'),
      );
    },
  });
}

function wordcountJob(): JobDefinition {
  return defineJob({
    applicationId: 'bench-wordcount',
    build(b) {
      b.stream<string | null, string>('in').pipe(
        flatMapValues((line) => words(line)),
        groupBy((_k, w) => w, { name: 'words' }),
        count({ store: 'counts' }),
        mapValues((n) => String(n)),
        to('out'),
      );
    },
  });
}

async function setup(lines: (i: number) => string, n: number): Promise<{ client: KafkaClient; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'trib-bench-streams-'));
  const client = await connect({ 'data.dir': join(dir, 'data') });
  const admin = client.admin();
  await admin.createTopics([
    { topic: 'in', numPartitions: PARTITIONS },
    { topic: 'out', numPartitions: PARTITIONS },
  ]);
  await admin.close();
  const producer = client.producer({ 'linger.ms': 5, 'batch.size': 1 << 20, acks: 1 });
  for (let start = 0; start < n; start += LOAD_CHUNK) {
    const batch: ProducerRecord[] = [];
    for (let i = start; i < Math.min(n, start + LOAD_CHUNK); i++) {
      batch.push({ topic: 'in', key: `k${i % 1000}`, value: lines(i) });
    }
    await producer.sendBatch(batch);
  }
  await producer.close();
  return { client, dir };
}

async function outputCount(client: KafkaClient): Promise<number> {
  const admin = client.admin();
  try {
    const offsets = await admin.listOffsets(
      Array.from({ length: PARTITIONS }, (_, partition) => ({
        topic: 'out',
        partition,
        spec: 'latest' as const,
      })),
    );
    return offsets.reduce((s, o) => s + o.offset, 0);
  } finally {
    await admin.close();
  }
}

async function waitForOutput(client: KafkaClient, expected: number): Promise<void> {
  for (;;) {
    if ((await outputCount(client)) >= expected) return;
    await new Promise((r) => setTimeout(r, WATCH_MS));
  }
}

/** Wall and CPU time (this process: main thread and LevelDB's and libuv's threads) of a phase. */
interface Timing {
  seconds: number;
  cpuSeconds: number;
}

function startTiming(): () => Timing {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
  };
}

/** Time for the job to turn the pre-loaded input into `expected` output records. */
async function timeJob(
  job: JobDefinition,
  lines: (i: number) => string,
  n: number,
  expected: number,
): Promise<Timing> {
  const { client, dir } = await setup(lines, n);
  try {
    const stop = startTiming();
    const handle = await runJob(job, { client, stateDir: join(dir, 'state') });
    await waitForOutput(client, expected);
    const timing = stop();
    await handle.close();
    return timing;
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The hand-written loop: poll, apply `work`, sendAll, until `expected` outputs are acknowledged. */
async function timeBaseline(
  lines: (i: number) => string,
  n: number,
  expected: number,
  work: (key: string | null, value: string, out: ProducerRecord[]) => void,
): Promise<Timing> {
  const { client, dir } = await setup(lines, n);
  try {
    const stop = startTiming();
    const consumer = client.consumer({
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
      'max.poll.records': JOB_MAX_POLL_RECORDS,
    });
    const producer = client.producer({ 'linger.ms': 5, 'batch.size': 262_144 });
    const tps = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'in', partition }));
    consumer.assign(tps);
    consumer.seekToBeginning(tps);
    let produced = 0;
    const sends: Promise<unknown>[] = [];
    while (produced < expected) {
      const records = await consumer.poll({ timeoutMs: 50 });
      const out: ProducerRecord[] = [];
      for (const r of records)
        work(r.key === null ? null : r.key.toString('utf8'), r.value!.toString('utf8'), out);
      if (out.length > 0) sends.push(producer.sendAll(out));
      produced += out.length;
    }
    await Promise.all(sends);
    await producer.flush();
    const timing = stop();
    await consumer.close();
    await producer.close();
    return timing;
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rate per wall second and per CPU second of a timed phase, as a note. */
function cpuNote(records: number, t: Timing): string {
  const perCpu = Math.round(records / t.cpuSeconds).toLocaleString('en-US');
  return `${perCpu} records per CPU-second (wall ${t.seconds.toFixed(2)} s, CPU ${t.cpuSeconds.toFixed(2)} s)`;
}

export async function runStreamsBench(opts: StreamsBenchOptions = {}): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const parts = opts.parts ?? ['stateless', 'wordcount'];
  if (parts.includes('stateless')) {
    const n = opts.quick ? 300_000 : 2_000_000;
    const statelessLine = (i: number): string => `event-${i}`;
    const statelessOut = Array.from({ length: n }, (_, i) => statelessLine(i)).filter(keep).length;
    const base1 = opts.jobOnly
      ? undefined
      : await timeBaseline(statelessLine, n, statelessOut, (k, v, out) => {
          if (keep(v)) out.push({ topic: 'out', key: k, value: transform(v) });
        });
    const job1 = await timeJob(statelessJob(), statelessLine, n, statelessOut);
    const job1Rate = n / job1.seconds;
    if (base1) {
      results.push({
        name: `stateless baseline: hand-written poll/filter/map/send loop, ${n} records`,
        value: Math.round(n / base1.seconds),
        unit: 'records/s',
        note: cpuNote(n, base1),
      });
    }
    const ratio1 = base1 ? { of: 'hand-written loop', value: job1Rate / (n / base1.seconds) } : undefined;
    results.push({
      name: `stateless job: filter + mapValues + to(), ${n} records, embedded log`,
      value: Math.round(job1Rate),
      unit: 'records/s',
      ...(ratio1 ? { ratio: ratio1 } : {}),
      goal: { value: 1_000_000, of: 'value' },
      note: cpuNote(n, job1),
    });
    if (ratio1) {
      results.push({
        name: 'stateless job as a ratio of the hand-written loop',
        value: Number(ratio1.value.toFixed(3)),
        unit: 'ratio',
        ratio: ratio1,
        goal: { value: 0.3, of: 'ratio' },
      });
    }
  }

  if (parts.includes('wordcount')) {
    const lines = opts.quick ? 60_000 : 400_000;
    const wcLine = (i: number): string =>
      Array.from({ length: WORDS_PER_LINE }, (_, j) => `word${(i * 7 + j * 131) % VOCABULARY}`).join(' ');
    const totalWords = lines * WORDS_PER_LINE;
    const counts = new Map<string, number>();
    const base2 = opts.jobOnly
      ? undefined
      : await timeBaseline(wcLine, lines, totalWords, (_k, v, out) => {
          for (const w of words(v)) {
            const c = (counts.get(w) ?? 0) + 1;
            counts.set(w, c);
            out.push({ topic: 'out', key: w, value: String(c) });
          }
        });
    const job2 = await timeJob(wordcountJob(), wcLine, lines, totalWords);
    const job2Rate = totalWords / job2.seconds;
    if (base2) {
      results.push({
        name: `word count baseline: hand-written loop with a Map, ${totalWords} words`,
        value: Math.round(totalWords / base2.seconds),
        unit: 'records/s',
        note: cpuNote(totalWords, base2),
      });
    }
    const ratio2 = base2
      ? { of: 'hand-written loop', value: job2Rate / (totalWords / base2.seconds) }
      : undefined;
    results.push({
      name: `word count job: repartition + LevelDB count store + changelog, ${totalWords} words`,
      value: Math.round(job2Rate),
      unit: 'records/s',
      ...(ratio2 ? { ratio: ratio2 } : {}),
      goal: { value: 300_000, of: 'value' },
      note: cpuNote(totalWords, job2),
    });
    if (ratio2) {
      results.push({
        name: 'word count job as a ratio of the hand-written loop',
        value: Number(ratio2.value.toFixed(3)),
        unit: 'ratio',
        ratio: ratio2,
        goal: { value: 0.3, of: 'ratio' },
      });
    }
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv;
  const part = argv.includes('--part') ? argv[argv.indexOf('--part') + 1] : undefined;
  const results = await runStreamsBench({
    quick: argv.includes('--quick'),
    jobOnly: argv.includes('--job-only'),
    ...(part === 'stateless' || part === 'wordcount' ? { parts: [part] } : {}),
  });
  for (const r of results) {
    const ratio = r.ratio === undefined ? '' : `  (${(r.ratio.value * 100).toFixed(0)}% of ${r.ratio.of})`;
    const note = r.note === undefined ? '' : `  [${r.note}]`;
    console.log(`${r.name.padEnd(90)} ${String(r.value).padStart(12)} ${r.unit}${ratio}${note}`);
  }
}
