/** The RPC framing and server on real sockets: correlation, errors, malformed input, limits. */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerError } from '../../../core/cluster/controller/errors.js';
import type {
  ApiRequest,
  ApiResponse,
  ControllerApi,
  ControllerChannel,
} from '../../../core/cluster/controller/requests.js';
import {
  ControllerListener,
  encodeHello,
  encodeRpc,
  RpcClient,
  RpcFrameDecoder,
  RpcProtocolError,
  RpcServer,
  TcpRaftTransport,
} from '../../../core/cluster/net/index.js';
import type { RaftMessage } from '../../../core/cluster/raft/messages.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A controller that answers createTopics and refuses the rest with NOT_CONTROLLER. */
const fake: ControllerChannel = {
  async call<A extends ControllerApi>(api: A, request: ApiRequest<A>): Promise<ApiResponse<A>> {
    if (api !== 'createTopics') throw new ControllerError('NOT_CONTROLLER', 'not me', { leaderId: 7 });
    const req = request as ApiRequest<'createTopics'>;
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        topicId: null,
        numPartitions: 1,
        replicationFactor: 1,
        error: null,
      })),
    } as ApiResponse<A>;
  },
};

async function serve(): Promise<{ port: number; transport: TcpRaftTransport }> {
  const transport = new TcpRaftTransport({ selfId: 1, peers: new Map() });
  const rpc = new RpcServer(fake);
  const l = await ControllerListener.start({
    listen: { host: '127.0.0.1', port: 0 },
    raft: transport,
    rpc,
    helloTimeoutMs: 300,
  });
  closers.push(
    () => l.close(),
    () => transport.close(),
    () => rpc.close(),
  );
  return { port: l.address.port, transport };
}

describe('RPC frames', () => {
  it('splits a stream into frames, whatever the chunking', () => {
    const a = encodeRpc(0, 1, { api: 'x', request: {} });
    const b = encodeRpc(1, 2, { ok: true });
    const all = Buffer.concat([a, b]);
    const dec = new RpcFrameDecoder();
    const out = [
      ...dec.push(all.subarray(0, 5)),
      ...dec.push(all.subarray(5, a.length + 3)),
      ...dec.push(all.subarray(a.length + 3)),
    ];
    expect(out.map((f) => [f.kind, f.correlationId])).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it('refuses oversized and malformed frames', () => {
    const big = Buffer.alloc(9);
    big.writeUInt32BE(100, 0);
    expect(() => new RpcFrameDecoder(50).push(big)).toThrow(RpcProtocolError);
    const notJson = Buffer.concat([encodeRpc(0, 1, 0).subarray(0, 9), Buffer.from('{')]);
    notJson.writeUInt32BE(6, 0);
    expect(() => new RpcFrameDecoder().push(notJson)).toThrow(RpcProtocolError);
  });
});

describe('RPC over TCP', () => {
  it('answers calls and carries controller errors with the leader hint', async () => {
    const { port } = await serve();
    const client = new RpcClient({ selfId: 9, address: { host: '127.0.0.1', port } });
    closers.push(() => client.close());
    const [a, b] = await Promise.all([
      client.call('createTopics', { topics: [{ name: 'a', numPartitions: 1, replicationFactor: 1 }] }),
      client.call('createTopics', { topics: [{ name: 'b', numPartitions: 1, replicationFactor: 1 }] }),
    ]);
    expect(a.topics[0]!.name).toBe('a');
    expect(b.topics[0]!.name).toBe('b');
    const err = await client.call('deleteTopics', { topics: ['a'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControllerError);
    expect(err).toMatchObject({ code: 'NOT_CONTROLLER', leaderId: 7, retriable: true });
  });

  it('answers a malformed request with INVALID_REQUEST and closes a connection without a hello', async () => {
    const { port } = await serve();
    const s = net.connect({ host: '127.0.0.1', port });
    closers.push(() => s.destroy());
    await new Promise((r) => s.once('connect', r));
    const dec = new RpcFrameDecoder();
    const got = new Promise<unknown>((resolve) =>
      s.on('data', (c: Buffer) => {
        for (const f of dec.push(c)) resolve(f.body);
      }),
    );
    s.write(encodeHello('rpc', 5));
    s.write(encodeRpc(0, 3, { api: 'createTopics', request: { topics: 'nope' } }));
    expect(await got).toMatchObject({ code: 'INVALID_REQUEST' });
    const silent = net.connect({ host: '127.0.0.1', port });
    closers.push(() => silent.destroy());
    silent.on('error', () => {});
    await new Promise((r) => silent.once('close', r));
  });

  it('carries raft frames from a learner and answers it on its own connection', async () => {
    const { port, transport } = await serve();
    const got: RaftMessage[] = [];
    transport.onMessage((m) => {
      got.push(m);
      transport.send(m.from, { type: 'learnerJoin', from: 1, term: 3 });
    });
    const learner = new TcpRaftTransport({ selfId: 42, peers: new Map([[1, { host: '127.0.0.1', port }]]) });
    closers.push(() => learner.close());
    const back = new Promise<RaftMessage>((resolve) => learner.onMessage(resolve));
    learner.send(1, { type: 'learnerJoin', from: 42, term: 0 });
    expect(await back).toEqual({ type: 'learnerJoin', from: 1, term: 3 });
    expect(got[0]).toEqual({ type: 'learnerJoin', from: 42, term: 0 });
    // nobody known as 77: dropped, not thrown
    transport.send(77, { type: 'learnerJoin', from: 1, term: 3 });
    expect(transport.dropped).toBe(1);
  });
});
