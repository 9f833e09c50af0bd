import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../connect/sdk.js';
import { usePostgres } from '../../helpers/postgres.js';
import { cdcProps, TaskDriver } from './driver.js';

const pgServer = usePostgres({ beforeAll, afterAll });
const drivers: TaskDriver[] = [];
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.stop();
});
let n = 0;

async function setup(
  sql: string,
  extra: Record<string, string> = {},
): Promise<{ d: TaskDriver; db: string; run: (q: string) => Promise<unknown> }> {
  const db = `ch${++n}`;
  await pgServer().createDatabase(db);
  await pgServer().query(sql, [], db);
  const d = new TaskDriver();
  drivers.push(d);
  await d.start(cdcProps(pgServer(), db, { 'slot.name': `ch${n}`, 'snapshot.mode': 'no_data', ...extra }));
  return { d, db, run: (q) => pgServer().query(q, [], db) };
}

const op = (r: SourceRecord) => (r.value as { op: string } | null)?.op ?? null;
const val = (r: SourceRecord) =>
  r.value as { before: Record<string, unknown> | null; after: Record<string, unknown> | null; op: string };

describe('postgres-cdc: every operation', () => {
  it('REPLICA IDENTITY FULL gives the whole old row in updates and deletes', async () => {
    const { d, run } = await setup(
      'CREATE TABLE f (id int PRIMARY KEY, a text, b int); ALTER TABLE f REPLICA IDENTITY FULL;',
    );
    await run(
      `INSERT INTO f VALUES (1, 'x', 10); UPDATE f SET b = 11 WHERE id = 1; DELETE FROM f WHERE id = 1;`,
    );
    await d.pollUntil('4 records', (rs) => rs.length >= 4);
    expect(d.records.map(op)).toEqual(['c', 'u', 'd', null]);
    expect(val(d.records[1]!).before).toEqual({ id: 1, a: 'x', b: 10 });
    expect(val(d.records[1]!).after).toEqual({ id: 1, a: 'x', b: 11 });
    expect(val(d.records[2]!).before).toEqual({ id: 1, a: 'x', b: 11 });
  });

  it('REPLICA IDENTITY DEFAULT: updates have no before, deletes only the key', async () => {
    const { d, run } = await setup('CREATE TABLE t (id int PRIMARY KEY, a text);');
    await run(`INSERT INTO t VALUES (1, 'x'); UPDATE t SET a = 'y'; DELETE FROM t;`);
    await d.pollUntil('4 records', (rs) => rs.length >= 4);
    expect(val(d.records[1]!).before).toBeNull();
    expect(val(d.records[2]!).before).toEqual({ id: 1, a: null });
  });

  it('REPLICA IDENTITY NOTHING: inserts stream; PostgreSQL itself refuses updates and deletes of a published table', async () => {
    const { d, run } = await setup(
      'CREATE TABLE nth (id int, a text); ALTER TABLE nth REPLICA IDENTITY NOTHING;',
    );
    await run(`INSERT INTO nth VALUES (1, 'x')`);
    await d.pollUntil('insert', (rs) => rs.length >= 1);
    expect(d.records[0]!.key).toBeNull();
    expect(val(d.records[0]!).after).toEqual({ id: 1, a: 'x' });
    await expect(run(`UPDATE nth SET a = 'y'`)).rejects.toThrow(/replica identity/);
  });

  it('a primary key change is a delete (+ tombstone) of the old key and a create of the new one', async () => {
    const { d, run } = await setup('CREATE TABLE k (id int PRIMARY KEY, a text);');
    await run(`INSERT INTO k VALUES (1, 'x'); UPDATE k SET id = 2 WHERE id = 1;`);
    await d.pollUntil('4 records', (rs) => rs.length >= 4);
    expect(d.records.map(op)).toEqual(['c', 'd', null, 'c']);
    expect(d.records[1]!.key).toEqual({ id: 1 });
    expect(d.records[3]!.key).toEqual({ id: 2 });
  });

  it('tombstones.on.delete=false leaves the tombstone out', async () => {
    const { d, run } = await setup('CREATE TABLE t (id int PRIMARY KEY);', {
      'tombstones.on.delete': 'false',
    });
    await run(`INSERT INTO t VALUES (1); DELETE FROM t; INSERT INTO t VALUES (2);`);
    await d.pollUntil('3 records', (rs) => rs.length >= 3);
    expect(d.records.map(op)).toEqual(['c', 'd', 'c']);
  });

  it('truncates (skipped.operations=none) and logical decoding messages', async () => {
    const { d, run } = await setup('CREATE TABLE t (id int PRIMARY KEY);', { 'skipped.operations': 'none' });
    await run(
      `INSERT INTO t VALUES (1); TRUNCATE t; SELECT pg_logical_emit_message(true, 'audit', 'hello');`,
    );
    await d.pollUntil('3 records', (rs) => rs.length >= 3);
    expect(d.records.map(op)).toEqual(['c', 't', 'm']);
    expect(d.records[1]!.topic).toBe('srv.public.t');
    expect(d.records[2]!.topic).toBe('srv.message');
    const msg = (d.records[2]!.value as { message: { prefix: string; content: Buffer } }).message;
    expect(msg.prefix).toBe('audit');
    expect(msg.content.toString()).toBe('hello');
  });

  it('truncates are skipped by default (Debezium skipped.operations=t)', async () => {
    const { d, run } = await setup('CREATE TABLE t (id int PRIMARY KEY);');
    await run(`INSERT INTO t VALUES (1); TRUNCATE t; INSERT INTO t VALUES (2);`);
    await d.pollUntil('2 records', (rs) => rs.length >= 2);
    await d.drain(200);
    expect(d.records.filter((r) => r.topic !== 'srv.message').map(op)).toEqual(['c', 'c']);
  });

  it('unchanged TOAST columns carry unavailable.value.placeholder', async () => {
    const { d, run } = await setup(
      'CREATE TABLE big (id int PRIMARY KEY, doc text, bin bytea, tags text[], n int); ALTER TABLE big ALTER doc SET STORAGE EXTERNAL; ALTER TABLE big ALTER bin SET STORAGE EXTERNAL; ALTER TABLE big ALTER tags SET STORAGE EXTERNAL;',
      {
        'unavailable.value.placeholder': '__unavail',
      },
    );
    await run(
      `INSERT INTO big VALUES (1, repeat('x', 10000), decode(repeat('ab', 5000), 'hex'), ARRAY[repeat('t', 5000)], 1); UPDATE big SET n = 2;`,
    );
    await d.pollUntil('2 records', (rs) => rs.length >= 2);
    const u = val(d.records[1]!).after!;
    expect(u.n).toBe(2);
    expect(u.doc).toBe('__unavail');
    expect(Buffer.from(u.bin as Buffer).toString()).toBe('__unavail');
    expect(u.tags).toEqual(['__unavail']);
    expect((val(d.records[0]!).after!.doc as string).length).toBe(10000);
  });

  it('picks up ALTER TABLE while streaming (Relation messages)', async () => {
    const { d, run } = await setup('CREATE TABLE t (id int PRIMARY KEY, a text);');
    await run(`INSERT INTO t VALUES (1, 'x')`);
    await d.pollUntil('1', (rs) => rs.length >= 1);
    await run(
      `ALTER TABLE t ADD COLUMN b numeric(5,1) NOT NULL DEFAULT 1.5; INSERT INTO t VALUES (2, 'y', 2.5); ALTER TABLE t DROP COLUMN a; INSERT INTO t VALUES (3, 3.5);`,
    );
    await d.pollUntil('3', (rs) => rs.length >= 3);
    const s1 = (d.records[1]!.valueSchema!.fields!.find((f) => f.name === 'after')!.schema.fields ?? []).map(
      (f) => f.name,
    );
    expect(s1).toEqual(['id', 'a', 'b']);
    expect(val(d.records[1]!).after!.a).toBe('y');
    const s2 = (d.records[2]!.valueSchema!.fields!.find((f) => f.name === 'after')!.schema.fields ?? []).map(
      (f) => f.name,
    );
    expect(s2).toEqual(['id', 'b']);
    expect(val(d.records[2]!).after!.id).toBe(3);
  });

  it('captures only the tables the include/exclude lists select', async () => {
    const { d, run } = await setup(
      'CREATE SCHEMA s2; CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); CREATE TABLE s2.a (id int PRIMARY KEY);',
      {
        'table.include.list': 'public\\.a,s2\\..*',
      },
    );
    await run(`INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); INSERT INTO s2.a VALUES (1);`);
    await d.pollUntil('2', (rs) => rs.length >= 2);
    await d.drain(200);
    expect(d.records.map((r) => r.topic)).toEqual(['srv.public.a', 'srv.s2.a']);
  });

  it('transactions with a replication origin (Origin messages) and enum values added while streaming (Type messages)', async () => {
    const { d, db, run } = await setup(
      `CREATE TYPE color AS ENUM ('red'); CREATE TABLE t (id int PRIMARY KEY, c color); SELECT pg_replication_origin_create('upstream');`,
    );
    // One session: the origin applies to the transactions it commits.
    await run(
      `SELECT pg_replication_origin_session_setup('upstream'); INSERT INTO t VALUES (1, 'red'); SELECT pg_replication_origin_session_reset();`,
    );
    await pgServer().query(`ALTER TYPE color ADD VALUE 'blue'`, [], db);
    await run(`INSERT INTO t VALUES (2, 'blue')`);
    await d.pollUntil('2 records', (rs) => rs.length >= 2);
    expect(d.records.map((r) => val(r).after)).toEqual([
      { id: 1, c: 'red' },
      { id: 2, c: 'blue' },
    ]);
  });

  it('heartbeats: a record per heartbeat.interval.ms, after running heartbeat.action.query', async () => {
    const { d, run } = await setup(
      'CREATE TABLE hb (id int PRIMARY KEY, at timestamptz); INSERT INTO hb VALUES (1, now());',
      {
        'heartbeat.interval.ms': '100',
        'heartbeat.action.query': 'UPDATE hb SET at = now() WHERE id = 1',
      },
    );
    await d.pollUntil(
      'heartbeats and the action query changes',
      (rs) =>
        rs.filter((r) => r.topic === '__debezium-heartbeat.srv').length >= 2 &&
        rs.some((r) => r.topic === 'srv.public.hb'),
    );
    const hb = d.records.find((r) => r.topic === '__debezium-heartbeat.srv')!;
    expect(hb.key).toEqual({ serverName: 'srv' });
    expect(typeof (hb.value as { ts_ms: number }).ts_ms).toBe('number');
    await run('SELECT 1');
  });
});
