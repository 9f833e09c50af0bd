/**
 * Helpers for the Connect tests: HTTP calls to a worker's REST API, polling until a condition
 * holds, and reading every record of a topic.
 */
import type { KafkaClient } from '../../core/client/types.js';

export interface HttpReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test helper: bodies are checked field by field
  body: any;
  headers: Headers;
}

export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<HttpReply> {
  const res = await fetch(base + path, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'Content-Type': 'application/json' } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every record of `topic` (all partitions) as { key, value, headers } strings, in partition order. */
export async function readTopic(client: KafkaClient, topic: string, expected: number, timeoutMs = 20_000) {
  const admin = client.admin();
  const desc = await waitFor(
    `topic ${topic}`,
    async () => (await admin.describeTopics([topic]))[0],
    timeoutMs,
  );
  await admin.close();
  const tps = desc!.partitions.map((p) => ({ topic, partition: p.partition }));
  const consumer = client.consumer({ 'enable.auto.commit': false });
  consumer.assign(tps);
  consumer.seekToBeginning(tps);
  const out: {
    key: string | null;
    value: string | null;
    headers: Record<string, string | null>;
    partition: number;
    offset: number;
  }[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < expected && Date.now() < deadline) {
    for (const r of await consumer.poll({ timeoutMs: 200 })) {
      out.push({
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value?.toString() ?? null])),
        partition: r.partition,
        offset: r.offset,
      });
    }
  }
  // Anything beyond what was expected shows up too (duplicates must not hide).
  for (let i = 0; i < 3; i++)
    for (const r of await consumer.poll({ timeoutMs: 100 }))
      out.push({
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        headers: {},
        partition: r.partition,
        offset: r.offset,
      });
  await consumer.close();
  return out;
}
