/**
 * Error handling: errors.tolerance=all with a dead letter queue and Kafka's __connect.errors.*
 * context headers; errors.tolerance=none failing the task (FAILED with its trace) while the worker
 * keeps running its other connectors; retriable put() errors retried.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../connect/index.js';
import { connect } from '../../core/client/index.js';
import type { KafkaClient } from '../../core/client/types.js';
import { readTopic, waitFor } from './helpers.js';

let dir: string;
let client: KafkaClient;
let worker: WorkerHandle;
const logs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-connect-errors-'));
  client = await connect({ 'data.dir': join(dir, 'data') });
  worker = await startWorker({
    client,
    config: { 'offset.flush.interval.ms': 100 },
    rest: false,
    log: (l) => logs.push(l),
  });
  const producer = client.producer();
  const admin = client.admin();
  await admin.createTopics([{ topic: 'mixed', numPartitions: 1 }]);
  await admin.close();
  // Three good JSON records around two that are not JSON at all.
  for (const [i, v] of ['{"n":1}', 'not json', '{"n":2}', '{oops', '{"n":3}'].entries()) {
    await producer.send({ topic: 'mixed', key: `k${i}`, value: v, headers: { origin: 'test' } });
  }
  await producer.close();
});

afterAll(async () => {
  await worker?.stop();
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('errors.tolerance=all with a dead letter queue', () => {
  it('skips bad records, writes them to the DLQ with the original bytes and context headers', async () => {
    const out = join(dir, 'good.txt');
    await worker.putConnector({
      name: 'tolerant',
      'connector.class': 'FileStreamSink',
      topics: 'mixed',
      file: out,
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'errors.tolerance': 'all',
      'errors.log.enable': 'true',
      'errors.log.include.messages': 'true',
      'errors.deadletterqueue.topic.name': 'dlq-mixed',
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
    });
    await waitFor('the good records', () => {
      try {
        // Java's Map.toString(), as Kafka's FileStreamSink prints it.
        return readFileSync(out, 'utf8') === '{n=1}\n{n=2}\n{n=3}\n';
      } catch {
        return false;
      }
    });
    const dlq = await readTopic(client, 'dlq-mixed', 2);
    expect(dlq.map((r) => [r.key, r.value])).toEqual([
      ['k1', 'not json'],
      ['k3', '{oops'],
    ]);
    const h = dlq[0]!.headers;
    expect(h.origin).toBe('test');
    expect(h['__connect.errors.topic']).toBe('mixed');
    expect(h['__connect.errors.partition']).toBe('0');
    expect(h['__connect.errors.offset']).toBe('1');
    expect(h['__connect.errors.connector.name']).toBe('tolerant');
    expect(h['__connect.errors.task.id']).toBe('0');
    expect(h['__connect.errors.stage']).toBe('VALUE_CONVERTER');
    expect(h['__connect.errors.class.name']).toBe('org.apache.kafka.connect.json.JsonConverter');
    expect(h['__connect.errors.exception.class.name']).toBe('org.apache.kafka.connect.errors.DataException');
    expect(h['__connect.errors.exception.message']).toMatch(
      /Converting byte\[\] to Kafka Connect data failed/,
    );
    expect(h['__connect.errors.exception.stacktrace']).toMatch(/DataException/);
    expect(
      logs.some((l) =>
        /Error encountered in task tolerant-0. Executing stage 'VALUE_CONVERTER'.*offset=1/.test(l),
      ),
    ).toBe(true);
    expect(worker.status('tolerant').tasks[0]?.state).toBe('RUNNING');
  });

  it('a failing transform goes to the DLQ at stage TRANSFORMATION', async () => {
    await worker.putConnector({
      name: 'bad-transform',
      'connector.class': 'FileStreamSink',
      topics: 'mixed',
      file: join(dir, 't.txt'),
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      transforms: 'insert',
      'transforms.insert.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
      'transforms.insert.static.field': 'x',
      'transforms.insert.static.value': 'y',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': 'dlq-transform',
      'errors.deadletterqueue.context.headers.enable': 'true',
    });
    const dlq = await readTopic(client, 'dlq-transform', 5);
    expect(dlq).toHaveLength(5);
    expect(dlq[0]!.headers['__connect.errors.stage']).toBe('TRANSFORMATION');
  });
});

describe('worker config checked at start', () => {
  it('a producer./consumer. key the client does not know fails the worker, naming it', async () => {
    await expect(
      startWorker({ client, config: { 'producer.lingerr.ms': 5 }, rest: false, log: () => {} }),
    ).rejects.toThrow(/producer\.lingerr\.ms/);
  });
});

describe('errors.tolerance=none', () => {
  it('fails the task with its trace; the worker keeps running the other connectors', async () => {
    await worker.putConnector({
      name: 'strict',
      'connector.class': 'FileStreamSink',
      topics: 'mixed',
      file: join(dir, 'strict.txt'),
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
    });
    const failed = await waitFor('FAILED', () => {
      const s = worker.status('strict');
      return s.tasks[0]?.state === 'FAILED' ? s : undefined;
    });
    expect(failed.connector.state).toBe('RUNNING');
    expect(failed.tasks[0]?.trace).toMatch(/Tolerance exceeded in error handler/);
    expect(failed.tasks[0]?.trace).toMatch(/Caused by: DataException/);
    expect(worker.status('tolerant').tasks[0]?.state).toBe('RUNNING');
    // Only the first good record got through before the failure.
    expect(readFileSync(join(dir, 'strict.txt'), 'utf8')).toBe('');
  });

  it('restarting a FAILED task (onlyFailed) brings it back, and it fails again on the same record', async () => {
    await worker.herder.restartConnector('strict', true, true);
    await waitFor('FAILED again', () => worker.status('strict').tasks[0]?.state === 'FAILED');
  });
});
