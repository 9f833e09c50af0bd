import { describe, expect, it } from 'vitest';
import { CLOSE_CONNECTION, type RequestContext, routeByApiKey } from '../../../core/broker/server.js';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { ErrorCode } from '../../../core/protocol/errors.js';
import type { ApiVersionsResponseData } from '../../../core/protocol/messages/api-versions.js';
import type { HeartbeatResponseData } from '../../../core/protocol/messages/heartbeat.js';
import { advertisedApiVersions } from '../../../core/protocol/messages/index.js';
import { prng } from '../../helpers/prng.js';
import {
  connectClient,
  decodeResponse,
  RawClient,
  rawFrame,
  requestFrame,
  sleep,
  startServer,
} from './helpers.js';

interface Seen {
  ctx: RequestContext[];
  produced: Buffer[];
  concurrent: number;
  maxConcurrent: number;
}

/** ApiVersions, Heartbeat (waits generationId ms, echoes it as throttleTimeMs), Produce, Fetch. */
function testHandler(seen: Seen = { ctx: [], produced: [], concurrent: 0, maxConcurrent: 0 }) {
  return routeByApiKey({
    [ApiKey.ApiVersions]: () => ({ errorCode: 0, apiKeys: advertisedApiVersions() }),
    [ApiKey.Heartbeat]: async (ctx, req) => {
      seen.ctx.push(ctx);
      seen.concurrent++;
      seen.maxConcurrent = Math.max(seen.maxConcurrent, seen.concurrent);
      if (req.groupId === 'throw') throw new Error('handler bug');
      if (req.groupId === 'close') return CLOSE_CONNECTION;
      await sleep(req.generationId);
      seen.concurrent--;
      return { errorCode: 0, throttleTimeMs: req.generationId };
    },
    [ApiKey.Produce]: (_ctx, req) => {
      for (const t of req.topicData)
        for (const p of t.partitionData) if (p.records) seen.produced.push(p.records);
      if (req.acks === 0) return null;
      return {
        responses: req.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode: 0, baseOffset: 0 })),
        })),
      };
    },
    [ApiKey.Fetch]: (_ctx, req) => ({
      responses: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          highWatermark: 0,
          records: [Buffer.alloc(600_000, 1), Buffer.alloc(500_000, 2), Buffer.from('end')],
        })),
      })),
    }),
  });
}

const heartbeat = (corr: number, waitMs: number, groupId = 'g') =>
  requestFrame(ApiKey.Heartbeat, 1, corr, { groupId, generationId: waitMs, memberId: 'm' });

describe('KafkaServer', () => {
  it('reassembles a request written one byte at a time', async () => {
    const { port } = await startServer(testHandler());
    const c = await RawClient.connect(port);
    const frame = requestFrame(ApiKey.ApiVersions, 3, 7, {
      clientSoftwareName: 'x',
      clientSoftwareVersion: '1',
    });
    for (const byte of frame) {
      c.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const [res] = await c.waitFrames(1);
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 3, res!);
    expect(correlationId).toBe(7);
    expect((body as ApiVersionsResponseData).errorCode).toBe(0);
    expect((body as ApiVersionsResponseData).apiKeys.length).toBeGreaterThan(10);
  });

  it('writes pipelined responses in request order although handlers finish out of order', async () => {
    const seen: Seen = { ctx: [], produced: [], concurrent: 0, maxConcurrent: 0 };
    const { port } = await startServer(testHandler(seen));
    const c = await RawClient.connect(port);
    const waits = [60, 10, 40, 0, 30, 5, 50, 20];
    c.write(Buffer.concat(waits.map((w, i) => heartbeat(100 + i, w))));
    const frames = await c.waitFrames(waits.length);
    const decoded = frames.map((f) => decodeResponse(ApiKey.Heartbeat, 1, f));
    expect(decoded.map((d) => d.correlationId)).toEqual(waits.map((_, i) => 100 + i));
    expect(decoded.map((d) => (d.body as HeartbeatResponseData).throttleTimeMs)).toEqual(waits);
    expect(seen.maxConcurrent).toBeGreaterThan(1); // handlers did run concurrently
    expect(seen.ctx[0]).toMatchObject({
      apiKey: ApiKey.Heartbeat,
      apiVersion: 1,
      clientId: 'raw',
      listener: 'PLAINTEXT',
    });
  });

  it('bounds the requests handled at once per connection and still answers all of them in order', async () => {
    const seen: Seen = { ctx: [], produced: [], concurrent: 0, maxConcurrent: 0 };
    const { port } = await startServer(testHandler(seen), { 'queued.max.requests.per.connection': 2 });
    const c = await RawClient.connect(port);
    c.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => heartbeat(i, 5))));
    const frames = await c.waitFrames(10);
    expect(frames.map((f) => decodeResponse(ApiKey.Heartbeat, 1, f).correlationId)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(seen.maxConcurrent).toBe(2);
  });

  it('answers everything a client sent before half-closing, then closes', async () => {
    const { port } = await startServer(testHandler(), { 'queued.max.requests.per.connection': 1 });
    const c = await RawClient.connect(port);
    // The produce handler answers synchronously: the connection must not end between frames.
    const produce = (corr: number) =>
      requestFrame(ApiKey.Produce, 7, corr, { acks: 1, timeoutMs: 100, topicData: [] });
    c.socket.end(Buffer.concat([heartbeat(1, 10), produce(2), produce(3), heartbeat(4, 5)]));
    expect(await c.waitClosed()).toBe(true);
    expect(c.frames.map((f) => f.readInt32BE(0))).toEqual([1, 2, 3, 4]);
  });

  it('bounds the requests handled at once across the broker (queued.max.requests)', async () => {
    const seen: Seen = { ctx: [], produced: [], concurrent: 0, maxConcurrent: 0 };
    const { port } = await startServer(testHandler(seen), { 'queued.max.requests': 3 });
    const clients = await Promise.all([RawClient.connect(port), RawClient.connect(port)]);
    for (const c of clients) c.write(Buffer.concat(Array.from({ length: 5 }, (_, i) => heartbeat(i, 5))));
    for (const c of clients) expect((await c.waitFrames(5)).length).toBe(5);
    expect(seen.maxConcurrent).toBeLessThanOrEqual(3);
  });

  it('sends nothing for a request whose handler returns null (acks=0) and keeps the order of the rest', async () => {
    const seen: Seen = { ctx: [], produced: [], concurrent: 0, maxConcurrent: 0 };
    const { port } = await startServer(testHandler(seen));
    const c = await RawClient.connect(port);
    const produce = (corr: number, acks: number) =>
      requestFrame(ApiKey.Produce, 7, corr, {
        acks,
        timeoutMs: 1000,
        topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.from(`batch${corr}`) }] }],
      });
    c.write(Buffer.concat([produce(1, 0), heartbeat(2, 20), produce(3, 0), produce(4, 1), heartbeat(5, 0)]));
    const frames = await c.waitFrames(3);
    await sleep(50);
    expect(c.frames.length).toBe(3);
    expect(frames.map((f) => f.readInt32BE(0))).toEqual([2, 4, 5]);
    expect(seen.produced.map(String)).toEqual(['batch1', 'batch3', 'batch4']);
  });

  it('closes a connection whose size prefix exceeds socket.request.max.bytes; other clients are unaffected', async () => {
    const { port, logs } = await startServer(testHandler(), { 'socket.request.max.bytes': 1024 });
    const good = await connectClient(port);
    const bad = await RawClient.connect(port);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(1_000_000_000);
    bad.write(prefix);
    expect(await bad.waitClosed()).toBe(true);
    expect(logs.join('\n')).toMatch(/1000000000 is larger than the maximum of 1024/);
    const res = await good.request(ApiKey.Heartbeat, { groupId: 'g', generationId: 1, memberId: 'm' });
    expect(res.throttleTimeMs).toBe(1);
  });

  it('closes the connection on a negative size prefix', async () => {
    const { port } = await startServer(testHandler());
    const c = await RawClient.connect(port);
    c.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    expect(await c.waitClosed()).toBe(true);
  });

  it('closes the connection on an unknown API key, with a log line', async () => {
    const { port, logs } = await startServer(testHandler());
    const c = await RawClient.connect(port);
    c.write(rawFrame(999, 0, 1, Buffer.from([0, 0])));
    expect(await c.waitClosed()).toBe(true);
    expect(c.frames.length).toBe(0);
    expect(logs.join('\n')).toMatch(/unknown API key 999/);
  });

  it('closes the connection on an unsupported version of an API other than ApiVersions', async () => {
    const { port, logs } = await startServer(testHandler());
    const c = await RawClient.connect(port);
    c.write(rawFrame(ApiKey.Heartbeat, 99, 1));
    expect(await c.waitClosed()).toBe(true);
    expect(logs.join('\n')).toMatch(/unsupported version 99 of Heartbeat/);
  });

  it('answers ApiVersions v99 with UNSUPPORTED_VERSION and the list, as v0, and keeps the connection open', async () => {
    const { port } = await startServer(testHandler());
    const c = await RawClient.connect(port);
    // A v99 request from a future client: header v2 (flexible), body unknown to us.
    c.write(
      rawFrame(
        ApiKey.ApiVersions,
        99,
        42,
        Buffer.from([0x00, 0x04, 0x61, 0x62, 0x63, 0x64, 0x00, 0x01, 0x02]),
      ),
    );
    const [res] = await c.waitFrames(1);
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 0, res!);
    expect(correlationId).toBe(42);
    const data = body as ApiVersionsResponseData;
    expect(data.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(data.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)).toMatchObject({ minVersion: 0 });
    // Still open: the client retries with a version from the list.
    c.write(requestFrame(ApiKey.ApiVersions, 0, 43, {}));
    const frames = await c.waitFrames(2);
    expect(c.closed).toBe(false);
    expect(decodeResponse(ApiKey.ApiVersions, 0, frames[1]!).correlationId).toBe(43);
  });

  it('closes the connection when a body does not decode, naming the API and version', async () => {
    const { port, logs } = await startServer(testHandler());
    const c = await RawClient.connect(port);
    // Heartbeat v1: header clientId then a group id claiming 500 bytes.
    c.write(rawFrame(ApiKey.Heartbeat, 1, 5, Buffer.from([0x00, 0x00, 0x01, 0xf4, 0x61])));
    expect(await c.waitClosed()).toBe(true);
    expect(logs.join('\n')).toMatch(/cannot decode Heartbeat v1 request/);
  });

  it('closes the connection when a handler throws, and only that one', async () => {
    const { port, logs } = await startServer(testHandler());
    const good = await connectClient(port);
    const c = await RawClient.connect(port);
    c.write(heartbeat(1, 0, 'throw'));
    expect(await c.waitClosed()).toBe(true);
    expect(logs.join('\n')).toMatch(/handler for Heartbeat v1 failed: Error: handler bug/);
    expect(
      (await good.request(ApiKey.Heartbeat, { groupId: 'g', generationId: 0, memberId: 'm' })).errorCode,
    ).toBe(0);
  });

  it('writes earlier responses, then closes, when a handler returns CLOSE_CONNECTION', async () => {
    const { port } = await startServer(testHandler());
    const c = await RawClient.connect(port);
    c.write(Buffer.concat([heartbeat(1, 20), heartbeat(2, 0, 'close'), heartbeat(3, 0)]));
    expect(await c.waitClosed()).toBe(true);
    expect(c.frames.map((f) => f.readInt32BE(0))).toEqual([1]);
  });

  it('survives garbage (seeded random bytes and frames) and keeps serving', async () => {
    const { server, port } = await startServer(testHandler(), { 'socket.request.max.bytes': 1 << 16 });
    const rand = prng(20240601);
    const byte = () => Math.floor(rand() * 256);
    for (let round = 0; round < 40; round++) {
      const c = await RawClient.connect(port);
      const parts: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        const kind = rand();
        if (kind < 0.3) {
          parts.push(Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, byte)));
        } else {
          // A well-framed request with a known API key and version and a random body.
          const apiKey = [0, 1, 3, 12, 18, 19][Math.floor(rand() * 6)]!;
          const body = Buffer.from(Array.from({ length: Math.floor(rand() * 80) }, byte));
          parts.push(rawFrame(apiKey, Math.floor(rand() * 5), round * 10 + i, body));
        }
      }
      c.write(Buffer.concat(parts));
      await c.waitFrames(5, 100);
      c.socket.destroy();
    }
    const good = await connectClient(port);
    expect(
      (await good.request(ApiKey.Heartbeat, { groupId: 'g', generationId: 0, memberId: 'm' })).errorCode,
    ).toBe(0);
    await sleep(20);
    expect(server.connectionCount).toBe(1);
  });

  it('closes idle connections after connections.max.idle.ms, but not one waiting for a response', async () => {
    const { port, logs } = await startServer(testHandler(), { 'connections.max.idle.ms': 100 });
    const idle = await RawClient.connect(port);
    const busy = await RawClient.connect(port);
    busy.write(heartbeat(1, 300));
    expect(await idle.waitClosed(1000)).toBe(true);
    expect(logs.join('\n')).toMatch(/idle for \d+ ms/);
    expect((await busy.waitFrames(1)).length).toBe(1);
  });

  it('refuses connections beyond max.connections', async () => {
    const { server, port, logs } = await startServer(testHandler(), { 'max.connections': 1 });
    const first = await RawClient.connect(port);
    await sleep(20);
    const second = await RawClient.connect(port);
    expect(await second.waitClosed()).toBe(true);
    expect(logs.join('\n')).toMatch(/max.connections=1/);
    expect(first.closed).toBe(false);
    expect(server.connectionCount).toBe(1);
  });

  it('closes gracefully: in-flight requests complete and their responses are written', async () => {
    const { server, port } = await startServer(testHandler());
    const conn = await connectClient(port);
    const pending = conn.request(ApiKey.Heartbeat, { groupId: 'g', generationId: 150, memberId: 'm' });
    await sleep(20);
    const closing = server.close({ graceful: true, timeoutMs: 5000 });
    expect((await pending).throttleTimeMs).toBe(150);
    await closing;
    await sleep(10);
    expect(conn.isClosed).toBe(true);
    await expect(RawClient.connect(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('bounds a graceful close by its timeout', async () => {
    const { server, port } = await startServer(testHandler());
    const conn = await connectClient(port);
    const failed = conn
      .request(ApiKey.Heartbeat, { groupId: 'g', generationId: 5000, memberId: 'm' })
      .catch((e) => e);
    await sleep(20);
    const started = Date.now();
    await server.close({ graceful: true, timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await failed).toMatchObject({ code: 'NETWORK_EXCEPTION', retriable: true });
  });

  it('writes large responses from chunks and receives large requests intact', async () => {
    const seen: Seen = { ctx: [], produced: [], concurrent: 0, maxConcurrent: 0 };
    const { port } = await startServer(testHandler(seen));
    const conn = await connectClient(port);
    const batch = Buffer.alloc(2_000_000);
    for (let i = 0; i < batch.length; i++) batch[i] = i % 251;
    const produced = await conn.request(ApiKey.Produce, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 't',
          partitionData: [{ index: 0, records: [batch.subarray(0, 1_000_000), batch.subarray(1_000_000)] }],
        },
      ],
    });
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    expect(seen.produced[0]!.equals(batch)).toBe(true);
    const fetched = await conn.request(ApiKey.Fetch, {
      maxWaitMs: 0,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0 }] }],
    });
    const records = fetched.responses[0]!.partitions[0]!.records!;
    expect(records.length).toBe(1_100_003);
    expect(records.subarray(1_100_000).toString()).toBe('end');
  });
});
