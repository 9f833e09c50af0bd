/**
 * Connect throughput: a FileStreamSource → topic → FileStreamSink pipeline with JSON converters
 * (the envelope with schemas, Kafka's default), in records/s from the moment the connectors are
 * created until the sink file holds every line — set next to the same pipeline made of
 * `trib produce --input FILE` and `trib consume --from-beginning` (two processes running at
 * once) over the same lines, against the same broker, in the same run. Goal: ≥ 0.5 of it.
 *
 * The broker is a `trib broker` child process (with group.initial.rebalance.delay.ms=0, see
 * below); the worker runs in this process with default settings (what `startWorker` gives an
 * application).
 *
 *   npm run build && node dist/bench/connect.js [--quick]
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startWorker } from '../connect/index.js';
import { connect } from '../core/client/index.js';
import type { BenchResult } from './types.js';
import {
  formatNumber,
  makePayload,
  nowMs,
  printTable,
  progress,
  REPO_ROOT,
  runTool,
  startBrokerProcess,
  tempDir,
} from './util.js';

const VALUE_BYTES = 100;
const FULL_RECORDS = 400_000;
const QUICK_RECORDS = 60_000;

async function waitForFileSize(path: string, bytes: number, timeoutMs: number): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  for (;;) {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      // not created yet
    }
    if (size >= bytes) return;
    if (nowMs() > deadline) throw new Error(`${path} has ${size} of ${bytes} bytes after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runConnectBench(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const records = opts.quick ? QUICK_RECORDS : FULL_RECORDS;
  const data = tempDir('connect-broker');
  const files = tempDir('connect-files');
  const input = join(files.path, 'lines.txt');
  const payload = makePayload(VALUE_BYTES, records, true);
  writeFileSync(input, payload);
  // A new consumer group's first rebalance waits group.initial.rebalance.delay.ms (3 s by default,
  // as in Kafka); the sink's group would pay it inside the measured time, trib consume (manually
  // assigned) would not. The bench measures throughput, so the delay is off.
  const broker = await startBrokerProcess({
    dataDir: data.path,
    settings: { 'group.initial.rebalance.delay.ms': 0 },
  });
  const trib = join(REPO_ROOT, 'bin', 'trib.js');
  const results: BenchResult[] = [];
  try {
    const client = await connect({ 'bootstrap.servers': broker.bootstrap });
    const admin = client.admin();
    await admin.createTopics([
      { topic: 'bench-cli', numPartitions: 1, replicationFactor: 1 },
      { topic: 'bench-connect', numPartitions: 1, replicationFactor: 1 },
    ]);
    await admin.close();

    // Baseline: trib consume (waiting) and trib produce at once; done when consume has every record.
    progress(`baseline: trib produce | trib consume, ${formatNumber(records)} records of ${VALUE_BYTES} B`);
    const start = nowMs();
    let consumedBytes = 0;
    const consume = runTool(
      process.execPath,
      [
        trib,
        'consume',
        'bench-cli',
        '--bootstrap',
        broker.bootstrap,
        '--from-beginning',
        '--max-messages',
        String(records),
        '--quiet',
      ],
      {
        onStdout: (chunk) => {
          consumedBytes += chunk.length;
        },
      },
    );
    const produce = await runTool(process.execPath, [
      trib,
      'produce',
      'bench-cli',
      '--bootstrap',
      broker.bootstrap,
      '--input',
      input,
      '--quiet',
    ]);
    if (produce.code !== 0) throw new Error(`trib produce failed: ${produce.stderr}`);
    const consumed = await consume;
    if (consumed.code !== 0) throw new Error(`trib consume failed: ${consumed.stderr}`);
    const baselineMs = nowMs() - start;
    const baselinePerSec = (records * 1000) / baselineMs;
    if (consumedBytes < payload.length)
      throw new Error(`trib consume wrote ${consumedBytes} of ${payload.length} bytes`);
    results.push({
      name: 'trib produce --input FILE (alone)',
      value: (records * 1000) / produce.wallMs,
      unit: 'records/s',
    });
    results.push({
      name: 'trib produce | trib consume, file → topic → stdout',
      value: baselinePerSec,
      unit: 'records/s',
    });

    // Connect: FileStreamSource → topic → FileStreamSink, JSON converters with schemas.
    progress('connect: FileStreamSource → topic → FileStreamSink, JsonConverter');
    const output = join(files.path, 'sink.txt');
    const worker = await startWorker({
      client,
      config: {
        'offset.flush.interval.ms': 1000,
        'producer.batch.size': 262144,
        'producer.linger.ms': 10,
        'consumer.max.poll.records': 2000,
      },
      rest: false,
      log: () => {},
    });
    const t0 = nowMs();
    await worker.putConnector({
      name: 'bench-source',
      'connector.class': 'FileStreamSource',
      file: input,
      topic: 'bench-connect',
    });
    await worker.putConnector({
      name: 'bench-sink',
      'connector.class': 'FileStreamSink',
      file: output,
      topics: 'bench-connect',
    });
    await waitForFileSize(output, payload.length, 300_000);
    const connectMs = nowMs() - t0;
    await worker.stop();
    const sample = readFileSync(output, 'utf8').slice(0, VALUE_BYTES + 1);
    if (sample !== payload.subarray(0, VALUE_BYTES + 1).toString())
      throw new Error('the sink file does not match the input');
    const connectPerSec = (records * 1000) / connectMs;
    results.push({
      name: 'connect FileStreamSource → topic → FileStreamSink (JSON converters)',
      value: connectPerSec,
      unit: 'records/s',
      ratio: { of: 'trib produce | trib consume', value: connectPerSec / baselinePerSec },
      goal: { value: 0.5, of: 'ratio', direction: 'min' },
      note: `${formatNumber(records)} records of ${VALUE_BYTES} B, one partition`,
    });
    await client.close();
  } finally {
    await broker.stop();
    data.remove();
    files.remove();
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runConnectBench({ quick: process.argv.includes('--quick') }));
}
