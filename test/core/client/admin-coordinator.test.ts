/**
 * The admin client's group calls when a group's coordinator dies or moves: the cached
 * coordinator is forgotten on a lost connection and on NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE,
 * and the call asks FindCoordinator again (with backoff) within request.timeout.ms.
 *
 * The "brokers" are small fakes speaking Kafka's protocol (our codec), so that the test decides
 * which node coordinates the group at any moment.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../../core/client/index.js';
import { ApiKey, apiName } from '../../../core/protocol/api-keys.js';
import { ErrorCode } from '../../../core/protocol/errors.js';
import { decodeRequestFrame, encodeResponseFrame } from '../../../core/protocol/frames.js';
import { advertisedApiVersions } from '../../../core/protocol/messages/index.js';

interface FakeCluster {
  /** The node FindCoordinator names (after `notAvailable` COORDINATOR_NOT_AVAILABLE answers). */
  coordinator: number;
  notAvailable: number;
  readonly requests: { node: number; api: string }[];
  readonly nodes: Map<number, { server: net.Server; sockets: Set<net.Socket>; port: number; alive: boolean }>;
}

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function fakeCluster(ids: readonly number[]): Promise<FakeCluster> {
  const c: FakeCluster = { coordinator: ids[0]!, notAvailable: 0, requests: [], nodes: new Map() };
  const alive = () => [...c.nodes].filter(([, n]) => n.alive);
  const answer = (node: number, apiKey: number, body: Record<string, unknown>): Record<string, unknown> => {
    switch (apiKey) {
      case ApiKey.ApiVersions:
        return { errorCode: 0, apiKeys: advertisedApiVersions() };
      case ApiKey.Metadata:
        return {
          brokers: alive().map(([id, n]) => ({ nodeId: id, host: '127.0.0.1', port: n.port, rack: null })),
          clusterId: 'fake',
          controllerId: node,
          topics: [],
        };
      case ApiKey.FindCoordinator: {
        const notAvailable = c.notAvailable > 0;
        if (notAvailable) c.notAvailable--;
        const errorCode = notAvailable ? ErrorCode.COORDINATOR_NOT_AVAILABLE : 0;
        const target = notAvailable ? -1 : c.coordinator;
        const port = c.nodes.get(target)?.port ?? -1;
        const key = String(body.key || (body.coordinatorKeys as string[] | undefined)?.[0] || '');
        return {
          errorCode,
          errorMessage: null,
          nodeId: target,
          host: '127.0.0.1',
          port,
          coordinators: [{ key, nodeId: target, host: '127.0.0.1', port, errorCode, errorMessage: null }],
        };
      }
      case ApiKey.DescribeGroups: {
        const errorCode = node === c.coordinator ? 0 : ErrorCode.NOT_COORDINATOR;
        const groups = (body.groups as string[]).map((groupId) => ({
          errorCode,
          groupId,
          groupState: 'Empty',
          protocolType: 'consumer',
          protocolData: '',
          members: [],
        }));
        return { groups };
      }
      case ApiKey.OffsetFetch: {
        const errorCode = node === c.coordinator ? 0 : ErrorCode.NOT_COORDINATOR;
        return { errorCode, topics: [], groups: [{ groupId: body.groupId, topics: [], errorCode }] };
      }
      default:
        throw new Error(`the fake broker does not answer API ${apiKey}`);
    }
  };
  for (const id of ids) {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
          buf = buf.subarray(4 + frame.length);
          const req = decodeRequestFrame(frame);
          c.requests.push({ node: id, api: apiName(req.apiKey) });
          const body = answer(id, req.apiKey, req.body as Record<string, unknown>);
          socket.write(
            Buffer.concat(encodeResponseFrame(req.apiKey, req.apiVersion, req.correlationId, body as never)),
          );
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    c.nodes.set(id, { server, sockets, port: (server.address() as net.AddressInfo).port, alive: true });
  }
  return c;
}

/** The node dies: its listener closes and every connection to it is reset. */
function kill(c: FakeCluster, id: number): void {
  const n = c.nodes.get(id)!;
  n.alive = false;
  n.server.close();
  servers.splice(servers.indexOf(n.server), 1);
  for (const s of n.sockets) s.destroy();
}

const count = (c: FakeCluster, api: string, node?: number): number =>
  c.requests.filter((r) => r.api === api && (node === undefined || r.node === node)).length;

describe('Admin group calls when the coordinator dies or moves', () => {
  it('forget the dead or wrong coordinator and find the new one', async () => {
    const c = await fakeCluster([1, 2, 3]);
    const bootstrap = [2, 3, 1].map((id) => `127.0.0.1:${c.nodes.get(id)!.port}`).join(',');
    const client = await connect({
      'bootstrap.servers': bootstrap,
      'request.timeout.ms': 10_000,
    });
    try {
      const admin = client.admin();
      const [first] = await admin.describeGroups(['g']);
      expect(first).toMatchObject({ groupId: 'g', coordinator: 1 });

      // node 1 dies; node 2 takes the group over after a moment of COORDINATOR_NOT_AVAILABLE
      kill(c, 1);
      c.coordinator = 2;
      c.notAvailable = 2;
      const finds = count(c, 'FindCoordinator');
      const [second] = await admin.describeGroups(['g']);
      expect(second).toMatchObject({ groupId: 'g', coordinator: 2 });
      expect(count(c, 'FindCoordinator')).toBe(finds + 3);

      // the group moves to node 3: node 2 answers NOT_COORDINATOR, the admin asks again
      c.coordinator = 3;
      expect(await admin.listGroupOffsets('g')).toEqual([]);
      expect(count(c, 'OffsetFetch', 2)).toBe(1);
      expect(count(c, 'OffsetFetch', 3)).toBe(1);
      expect(count(c, 'FindCoordinator')).toBe(finds + 4);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('gives up with a retriable TIMEOUT after request.timeout.ms when no coordinator is found', async () => {
    const c = await fakeCluster([1, 2]);
    const client = await connect({
      'bootstrap.servers': `127.0.0.1:${c.nodes.get(2)!.port}`,
      'request.timeout.ms': 1000,
    });
    try {
      c.notAvailable = Number.POSITIVE_INFINITY;
      const started = Date.now();
      const err = await client
        .admin()
        .describeGroups(['g'])
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TIMEOUT', retriable: true });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(count(c, 'FindCoordinator')).toBeGreaterThan(1);
    } finally {
      await client.close();
    }
  }, 30_000);
});
