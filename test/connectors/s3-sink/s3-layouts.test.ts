/**
 * The S3 sink's partitioners (Default, Field, TimeBased with Record/RecordField/Wallclock time,
 * Daily, Hourly), formats (JSON, Avro object container files, raw bytes), null handling, rotation
 * by size, record time and wall clock, multipart uploads and the memory bound — each against s3rver.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Schemas, type SinkRecord, structSchema } from '../../../connect/sdk.js';
import { type ObjectStore, S3ObjectStore, S3SinkTask } from '../../../connectors/s3-sink/index.js';
import { connect } from '../../../core/client/index.js';
import type { KafkaClient, ProducerRecord } from '../../../core/client/types.js';
import { startS3, type TestS3 } from '../../helpers/s3.js';
import { bytesValue, driveSink, type ValueOf } from './drive.js';

let dir: string;
let client: KafkaClient;
let s3: TestS3;
let n = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-s3-layouts-'));
  client = await connect({ 'data.dir': join(dir, 'data') });
  s3 = await startS3();
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh topic and bucket with these records (partition 0 unless given). */
async function setup(
  records: Omit<ProducerRecord, 'topic'>[],
  partitions = 1,
): Promise<{ topic: string; bucket: string }> {
  n++;
  const topic = `t${n}`;
  const bucket = `bucket-${n}`;
  await s3.createBucket(bucket);
  const admin = client.admin();
  await admin.createTopics([{ topic, numPartitions: partitions }]);
  await admin.close();
  const producer = client.producer({ 'linger.ms': 1 });
  await producer.sendBatch(records.map((r) => ({ partition: 0, ...r, topic })));
  await producer.close();
  return { topic, bucket };
}

async function sinkAll(
  topic: string,
  bucket: string,
  props: Record<string, string>,
  expectedObjects: number,
  opts: { toValue?: ValueOf; nowMs?: () => number; store?: (real: ObjectStore) => ObjectStore } = {},
): Promise<string[]> {
  const sink = await driveSink({
    client,
    topics: [topic],
    group: `g-${topic}`,
    props: { ...s3.sinkProps(bucket), 'format.class': 'JsonFormat', topics: topic, ...props },
    ...(opts.toValue ? { toValue: opts.toValue } : {}),
    task: {
      ...(opts.nowMs ? { nowMs: opts.nowMs } : {}),
      ...(opts.store ? { store: (cfg) => opts.store!(new S3ObjectStore(cfg)) } : {}),
    },
  });
  await sink.runUntil(async () => (await s3.list(bucket)).length >= expectedObjects);
  await sink.stop();
  return s3.list(bucket);
}

function record(topic: string, partition: number, offset: number, value: unknown): SinkRecord {
  return {
    topic,
    kafkaPartition: partition,
    kafkaOffset: offset,
    keySchema: null,
    key: null,
    valueSchema: null,
    value,
    timestamp: 0,
    timestampType: 'CreateTime',
    headers: [],
    originalTopic: topic,
    originalKafkaPartition: partition,
    originalKafkaOffset: offset,
  };
}

const text = async (bucket: string, key: string) => (await s3.get(bucket, key)).toString('utf8');

describe('S3 sink partitioners', () => {
  it('FieldPartitioner: <field>=<value> folders', async () => {
    const recs = ['eu', 'us', 'eu', 'eu'].map((region, i) => ({
      value: JSON.stringify({ region, tier: i % 2, i }),
    }));
    const { topic, bucket } = await setup(recs);
    const keys = await sinkAll(
      topic,
      bucket,
      {
        'partitioner.class': 'io.confluent.connect.storage.partitioner.FieldPartitioner',
        'partition.field.name': 'region,tier',
        'flush.size': '4',
      },
      3,
    );
    expect(keys).toEqual([
      `topics/${topic}/region=eu/tier=0/${topic}+0+0000000000.json`,
      `topics/${topic}/region=eu/tier=1/${topic}+0+0000000003.json`,
      `topics/${topic}/region=us/tier=1/${topic}+0+0000000001.json`,
    ]);
    expect(await text(bucket, keys[0]!)).toBe(
      '{"region":"eu","tier":0,"i":0}\n{"region":"eu","tier":0,"i":2}\n',
    );
  });

  it('TimeBasedPartitioner with record time, path.format, timezone and locale', async () => {
    const t0 = Date.UTC(2024, 2, 9, 22, 30);
    const recs = [0, 20, 40, 70].map((min, i) => ({
      value: JSON.stringify({ i }),
      timestamp: t0 + min * 60_000,
    }));
    const { topic, bucket } = await setup(recs);
    const keys = await sinkAll(
      topic,
      bucket,
      {
        'partitioner.class': 'TimeBasedPartitioner',
        'path.format': "'year'=YYYY/'month'=MMM/'day'=dd/'hour'=HH",
        'partition.duration.ms': '3600000',
        locale: 'en-US',
        timezone: 'America/New_York',
        'timestamp.extractor': 'Record',
        'flush.size': '4',
      },
      2,
    );
    // 22:30 UTC on 9 March 2024 is 17:30 in New York (EST): records at 17:30 and 17:50, then 18:10 and 18:40.
    expect(keys).toEqual([
      `topics/${topic}/year=2024/month=Mar/day=09/hour=17/${topic}+0+0000000000.json`,
      `topics/${topic}/year=2024/month=Mar/day=09/hour=18/${topic}+0+0000000002.json`,
    ]);
  });

  it('TimeBasedPartitioner with a RecordField time; Daily and Hourly partitioners', async () => {
    const recs = ['2024-05-01T10:15:00Z', '2024-05-01T11:15:00Z', '2024-05-02T00:05:00Z'].map((at, i) => ({
      value: JSON.stringify({ at, i }),
      timestamp: 0,
    }));
    const a = await setup(recs);
    expect(
      await sinkAll(
        a.topic,
        a.bucket,
        {
          'partitioner.class': 'TimeBasedPartitioner',
          'path.format': 'YYYY-MM-dd',
          'partition.duration.ms': '86400000',
          locale: 'en',
          timezone: 'UTC',
          'timestamp.extractor': 'RecordField',
          'timestamp.field': 'at',
          'flush.size': '3',
        },
        2,
      ),
    ).toEqual([
      `topics/${a.topic}/2024-05-01/${a.topic}+0+0000000000.json`,
      `topics/${a.topic}/2024-05-02/${a.topic}+0+0000000002.json`,
    ]);

    const ts = recs.map((r) => ({ value: r.value, timestamp: Date.parse(JSON.parse(r.value).at) }));
    const d = await setup(ts);
    expect(
      await sinkAll(
        d.topic,
        d.bucket,
        {
          'partitioner.class': 'io.confluent.connect.storage.partitioner.DailyPartitioner',
          locale: 'en-US',
          timezone: 'UTC',
          'timestamp.extractor': 'Record',
          'flush.size': '3',
        },
        2,
      ),
    ).toEqual([
      `topics/${d.topic}/year=2024/month=05/day=01/${d.topic}+0+0000000000.json`,
      `topics/${d.topic}/year=2024/month=05/day=02/${d.topic}+0+0000000002.json`,
    ]);
    const h = await setup(ts);
    expect(
      await sinkAll(
        h.topic,
        h.bucket,
        {
          'partitioner.class': 'HourlyPartitioner',
          locale: 'en-US',
          timezone: 'UTC',
          'timestamp.extractor': 'Record',
          'flush.size': '3',
        },
        3,
      ),
    ).toEqual([
      `topics/${h.topic}/year=2024/month=05/day=01/hour=10/${h.topic}+0+0000000000.json`,
      `topics/${h.topic}/year=2024/month=05/day=01/hour=11/${h.topic}+0+0000000001.json`,
      `topics/${h.topic}/year=2024/month=05/day=02/hour=00/${h.topic}+0+0000000002.json`,
    ]);
  });

  it('TimeBasedPartitioner with wall-clock time (injected clock)', async () => {
    const { topic, bucket } = await setup([{ value: '{"a":1}' }, { value: '{"a":2}' }]);
    const keys = await sinkAll(
      topic,
      bucket,
      {
        'partitioner.class': 'TimeBasedPartitioner',
        'path.format': "'dt'=YYYYMMdd",
        'partition.duration.ms': '86400000',
        locale: 'en-US',
        timezone: 'UTC',
        'flush.size': '2',
      },
      1,
      { nowMs: () => Date.UTC(2030, 0, 2, 3) },
    );
    expect(keys).toEqual([`topics/${topic}/dt=20300102/${topic}+0+0000000000.json`]);
  });
});

describe('S3 sink formats', () => {
  it('AvroFormat: an Avro object container file per object, from the Connect value schema', async () => {
    const schema = structSchema(
      [
        { name: 'id', schema: Schemas.INT64 },
        { name: 'name', schema: Schemas.STRING },
        { name: 'score', schema: Schemas.OPTIONAL_FLOAT64 },
        { name: 'at', schema: Schemas.TIMESTAMP },
      ],
      { name: 'com.example.User' },
    );
    const toValue: ValueOf = (r) => {
      const v = JSON.parse(r.value!.toString('utf8')) as {
        id: number;
        name: string;
        score: number | null;
        at: number;
      };
      return { schema, value: { ...v, at: new Date(v.at) } };
    };
    const recs = [0, 1, 2, 3, 4].map((i) => ({
      value: JSON.stringify({
        id: i,
        name: `user-${i}`,
        score: i % 2 ? i / 2 : null,
        at: 1_700_000_000_000 + i,
      }),
    }));
    const { topic, bucket } = await setup(recs);
    const keys = await sinkAll(
      topic,
      bucket,
      { 'format.class': 'io.confluent.connect.s3.format.avro.AvroFormat', 'flush.size': '5' },
      1,
      { toValue },
    );
    expect(keys).toEqual([`topics/${topic}/partition=0/${topic}+0+0000000000.avro`]);
    const file = join(dir, 'out.avro');
    writeFileSync(file, await s3.get(bucket, keys[0]!));
    const rows: { id: number; name: string; score: number | null; at: number }[] = [];
    let readSchema: { name?: string } = {};
    await new Promise<void>((resolve, reject) => {
      avro
        .createFileDecoder(file)
        .on('metadata', (type: avro.Type) => {
          readSchema = type.schema() as { name?: string };
        })
        .on('data', (row: { id: number; name: string; score: number | null; at: number }) => rows.push(row))
        .on('end', () => resolve())
        .on('error', reject);
    });
    expect(readSchema.name).toBe('com.example.User');
    expect(rows.map((r) => [r.id, r.name, r.score, r.at])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i, `user-${i}`, i % 2 ? i / 2 : null, 1_700_000_000_000 + i]),
    );
  });

  it('ByteArrayFormat: raw values with a separator and extension', async () => {
    const { topic, bucket } = await setup([{ value: Buffer.from([0, 1, 2]) }, { value: Buffer.from('abc') }]);
    const keys = await sinkAll(
      topic,
      bucket,
      {
        'format.class': 'ByteArrayFormat',
        'format.bytearray.separator': '|',
        'format.bytearray.extension': '.raw',
        'flush.size': '2',
      },
      1,
      { toValue: bytesValue },
    );
    expect(keys).toEqual([`topics/${topic}/partition=0/${topic}+0+0000000000.raw`]);
    expect(await s3.get(bucket, keys[0]!)).toEqual(Buffer.from([0, 1, 2, 0x7c, 0x61, 0x62, 0x63, 0x7c]));
  });

  it('behavior.on.null.values: ignore skips tombstones, write writes them, fail fails', async () => {
    const recs = [{ value: '{"a":1}' }, { value: null }, { value: '{"a":2}' }];
    const a = await setup(recs);
    const keys = await sinkAll(
      a.topic,
      a.bucket,
      { 'behavior.on.null.values': 'ignore', 'flush.size': '2', 'topics.dir': 'land' },
      1,
    );
    expect(keys).toEqual([`land/${a.topic}/partition=0/${a.topic}+0+0000000000.json`]);
    expect(await text(a.bucket, keys[0]!)).toBe('{"a":1}\n{"a":2}\n');
    const b = await setup(recs);
    const kb = await sinkAll(b.topic, b.bucket, { 'behavior.on.null.values': 'write', 'flush.size': '3' }, 1);
    expect(await text(b.bucket, kb[0]!)).toBe('{"a":1}\nnull\n{"a":2}\n');
    const c = await setup(recs);
    const sink = await driveSink({
      client,
      topics: [c.topic],
      group: 'g-fail',
      props: { ...s3.sinkProps(c.bucket), 'format.class': 'JsonFormat', 'flush.size': '3' },
    });
    await expect(sink.runUntil(() => false, 10_000)).rejects.toThrow(/behavior\.on\.null\.values/);
    await sink.crash();
  });
});

describe('S3 sink rotation, multipart and memory', () => {
  it('rotate.interval.ms cuts files by record time; the record past the interval starts the next file', async () => {
    const recs = [0, 1000, 2999, 3000, 3500, 7000, 7100].map((t, i) => ({
      value: JSON.stringify({ i }),
      timestamp: 1_000_000 + t,
    }));
    const { topic, bucket } = await setup(recs);
    const keys = await sinkAll(topic, bucket, { 'rotate.interval.ms': '3000', 'flush.size': '100' }, 2);
    expect(keys).toEqual([
      `topics/${topic}/partition=0/${topic}+0+0000000000.json`,
      `topics/${topic}/partition=0/${topic}+0+0000000003.json`,
    ]);
    expect(await text(bucket, keys[1]!)).toBe('{"i":3}\n{"i":4}\n');
  });

  it('rotate.schedule.interval.ms commits open files at wall-clock boundaries (injected clock)', async () => {
    let now = Date.UTC(2030, 0, 1, 0, 0, 10);
    const { topic, bucket } = await setup([{ value: '{"a":1}' }, { value: '{"a":2}' }]);
    const sink = await driveSink({
      client,
      topics: [topic],
      group: `g-${topic}`,
      props: {
        ...s3.sinkProps(bucket),
        'format.class': 'JsonFormat',
        topics: topic,
        'flush.size': '100',
        'rotate.schedule.interval.ms': '60000',
        timezone: 'UTC',
      },
      task: { nowMs: () => now },
    });
    await sink.runUntil(() => sink.put === 2);
    expect(await s3.list(bucket)).toEqual([]);
    now = Date.UTC(2030, 0, 1, 0, 1, 0);
    await sink.commit();
    expect(await s3.list(bucket)).toEqual([`topics/${topic}/partition=0/${topic}+0+0000000000.json`]);
    await sink.stop();
  });

  it('uploads files larger than s3.part.size as multipart uploads', async () => {
    const big = 'x'.repeat(100 * 1024);
    const recs = Array.from({ length: 120 }, (_, i) => ({ value: JSON.stringify({ i, big }) }));
    const { topic, bucket } = await setup(recs);
    let parts = 0;
    let puts = 0;
    const counting = (real: ObjectStore): ObjectStore => ({
      putObject: (k, b) => {
        puts++;
        return real.putObject(k, b);
      },
      createMultipartUpload: (k) => real.createMultipartUpload(k),
      uploadPart: (k, u, p, b) => {
        parts++;
        return real.uploadPart(k, u, p, b);
      },
      completeMultipartUpload: (k, u, p) => real.completeMultipartUpload(k, u, p),
      abortMultipartUpload: (k, u) => real.abortMultipartUpload(k, u),
      close: () => real.close(),
    });
    const keys = await sinkAll(
      topic,
      bucket,
      { 's3.part.size': String(5 * 1024 * 1024), 'flush.size': '120' },
      1,
      { store: counting },
    );
    expect(puts).toBe(0);
    expect(parts).toBe(3);
    const body = await text(bucket, keys[0]!);
    const got = body
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(got).toEqual(recs.map((_, i) => i));
  });

  it('writes JSON lines byte for byte: multi-byte text, records of every size, buffers reused across files', async () => {
    n++;
    const bucket = `bucket-${n}`;
    await s3.createBucket(bucket);
    const task = new S3SinkTask();
    task.start({ ...s3.sinkProps(bucket), 'format.class': 'JsonFormat', 'flush.size': '7' });
    const pieces = ['a', 'é', '€', '😀', '"', '\\', '\n', '中文'];
    // Sizes from empty to past a 64 KiB chunk, so lines land in, across and beside the buffers.
    const sizes = [0, 1, 3000, 21_000, 22_000, 40_000, 70_000, 5, 800, 30_000];
    const values = Array.from({ length: 63 }, (_, i) => ({
      i,
      s: pieces[i % pieces.length]!.repeat(sizes[i % sizes.length]! / pieces[i % pieces.length]!.length),
    }));
    for (let i = 0; i < values.length; i += 5)
      await task.put(
        values.slice(i, i + 5).flatMap((v) => [record('utf', 0, v.i, v), record('utf', 1, v.i, v)]),
      );
    await task.preCommit(new Map());
    expect(task.memory!.usedBytes).toBe(0);
    await task.stop();
    const keys = await s3.list(bucket);
    expect(keys).toHaveLength(18);
    for (const p of [0, 1]) {
      for (let start = 0; start < values.length; start += 7) {
        const key = `topics/utf/partition=${p}/utf+${p}+${String(start).padStart(10, '0')}.json`;
        const want = values
          .slice(start, start + 7)
          .map((v) => `${JSON.stringify(v)}\n`)
          .join('');
        expect((await s3.get(bucket, key)).equals(Buffer.from(want, 'utf8'))).toBe(true);
      }
    }
  });

  it('writes each file into one buffer sized from its first lines or the previous file, reused for the next files', async () => {
    n++;
    const bucket = `bucket-${n}`;
    await s3.createBucket(bucket);
    const task = new S3SinkTask();
    task.start({ ...s3.sinkProps(bucket), 'format.class': 'JsonFormat', 'flush.size': '1000' });
    const pad = 'p'.repeat(1000);
    // Eight files of ~1 MB, one at a time (a put waits for the file before it when it must).
    for (let i = 0; i < 8000; i += 250) {
      await task.put(Array.from({ length: 250 }, (_, j) => record('reuse', 0, i + j, { i: i + j, pad })));
      await task.preCommit(new Map());
    }
    // The first file: one 64 KiB buffer, then one for the rest estimated from its lines, then
    // one for the whole body; later files each reuse a buffer one before them gave back.
    expect(task.memory!.misses).toBeLessThanOrEqual(5);
    expect(task.memory!.usedBytes).toBe(0);
    await task.stop();
    const keys = await s3.list(bucket);
    expect(keys).toHaveLength(8);
    for (const [f, key] of keys.entries()) {
      const want = Array.from(
        { length: 1000 },
        (_, j) => `${JSON.stringify({ i: f * 1000 + j, pad })}\n`,
      ).join('');
      expect(await text(bucket, key)).toBe(want);
    }
  });

  it('close() drops a partition open batch; given the partition again, the task writes it anew', async () => {
    n++;
    const bucket = `bucket-${n}`;
    await s3.createBucket(bucket);
    const task = new S3SinkTask();
    task.start({ ...s3.sinkProps(bucket), 'format.class': 'JsonFormat', 'flush.size': '10' });
    const recs = Array.from({ length: 10 }, (_, i) => record('moved', 0, i, { i }));
    await task.put(recs.slice(0, 5));
    const before = task.partitionWriters[0];
    await task.close([{ topic: 'moved', partition: 0 }]);
    expect(task.partitionWriters).toHaveLength(0);
    // Assigned back after a rebalance: the records come again from the committed offset.
    task.open([{ topic: 'moved', partition: 0 }]);
    await task.put(recs);
    expect(task.partitionWriters).toHaveLength(1);
    expect(task.partitionWriters[0]).not.toBe(before);
    const offsets = await task.preCommit(
      new Map([['moved-0', { topic: 'moved', partition: 0, offset: 10 }]]),
    );
    expect(offsets.get('moved-0')?.offset).toBe(10);
    expect(task.partitionWriters[0]!.committedFiles).toBe(1);
    await task.stop();
    expect(await s3.list(bucket)).toEqual(['topics/moved/partition=0/moved+0+0000000000.json']);
  });

  it('keeps buffers within s3.buffer.memory.bytes by uploading the largest as parts early', async () => {
    n++;
    const bucket = `bucket-${n}`;
    await s3.createBucket(bucket);
    const task = new S3SinkTask();
    task.start({
      ...s3.sinkProps(bucket),
      'format.class': 'JsonFormat',
      'flush.size': '30',
      's3.buffer.memory.bytes': String(16 * 1024 * 1024),
    });
    const big = 'y'.repeat(256 * 1024);
    // Three partitions growing together: 3 × 7.5 MiB would be 22.5 MiB buffered without the bound.
    for (let i = 0; i < 30; i++) {
      await task.put([0, 1, 2].map((p) => record('mem', p, i, { p, i, big })));
      expect(task.memory!.usedBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    }
    await task.preCommit(new Map()); // the last files finish uploading
    expect(task.memory!.peakBytes).toBeLessThanOrEqual(16 * 1024 * 1024 + 3 * 300 * 1024);
    expect(task.memory!.usedBytes).toBe(0);
    await task.stop();
    const keys = await s3.list(bucket);
    expect(keys).toHaveLength(3);
    for (const k of keys)
      expect(
        (await text(bucket, k))
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => (JSON.parse(l) as { i: number }).i),
      ).toEqual([...Array(30).keys()]);
  });

  it('fails with an error naming s3.buffer.memory.bytes when small files alone exceed it', async () => {
    n++;
    const bucket = `bucket-${n}`;
    await s3.createBucket(bucket);
    const task = new S3SinkTask();
    task.start({
      ...s3.sinkProps(bucket),
      'format.class': 'JsonFormat',
      'flush.size': '1000',
      's3.buffer.memory.bytes': String(5 * 1024 * 1024),
    });
    const big = 'z'.repeat(64 * 1024);
    const put = async () => {
      for (let i = 0; i < 20; i++)
        await task.put(Array.from({ length: 10 }, (_, p) => record('many', p, i, { big })));
    };
    await expect(put()).rejects.toThrow(/s3\.buffer\.memory\.bytes/);
    await task.stop();
  });
});
