/**
 * Mirror throughput between two brokers (child processes): MirrorSourceConnector in a Connect
 * worker copying a topic from one to the other, as a ratio of `trib consume | trib produce` piped
 * over the same data in the same run. Both start from an empty target topic and stop when it
 * holds every record; the mirror also copies headers and timestamps and writes offset syncs.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startWorker } from '../connect/index.js';
import { plugins } from '../connectors/mirror-source/index.js';
import { connect } from '../core/client/index.js';
import type { KafkaClient } from '../core/client/types.js';
import type { BenchResult } from './types.js';
import { exited, nowMs, progress, REPO_ROOT, startBrokerProcess, tempDir } from './util.js';

const PARTITIONS = 4;
const VALUE_BYTES = 200;

async function totalRecords(client: KafkaClient, topic: string): Promise<number> {
  const admin = client.admin();
  try {
    const ends = await admin.listOffsets(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, spec: 'latest' as const })),
    );
    return ends.reduce((n, e) => n + e.offset, 0);
  } catch {
    return 0;
  } finally {
    await admin.close();
  }
}

async function waitForCount(
  client: KafkaClient,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await totalRecords(client, topic)) < count) {
    if (Date.now() > deadline) throw new Error(`${topic} did not reach ${count} records in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runMirrorBench(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const count = opts.quick ? 50_000 : 300_000;
  const dirs = [
    tempDir('trib-bench-mirror-a-'),
    tempDir('trib-bench-mirror-b-'),
    tempDir('trib-bench-mirror-w-'),
  ];
  const a = await startBrokerProcess({ dataDir: dirs[0]!.path });
  const b = await startBrokerProcess({ dataDir: dirs[1]!.path });
  const source = await connect({ 'bootstrap.servers': a.bootstrap });
  const target = await connect({ 'bootstrap.servers': b.bootstrap });
  try {
    const admin = source.admin();
    await admin.createTopics([{ topic: 'orders', numPartitions: PARTITIONS }]);
    await admin.close();
    const targetAdmin = target.admin();
    await targetAdmin.createTopics([{ topic: 'piped', numPartitions: PARTITIONS }]);
    await targetAdmin.close();
    const producer = source.producer({ 'linger.ms': 5, 'batch.size': 262_144 });
    const pad = 'v'.repeat(VALUE_BYTES);
    const batch = [];
    for (let i = 0; i < count; i++) {
      batch.push({ topic: 'orders', key: `key-${i % 10_000}`, value: `${i}:${pad}` });
      if (batch.length === 5000) await producer.sendBatch(batch.splice(0));
    }
    if (batch.length > 0) await producer.sendBatch(batch);
    await producer.close();
    const mb = (count * (VALUE_BYTES + 12)) / (1024 * 1024);
    progress(`mirror: ${count} records (~${mb.toFixed(0)} MB) on ${PARTITIONS} partitions`);

    // Baseline: trib consume | trib produce.
    const bin = join(REPO_ROOT, 'bin', 'trib.js');
    const t0 = nowMs();
    const consume = spawn(
      process.execPath,
      [
        bin,
        'consume',
        'orders',
        '--bootstrap',
        a.bootstrap,
        '--from-beginning',
        '--max-messages',
        String(count),
        '--format',
        '%k\t%v\n',
        '-q',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const produce = spawn(
      process.execPath,
      [bin, 'produce', 'piped', '--bootstrap', b.bootstrap, '--key-separator', '\t', '-q'],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    consume.stdout!.pipe(produce.stdin!);
    const [c1, c2] = await Promise.all([exited(consume), exited(produce)]);
    if (c1 !== 0 || c2 !== 0) throw new Error(`trib consume | trib produce failed (${c1}, ${c2})`);
    await waitForCount(target, 'piped', count, 60_000);
    const pipeRate = count / ((nowMs() - t0) / 1000);

    // The mirror.
    const t1 = nowMs();
    const worker = await startWorker({
      client: target,
      config: {
        'offset.flush.interval.ms': 1000,
        'offset.storage.file.filename': join(dirs[2]!.path, 'offsets'),
      },
      rest: false,
      plugins,
      log: () => {},
      connectors: [
        {
          name: 'mirror',
          'connector.class': 'MirrorSourceConnector',
          'tasks.max': 1,
          'source.cluster.alias': 'a',
          'target.cluster.alias': 'b',
          'source.cluster.bootstrap.servers': a.bootstrap,
          'target.cluster.bootstrap.servers': b.bootstrap,
          topics: 'orders',
          'key.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
          'value.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
          'header.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
        },
      ],
    });
    try {
      await waitForCount(target, 'a.orders', count, 300_000);
    } finally {
      await worker.stop();
    }
    const mirrorRate = count / ((nowMs() - t1) / 1000);
    return [
      {
        name: 'trib consume | trib produce (piped)',
        value: pipeRate,
        unit: 'records/s',
        note: `${count} records of ~${VALUE_BYTES + 12} B`,
      },
      {
        name: 'MirrorSourceConnector, 1 task',
        value: mirrorRate,
        unit: 'records/s',
        ratio: { of: 'trib consume | trib produce', value: mirrorRate / pipeRate },
        note: 'includes worker and connector start; copies keys, headers, timestamps, partitions; writes offset syncs',
      },
    ];
  } finally {
    await source.close();
    await target.close();
    await a.stop();
    await b.stop();
    for (const d of dirs) d.remove();
  }
}
