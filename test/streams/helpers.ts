import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { connect } from '../../core/client/index.js';
import type { KafkaClient, ProducerRecord } from '../../core/client/types.js';

/** A fresh embedded log in a temp dir, closed and removed when the test finishes. */
export async function embedded(): Promise<{ client: KafkaClient; dir: string; stateDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'trib-streams-'));
  const client = await connect({ 'data.dir': join(dir, 'data') });
  onTestFinished(async () => {
    await client.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return { client, dir, stateDir: join(dir, 'state') };
}

export async function createTopics(client: KafkaClient, topics: Record<string, number>): Promise<void> {
  const admin = client.admin();
  await admin.createTopics(
    Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions })),
  );
  await admin.close();
}

export async function produce(client: KafkaClient, records: ProducerRecord[]): Promise<void> {
  const p = client.producer({ 'linger.ms': 0 });
  await p.sendBatch(records);
  await p.close();
}

/** Reads a topic from the beginning until `until(records)` holds or the time is up. */
export async function readTopic(
  client: KafkaClient,
  topic: string,
  until: (
    records: { key: string | null; value: string | null; timestamp: number; partition: number }[],
  ) => boolean,
  timeoutMs = 10_000,
): Promise<{ key: string | null; value: string | null; timestamp: number; partition: number }[]> {
  const admin = client.admin();
  const [d] = await admin.describeTopics([topic]);
  await admin.close();
  const c = client.consumer({ 'auto.offset.reset': 'earliest', 'enable.auto.commit': false });
  const tps = d!.partitions.map((p) => ({ topic, partition: p.partition }));
  c.assign(tps);
  c.seekToBeginning(tps);
  const out: { key: string | null; value: string | null; timestamp: number; partition: number }[] = [];
  const deadline = Date.now() + timeoutMs;
  const ends = new Map((await c.endOffsets(tps)).map((e) => [e.partition, e.offset]));
  const positions = new Map<number, number>();
  const atEnd = () => [...ends].every(([p, end]) => (positions.get(p) ?? 0) >= end);
  try {
    while ((!until(out) || !atEnd()) && Date.now() < deadline) {
      for (const r of await c.poll({ timeoutMs: 100 })) {
        positions.set(r.partition, r.offset + 1);
        out.push({
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          timestamp: r.timestamp,
          partition: r.partition,
        });
      }
    }
  } finally {
    await c.close();
  }
  return out;
}

/** The last value per key. */
export function latest(
  records: { key: string | null; value: string | null }[],
): Map<string | null, string | null> {
  const m = new Map<string | null, string | null>();
  for (const r of records) m.set(r.key, r.value);
  return m;
}
