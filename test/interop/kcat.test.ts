/**
 * kcat (librdkafka 2.0.2) against our broker, and our client and kafkajs reading what kcat wrote
 * (and the other way round): bytes, keys, headers, timestamps, offsets, partitions, codecs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, ConsumerRecord, KafkaClient } from '../../core/client/index.js';
import { connect } from '../../core/client/index.js';
import { murmur2Partition } from '../../core/client/murmur2.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { ensureKcat, INSTALL_TIMEOUT_MS } from '../helpers/system.js';
import { tempDir } from '../helpers/tmp.js';
import {
  byPartition,
  type KcatProcess,
  kafkajs,
  kcatOk,
  pollBatchRecords,
  pollRecords,
  spawnKcat,
  topicName,
  until,
} from './tools.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** kcat's -f format: fields split by US (0x1f), records ended by RS (0x1e). */
const FORMAT = '%p\\x1f%o\\x1f%k\\x1f%s\\x1f%T\\x1f%h\\x1e';

interface KcatRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
  timestamp: number;
  headers: string;
}

function parseKcat(out: string): KcatRecord[] {
  return out
    .split('\x1e')
    .filter((s) => s.length > 0)
    .map((s) => {
      const [p, o, key, value, ts, headers] = s.split('\x1f');
      return {
        partition: Number(p),
        offset: Number(o),
        key: key!,
        value: value!,
        timestamp: Number(ts),
        headers: headers!,
      };
    });
}

let broker: TestBroker;
let client: KafkaClient;
let admin: Admin;

beforeAll(async () => {
  ensureKcat();
  broker = await startTestBroker();
  client = await connect({ 'bootstrap.servers': broker.bootstrap });
  admin = client.admin();
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await client?.close();
});

async function createTopic(prefix: string, partitions = 1): Promise<string> {
  const topic = topicName(prefix);
  await admin.createTopics([{ topic, numPartitions: partitions }]);
  return topic;
}

/**
 * Reads `count` records from all `partitions` of `topic` from the beginning with our consumer,
 * twice: with poll() and with pollBatch(), which must agree.
 */
async function readWithOurs(topic: string, count: number, partitions = 1): Promise<ConsumerRecord[]> {
  const read = async (poll: typeof pollRecords): Promise<ConsumerRecord[]> => {
    const consumer = client.consumer({ 'auto.offset.reset': 'earliest', 'check.crcs': true });
    try {
      consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
      const records = await poll(consumer, count);
      expect(records).toHaveLength(count);
      return records;
    } finally {
      await consumer.close();
    }
  };
  const records = await read(pollRecords);
  const ordered = (rs: ConsumerRecord[]) =>
    [...rs].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  expect(ordered(await read(pollBatchRecords))).toEqual(ordered(records));
  return records;
}

/** The codec (attributes & 7) of every batch stored for topic-partition, read from the log itself. */
function storedCodecs(topic: string, partition = 0): number[] {
  const read = broker.broker.logs.getLog(topic, partition).read(0, 64 * 1024 * 1024);
  const codecs: number[] = [];
  for (const chunk of read.records) {
    for (let pos = 0; pos + 61 <= chunk.length; pos += 12 + chunk.readInt32BE(pos + 8)) {
      codecs.push(chunk.readInt16BE(pos + 21) & 7);
    }
  }
  return codecs;
}

describe('kcat → broker → our consumer and kcat', () => {
  it('keyed lines with headers come back exactly, at offsets 0..n-1, with kcat’s timestamps', async () => {
    const topic = await createTopic('kcat-lines');
    const lines = [
      ['k1', 'v1'],
      ['key two', 'value with spaces'],
      ['ünïcødé', 'çødé ✓ 日本語'],
      ['k4', 'x'.repeat(5000)],
      ['k5', 'last'],
    ] as const;
    const before = Date.now();
    await kcatOk(['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K:', '-H', 'h1=x', '-H', 'h2=yy'], {
      input: `${lines.map(([k, v]) => `${k}:${v}`).join('\n')}\n`,
    });
    const after = Date.now();

    const ours = await readWithOurs(topic, lines.length);
    ours.forEach((r, i) => {
      expect(r.offset).toBe(i);
      expect(r.key?.toString()).toBe(lines[i]![0]);
      expect(r.value?.toString()).toBe(lines[i]![1]);
      expect(r.headers).toEqual([
        { key: 'h1', value: Buffer.from('x') },
        { key: 'h2', value: Buffer.from('yy') },
      ]);
      expect(r.timestampType).toBe('CreateTime');
      expect(r.timestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(r.timestamp).toBeLessThanOrEqual(after + 1000);
    });

    const theirs = parseKcat(
      (
        await kcatOk([
          '-C',
          '-b',
          broker.bootstrap,
          '-t',
          topic,
          '-o',
          'beginning',
          '-e',
          '-X',
          'check.crcs=true',
          '-f',
          FORMAT,
        ])
      ).out,
    );
    expect(theirs).toEqual(
      ours.map((r) => ({
        partition: 0,
        offset: r.offset,
        key: r.key?.toString(),
        value: r.value?.toString(),
        timestamp: r.timestamp,
        headers: 'h1=x,h2=yy',
      })),
    );
  });

  it('a binary value (every byte 0..255) is stored and read back byte for byte', async () => {
    const topic = await createTopic('kcat-binary');
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
    const file = join(tempDir(), 'value.bin');
    writeFileSync(file, bytes);
    // A file argument without -l is sent as one message.
    await kcatOk(['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-k', 'bin', file]);
    const [ours] = await readWithOurs(topic, 1);
    expect(ours!.key).toEqual(Buffer.from('bin'));
    expect(ours!.value!.equals(bytes)).toBe(true);
    const theirs = await kcatOk([
      '-C',
      '-b',
      broker.bootstrap,
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-f',
      '%s',
    ]);
    expect(theirs.stdout.equals(bytes)).toBe(true);
  });
});

describe('offsets and timestamps', () => {
  it('kcat and our consumer starting inside a compressed batch get the records from that offset on', async () => {
    const topic = await createTopic('kcat-mid-batch');
    const input = Array.from({ length: 100 }, (_, i) => `k${i}:value ${i} ${'abcdef'.repeat(5)}`);
    await kcatOk(
      ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K:', '-z', 'gzip', '-X', 'linger.ms=50'],
      {
        input: `${input.join('\n')}\n`,
      },
    );
    expect(storedCodecs(topic).length).toBeLessThan(10); // a few big batches, so offset 50 is inside one
    const theirs = parseKcat(
      (
        await kcatOk([
          '-C',
          '-b',
          broker.bootstrap,
          '-t',
          topic,
          '-p',
          '0',
          '-o',
          '50',
          '-c',
          '3',
          '-f',
          FORMAT,
        ])
      ).out,
    );
    expect(theirs.map((r) => [r.offset, r.key])).toEqual([
      [50, 'k50'],
      [51, 'k51'],
      [52, 'k52'],
    ]);
    const consumer = client.consumer({ 'auto.offset.reset': 'earliest' });
    try {
      consumer.assign([{ topic, partition: 0 }]);
      consumer.seek({ topic, partition: 0 }, 50);
      const ours = await pollRecords(consumer, 50);
      expect(ours.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    } finally {
      await consumer.close();
    }
  });

  it('a LogAppendTime topic: kcat sees the broker’s time, the one our producer was told', async () => {
    const topic = topicName('kcat-log-append');
    await admin.createTopics([
      { topic, numPartitions: 1, configs: { 'message.timestamp.type': 'LogAppendTime' } },
    ]);
    const producer = client.producer();
    const before = Date.now();
    const meta = await producer.send({ topic, value: 'x', timestamp: 1_000 });
    await producer.close();
    expect(meta.timestamp).toBeGreaterThanOrEqual(before - 1000);
    const r = await kcatOk(['-C', '-b', broker.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-J']);
    const [line] = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tstype: string; ts: number; offset: number });
    expect(line).toMatchObject({ offset: 0, tstype: 'logappend', ts: meta.timestamp });
  });
});

describe('partitioning', () => {
  const PARTITIONS = 6;
  const keys = [
    'kafka',
    'giberish123456789',
    '1234',
    '0',
    '1',
    '100:48069'.replace(':', '_'), // ':' is kcat's key delimiter here
    ...Array.from({ length: 60 }, (_, i) => `user-${i}`),
  ];

  it('kcat with partitioner=murmur2_random puts each key in murmur2(key) % n, and our producer agrees', async () => {
    const topic = await createTopic('kcat-murmur2', PARTITIONS);
    await kcatOk(['-P', '-b', broker.bootstrap, '-t', topic, '-K:', '-X', 'partitioner=murmur2_random'], {
      input: `${keys.map((k) => `${k}:v-${k}`).join('\n')}\n`,
    });
    const theirs = parseKcat(
      (await kcatOk(['-C', '-b', broker.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-f', FORMAT])).out,
    );
    expect(theirs).toHaveLength(keys.length);
    const kcatPlacement = new Map(theirs.map((r) => [r.key, r.partition]));
    for (const k of keys) expect(kcatPlacement.get(k), k).toBe(murmur2Partition(Buffer.from(k), PARTITIONS));
    // The keys spread over several partitions (so the check above means something).
    expect(new Set(kcatPlacement.values()).size).toBeGreaterThan(3);

    const ourTopic = await createTopic('ours-murmur2', PARTITIONS);
    const producer = client.producer();
    const meta = await producer.sendBatch(keys.map((k) => ({ topic: ourTopic, key: k, value: `v-${k}` })));
    await producer.close();
    meta.forEach((m, i) => {
      expect(m.partition, keys[i]).toBe(kcatPlacement.get(keys[i]!));
    });

    // Offsets within a partition follow the order sent.
    for (const [, list] of byPartition(theirs))
      expect(list.map((r) => r.offset)).toEqual(list.map((_, i) => i));
  });
});

describe('compression', () => {
  /** Repetitive lines, so every codec actually shrinks them (librdkafka sends a batch raw otherwise). */
  const lines = Array.from(
    { length: 200 },
    (_, i) => [`key-${i % 7}`, `value ${i} ${'abcdefgh'.repeat(8)}`] as const,
  );

  for (const codec of CODECS) {
    it(`kcat -z ${codec} → kafkajs and our consumer read every record`, async () => {
      const topic = await createTopic(`kcat-${codec}`);
      await kcatOk(
        ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K:', '-z', codec, '-X', 'linger.ms=50'],
        {
          input: `${lines.map(([k, v]) => `${k}:${v}`).join('\n')}\n`,
        },
      );
      const codecs = storedCodecs(topic);
      expect(codecs.length).toBeGreaterThan(0);
      expect(new Set(codecs)).toEqual(new Set([CODEC_IDS[codec]]));

      const ours = await readWithOurs(topic, lines.length);
      expect(ours.map((r) => [r.offset, r.key?.toString(), r.value?.toString()])).toEqual(
        lines.map(([k, v], i) => [i, k, v]),
      );

      const kjs = kafkajs(broker.bootstrap);
      const consumer = kjs.consumer({
        groupId: `g-${topic}`,
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 200,
      });
      const got: { offset: number; key: string; value: string; timestamp: number }[] = [];
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        const done = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`kafkajs read ${got.length} of ${lines.length}`)),
            20_000,
          );
          void consumer.run({
            eachMessage: async ({ message }) => {
              got.push({
                offset: Number(message.offset),
                key: message.key!.toString(),
                value: message.value!.toString(),
                timestamp: Number(message.timestamp),
              });
              if (got.length === lines.length) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
        await done;
      } finally {
        await consumer.disconnect();
      }
      expect(got).toEqual(
        ours.map((r) => ({
          offset: r.offset,
          key: r.key!.toString(),
          value: r.value!.toString(),
          timestamp: r.timestamp,
        })),
      );
    });
  }

  for (const codec of ['none', ...CODECS] as const) {
    it(`our producer with compression.type=${codec} → kcat (check.crcs=true) reads it exactly`, async () => {
      const topic = await createTopic(`ours-${codec}`);
      const producer = client.producer({ 'compression.type': codec, 'linger.ms': 20 });
      const base = 1_700_000_000_000;
      const meta = await producer.sendBatch(
        lines.map(([k, v], i) => ({
          topic,
          partition: 0,
          key: k,
          value: v,
          timestamp: base + i,
          headers: { trace: `t${i}`, codec },
        })),
      );
      await producer.close();
      expect(meta.map((m) => m.offset)).toEqual(lines.map((_, i) => i));
      expect(new Set(storedCodecs(topic))).toEqual(new Set([CODEC_IDS[codec]]));

      const r = await kcatOk([
        '-C',
        '-b',
        broker.bootstrap,
        '-t',
        topic,
        '-o',
        'beginning',
        '-e',
        '-X',
        'check.crcs=true',
        '-f',
        FORMAT,
      ]);
      expect(r.stderr).not.toMatch(/crc|corrupt|PROTOERR/i);
      expect(parseKcat(r.out)).toEqual(
        lines.map(([k, v], i) => ({
          partition: 0,
          offset: i,
          key: k,
          value: v,
          timestamp: base + i,
          headers: `trace=t${i},codec=${codec}`,
        })),
      );
    });
  }

  it('kafkajs producer (gzip) → kcat and our consumer read it', async () => {
    const topic = await createTopic('kafkajs-gzip');
    const { CompressionTypes } = await import('kafkajs');
    const kjs = kafkajs(broker.bootstrap);
    const producer = kjs.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const base = 1_690_000_000_000;
    try {
      await producer.send({
        topic,
        compression: CompressionTypes.GZIP,
        messages: lines.map(([k, v], i) => ({
          partition: 0,
          key: k,
          value: v,
          timestamp: String(base + i),
          headers: { n: String(i) },
        })),
      });
    } finally {
      await producer.disconnect();
    }
    expect(new Set(storedCodecs(topic))).toEqual(new Set([CODEC_IDS.gzip]));

    const ours = await readWithOurs(topic, lines.length);
    expect(
      ours.map((r) => [r.offset, r.key?.toString(), r.value?.toString(), r.timestamp, r.headers]),
    ).toEqual(lines.map(([k, v], i) => [i, k, v, base + i, [{ key: 'n', value: Buffer.from(String(i)) }]]));
    const r = await kcatOk([
      '-C',
      '-b',
      broker.bootstrap,
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-X',
      'check.crcs=true',
      '-f',
      FORMAT,
    ]);
    expect(parseKcat(r.out)).toEqual(
      lines.map(([k, v], i) => ({
        partition: 0,
        offset: i,
        key: k,
        value: v,
        timestamp: base + i,
        headers: `n=${i}`,
      })),
    );
  });
});

describe('librdkafka consumer group (kcat -G)', () => {
  it('a balanced kcat consumer reads every partition once and commits its offsets to the group', async () => {
    const topic = await createTopic('kcat-group', 3);
    const producer = client.producer();
    const sent = await producer.sendBatch(
      Array.from({ length: 30 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })),
    );
    await producer.close();
    const group = `kcat-group-${process.pid}`;
    const r = await kcatOk(
      [
        '-b',
        broker.bootstrap,
        '-G',
        group,
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'session.timeout.ms=6000',
        '-e',
        '-f',
        FORMAT,
        topic,
      ],
      { timeoutMs: 30_000 },
    );
    const got = parseKcat(r.out);
    expect(got.map((x) => `${x.partition}/${x.offset}/${x.key}/${x.value}`).sort()).toEqual(
      sent.map((m, i) => `${m.partition}/${m.offset}/k${i}/v${i}`).sort(),
    );

    // librdkafka commits what it consumed when it closes: the group's offsets are the ends.
    const offsets = await admin.listGroupOffsets(group);
    const ends = new Map<number, number>();
    for (const m of sent) ends.set(m.partition, Math.max(ends.get(m.partition) ?? 0, m.offset + 1));
    expect(
      offsets
        .filter((o) => o.topic === topic)
        .map((o) => [o.partition, o.offset])
        .sort(),
    ).toEqual([...ends.entries()].sort());
  });

  it('two kcat -G members of one group split the partitions and read them once', async () => {
    const topic = await createTopic('kcat-group2', 4);
    const group = `kcat-group2-${process.pid}`;
    const args = [
      '-b',
      broker.bootstrap,
      '-G',
      group,
      '-X',
      'auto.offset.reset=earliest',
      '-X',
      'session.timeout.ms=6000',
      '-X',
      'partition.assignment.strategy=roundrobin',
      '-u', // unbuffered: records show up on stdout as they are consumed
      '-f',
      FORMAT,
      topic,
    ];
    const members = [spawnKcat(args), spawnKcat(args)];
    /** The partitions of a member's latest "assigned:" line, once it had one. */
    const assigned = (m: KcatProcess): number[] | undefined => {
      const lines = [...m.err().matchAll(/rebalanced \(memberid [^)]*\): assigned: (.*)/g)];
      const last = lines.at(-1)?.[1];
      return last === undefined ? undefined : [...last.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
    };
    await until(
      () => members.every((m) => assigned(m)?.length === 2),
      20_000,
      'both kcat members to hold 2 partitions each',
    );
    const [pa, pb] = members.map((m) => assigned(m)!.sort());
    expect([...pa!, ...pb!].sort()).toEqual([0, 1, 2, 3]);

    const producer = client.producer();
    const sent = await producer.sendBatch(
      Array.from({ length: 40 }, (_, i) => ({ topic, partition: i % 4, key: `k${i}`, value: `v${i}` })),
    );
    await producer.close();
    await until(
      () => members.reduce((n, m) => n + parseKcat(m.out()).length, 0) >= sent.length,
      20_000,
      'the members to read every record',
    );
    await Promise.all(members.map((m) => m.stop()));
    const [ra, rb] = members.map((m) => parseKcat(m.out()));
    expect([...ra!, ...rb!].map((x) => `${x.partition}/${x.offset}/${x.key}`).sort()).toEqual(
      sent.map((m, i) => `${m.partition}/${m.offset}/k${i}`).sort(),
    );
    expect([...new Set(ra!.map((x) => x.partition))].sort()).toEqual(pa);
    expect([...new Set(rb!.map((x) => x.partition))].sort()).toEqual(pb);
  });
});
