/**
 * A broker under bad input: random, truncated and oversized frames, unknown API keys and
 * versions, and well-framed requests with invalid field values. The broker answers with an
 * error or closes that one connection, stays up, and a well-behaved client running alongside
 * loses nothing.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../../core/broker/node.js';
import { connect, type KafkaClient } from '../../../core/client/index.js';
import { SeededRandom } from '../../../core/env/random.js';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { encodeRequestFrame } from '../../../core/protocol/frames.js';
import { encodeBatch } from '../../../core/records/index.js';

const SEED = Number(process.env.SEED ?? 20261124);

let broker: RunningBroker;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-fuzz-'));
  broker = await startBroker({
    dataDir: dir,
    listen: '127.0.0.1:0',
    config: { 'group.initial.rebalance.delay.ms': 0, 'socket.request.max.bytes': 1_048_576 },
    log: () => {},
  });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends bytes on a fresh connection; resolves with what came back and whether the broker closed it. */
function exchange(bytes: Buffer, waitMs = 300): Promise<{ received: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    const socket: Socket = createConnection({ host: broker.host, port: broker.port }, () =>
      socket.write(bytes),
    );
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {
      closed = true;
    });
    socket.on('close', () => {
      closed = true;
    });
    setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closed });
    }, waitMs);
  });
}

function frame(parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

function sized(body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
}

/** A request header v1 + body bytes, framed. */
function rawRequest(apiKey: number, version: number, body: Buffer): Buffer {
  const clientId = Buffer.from('fuzz');
  const header = Buffer.alloc(10 + clientId.length);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(7, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  return sized(Buffer.concat([header, body]));
}

async function healthy(client: KafkaClient, topic: string, n: number): Promise<void> {
  const producer = client.producer({ 'linger.ms': 1 });
  const metas = await producer.sendBatch(
    Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })),
  );
  await producer.close();
  const consumer = client.consumer();
  consumer.assign([{ topic, partition: 0 }]);
  consumer.seek({ topic, partition: 0 }, metas[0]!.offset);
  const got: string[] = [];
  const deadline = Date.now() + 10_000;
  while (got.length < n && Date.now() < deadline) {
    for (const r of await consumer.poll({ timeoutMs: 200 })) got.push(r.value!.toString());
  }
  await consumer.close();
  expect(got).toEqual(Array.from({ length: n }, (_, i) => `v${i}`));
}

describe('broker under bad input', () => {
  it('survives garbage, truncated and oversized frames, unknown keys and versions; other clients unaffected', async () => {
    const client = await connect({ 'bootstrap.servers': broker.bootstrap });
    try {
      await client.admin().createTopics([{ topic: 'steady', numPartitions: 1 }]);
      const rnd = new SeededRandom(SEED);
      const valid = frame(
        encodeRequestFrame(
          { apiKey: ApiKey.Metadata, apiVersion: 9, correlationId: 1, clientId: 'fuzz' },
          { topics: [{ name: 'steady' }] },
        ),
      );
      const cases: { name: string; bytes: Buffer }[] = [];
      for (let i = 0; i < 20; i++) {
        const garbage = Buffer.alloc(1 + rnd.int(200));
        rnd.fill(garbage);
        cases.push({ name: `random bytes #${i}`, bytes: garbage });
      }
      for (let i = 0; i < 10; i++) {
        const cut = 1 + rnd.int(valid.length - 1);
        const truncated = Buffer.from(valid.subarray(0, cut));
        if (cut >= 4) truncated.writeInt32BE(cut - 4, 0); // a complete frame whose body ends early
        cases.push({ name: `truncated at ${cut}`, bytes: truncated });
      }
      const huge = Buffer.alloc(8);
      huge.writeInt32BE(2_000_000_000, 0);
      cases.push({ name: 'oversized size prefix', bytes: huge });
      const negative = Buffer.alloc(8);
      negative.writeInt32BE(-5, 0);
      cases.push({ name: 'negative size prefix', bytes: negative });
      cases.push({ name: 'unknown api key', bytes: rawRequest(9999, 0, Buffer.alloc(0)) });
      cases.push({
        name: 'unsupported produce version',
        bytes: rawRequest(ApiKey.Produce, 99, Buffer.alloc(4)),
      });

      for (const c of cases) {
        const { closed, received } = await exchange(c.bytes, 100);
        // Either the broker closed the connection or it is still waiting for the rest of a frame;
        // it never answers garbage with anything but an error.
        expect({
          case: c.name,
          answeredGarbage: received.length > 0 && !closed && c.name.startsWith('random'),
        }).toEqual({
          case: c.name,
          answeredGarbage: false,
        });
      }
      // The unsupported ApiVersions version is answered (error 35), never closed.
      const av = await exchange(rawRequest(ApiKey.ApiVersions, 99, Buffer.alloc(0)));
      expect(av.received.length).toBeGreaterThan(10);
      expect(av.received.readInt16BE(8)).toBe(35);
      await healthy(client, 'steady', 200);
    } finally {
      await client.close();
    }
  });

  it('answers invalid field values with error codes and keeps the log unchanged', async () => {
    const client = await connect({ 'bootstrap.servers': broker.bootstrap });
    try {
      await client.admin().createTopics([{ topic: 'guarded', numPartitions: 1 }]);
      const conn = await (async () => {
        const { NetworkConnection } = await import('../../../core/client/network/connection.js');
        return NetworkConnection.connect({
          host: broker.host,
          port: broker.port,
          clientId: 'fuzz',
          connectTimeoutMs: 5000,
          requestTimeoutMs: 5000,
        });
      })();
      const good = encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }]);
      const corrupt = Buffer.from(good);
      corrupt[corrupt.length - 1]! ^= 0xff; // breaks the CRC
      const produce = async (partition: number, records: Buffer | null, acks = -1) =>
        (
          await conn.request(ApiKey.Produce, {
            acks,
            timeoutMs: 1000,
            topicData: [{ name: 'guarded', partitionData: [{ index: partition, records }] }],
          })
        ).responses[0]!.partitionResponses[0]!.errorCode;
      expect(await produce(0, corrupt)).toBe(2); // CORRUPT_MESSAGE
      expect(await produce(7, good)).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION
      expect(await produce(-1, good)).toBe(3);
      expect(await produce(0, good, 5)).toBe(21); // INVALID_REQUIRED_ACKS
      expect(await produce(0, Buffer.from('not a batch at all'))).not.toBe(0);
      const fetch = await conn.request(ApiKey.Fetch, {
        replicaId: -1,
        maxWaitMs: -100,
        minBytes: -1,
        maxBytes: -1,
        topics: [
          { topic: 'guarded', partitions: [{ partition: 0, fetchOffset: -5, partitionMaxBytes: -1 }] },
        ],
      });
      expect(fetch.responses[0]!.partitions[0]!.errorCode).toBe(1); // OFFSET_OUT_OF_RANGE
      const meta = await conn.request(ApiKey.Metadata, { topics: [{ name: '' }, { name: 'bad/name' }] });
      expect(meta.topics.map((t) => t.errorCode)).toEqual([17, 17]); // INVALID_TOPIC_EXCEPTION
      const create = await conn.request(ApiKey.CreateTopics, {
        topics: [{ name: 'neg', numPartitions: -7, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 1000,
      });
      expect(create.topics[0]!.errorCode).not.toBe(0);
      conn.close();
      const offsets = await client.admin().listOffsets([{ topic: 'guarded', partition: 0, spec: 'latest' }]);
      expect(offsets[0]!.offset).toBe(0); // nothing was appended
      await healthy(client, 'guarded', 10);
    } finally {
      await client.close();
    }
  });
});
