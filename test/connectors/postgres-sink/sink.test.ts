import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonConverter } from '../../../connect/converters/json.js';
import { type Schema, Schemas, type SinkRecord, structSchema } from '../../../connect/sdk.js';
import { PostgresSinkTask } from '../../../connectors/postgres-sink/index.js';
import { usePostgres } from '../../helpers/postgres.js';
import { cdcProps, TaskDriver } from '../postgres-cdc/driver.js';

const pgServer = usePostgres({ beforeAll, afterAll });
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});
let n = 0;

async function sink(
  props: Record<string, string>,
): Promise<{ task: PostgresSinkTask; db: string; q: (sql: string) => Promise<Record<string, unknown>[]> }> {
  const db = `sink${++n}`;
  await pgServer().createDatabase(db);
  const task = new PostgresSinkTask();
  await task.start({
    'connection.url': `jdbc:postgresql://${pgServer().host}:${pgServer().port}/${db}`,
    'connection.user': 'postgres',
    ...props,
  });
  cleanup.push(() => task.stop());
  return { task, db, q: (sql) => pgServer().query(sql, [], db) };
}

let offset = 0;
function rec(
  topic: string,
  keySchema: Schema | null,
  key: unknown,
  valueSchema: Schema | null,
  value: unknown,
): SinkRecord {
  const o = offset++;
  return {
    topic,
    kafkaPartition: 0,
    kafkaOffset: o,
    keySchema,
    key,
    valueSchema,
    value,
    timestamp: Date.now(),
    timestampType: 'CreateTime',
    headers: [],
    originalTopic: topic,
    originalKafkaPartition: 0,
    originalKafkaOffset: o,
  };
}

const KEY = structSchema([{ name: 'id', schema: Schemas.INT32 }]);
const VALUE = structSchema([
  { name: 'id', schema: Schemas.INT32 },
  { name: 'name', schema: Schemas.OPTIONAL_STRING },
  { name: 'score', schema: Schemas.OPTIONAL_FLOAT64 },
]);

describe('postgres-sink', () => {
  it('insert mode with auto.create makes the table from the schema', async () => {
    const { task, q } = await sink({ 'auto.create': 'true', 'table.name.format': 'people' });
    await task.put([
      rec('t', null, null, VALUE, { id: 1, name: 'a', score: 1.5 }),
      rec('t', null, null, VALUE, { id: 2, name: null, score: null }),
    ]);
    expect(await q('SELECT * FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'a', score: 1.5 },
      { id: 2, name: null, score: null },
    ]);
    const cols = await q(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'people' ORDER BY ordinal_position`,
    );
    expect(cols).toEqual([
      { column_name: 'id', data_type: 'integer', is_nullable: 'NO' },
      { column_name: 'name', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'score', data_type: 'double precision', is_nullable: 'YES' },
    ]);
  });

  it('upsert on the record key, tombstones delete with delete.enabled, batch.size splits statements', async () => {
    const { task, q } = await sink({
      'auto.create': 'true',
      'insert.mode': 'upsert',
      'pk.mode': 'record_key',
      'delete.enabled': 'true',
      'batch.size': '7',
    });
    const batch: SinkRecord[] = [];
    for (let i = 0; i < 50; i++)
      batch.push(rec('scores', KEY, { id: i % 20 }, VALUE, { id: i % 20, name: `n${i}`, score: i }));
    batch.push(rec('scores', KEY, { id: 3 }, null, null));
    await task.put(batch);
    const rows = await q('SELECT * FROM scores ORDER BY id');
    expect(rows).toHaveLength(19);
    expect(rows.find((r) => r.id === 5)).toEqual({ id: 5, name: 'n45', score: 45 });
    expect(rows.find((r) => r.id === 3)).toBeUndefined();
    const pk = await q(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'scores'::regclass AND i.indisprimary`,
    );
    expect(pk).toEqual([{ attname: 'id' }]);
  });

  it('update mode changes existing rows only; record_value keys with pk.fields', async () => {
    const { task, q } = await sink({ 'insert.mode': 'update', 'pk.mode': 'record_value', 'pk.fields': 'id' });
    await q(
      "CREATE TABLE t (id int PRIMARY KEY, name text, score float8); INSERT INTO t VALUES (1, 'old', 0);",
    );
    await task.put([
      rec('t', null, null, VALUE, { id: 1, name: 'new', score: 2 }),
      rec('t', null, null, VALUE, { id: 9, name: 'x', score: 1 }),
    ]);
    expect(await q('SELECT * FROM t ORDER BY id')).toEqual([{ id: 1, name: 'new', score: 2 }]);
  });

  it('pk.mode=kafka keys rows by topic, partition and offset', async () => {
    const { task, q } = await sink({ 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'kafka' });
    const r = rec('kt', null, null, VALUE, { id: 1, name: 'a', score: 1 });
    await task.put([r, r]);
    expect(await q('SELECT __connect_topic, __connect_partition, id FROM kt')).toEqual([
      { __connect_topic: 'kt', __connect_partition: 0, id: 1 },
    ]);
  });

  it('auto.evolve adds new fields as columns; without it the error names auto.evolve; a missing table names auto.create', async () => {
    const { task, q } = await sink({
      'auto.create': 'true',
      'auto.evolve': 'true',
      'insert.mode': 'upsert',
      'pk.mode': 'record_key',
    });
    await task.put([rec('ev', KEY, { id: 1 }, VALUE, { id: 1, name: 'a', score: 1 })]);
    const V2 = structSchema([
      ...VALUE.fields!.map((f) => ({ name: f.name, schema: f.schema })),
      { name: 'extra', schema: Schemas.OPTIONAL_INT64 },
    ]);
    await task.put([rec('ev', KEY, { id: 2 }, V2, { id: 2, name: 'b', score: 2, extra: 7 })]);
    expect(await q('SELECT id, extra FROM ev ORDER BY id')).toEqual([
      { id: 1, extra: null },
      { id: 2, extra: '7' },
    ]);
    const strict = await sink({ 'insert.mode': 'upsert', 'pk.mode': 'record_key' });
    await expect(
      strict.task.put([rec('nope', KEY, { id: 1 }, VALUE, { id: 1, name: 'a', score: 1 })]),
    ).rejects.toThrow(/auto.create=true/);
    await strict.q('CREATE TABLE nope (id int PRIMARY KEY, name text)');
    await expect(
      strict.task.put([rec('nope', KEY, { id: 1 }, VALUE, { id: 1, name: 'a', score: 1 })]),
    ).rejects.toThrow(/score.*auto.evolve=true/);
  });

  it('rejects inconsistent configs naming the key', async () => {
    const t = new PostgresSinkTask();
    await expect(
      t.start({ 'connection.url': 'jdbc:postgresql://h/db', 'insert.mode': 'upsert' }),
    ).rejects.toThrow(/pk.mode/);
    await expect(
      t.start({
        'connection.url': 'jdbc:postgresql://h/db',
        'delete.enabled': 'true',
        'pk.mode': 'record_value',
      }),
    ).rejects.toThrow(/delete.enabled/);
    await expect(t.start({ 'connection.url': 'mysql://h/db' })).rejects.toThrow(/connection.url/);
  });

  it('round trip: CDC events through the JsonConverter into the sink reproduce the table in another database', async () => {
    const src = `rt${++n}`;
    await pgServer().createDatabase(src);
    await pgServer().query(
      `CREATE TYPE mood AS ENUM ('sad', 'happy');
       CREATE TABLE public.items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), free numeric, at timestamp, atz timestamptz, d date, t time,
                                  doc jsonb, u uuid, tags text[], nums int[], raw bytea, m mood, ok boolean, big bigint, f real, iv interval);
       INSERT INTO items SELECT g, 'item' || g, g * 1.25, g / 3.0, '2024-01-01 00:00:00.123456'::timestamp + g * interval '1 hour',
                               '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 day', '2024-01-01'::date + g, '10:00'::time + g * interval '1 minute',
                               jsonb_build_object('g', g), md5(g::text)::uuid, ARRAY['a' || g, 'b'], ARRAY[g, g + 1], decode(md5(g::text), 'hex'),
                               (CASE WHEN g % 2 = 0 THEN 'sad' ELSE 'happy' END)::mood, g % 3 = 0, g * 10000000000, g / 4.0, g * interval '1 day 2 hours'
                          FROM generate_series(1, 30) g;`,
      [],
      src,
    );
    const d = new TaskDriver();
    cleanup.push(() => d.stop());
    await d.start(cdcProps(pgServer(), src, { 'slot.name': 'rt' }));
    await d.pollUntil('snapshot', (rs) => rs.length >= 30);
    await pgServer().query(
      `UPDATE items SET name = 'changed', price = 99.99 WHERE id <= 5; DELETE FROM items WHERE id > 25; INSERT INTO items (id, name) VALUES (100, 'new');`,
      [],
      src,
    );
    await d.pollUntil('changes', (rs) => rs.length >= 30 + 5 + 10 + 1);
    // Through the converter, as a worker would: bytes in the topic, then back.
    const conv = new JsonConverter();
    conv.configure({ 'schemas.enable': 'true' });
    const keyConv = new JsonConverter();
    keyConv.configure({ 'schemas.enable': 'true' });
    const records = d.records.map((r) => {
      const kb = keyConv.fromConnectData(r.topic, r.keySchema, r.key);
      const vb = conv.fromConnectData(r.topic, r.valueSchema, r.value);
      const k = keyConv.toConnectData(r.topic, kb);
      const v = conv.toConnectData(r.topic, vb);
      return rec(r.topic, k.schema, k.value, v.schema, v.value);
    });
    const { task, q } = await sink({
      'auto.create': 'true',
      'insert.mode': 'upsert',
      'pk.mode': 'record_key',
      'delete.enabled': 'true',
    });
    // The enum type is a user type: the sink writes text into it once the table exists with it.
    await q(`CREATE TYPE mood AS ENUM ('sad', 'happy')`);
    await task.put(records);
    const dump = (db: string) =>
      pgServer().query(
        // interval → MicroDuration keeps the length, not the days/hours split: compare justified.
        `SELECT id, name, price::text, free::text, at::text, atz::text, d::text, t::text, doc::text, u::text, tags::text, nums::text, encode(raw, 'hex') AS raw,
                m::text, ok, big::text, f::text, justify_hours(iv)::text AS iv FROM public.items ORDER BY id`,
        [],
        db,
      );
    const target = (
      await pgServer().query<{ d: string }>('SELECT current_database() AS d', [], `sink${n}`)
    )[0]!.d;
    const a = await dump(src);
    const b = await dump(target);
    expect(b).toHaveLength(26);
    expect(b).toEqual(a);
  });
});
