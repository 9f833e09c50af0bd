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
 *   npm run build && node dist/bench/streams.js [--quick]
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

export interface StreamsBenchOptions {
  quick?: boolean;
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

/** Seconds for the job to turn the pre-loaded input into `expected` output records. */
async function timeJob(
  job: JobDefinition,
  lines: (i: number) => string,
  n: number,
  expected: number,
): Promise<number> {
  const { client, dir } = await setup(lines, n);
  try {
    const t0 = performance.now();
    const handle = await runJob(job, { client, stateDir: join(dir, 'state') });
    await waitForOutput(client, expected);
    const seconds = (performance.now() - t0) / 1000;
    await handle.close();
    return seconds;
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The hand-written loop: poll, apply `work`, sendBatch, until `expected` outputs are acknowledged. */
async function timeBaseline(
  lines: (i: number) => string,
  n: number,
  expected: number,
  work: (value: string, out: ProducerRecord[]) => void,
): Promise<number> {
  const { client, dir } = await setup(lines, n);
  try {
    const t0 = performance.now();
    const consumer = client.consumer({
      'auto.offset.reset': 'earliest',
      'enable.auto.commit': false,
      'max.poll.records': 5000,
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
      for (const r of records) work(r.value!.toString('utf8'), out);
      if (out.length > 0) sends.push(producer.sendBatch(out));
      produced += out.length;
    }
    await Promise.all(sends);
    await producer.flush();
    const seconds = (performance.now() - t0) / 1000;
    await consumer.close();
    await producer.close();
    return seconds;
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runStreamsBench(opts: StreamsBenchOptions = {}): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const n = opts.quick ? 300_000 : 2_000_000;
  const statelessLine = (i: number): string => `event-${i}`;
  const statelessOut = Array.from({ length: n }, (_, i) => statelessLine(i)).filter(keep).length;
  const base1 = await timeBaseline(statelessLine, n, statelessOut, (v, out) => {
    if (keep(v)) out.push({ topic: 'out', value: transform(v) });
  });
  const job1 = await timeJob(statelessJob(), statelessLine, n, statelessOut);
  const base1Rate = n / base1;
  const job1Rate = n / job1;
  results.push({
    name: `stateless baseline: hand-written poll/filter/map/send loop, ${n} records`,
    value: Math.round(base1Rate),
    unit: 'records/s',
  });
  results.push({
    name: `stateless job: filter + mapValues + to(), ${n} records, embedded log`,
    value: Math.round(job1Rate),
    unit: 'records/s',
    ratio: { of: 'hand-written loop', value: job1Rate / base1Rate },
    goal: { value: 1_000_000, of: 'value' },
  });
  results.push({
    name: 'stateless job as a ratio of the hand-written loop',
    value: Number((job1Rate / base1Rate).toFixed(3)),
    unit: 'ratio',
    ratio: { of: 'hand-written loop', value: job1Rate / base1Rate },
    goal: { value: 0.3, of: 'ratio' },
  });

  const lines = Math.round((opts.quick ? 60_000 : 400_000) / 1);
  const wcLine = (i: number): string =>
    Array.from({ length: WORDS_PER_LINE }, (_, j) => `word${(i * 7 + j * 131) % VOCABULARY}`).join(' ');
  const totalWords = lines * WORDS_PER_LINE;
  const counts = new Map<string, number>();
  const base2 = await timeBaseline(wcLine, lines, totalWords, (v, out) => {
    for (const w of words(v)) {
      const c = (counts.get(w) ?? 0) + 1;
      counts.set(w, c);
      out.push({ topic: 'out', key: w, value: String(c) });
    }
  });
  const job2 = await timeJob(wordcountJob(), wcLine, lines, totalWords);
  const base2Rate = totalWords / base2;
  const job2Rate = totalWords / job2;
  results.push({
    name: `word count baseline: hand-written loop with a Map, ${totalWords} words`,
    value: Math.round(base2Rate),
    unit: 'records/s',
  });
  results.push({
    name: `word count job: repartition + LevelDB count store + changelog, ${totalWords} words`,
    value: Math.round(job2Rate),
    unit: 'records/s',
    ratio: { of: 'hand-written loop', value: job2Rate / base2Rate },
    goal: { value: 300_000, of: 'value' },
  });
  results.push({
    name: 'word count job as a ratio of the hand-written loop',
    value: Number((job2Rate / base2Rate).toFixed(3)),
    unit: 'ratio',
    ratio: { of: 'hand-written loop', value: job2Rate / base2Rate },
    goal: { value: 0.3, of: 'ratio' },
  });
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runStreamsBench({ quick: process.argv.includes('--quick') });
  for (const r of results) {
    const ratio = r.ratio === undefined ? '' : `  (${(r.ratio.value * 100).toFixed(0)}% of ${r.ratio.of})`;
    console.log(`${r.name.padEnd(90)} ${String(r.value).padStart(12)} ${r.unit}${ratio}`);
  }
}
