/**
 * Sink offsets are committed only for what preCommit() says is durable, and a RetriableException
 * from put() redelivers the batch; pause/resume of partitions from the task context.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConverter, startWorker, type WorkerHandle } from '../../connect/index.js';
import {
  ConfigDef,
  type ConnectorPlugin,
  RetriableException,
  type SinkOffsets,
  type SinkRecord,
  type SinkTask,
} from '../../connect/sdk.js';
import { connect } from '../../core/client/index.js';
import type { KafkaClient } from '../../core/client/types.js';
import { waitFor } from './helpers.js';

let dir: string;
let client: KafkaClient;
let worker: WorkerHandle;
const seen: string[] = [];
let failuresLeft = 2;

/** Data counts as durable only up to (and including) the last record whose value is "sync". */
class SyncSinkTask implements SinkTask {
  private durable: SinkOffsets = new Map();
  version() {
    return '1';
  }
  start() {}
  put(records: SinkRecord[]) {
    if (records.some((r) => r.value === 'flaky') && failuresLeft-- > 0)
      throw new RetriableException('try again');
    for (const r of records) {
      seen.push(String(r.value));
      if (r.value === 'sync')
        this.durable.set(`${r.topic}-${r.kafkaPartition}`, {
          topic: r.topic,
          partition: r.kafkaPartition,
          offset: r.kafkaOffset + 1,
        });
    }
  }
  preCommit(): SinkOffsets {
    return new Map(this.durable);
  }
  stop() {}
}

const plugin: ConnectorPlugin = {
  className: 'test.SyncSink',
  type: 'sink',
  version: '1',
  create: () => ({
    type: 'sink',
    version: () => '1',
    config: () => new ConfigDef(),
    start() {},
    taskConfigs: (n: number) => Array.from({ length: n }, () => ({})),
    stop() {},
    createTask: () => new SyncSinkTask(),
  }),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-connect-sink-'));
  client = await connect({ 'data.dir': join(dir, 'data') });
  worker = await startWorker({
    client,
    plugins: [plugin],
    config: { 'offset.flush.interval.ms': 50 },
    rest: false,
    log: () => {},
  });
});

afterAll(async () => {
  await worker?.stop();
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sink offsets', () => {
  it('commits only what preCommit returns; retriable put() errors redeliver the batch', async () => {
    const admin = client.admin();
    await admin.createTopics([{ topic: 'events', numPartitions: 1 }]);
    const producer = client.producer();
    for (const v of ['a', 'sync', 'b', 'flaky', 'c']) await producer.send({ topic: 'events', value: v });
    await worker.putConnector({
      name: 'sync',
      'connector.class': 'test.SyncSink',
      topics: 'events',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    });
    await waitFor('all records put', () => seen.length >= 5);
    expect(seen).toEqual(['a', 'sync', 'b', 'flaky', 'c']);
    await new Promise((r) => setTimeout(r, 300));
    const committed = await admin.listGroupOffsets('connect-sync');
    expect(committed.map((o) => o.offset)).toEqual([2]);
    await producer.send({ topic: 'events', value: 'sync' });
    await waitFor(
      'the new durable point',
      async () => (await admin.listGroupOffsets('connect-sync'))[0]?.offset === 6,
    );
    await producer.close();
    await admin.close();
  });
});

describe('asynchronous converters (the hook a schema-registry converter uses)', () => {
  it('are awaited on the sink side', async () => {
    registerConverter(['test.AsyncUpperConverter'], () => ({
      configure() {},
      fromConnectData: async (_t, _s, v) => (v === null ? null : Buffer.from(String(v))),
      toConnectData: async (_t, bytes) => {
        await new Promise((r) => setTimeout(r, 1));
        return { schema: null, value: bytes?.toString().toUpperCase() ?? null };
      },
    }));
    const admin = client.admin();
    await admin.createTopics([{ topic: 'lower', numPartitions: 1 }]);
    await admin.close();
    const producer = client.producer();
    for (const v of ['x', 'sync']) await producer.send({ topic: 'lower', value: v });
    await producer.close();
    seen.length = 0;
    await worker.putConnector({
      name: 'upper',
      'connector.class': 'test.SyncSink',
      topics: 'lower',
      'value.converter': 'test.AsyncUpperConverter',
    });
    await waitFor('converted records', () => seen.length >= 2);
    expect(seen).toEqual(['X', 'SYNC']);
  });
});
