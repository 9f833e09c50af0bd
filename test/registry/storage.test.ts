/**
 * What lives in `_schemas`: Confluent's record layout, survival across restarts (same data dir),
 * several registries over one broker agreeing, concurrent registrations settled the same way by
 * every instance, and a log written the way Confluent writes it read back.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '../../core/client/index.js';
import { type RunningRegistry, SCHEMAS_TOPIC, startRegistry } from '../../registry/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { call, cleanup, record, startTestRegistry, tempDataDir } from './helpers.js';

const S1 = record('A', [{ name: 'x', type: 'int' }]);
const S2 = record('A', [
  { name: 'x', type: 'int' },
  { name: 'y', type: 'string', default: '' },
]);

async function readTopic(dataDir: string | undefined, bootstrap?: string) {
  const client = await connect(bootstrap ? { 'bootstrap.servers': bootstrap } : { 'data.dir': dataDir! });
  const consumer = client.consumer({ 'auto.offset.reset': 'earliest' });
  consumer.assign([{ topic: SCHEMAS_TOPIC, partition: 0 }]);
  const out: { key: string; value: string | null }[] = [];
  for (let i = 0; i < 20; i++) {
    const recs = await consumer.poll({ timeoutMs: 100 });
    for (const r of recs) out.push({ key: r.key!.toString(), value: r.value?.toString() ?? null });
    if (recs.length === 0 && out.length > 0) break;
  }
  const admin = client.admin();
  const [desc] = await admin.describeTopics([SCHEMAS_TOPIC]);
  const [config] = await admin.describeConfigs([{ type: 'topic', name: SCHEMAS_TOPIC }]);
  await client.close();
  return { records: out, partitions: desc!.partitions.length, config: config!.entries };
}

describe('_schemas', () => {
  it("holds Confluent's keys and values in a compacted single-partition topic", async () => {
    const reg = await startTestRegistry();
    await call(reg.url, 'POST', '/subjects/t-value/versions', { schema: S1 });
    await call(reg.url, 'PUT', '/config/t-value', { compatibility: 'FULL' });
    await call(reg.url, 'PUT', '/mode', { mode: 'READONLY' });
    await call(reg.url, 'PUT', '/mode', { mode: 'READWRITE' });
    await reg.close();
    const { records, partitions, config } = await readTopic(reg.dataDir);
    expect(partitions).toBe(1);
    expect(config.find((e) => e.name === 'cleanup.policy')?.value).toBe('compact');
    expect(records[0]).toEqual({
      key: '{"keytype":"SCHEMA","subject":"t-value","version":1,"magic":1}',
      value: JSON.stringify({ subject: 't-value', version: 1, id: 1, schema: S1, deleted: false }),
    });
    expect(records[1]).toEqual({
      key: '{"keytype":"CONFIG","subject":"t-value","magic":0}',
      value: '{"compatibilityLevel":"FULL"}',
    });
    expect(records[2]).toEqual({ key: '{"keytype":"MODE","magic":0}', value: '{"mode":"READONLY"}' });
  });

  it('survives a restart: a new registry over the same data dir sees the same subjects and ids', async () => {
    const dataDir = tempDataDir();
    const first = await startTestRegistry(dataDir);
    expect((await call(first.url, 'POST', '/subjects/a-value/versions', { schema: S1 })).body).toEqual({
      id: 1,
    });
    expect((await call(first.url, 'POST', '/subjects/a-value/versions', { schema: S2 })).body).toEqual({
      id: 2,
    });
    expect(
      (await call(first.url, 'POST', '/subjects/b-value/versions', { schema: '"string"' })).body,
    ).toEqual({ id: 3 });
    await call(first.url, 'DELETE', '/subjects/b-value');
    await call(first.url, 'PUT', '/config', { compatibility: 'FORWARD' });
    await first.close();

    const second = await startTestRegistry(dataDir);
    expect((await call(second.url, 'GET', '/subjects')).body).toEqual(['a-value']);
    expect((await call(second.url, 'GET', '/subjects?deleted=true')).body).toEqual(['a-value', 'b-value']);
    expect((await call(second.url, 'GET', '/subjects/a-value/versions/2')).body).toMatchObject({
      id: 2,
      schema: S2,
    });
    expect((await call(second.url, 'GET', '/schemas/ids/3')).body).toEqual({ schema: '"string"' });
    expect((await call(second.url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'FORWARD' });
    // The same schema keeps its id; a new one gets the next.
    expect((await call(second.url, 'POST', '/subjects/c-value/versions', { schema: S1 })).body).toEqual({
      id: 1,
    });
    expect((await call(second.url, 'POST', '/subjects/d-value/versions', { schema: '"long"' })).body).toEqual(
      { id: 4 },
    );
  });

  it('several registries over one broker agree, and concurrent registrations settle the same everywhere', async () => {
    const broker = await startTestBroker();
    const registries: RunningRegistry[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await connect({ 'bootstrap.servers': broker.bootstrap });
      const r = await startRegistry({ client, listen: '127.0.0.1:0' });
      cleanup(async () => {
        await r.close();
        await client.close();
      });
      registries.push(r);
    }
    const [a, b, c] = registries as [RunningRegistry, RunningRegistry, RunningRegistry];
    // Read-your-writes across instances: written through a, read at once through b.
    expect((await call(a.url, 'POST', '/subjects/shared/versions', { schema: S1 })).body).toEqual({ id: 1 });
    expect((await call(b.url, 'GET', '/subjects/shared/versions/latest')).body).toMatchObject({
      id: 1,
      version: 1,
    });
    await call(c.url, 'PUT', '/config/race', { compatibility: 'NONE' });

    // 3 instances × 6 different schemas, all at once, into one subject.
    const schemas = Array.from({ length: 18 }, (_, i) => record(`R${i}`, [{ name: `f${i}`, type: 'int' }]));
    const results = await Promise.all(
      schemas.map((schema, i) => call(registries[i % 3]!.url, 'POST', '/subjects/race/versions', { schema })),
    );
    for (const r of results) expect(r.status).toBe(200);
    const ids = results.map((r) => (r.body as { id: number }).id);
    expect(new Set(ids).size).toBe(schemas.length);
    const views = await Promise.all(
      registries.map(async (r) => {
        const versions = (await call(r.url, 'GET', '/subjects/race/versions')).body as number[];
        return Promise.all(
          versions.map(async (v) => (await call(r.url, 'GET', `/subjects/race/versions/${v}`)).body),
        );
      }),
    );
    expect(views[0]).toHaveLength(schemas.length);
    expect(views[1]).toEqual(views[0]);
    // The same log, the same decisions: every instance accepted and ignored the same records.
    const decisions = registries.map((r) => [r.registry.store.state.applied, r.registry.store.state.ignored]);
    expect(decisions[1]).toEqual(decisions[0]);
    expect(decisions[2]).toEqual(decisions[0]);
    expect(views[2]).toEqual(views[0]);
    for (const [i, schema] of schemas.entries()) {
      const found = (await call(c.url, 'GET', `/schemas/ids/${ids[i]}`)).body as { schema: string };
      expect(found.schema).toBe(schema);
    }
  });

  it('reads a log written the way Confluent writes it (NOOP, DELETE_SUBJECT, CLEAR_SUBJECT, global config)', async () => {
    const dataDir = tempDataDir();
    const client = await connect({ 'data.dir': dataDir });
    const admin = client.admin();
    await admin.createTopics([
      { topic: SCHEMAS_TOPIC, numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
    ]);
    await admin.close();
    const producer = client.producer();
    const put = (key: unknown, value: unknown) =>
      producer.send({
        topic: SCHEMAS_TOPIC,
        key: JSON.stringify(key),
        value: value === null ? null : JSON.stringify(value),
      });
    await put({ keytype: 'NOOP', magic: 0 }, null);
    await put({ keytype: 'CONFIG', subject: null, magic: 0 }, { compatibilityLevel: 'FULL' });
    for (const [subject, version, id, schema] of [
      ['old', 1, 7, S1],
      ['old', 2, 8, S2],
      ['keep', 1, 8, S2],
      ['gone', 1, 9, '"int"'],
    ] as const) {
      await put(
        { keytype: 'SCHEMA', subject, version, magic: 1 },
        { subject, version, id, schema, deleted: false },
      );
    }
    await put({ keytype: 'DELETE_SUBJECT', subject: 'old', magic: 0 }, { subject: 'old', version: 2 });
    await put({ keytype: 'DELETE_SUBJECT', subject: 'gone', magic: 0 }, { subject: 'gone', version: 1 });
    await put({ keytype: 'CLEAR_SUBJECT', subject: 'gone', magic: 0 }, { subject: 'gone' });
    await put({ keytype: 'SOMETHING_NEW', magic: 0 }, { whatever: true });
    await producer.close();
    const reg = await startRegistry({ client, listen: '127.0.0.1:0' });
    cleanup(async () => {
      await reg.close();
      await client.close();
    });
    expect((await call(reg.url, 'GET', '/subjects')).body).toEqual(['keep']);
    expect((await call(reg.url, 'GET', '/subjects?deleted=true')).body).toEqual(['keep', 'old']);
    expect((await call(reg.url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call(reg.url, 'GET', '/schemas/ids/8/versions?deleted=true')).body).toEqual([
      { subject: 'keep', version: 1 },
      { subject: 'old', version: 2 },
    ]);
    expect((await call(reg.url, 'GET', '/schemas/ids/9')).status).toBe(404);
    // New ids continue after the highest seen.
    expect((await call(reg.url, 'POST', '/subjects/new/versions', { schema: '"bytes"' })).body).toEqual({
      id: 10,
    });
  });
});
