/**
 * S3 sink throughput into a local S3-compatible server (s3rver, in a child process), JSON format, as a ratio of
 * writing the same bytes — the same objects, with the same concurrency (one upload at a time per
 * Kafka partition) — with @aws-sdk/client-s3 directly in the same run. Goal: ≥ 0.7.
 *
 * The sink figure is the S3SinkTask's own work: records handed to put() as the runtime would
 * (batches of 500 across the partitions), JSON encoding, partitioning, object naming, buffering
 * and uploads, until the last file is in the bucket. Consuming from Kafka is measured elsewhere.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SinkRecord } from '../connect/sdk.js';
import { S3SinkTask } from '../connectors/s3-sink/index.js';
import type { BenchResult } from './types.js';
import { exited, nowMs, progress, REPO_ROOT, tempDir } from './util.js';

/** s3rver in its own process (as S3 is remote), so its CPU does not compete with what is measured. */
const S3RVER = `
const { createRequire } = await import('node:module');
const S3rver = createRequire(process.argv[2])(process.argv[2]);
const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[1], silent: true });
const { port } = await server.run();
process.stdout.write('port ' + port + '\\n');
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`;

async function startS3rverProcess(directory: string): Promise<{ url: string; stop(): Promise<void> }> {
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

function records(total: number): SinkRecord[] {
  const pad = 'x'.repeat(RECORD_FIELDS_BYTES);
  const out: SinkRecord[] = [];
  const perPartition = total / PARTITIONS;
  for (let i = 0; i < perPartition; i++) {
    for (let p = 0; p < PARTITIONS; p++) {
      out.push({
        topic: 'bench',
        kafkaPartition: p,
        kafkaOffset: i,
        keySchema: null,
        key: null,
        valueSchema: null,
        value: { id: i, partition: p, user: `user-${i % 1000}`, amount: i * 0.25, pad },
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

    const runDirect = async (): Promise<number> => {
      const t0 = nowMs();
      await Promise.all(
        [...direct.values()].map(async (list) => {
          for (const o of list)
            await client.send(
              new PutObjectCommand({
                Bucket: 'bench',
                Key: o.key,
                Body: o.body,
                ContentLength: o.body.length,
              }),
            );
        }),
      );
      return mb / ((nowMs() - t0) / 1000);
    };
    const runSink = async (round: number): Promise<number> => {
      const task = new S3SinkTask();
      task.start({
        's3.bucket.name': 'bench',
        's3.region': 'us-east-1',
        'store.url': url,
        'aws.access.key.id': CREDS.accessKeyId,
        'aws.secret.access.key': CREDS.secretAccessKey,
        'format.class': 'JsonFormat',
        'flush.size': String(FILE_RECORDS),
        'topics.dir': `sink${round}`,
      });
      const t0 = nowMs();
      for (let at = 0; at < recs.length; at += BATCH) await task.put(recs.slice(at, at + BATCH));
      await task.preCommit(new Map()); // waits for the uploads still in flight
      const rate = mb / ((nowMs() - t0) / 1000);
      await task.stop();
      return rate;
    };
    progress(`s3: ${total} records, ${mb.toFixed(1)} MB of JSON in ${total / FILE_RECORDS} objects`);
    let bestDirect = 0;
    let bestSink = 0;
    for (let round = 0; round < (opts.quick ? 2 : 3); round++) {
      bestDirect = Math.max(bestDirect, await runDirect());
      bestSink = Math.max(bestSink, await runSink(round));
    }
    return [
      { name: 'PutObject directly (@aws-sdk/client-s3), same objects', value: bestDirect, unit: 'MB/s' },
      {
        name: 'S3 sink task, JSON, DefaultPartitioner',
        value: bestSink,
        unit: 'MB/s',
        ratio: { of: 'PutObject directly', value: bestSink / bestDirect },
        goal: { value: 0.7, of: 'ratio' },
        note: `${PARTITIONS} partitions, flush.size=${FILE_RECORDS}, ~1 KB records, s3rver on 127.0.0.1; best of rounds`,
      },
    ];
  } finally {
    client.destroy();
    await server.stop();
    dir.remove();
  }
}
