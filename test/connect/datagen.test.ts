/**
 * The datagen source: quickstart schemas (Confluent's users, orders, pageviews), a custom field
 * spec, keys, iterations and the rate limit, through a worker over the embedded log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../connect/index.js';
import { customGenerator, Random } from '../../connectors/datagen/fields.js';
import { connect } from '../../core/client/index.js';
import type { KafkaClient } from '../../core/client/types.js';
import { readTopic, waitFor } from './helpers.js';

let dir: string;
let client: KafkaClient;
let worker: WorkerHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-connect-datagen-'));
  client = await connect({ 'data.dir': join(dir, 'data') });
  worker = await startWorker({
    client,
    config: {
      'value.converter.schemas.enable': 'false',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.flush.interval.ms': 100,
    },
    rest: false,
    log: () => {},
  });
});

afterAll(async () => {
  await worker?.stop();
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('datagen', () => {
  it("quickstart users: keyed by userid, Confluent's fields, `iterations` records", async () => {
    await worker.putConnector({
      name: 'users',
      'connector.class': 'io.confluent.kafka.connect.datagen.DatagenConnector',
      'kafka.topic': 'users',
      quickstart: 'users',
      'max.interval': 0,
      iterations: 25,
      'random.seed': 7,
    });
    const records = await readTopic(client, 'users', 25);
    expect(records).toHaveLength(25);
    const v = JSON.parse(records[0]!.value!);
    expect(Object.keys(v)).toEqual(['registertime', 'userid', 'regionid', 'gender']);
    expect(records[0]!.key).toBe(v.userid);
    expect(v.userid).toMatch(/^User_[1-9]$/);
    await waitFor(
      'offsets',
      async () => (await worker.herder.offsets('users')).offsets[0]?.offset?.['current.iteration'] === 24,
    );
  });

  it('orders with a nested address; pageviews keyed by viewtime', async () => {
    await worker.putConnector({
      name: 'orders',
      'connector.class': 'DatagenConnector',
      'kafka.topic': 'orders',
      quickstart: 'orders',
      'max.interval': 0,
      iterations: 5,
    });
    const order = JSON.parse((await readTopic(client, 'orders', 5))[4]!.value!);
    expect(order).toMatchObject({
      orderid: 4,
      address: { city: expect.any(String), state: expect.any(String), zipcode: expect.any(Number) },
    });
    await worker.putConnector({
      name: 'pv',
      'connector.class': 'Datagen',
      'kafka.topic': 'pageviews',
      quickstart: 'pageviews',
      'max.interval': 0,
      iterations: 3,
    });
    expect((await readTopic(client, 'pageviews', 3)).map((r) => r.key)).toEqual(['1', '11', '21']);
  });

  it('custom fields with a key field and a rate limit', async () => {
    const started = Date.now();
    await worker.putConnector({
      name: 'custom',
      'connector.class': 'DatagenConnector',
      'kafka.topic': 'custom',
      fields: 'id:sequence, status:enum(NEW|PAID), amount:double(1,10), user:pick(u-,1,3)',
      'schema.keyfield': 'user',
      'max.interval': 0,
      'records.per.second': 100,
      iterations: 50,
    });
    const records = await readTopic(client, 'custom', 50);
    expect(Date.now() - started).toBeGreaterThan(300);
    const v = JSON.parse(records[10]!.value!);
    expect(v.id).toBe(10);
    expect(['NEW', 'PAID']).toContain(v.status);
    expect(records[10]!.key).toBe(v.user);
  });

  it('refuses a bad spec or quickstart with the key named', async () => {
    const r = await worker.herder.validate({
      name: 'x',
      'connector.class': 'DatagenConnector',
      'kafka.topic': 't',
      quickstart: 'cats',
    });
    expect(r.error_count).toBe(1);
    expect(() => customGenerator('a:uuid')).toThrow(/unknown type 'uuid'/);
    const g = customGenerator('n:int(1,3)');
    const rnd = new Random(1);
    for (let i = 0; i < 20; i++) expect([1, 2, 3]).toContain(g.next(i, rnd, 0).n);
  });
});
