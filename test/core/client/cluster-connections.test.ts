/**
 * How the client's Cluster picks and uses connections (core/client/cluster.ts), against a fake
 * transport whose brokers answer, stay silent, or open late on demand:
 * - metadata goes to the least loaded broker, not to one with requests outstanding, and a broker
 *   that timed out is left at once for another (and avoided afterwards);
 * - requests issued to a broker while its connection opens go on the wire in the order issued.
 */
import { describe, expect, it } from 'vitest';
import { type BrokerAddress, Cluster, type Transport } from '../../../core/client/cluster.js';
import type { BrokerConnection } from '../../../core/client/connection.js';
import { ApiKey } from '../../../core/protocol/api-keys.js';
import type { RequestInput, ResponseData, SupportedApiKey } from '../../../core/protocol/messages/index.js';

const BROKERS = [1, 2, 3].map((nodeId) => ({ nodeId, host: 'h', port: 9000 + nodeId, rack: null }));

function metadataResponse(): ResponseData<typeof ApiKey.Metadata> {
  return {
    throttleTimeMs: 0,
    brokers: BROKERS,
    clusterId: 'c',
    controllerId: 1,
    topics: [],
    clusterAuthorizedOperations: 0,
  } as unknown as ResponseData<typeof ApiKey.Metadata>;
}

class TimedOut extends Error {
  readonly code = 'REQUEST_TIMED_OUT';
  readonly retriable = true;
}

/** A broker: answers at once, or never (its requests time out after `timeoutMs`). */
class FakeConnection implements BrokerConnection {
  closed = false;
  /** What was written, in order (API key and, for Produce, the body's marker). */
  readonly wire: string[] = [];
  constructor(
    readonly nodeId: number,
    private readonly silent: () => boolean,
    private readonly timeoutMs = 100,
  ) {}
  request<K extends SupportedApiKey>(apiKey: K, body: RequestInput<K>): Promise<ResponseData<K>> {
    this.wire.push(
      apiKey === ApiKey.Produce
        ? String((body as { transactionalId: string }).transactionalId)
        : `api${apiKey}`,
    );
    if (this.silent()) {
      return new Promise((_, reject) =>
        setTimeout(() => {
          this.closed = true; // as a network connection does after a request times out on it
          reject(new TimedOut(`no response from ${this.nodeId}`));
        }, this.timeoutMs),
      );
    }
    if (apiKey === ApiKey.Metadata) return Promise.resolve(metadataResponse() as unknown as ResponseData<K>);
    return Promise.resolve({} as ResponseData<K>);
  }
  async send(): Promise<void> {}
  version(): number {
    return 0;
  }
  close(): void {
    this.closed = true;
  }
}

class FakeTransport implements Transport {
  readonly kind = 'network' as const;
  readonly silent = new Set<number>();
  readonly opened: FakeConnection[] = [];
  /** Metadata requests, by the node that got them. */
  connectDelayMs = 0;
  async bootstrap(): Promise<BrokerConnection> {
    return this.make(1);
  }
  async connect(broker: BrokerAddress): Promise<BrokerConnection> {
    if (this.connectDelayMs > 0) await new Promise((r) => setTimeout(r, this.connectDelayMs));
    return this.make(broker.nodeId);
  }
  private make(nodeId: number): FakeConnection {
    const c = new FakeConnection(nodeId, () => this.silent.has(nodeId));
    this.opened.push(c);
    return c;
  }
  metadataRequestsTo(nodeId: number): number {
    return this.opened
      .filter((c) => c.nodeId === nodeId)
      .reduce((n, c) => n + c.wire.filter((w) => w === `api${ApiKey.Metadata}`).length, 0);
  }
}

function newCluster(t: Transport): Cluster {
  return new Cluster(t, { clientId: 't', requestTimeoutMs: 100, retryBackoffMs: 10 });
}

describe('Cluster: the node for metadata', () => {
  it('prefers an idle or unconnected broker over one with requests outstanding', async () => {
    const t = new FakeTransport();
    const cluster = newCluster(t);
    await cluster.refreshMetadata(null);
    expect([...cluster.brokers.keys()].sort()).toEqual([1, 2, 3]);
    // Broker 1 goes silent while the producer has a request outstanding on it.
    t.silent.add(1);
    const outstanding = cluster.request(1, ApiKey.Produce, {
      transactionalId: 'p0',
      acks: -1,
      timeoutMs: 100,
      topicData: [],
    });
    outstanding.catch(() => undefined);
    await cluster.connectionTo(1);
    const before = t.metadataRequestsTo(1);
    const started = Date.now();
    await cluster.refreshMetadata(null);
    expect(Date.now() - started).toBeLessThan(90); // did not wait out the silent broker's timeout
    expect(t.metadataRequestsTo(1)).toBe(before);
    await cluster.close();
  });

  it('leaves a broker that times out for another at once, and avoids it afterwards', async () => {
    const t = new FakeTransport();
    const cluster = newCluster(t);
    await cluster.refreshMetadata(null);
    // Only broker 1 is connected (idle), so it is the first choice; then it goes silent.
    await cluster.connectionTo(1);
    t.silent.add(1);
    await cluster.refreshMetadata(null); // times out on 1, then asks another broker
    expect(t.metadataRequestsTo(1)).toBe(2); // the bootstrap one, and the timed-out one
    expect(t.metadataRequestsTo(2) + t.metadataRequestsTo(3)).toBe(1);
    // The next refreshes go elsewhere at once (1 is backing off), not to 1 again.
    const started = Date.now();
    for (let i = 0; i < 5; i++) await cluster.refreshMetadata(null);
    expect(Date.now() - started).toBeLessThan(90 * 5);
    expect(t.metadataRequestsTo(1)).toBe(2);
    expect(cluster.leastLoadedNode()).not.toBe(1);
    await cluster.close();
  });
});

describe('Cluster: request order while connecting', () => {
  it('writes requests issued before the connection opened in the order issued', async () => {
    const t = new FakeTransport();
    const cluster = newCluster(t);
    await cluster.refreshMetadata(null);
    t.connectDelayMs = 30;
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      sent.push(
        cluster.request(2, ApiKey.Produce, {
          transactionalId: `p${i}`,
          acks: -1,
          timeoutMs: 100,
          topicData: [],
        }),
      );
      // Later ones also from other promise depths, as callers resuming at different times would.
      if (i % 7 === 0) await Promise.resolve();
    }
    await Promise.all(sent);
    const conn = t.opened.filter((c) => c.nodeId === 2);
    expect(conn).toHaveLength(1);
    expect(conn[0]!.wire).toEqual(Array.from({ length: 50 }, (_, i) => `p${i}`));
    await cluster.close();
  });
});
