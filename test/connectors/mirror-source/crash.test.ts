/**
 * The mirror catching up after its worker was SIGKILLed while records kept arriving: a
 * `trib connect standalone` process runs MirrorSourceConnector and MirrorCheckpointConnector into
 * one broker from another, a producer writes to the source the whole time, the worker is killed
 * mid-stream and restarted. Every source record must be in the remote topic exactly once, in its
 * partition, in order, with key, value, headers and timestamp intact — the worker's offset commits
 * are far apart, so the records acknowledged since the last one are exactly those a naive resume
 * would copy twice — and a consumer group's offsets must still translate exactly afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { decodeCheckpoint } from '../../../connectors/mirror-source/index.js';
import { connect } from '../../../core/client/index.js';
import type { ConsumerRecord, KafkaClient, ProducerRecord } from '../../../core/client/types.js';
import { ROOT, startTestBroker } from '../../helpers/broker.js';
import { tempDir } from '../../helpers/tmp.js';

const BYTES = 'org.apache.kafka.connect.converters.ByteArrayConverter';
const PARTITIONS = 3;

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ends(client: KafkaClient, topic: string): Promise<number[]> {
  const admin = client.admin();
  try {
    const out = await admin.listOffsets(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, spec: 'latest' as const })),
    );
    return out.sort((a, b) => a.partition - b.partition).map((e) => e.offset);
  } finally {
    await admin.close();
  }
}

async function readAll(client: KafkaClient, topic: string, partitions: number): Promise<ConsumerRecord[]> {
  const admin = client.admin();
  const until = await admin.listOffsets(
    Array.from({ length: partitions }, (_, partition) => ({ topic, partition, spec: 'latest' as const })),
  );
  await admin.close();
  const total = until.reduce((n, e) => n + e.offset, 0);
  const consumer = client.consumer({ 'enable.auto.commit': false });
  consumer.assign(until.map((e) => ({ topic, partition: e.partition })));
  consumer.seekToBeginning();
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 60_000;
  while (out.length < total && Date.now() < deadline) out.push(...(await consumer.poll({ timeoutMs: 200 })));
  await consumer.close();
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** `trib connect standalone` with the two mirror connectors; killed (SIGKILL) when the test ends. */
function startWorker(dir: string, files: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'trib.js'), 'connect', 'standalone', ...files], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => {
    output += t;
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output };
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('mirror source after a SIGKILL of its worker', () => {
  // Also with the runtime's exactly-once source support, which adds its own header to each record:
  // both recoveries run, and agree.
  it.each([
    { eos: false, name: 'default worker' },
    { eos: true, name: 'exactly.once.source.support=enabled' },
  ])(
    'copies every record exactly once, intact and in order, and still translates group offsets ($name)',
    async ({ eos }) => {
      const east = await startTestBroker();
      const west = await startTestBroker();
      const dir = tempDir('trib-mirror-crash-');
      const source = await connect({ 'bootstrap.servers': east.bootstrap });
      const target = await connect({ 'bootstrap.servers': west.bootstrap });
      onTestFinished(async () => {
        await source.close();
        await target.close();
      });
      const admin = source.admin();
      await admin.createTopics([{ topic: 'orders', numPartitions: PARTITIONS }]);

      const common = {
        'source.cluster.alias': 'east',
        'target.cluster.alias': 'west',
        'source.cluster.bootstrap.servers': east.bootstrap,
        'target.cluster.bootstrap.servers': west.bootstrap,
        'key.converter': BYTES,
        'value.converter': BYTES,
        'header.converter': BYTES,
      };
      const files = {
        worker: join(dir, 'worker.json'),
        mirror: join(dir, 'mirror.json'),
        checkpoint: join(dir, 'checkpoint.json'),
      };
      writeFileSync(
        files.worker,
        JSON.stringify({
          'bootstrap.servers': west.bootstrap,
          'offset.storage.file.filename': join(dir, 'offsets'),
          // Commits far apart: when the worker dies, many acknowledged records are not committed.
          'offset.flush.interval.ms': 60_000,
          ...(eos ? { 'exactly.once.source.support': 'enabled' } : {}),
          listeners: 'http://127.0.0.1:0',
        }),
      );
      writeFileSync(
        files.mirror,
        JSON.stringify({
          name: 'mm2',
          config: {
            'connector.class': 'org.apache.kafka.connect.mirror.MirrorSourceConnector',
            topics: 'orders',
            'offset.lag.max': 0,
            ...common,
          },
        }),
      );
      writeFileSync(
        files.checkpoint,
        JSON.stringify({
          name: 'mm2-cp',
          config: {
            'connector.class': 'org.apache.kafka.connect.mirror.MirrorCheckpointConnector',
            groups: 'app',
            'emit.checkpoints.interval.seconds': 1,
            'sync.group.offsets.enabled': true,
            'sync.group.offsets.interval.seconds': 1,
            ...common,
          },
        }),
      );

      // A producer writing to the source all along: keys (some null), binary values (some null),
      // two headers, explicit timestamps and partitions.
      let produced = 0;
      let producing = true;
      // Raised step by step after the kill, so that the records written since stay within what the
      // checkpoint task keeps of the offset syncs (the newest 1024 per partition).
      let limit = Number.POSITIVE_INFINITY;
      const producer = source.producer({ 'linger.ms': 2 });
      const make = (i: number): ProducerRecord => ({
        topic: 'orders',
        partition: i % PARTITIONS,
        key: i % 7 === 0 ? null : `key-${i}`,
        value: i % 11 === 0 ? null : Buffer.from([i & 0xff, 0x00, 0xff, (i >> 8) & 0xff]),
        headers: [
          { key: 'seq', value: Buffer.from(String(i)) },
          { key: 'bin', value: Buffer.from([0xfe, i & 0xff]) },
        ],
        timestamp: 1_700_000_000_000 + i,
      });
      const writer = (async () => {
        while (producing) {
          if (produced < limit) {
            await producer.sendBatch(Array.from({ length: 20 }, (_, j) => make(produced + j)));
            produced += 20;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      onTestFinished(async () => {
        // When the test failed half-way: stop writing before the clients close.
        producing = false;
        await writer.catch(() => {});
      });
      const mirrored = async () =>
        (await ends(target, 'east.orders').catch(() => [0])).reduce((a, b) => a + b, 0);

      const allFiles = [files.worker, files.mirror, files.checkpoint];
      const first = startWorker(dir, allFiles);
      await waitFor('the first records mirrored', async () =>
        (await mirrored()) >= 600 ? true : null,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\nworker output:\n${first.output()}`);
      });
      await kill9(first.child);
      const killEnds = await ends(target, 'east.orders');
      const atKill = killEnds.reduce((a, b) => a + b, 0);
      // No offset was committed yet: without catching up from the target, all of these would be copied again.
      expect(atKill).toBeGreaterThanOrEqual(600);
      const producedAtKill = produced;
      limit = producedAtKill + 600;
      await waitFor('the source to move on', async () => (produced >= limit ? true : null));

      const second = startWorker(dir, allFiles);
      await waitFor('the mirror to resume', async () => ((await mirrored()) > atKill ? true : null)).catch(
        (err: unknown) => {
          throw new Error(`${String(err)}\nworker output:\n${second.output()}`);
        },
      );
      limit += 600;
      await waitFor('more records after the restart', async () => (produced >= limit ? true : null));
      producing = false;
      await writer;
      await producer.close();
      const sourceEnds = await ends(source, 'orders');
      expect(sourceEnds.reduce((a, b) => a + b, 0)).toBe(produced);
      // Caught up: the remote partitions reach the source's ends (a duplicate would take them past).
      await waitFor('the mirror to catch up', async () => {
        const e = await ends(target, 'east.orders');
        return e.every((x, p) => x >= sourceEnds[p]!) ? e : null;
      });

      const view = (r: ConsumerRecord) => ({
        partition: r.partition,
        offset: r.offset,
        key: r.key?.toString('hex') ?? null,
        value: r.value?.toString('hex') ?? null,
        timestamp: r.timestamp,
        headers: r.headers.map((h) => `${h.key}=${h.value?.toString('hex') ?? 'null'}`),
      });
      const want = (await readAll(source, 'orders', PARTITIONS)).map(view);
      const mirroredRecords = await readAll(target, 'east.orders', PARTITIONS);
      if (eos) {
        // The runtime's header comes last; without it the record is the source's, byte for byte.
        for (const r of mirroredRecords) expect(r.headers.at(-1)?.key).toBe('__connect.source.offset');
        for (const r of mirroredRecords) r.headers.pop();
      }
      const got = mirroredRecords.map(view);
      expect(want).toHaveLength(produced);
      expect(got).toHaveLength(produced);
      expect(got).toEqual(want);

      // A group on the source — one partition read to the end, one read since the restart, one read
      // up to the last record the first worker copied (acknowledged, never committed, found again
      // by the second) — fails over to the target at exactly the same records.
      const groupOffsets = [sourceEnds[0]!, sourceEnds[1]! - 10, killEnds[2]! - 1];
      await admin.alterGroupOffsets(
        'app',
        groupOffsets.map((offset, partition) => ({ topic: 'orders', partition, offset })),
      );
      const targetAdmin = target.admin();
      onTestFinished(() => targetAdmin.close());
      let seen: (number | undefined)[] = [];
      const synced = await waitFor('the translated group offsets on the target', async () => {
        const offs = await targetAdmin.listGroupOffsets('app');
        seen = Array.from(
          { length: PARTITIONS },
          (_, p) => offs.find((o) => o.topic === 'east.orders' && o.partition === p)?.offset,
        );
        return seen.every((o, p) => o === groupOffsets[p]) ? seen : null;
      }).catch((err: unknown) => {
        throw new Error(`${String(err)}: want ${groupOffsets}, last seen ${seen}\n${second.output()}`);
      });
      expect(synced).toEqual(groupOffsets);
      // …and checkpointed as such (the latest checkpoint of each partition).
      const latest = await waitFor('the checkpoints', async () => {
        const byP = new Map<number, { upstreamOffset: number; downstreamOffset: number }>();
        for (const r of await readAll(target, 'east.checkpoints.internal', 1)) {
          const c = decodeCheckpoint(r.key!, r.value!);
          if (c.group === 'app' && c.topic === 'east.orders') byP.set(c.partition, c);
        }
        const all = groupOffsets.map((_, p) => byP.get(p));
        // Checkpoints follow the syncs read so far: an early one may still point a little back.
        return all.every(
          (c, p) => c?.upstreamOffset === groupOffsets[p] && c.downstreamOffset === groupOffsets[p],
        )
          ? all
          : null;
      });
      expect(latest.map((c) => c!.downstreamOffset)).toEqual(groupOffsets);
      await admin.close();
      await kill9(second.child);
    },
    240_000,
  );
});
