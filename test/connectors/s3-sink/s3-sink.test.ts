/**
 * The S3 sink against a real S3-compatible server (s3rver): object names, JSON through the
 * Connect runtime with offsets committed only for uploaded files, and exactly-once objects across
 * a task killed mid-upload.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startWorker } from '../../../connect/index.js';
import {
  type ObjectStore,
  parseS3SinkConfig,
  plugins,
  S3ObjectStore,
} from '../../../connectors/s3-sink/index.js';
import { connect } from '../../../core/client/index.js';
import type { KafkaClient } from '../../../core/client/types.js';
import { startTestBroker } from '../../helpers/broker.js';
import { startS3, type TestS3 } from '../../helpers/s3.js';
import { driveSink } from './drive.js';

let dir: string;
let client: KafkaClient;
let s3: TestS3;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-s3-sink-'));
  client = await connect({ 'data.dir': join(dir, 'data') });
  s3 = await startS3();
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function produce(
  topic: string,
  partitions: number,
  perPartition: number,
  value: (p: number, i: number) => string = (p, i) => JSON.stringify({ p, i }),
): Promise<void> {
  const admin = client.admin();
  await admin.createTopics([{ topic, numPartitions: partitions }]);
  await admin.close();
  const producer = client.producer({ 'linger.ms': 1 });
  const records = [];
  for (let p = 0; p < partitions; p++)
    for (let i = 0; i < perPartition; i++)
      records.push({ topic, partition: p, key: `k${i}`, value: value(p, i) });
  await producer.sendBatch(records);
  await producer.close();
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | false | null | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function lines(buf: Buffer): string[] {
  return buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');
}

describe('S3 sink', () => {
  it('runs in the Connect runtime: JSON lines under <topics.dir>/<topic>/partition=<n>/<topic>+<n>+<offset>.json, offsets committed only for uploaded files', async () => {
    await s3.createBucket('runtime');
    await produce('events', 2, 0);
    const worker = await startWorker({
      client,
      config: {
        'offset.flush.interval.ms': 100,
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': false,
      },
      rest: false,
      plugins,
      log: () => {},
      connectors: [
        {
          name: 's3',
          'connector.class': 'io.confluent.connect.s3.S3SinkConnector',
          topics: 'events',
          'format.class': 'io.confluent.connect.s3.format.json.JsonFormat',
          'flush.size': 3,
          ...s3.sinkProps('runtime'),
        },
      ],
    });
    try {
      await worker.waitForRunning('s3');
      const producer = client.producer({ 'linger.ms': 1 });
      for (let i = 0; i < 7; i++)
        await producer.send({ topic: 'events', partition: 0, value: JSON.stringify({ n: i }) });
      for (let i = 0; i < 4; i++)
        await producer.send({ topic: 'events', partition: 1, value: JSON.stringify({ n: 100 + i }) });
      await producer.close();
      const keys = await waitFor('three objects', async () => {
        const k = await s3.list('runtime');
        return k.length === 3 ? k : null;
      });
      expect(keys).toEqual([
        'topics/events/partition=0/events+0+0000000000.json',
        'topics/events/partition=0/events+0+0000000003.json',
        'topics/events/partition=1/events+1+0000000000.json',
      ]);
      expect(lines(await s3.get('runtime', keys[1]!))).toEqual(['{"n":3}', '{"n":4}', '{"n":5}']);
      // The seventh record of partition 0 and the fourth of partition 1 wait in open files: not committed.
      const admin = client.admin();
      const committed = await waitFor('committed offsets', async () => {
        const offs = await admin.listGroupOffsets('connect-s3');
        const byP = Object.fromEntries(
          offs.filter((o) => o.topic === 'events').map((o) => [o.partition, o.offset]),
        );
        return byP[0] === 6 && byP[1] === 3 ? byP : null;
      });
      expect(committed).toEqual({ 0: 6, 1: 3 });
      await admin.close();
    } finally {
      await worker.stop();
    }
  });

  it('writes every record exactly once into the bucket across a task killed mid-upload', async () => {
    await s3.createBucket('crash');
    await produce('orders', 2, 60);
    const props = {
      ...s3.sinkProps('crash'),
      'format.class': 'JsonFormat',
      'flush.size': '7',
      topics: 'orders',
    };
    let puts = 0;
    let hang = false;
    let landed = false;
    const killed = (real: ObjectStore): ObjectStore => ({
      ...real,
      putObject: async (key, body) => {
        puts++;
        if (puts === 6) hang = true;
        if (hang) {
          // The object lands but the task never hears back: killed between the upload and the commit.
          await real.putObject(key, body);
          landed = true;
          return new Promise<void>(() => {});
        }
        return real.putObject(key, body);
      },
      createMultipartUpload: (k) => real.createMultipartUpload(k),
      uploadPart: (k, u, n, b) => real.uploadPart(k, u, n, b),
      completeMultipartUpload: (k, u, p) => real.completeMultipartUpload(k, u, p),
      abortMultipartUpload: (k, u) => real.abortMultipartUpload(k, u),
      close: () => real.close(),
    });
    const first = await driveSink({
      client,
      topics: ['orders'],
      group: 'crash',
      props,
      task: { store: (cfg) => killed(new S3ObjectStore(cfg)) },
      maxRecords: 5,
    });
    void first.runUntil(() => false, 60_000).catch((err: unknown) => console.error('first run', err));
    await waitFor('the hung upload', async () => landed);
    await first.crash();
    const before = await s3.list('crash');
    expect(before.length).toBeGreaterThanOrEqual(6);

    const second = await driveSink({ client, topics: ['orders'], group: 'crash', props });
    await second.runUntil(async () => (await s3.list('crash')).length === 16);
    await second.stop();

    const keys = await s3.list('crash');
    const expected = [0, 1]
      .flatMap((p) =>
        [0, 7, 14, 21, 28, 35, 42, 49].map(
          (o) => `topics/orders/partition=${p}/orders+${p}+${String(o).padStart(10, '0')}.json`,
        ),
      )
      .sort();
    expect(keys).toEqual(expected);
    const seen = new Map<string, number>();
    for (const k of keys)
      for (const l of lines(await s3.get('crash', k))) seen.set(l, (seen.get(l) ?? 0) + 1);
    // 8 files of 7 per partition: records 0..55 of each, every one exactly once.
    expect(seen.size).toBe(112);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    for (let p = 0; p < 2; p++)
      for (let i = 0; i < 56; i++) expect(seen.get(JSON.stringify({ p, i }))).toBe(1);
  });

  it('accepts the example configs in examples/connect/s3-*.json', () => {
    const root = fileURLToPath(new URL('../../../examples/connect/', import.meta.url));
    const files = readdirSync(root).filter((f) => /^s3-.*\.json$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const { config } = JSON.parse(readFileSync(join(root, f), 'utf8')) as {
        config: Record<string, string>;
      };
      expect(config['connector.class']).toBe('io.confluent.connect.s3.S3SinkConnector');
      expect(() => parseS3SinkConfig(config)).not.toThrow();
    }
  });

  it('names the offending key in config errors', () => {
    const base = { 's3.bucket.name': 'b', 'format.class': 'JsonFormat' };
    expect(() => parseS3SinkConfig(base)).toThrow(/flush\.size/);
    expect(() => parseS3SinkConfig({ ...base, 'flush.size': '1', 'format.class': 'ParquetFormat' })).toThrow(
      /format\.class/,
    );
    expect(() =>
      parseS3SinkConfig({
        ...base,
        'flush.size': '1',
        'partitioner.class': 'TimeBasedPartitioner',
        'path.format': 'YYYY',
        'partition.duration.ms': '1000',
        locale: 'en-US',
      }),
    ).toThrow(/timezone/);
    expect(() =>
      parseS3SinkConfig({ ...base, 'flush.size': '1', 'partitioner.class': 'FieldPartitioner' }),
    ).toThrow(/partition\.field\.name/);
    expect(() => parseS3SinkConfig({ ...base, 'flush.size': '1', 's3.part.size': '1024' })).toThrow(
      /s3\.part\.size/,
    );
    expect(() => parseS3SinkConfig({ ...base, 'flush.size': '1', 'aws.access.key.id': 'x' })).toThrow(
      /aws\.secret\.access\.key/,
    );
  });
});

describe('S3 sink in a worker process', () => {
  it('writes every record exactly once across a worker SIGKILL in the middle of uploads', async () => {
    const broker = await startTestBroker();
    const net = await connect({ 'bootstrap.servers': broker.bootstrap });
    try {
      await s3.createBucket('sigkill');
      const admin = net.admin();
      await admin.createTopics([{ topic: 'clicks', numPartitions: 3 }]);
      await admin.close();
      const producer = net.producer({ 'linger.ms': 5 });
      const pad = 'p'.repeat(500);
      const records = [];
      for (let p = 0; p < 3; p++)
        for (let i = 0; i < 600; i++)
          records.push({ topic: 'clicks', partition: p, value: JSON.stringify({ p, i, pad }) });
      await producer.sendBatch(records);
      await producer.close();
      const connector = {
        name: 's3-kill',
        'connector.class': 'S3SinkConnector',
        topics: 'clicks',
        'format.class': 'JsonFormat',
        'flush.size': '40',
        // The killed worker's consumer stays in the group until its session expires.
        'consumer.override.session.timeout.ms': '6000',
        'consumer.override.heartbeat.interval.ms': '500',
        ...s3.sinkProps('sigkill'),
      };
      const run = () => spawnWorker(broker.bootstrap, connector);

      const first = await run();
      // Kill it once some objects are in the bucket and others are on their way.
      await waitFor('the first objects', async () => (await s3.list('sigkill')).length >= 8, 60_000);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const atKill = (await s3.list('sigkill')).length;
      expect(atKill).toBeLessThan(45);

      const second = await run();
      try {
        await waitFor('every object', async () => (await s3.list('sigkill')).length >= 45, 120_000);
      } finally {
        second.kill('SIGKILL');
      }
      const keys = await s3.list('sigkill');
      const expected = [0, 1, 2]
        .flatMap((p) =>
          Array.from(
            { length: 15 },
            (_, k) => `topics/clicks/partition=${p}/clicks+${p}+${String(k * 40).padStart(10, '0')}.json`,
          ),
        )
        .sort();
      expect(keys).toEqual(expected);
      const seen = new Map<string, number>();
      for (const k of keys) {
        for (const l of lines(await s3.get('sigkill', k))) {
          const { p, i } = JSON.parse(l) as { p: number; i: number };
          seen.set(`${p}/${i}`, (seen.get(`${p}/${i}`) ?? 0) + 1);
        }
      }
      expect(seen.size).toBe(1800);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await net.close();
    }
  }, 240_000);
});

function spawnWorker(bootstrap: string, connector: Record<string, string>): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, bootstrap, JSON.stringify(connector)], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the worker did not start:\n${log}`)), 60_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (t: string) => {
      log += t;
      if (log.includes('RUNNING')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited with ${code}:\n${log}`));
    });
  });
}
