/**
 * Test helpers for the network layer: a broker with a tiny handler, a raw socket client that
 * speaks frames, and request/response codecs. Everything started here registers its cleanup.
 */
import { connect, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';
import { FrameSplitter } from '../../../core/broker/framing.js';
import { KafkaServer, type RequestHandler } from '../../../core/broker/server.js';
import type { SocketConfig } from '../../../core/broker/socket-config.js';
import { NetworkConnection, type NetworkConnectionOptions } from '../../../core/client/network/connection.js';
import {
  decodeResponseHeader,
  encodeRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../core/protocol/headers.js';
import { getApi } from '../../../core/protocol/messages/index.js';
import { Reader } from '../../../core/protocol/reader.js';
import { decodeMessage, encodeMessage } from '../../../core/protocol/schema.js';
import { Writer } from '../../../core/protocol/writer.js';

export interface TestServer {
  server: KafkaServer;
  port: number;
  logs: string[];
}

export async function startServer(
  handler: RequestHandler,
  config: Partial<SocketConfig> = {},
  port = 0,
): Promise<TestServer> {
  const logs: string[] = [];
  const server = new KafkaServer({ host: '127.0.0.1', port, handler, config, log: (m) => logs.push(m) });
  const addr = await server.listen();
  onTestFinished(() => server.close({ graceful: false }));
  return { server, port: addr.port, logs };
}

export async function connectClient(
  port: number,
  opts: Partial<NetworkConnectionOptions> = {},
): Promise<NetworkConnection> {
  const conn = await NetworkConnection.connect({
    host: '127.0.0.1',
    port,
    clientId: 'test',
    connectTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    ...opts,
  });
  onTestFinished(() => conn.close());
  return conn;
}

/** A size-prefixed request frame. */
export function requestFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  body: object,
  clientId: string | null = 'raw',
): Buffer {
  const api = getApi(apiKey)!;
  const w = new Writer();
  const size = w.reserveInt32();
  encodeRequestHeader(
    w,
    { apiKey, apiVersion: version, correlationId, clientId },
    requestHeaderVersion(apiKey, version),
  );
  encodeMessage(api.request, version, body, w);
  w.patchInt32(size, w.length - 4);
  return w.toBuffer();
}

/** A frame with a raw header start and arbitrary body bytes. */
export function rawFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  rest: Buffer = Buffer.alloc(0),
): Buffer {
  const b = Buffer.alloc(12 + rest.length);
  b.writeInt32BE(8 + rest.length, 0);
  b.writeInt16BE(apiKey, 4);
  b.writeInt16BE(version, 6);
  b.writeInt32BE(correlationId, 8);
  rest.copy(b, 12);
  return b;
}

export function decodeResponse(
  apiKey: number,
  version: number,
  frame: Buffer,
): { correlationId: number; body: unknown } {
  const r = new Reader(frame);
  const header = decodeResponseHeader(r, responseHeaderVersion(apiKey, version));
  return { correlationId: header.correlationId, body: decodeMessage(getApi(apiKey)!.response, version, r) };
}

/** A socket that reads whole frames. */
export class RawClient {
  readonly frames: Buffer[] = [];
  closed = false;
  private readonly splitter = new FrameSplitter(1 << 30);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.splitter.push(chunk);
      for (let f = this.splitter.next(); f !== null; f = this.splitter.next()) this.frames.push(f);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const c = new RawClient(socket);
        onTestFinished(() => {
          socket.destroy();
        });
        resolve(c);
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Waits until `n` frames arrived (or the socket closed, or the timeout passed). */
  async waitFrames(n: number, timeoutMs = 3000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
    }
    return this.frames;
  }

  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
    }
    return this.closed;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
