/**
 * S3 sink throughput into a local S3-compatible server (s3rver, in a child process), JSON format, as a ratio of
 * writing the same bytes with @aws-sdk/client-s3 directly in the same run. Goal: ≥ 0.7.
 *
 * The baseline is a best effort at the same bytes: the same objects (same keys' shapes, same sizes,
 * single PUTs as the sink's, since they are under s3.part.size), encoded before the clock starts,
 * each sent with PutObject and a Buffer body (what the sink sends), with 2, 4 (one upload at a time
 * per Kafka partition) and 8 uploads at once; the fastest counts. The sink uploads up to two
 * finished files per partition while it encodes the next.
 *
 * The sink figure is the S3SinkTask's own work: records handed to put() as the runtime would
 * (batches of 500 across the partitions, a turn of the event loop after each, as WorkerSinkTask
 * gives), JSON encoding, partitioning, object naming, buffering and uploads, until the last file
 * is in the bucket. Consuming from Kafka and converting are measured elsewhere, but each value is
 * what JsonConverter makes of the record's bytes, with its own strings (as the runtime gives; one
 * string shared by every record flattered the encoding). One task runs through all the rounds
 * (each round the next offsets), as a task runs for hours in a worker and as the baseline's client
 * stays up: a task started anew for each round's 20 files measured its start (new connections,
 * buffers sized and allocated from nothing) more than its steady pace.
 * Against a local server both sides are CPU-bound on the same cores (s3rver hashes and writes what
 * it receives), so the sink's encoding is not hidden behind network time as it is against S3.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { JsonConverter } from '../connect/converters/json.js';
import type { SinkRecord } from '../connect/sdk.js';
import { S3SinkTask } from '../connectors/s3-sink/index.js';
import type { BenchResult } from './types.js';
import { exited, nowMs, procCpuMs, progress, REPO_ROOT, selfCpuMs, tempDir } from './util.js';

/** s3rver in its own process (as S3 is remote); on two cores its CPU still competes with ours (see above), for the baseline and the sink alike. */
const S3RVER = `
const { createRequire } = await import('node:module');
const S3rver = createRequire(process.argv[2])(process.argv[2]);
const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[1], silent: true });
const { port } = await server.run();
process.stdout.write('port ' + port + '\\n');
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`;

async function startS3rverProcess(
  directory: string,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', S3RVER, directory, createRequire(import.meta.url).resolve('s3rver')],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (t: string) => {
      out += t;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      const done = exited(child);
      child.kill('SIGTERM');
      await done;
    },
  };
}

const PARTITIONS = 4;
const RECORD_FIELDS_BYTES = 900;
const FILE_RECORDS = 4000;
const BATCH = 500;
const CREDS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** Uploads at once tried by the direct baseline (PARTITIONS is the sink's one-per-partition). */
const CONCURRENCY = [2, PARTITIONS, 2 * PARTITIONS];

interface Run {
  rate: number;
  selfCpuMs: number;
  serverCpuMs: number;
}

/**
 * The records as the runtime hands them to the sink: each value what JsonConverter
 * (schemas.enable=false) reads from the record's bytes, so every record has its own strings (one
 * string shared by every record would flatter the encoding).
 */
function records(total: number): SinkRecord[] {
  const pad = 'x'.repeat(RECORD_FIELDS_BYTES);
  const converter = new JsonConverter();
  converter.configure({ 'schemas.enable': 'false' });
  const out: SinkRecord[] = [];
  const perPartition = total / PARTITIONS;
  for (let i = 0; i < perPartition; i++) {
    for (let p = 0; p < PARTITIONS; p++) {
      const bytes = Buffer.from(
        JSON.stringify({ id: i, partition: p, user: `user-${i % 1000}`, amount: i * 0.25, pad }),
      );
      out.push({
        topic: 'bench',
        kafkaPartition: p,
        kafkaOffset: i,
        keySchema: null,
        key: null,
        valueSchema: null,
        value: converter.toConnectData('bench', bytes).value,
        timestamp: 1_700_000_000_000 + i,
        timestampType: 'CreateTime',
        headers: [],
        originalTopic: 'bench',
        originalKafkaPartition: p,
        originalKafkaOffset: i,
      });
    }
  }
  return out;
}

/** The objects the sink writes, built the same way, for the direct baseline. */
function objects(recs: SinkRecord[]): Map<number, { key: string; body: Buffer }[]> {
  const byPartition = new Map<number, { key: string; body: Buffer }[]>();
  for (let p = 0; p < PARTITIONS; p++) {
    const mine = recs.filter((r) => r.kafkaPartition === p);
    const list: { key: string; body: Buffer }[] = [];
    for (let at = 0; at + FILE_RECORDS <= mine.length; at += FILE_RECORDS) {
      const body = Buffer.from(
        mine
          .slice(at, at + FILE_RECORDS)
          .map((r) => `${JSON.stringify(r.value)}\n`)
          .join(''),
      );
      list.push({ key: `direct/bench/partition=${p}/bench+${p}+${String(at).padStart(10, '0')}.json`, body });
    }
    byPartition.set(p, list);
  }
  return byPartition;
}

export async function runS3Bench(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const total =
    (opts.quick ? 16_000 : 80_000) - ((opts.quick ? 16_000 : 80_000) % (PARTITIONS * FILE_RECORDS));
  const dir = tempDir('trib-bench-s3-');
  const server = await startS3rverProcess(dir.path);
  const url = server.url;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: url,
    forcePathStyle: true,
    credentials: CREDS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const recs = records(total);
    const direct = objects(recs);
    const bytes = [...direct.values()].flat().reduce((n, o) => n + o.body.length, 0);
    const mb = bytes / (1024 * 1024);

    // In the sink's order: the first object of every partition, then the second…
    const queue = [...direct.values()].flatMap((list, p) =>
      list.map((o, i) => ({ o, at: i * PARTITIONS + p })),
    );
    queue.sort((x, y) => x.at - y.at);
    /** A run's rate, and the CPU time it took in this process and in s3rver's. */
    const measured = async (run: () => Promise<void>): Promise<Run> => {
      const [t0, self0, server0] = [nowMs(), selfCpuMs(), procCpuMs(server.pid)];
      await run();
      const [t1, self1, server1] = [nowMs(), selfCpuMs(), procCpuMs(server.pid)];
      return { rate: mb / ((t1 - t0) / 1000), selfCpuMs: self1 - self0, serverCpuMs: server1 - server0 };
    };
    const runDirect = (concurrency: number, round: number): Promise<Run> =>
      measured(async () => {
        let next = 0;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < queue.length) {
              const { o } = queue[next++]!;
              await client.send(
                new PutObjectCommand({
                  Bucket: 'bench',
                  Key: `direct${round}-${concurrency}/${o.key}`,
                  Body: o.body,
                  ContentLength: o.body.length,
                }),
              );
            }
          }),
        );
      });
    // One task through every round, as a task runs for hours in a worker: each round hands it the
    // next offsets of the same partitions.
    const task = new S3SinkTask();
    task.start({
      's3.bucket.name': 'bench',
      's3.region': 'us-east-1',
      'store.url': url,
      'aws.access.key.id': CREDS.accessKeyId,
      'aws.secret.access.key': CREDS.secretAccessKey,
      'format.class': 'JsonFormat',
      'flush.size': String(FILE_RECORDS),
      'topics.dir': 'sink',
    });
    const perPartition = total / PARTITIONS;
    const runSink = async (round: number): Promise<Run> => {
      const shift = round * perPartition;
      const batch = recs.map((r) => ({
        ...r,
        kafkaOffset: r.kafkaOffset + shift,
        originalKafkaOffset: r.kafkaOffset + shift,
      }));
      return measured(async () => {
        for (let at = 0; at < recs.length; at += BATCH) {
          await task.put(batch.slice(at, at + BATCH));
          // As the runtime's sink loop does after every put: a put that completes without I/O must
          // not keep the event loop (and so the uploads in flight) waiting.
          await yieldToEventLoop();
        }
        await task.preCommit(new Map()); // waits for the uploads still in flight
      });
    };
    progress(`s3: ${total} records, ${mb.toFixed(1)} MB of JSON in ${total / FILE_RECORDS} objects`);
    const best = new Map<number, Run>();
    let sink: Run | null = null;
    const better = (a: Run | null | undefined, b: Run): Run => (a && a.rate >= b.rate ? a : b);
    for (let round = 0; round < (opts.quick ? 2 : 3); round++) {
      for (const c of CONCURRENCY) best.set(c, better(best.get(c), await runDirect(c, round)));
      sink = better(sink, await runSink(round));
    }
    await task.stop();
    const [bestConcurrency, direct0] = [...best].sort((x, y) => y[1].rate - x[1].rate)[0]!;
    const bestDirect = direct0.rate;
    const bestSink = sink!.rate;
    /** CPU per record of a run: this process's, s3rver's. */
    const cpu = (r: Run): string =>
      `CPU/record: ${((r.selfCpuMs * 1000) / total).toFixed(1)} µs here, ${((r.serverCpuMs * 1000) / total).toFixed(1)} µs s3rver`;
    return [
      {
        name: 'PutObject directly (@aws-sdk/client-s3), same objects',
        value: bestDirect,
        unit: 'MB/s',
        note: `best of ${CONCURRENCY.join(', ')} uploads at once: ${bestConcurrency}; ${CONCURRENCY.map((c) => `${c}: ${best.get(c)!.rate.toFixed(0)} MB/s`).join(', ')}; ${cpu(direct0)}`,
      },
      {
        name: 'S3 sink task, JSON, DefaultPartitioner',
        value: bestSink,
        unit: 'MB/s',
        ratio: { of: 'PutObject directly', value: bestSink / bestDirect },
        goal: { value: 0.7, of: 'ratio' },
        note: `${PARTITIONS} partitions, flush.size=${FILE_RECORDS}, ~1 KB records, s3rver on 127.0.0.1; best of rounds; ${cpu(sink!)}`,
      },
    ];
  } finally {
    client.destroy();
    await server.stop();
    dir.remove();
  }
}
