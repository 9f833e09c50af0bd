import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FrameSplitter } from '../../../core/broker/framing.js';
import { routeByApiKey } from '../../../core/broker/server.js';
import { NetworkError } from '../../../core/client/network/connection.js';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import { ErrorCode, KafkaProtocolError } from '../../../core/protocol/errors.js';
import { encodeResponseHeader } from '../../../core/protocol/headers.js';
import { ApiVersionsResponse } from '../../../core/protocol/messages/api-versions.js';
import { advertisedApiVersions } from '../../../core/protocol/messages/index.js';
import { encodeMessage } from '../../../core/protocol/schema.js';
import { Writer } from '../../../core/protocol/writer.js';
import { connectClient, sleep, startServer } from './helpers.js';

function handler(state = { concurrent: 0, maxConcurrent: 0, produced: 0 }) {
  return routeByApiKey({
    [ApiKey.ApiVersions]: () => ({ errorCode: 0, apiKeys: advertisedApiVersions() }),
    [ApiKey.Heartbeat]: async (_ctx, req) => {
      state.concurrent++;
      state.maxConcurrent = Math.max(state.maxConcurrent, state.concurrent);
      await sleep(req.generationId);
      state.concurrent--;
      return { errorCode: 0, throttleTimeMs: req.generationId };
    },
    [ApiKey.Produce]: (_ctx, req) => {
      state.produced++;
      return req.acks === 0 ? null : { responses: [] };
    },
  });
}

const hb = (waitMs: number) => ({ groupId: 'g', generationId: waitMs, memberId: 'm' });

/** A fake broker: `respond` is called per request frame (header included, no size prefix). */
async function fakeBroker(respond: (frame: Buffer, socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const splitter = new FrameSplitter(1 << 20);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      splitter.push(chunk);
      for (let f = splitter.next(); f !== null; f = splitter.next()) respond(f, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  );
  const addr = server.address();
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

/** An ApiVersions response frame at `version` (header v0, as always for ApiVersions). */
function apiVersionsFrame(
  correlationId: number,
  version: number,
  errorCode: number,
  apiKeys: object[],
): Buffer {
  const w = new Writer();
  const size = w.reserveInt32();
  encodeResponseHeader(w, { correlationId }, 0);
  encodeMessage(ApiVersionsResponse, version, { errorCode, apiKeys }, w);
  w.patchInt32(size, w.length - 4);
  return w.toBuffer();
}

describe('NetworkConnection', () => {
  it('negotiates versions on connect: min(our max, the broker max)', async () => {
    const { port } = await startServer(handler());
    const conn = await connectClient(port);
    expect(conn.apiVersions().get(ApiKey.Heartbeat)).toEqual({ min: 0, max: 4 });
    expect(conn.version(ApiKey.Heartbeat)).toBe(4);
    const res = await conn.request(ApiKey.Heartbeat, hb(3));
    expect(res).toMatchObject({ errorCode: 0, throttleTimeMs: 3 });
  });

  it('falls back when the broker answers ApiVersions v3 with UNSUPPORTED_VERSION, and reports no overlap clearly', async () => {
    const seenVersions: number[] = [];
    const list = [
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 2 },
      { apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 1 },
      { apiKey: ApiKey.Produce, minVersion: 10, maxVersion: 11 },
    ];
    const port = await fakeBroker((frame, socket) => {
      const version = frame.readInt16BE(2);
      const corr = frame.readInt32BE(4);
      seenVersions.push(version);
      if (version > 2)
        socket.write(apiVersionsFrame(corr, 0, ErrorCode.UNSUPPORTED_VERSION, list.slice(0, 1)));
      else socket.write(apiVersionsFrame(corr, version, 0, list));
    });
    const conn = await connectClient(port);
    expect(seenVersions).toEqual([3, 2]);
    expect(conn.version(ApiKey.Heartbeat)).toBe(1);
    expect(() => conn.version(ApiKey.Produce)).toThrowError(KafkaProtocolError);
    expect(() => conn.version(ApiKey.Produce)).toThrowError(
      /no common version of Produce: broker .* supports 10-11/,
    );
    expect(() => conn.version(ApiKey.Fetch)).toThrowError(/does not support Fetch/);
  });

  it('falls back to ApiVersions v0 when the broker lists no ApiVersions range', async () => {
    const seenVersions: number[] = [];
    const port = await fakeBroker((frame, socket) => {
      const version = frame.readInt16BE(2);
      seenVersions.push(version);
      const corr = frame.readInt32BE(4);
      if (version > 0) socket.write(apiVersionsFrame(corr, 0, ErrorCode.UNSUPPORTED_VERSION, []));
      else socket.write(apiVersionsFrame(corr, 0, 0, [{ apiKey: 12, minVersion: 0, maxVersion: 0 }]));
    });
    const conn = await connectClient(port);
    expect(seenVersions).toEqual([3, 0]);
    expect(conn.version(ApiKey.Heartbeat)).toBe(0);
  });

  it('rejects a response whose correlation id matches nothing by closing the connection', async () => {
    let n = 0;
    const port = await fakeBroker((frame, socket) => {
      const corr = frame.readInt32BE(4);
      socket.write(apiVersionsFrame(n++ === 0 ? corr : corr + 1000, 3, 0, advertisedApiVersions()));
    });
    const conn = await connectClient(port);
    const err = await conn.request(ApiKey.ApiVersions, {}, { version: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).message).toMatch(/matches no request in flight/);
    expect(conn.isClosed).toBe(true);
  });

  it('keeps at most maxInFlight requests on the wire and queues the rest in order', async () => {
    const state = { concurrent: 0, maxConcurrent: 0, produced: 0 };
    const { port } = await startServer(handler(state));
    const conn = await connectClient(port, { maxInFlight: 2 });
    const results = await Promise.all(
      [30, 5, 20, 0, 10, 1].map((w) => conn.request(ApiKey.Heartbeat, hb(w))),
    );
    expect(results.map((r) => r.throttleTimeMs)).toEqual([30, 5, 20, 0, 10, 1]);
    expect(state.maxConcurrent).toBe(2);
  });

  it('resolves a request that expects no response (acks=0) once written', async () => {
    const state = { concurrent: 0, maxConcurrent: 0, produced: 0 };
    const { port } = await startServer(handler(state));
    const conn = await connectClient(port);
    const body = { acks: 0, timeoutMs: 100, topicData: [] };
    expect(await conn.request(ApiKey.Produce, body, { expectResponse: false })).toBeNull();
    expect(await conn.request(ApiKey.Produce, body, { expectResponse: false })).toBeNull();
    expect((await conn.request(ApiKey.Heartbeat, hb(0))).errorCode).toBe(0);
    expect(state.produced).toBe(2);
    expect(conn.inFlightCount).toBe(0);
  });

  it('times out a request with a retriable error and closes the connection, failing the others', async () => {
    const { port } = await startServer(handler());
    const conn = await connectClient(port, { requestTimeoutMs: 100 });
    const closed = new Promise<NetworkError | null>((resolve) => conn.once('close', resolve));
    const slow = conn.request(ApiKey.Heartbeat, hb(2000)).catch((e: unknown) => e);
    const other = conn.request(ApiKey.Heartbeat, hb(1500), { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(await slow).toMatchObject({ name: 'NetworkError', code: 'REQUEST_TIMED_OUT', retriable: true });
    expect(await other).toMatchObject({ code: 'NETWORK_EXCEPTION', retriable: true });
    expect((await closed)?.message).toMatch(/timed out/);
    expect(conn.isClosed).toBe(true);
    await expect(conn.request(ApiKey.Heartbeat, hb(0))).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' });
  });

  it('times out a request still queued without closing the connection', async () => {
    const { port } = await startServer(handler());
    const conn = await connectClient(port, { maxInFlight: 1 });
    const first = conn.request(ApiKey.Heartbeat, hb(200));
    const queued = conn.request(ApiKey.Heartbeat, hb(0), { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(await queued).toMatchObject({ code: 'REQUEST_TIMED_OUT' });
    expect((await first).throttleTimeMs).toBe(200);
    expect(conn.isClosed).toBe(false);
  });

  it('reports a broker restart as a retriable failure; a new connection works', async () => {
    const first = await startServer(handler());
    const conn = await connectClient(first.port);
    const closed = new Promise<NetworkError | null>((resolve) => conn.once('close', resolve));
    const pending = conn.request(ApiKey.Heartbeat, hb(1000)).catch((e: unknown) => e);
    await sleep(20);
    await first.server.close({ graceful: false });
    expect(await pending).toMatchObject({ code: 'NETWORK_EXCEPTION', retriable: true });
    expect(await closed).toBeInstanceOf(NetworkError);
    await expect(connectClient(first.port)).rejects.toMatchObject({
      code: 'NETWORK_EXCEPTION',
      retriable: true,
    });
    await startServer(handler(), {}, first.port);
    const again = await connectClient(first.port);
    expect((await again.request(ApiKey.Heartbeat, hb(0))).errorCode).toBe(0);
  });

  it('fails connect when the broker never answers ApiVersions', async () => {
    const port = await fakeBroker(() => {});
    await expect(connectClient(port, { requestTimeoutMs: 100 })).rejects.toMatchObject({
      code: 'REQUEST_TIMED_OUT',
      retriable: true,
    });
  });
});
