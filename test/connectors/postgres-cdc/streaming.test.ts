import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../../helpers/postgres.js';
import { asJson, cdcProps, TaskDriver, values } from './driver.js';

const pgServer = usePostgres({ beforeAll, afterAll });
const drivers: TaskDriver[] = [];
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.stop();
});

let dbCounter = 0;
async function freshDb(setup: string): Promise<string> {
  const db = `db${++dbCounter}`;
  await pgServer().createDatabase(db);
  if (setup) await pgServer().query(setup, [], db);
  return db;
}

function driver(): TaskDriver {
  const d = new TaskDriver();
  drivers.push(d);
  return d;
}

describe('postgres-cdc: snapshot and streaming', () => {
  it('snapshots existing rows (op r), then streams inserts, updates and deletes in Debezium envelopes', async () => {
    const db = await freshDb(`
      CREATE TABLE public.customers (id int PRIMARY KEY, name text NOT NULL, email text);
      INSERT INTO public.customers VALUES (1, 'Ann', 'ann@x'), (2, 'Bob', NULL);`);
    const d = driver();
    await d.start(cdcProps(pgServer(), db, { 'slot.name': 's1' }));
    await d.pollUntil('snapshot', (rs) => rs.length >= 2);
    const snap = values(d.records);
    expect(snap.map((v) => v.op)).toEqual(['r', 'r']);
    expect(snap.map((v) => (v.source as { snapshot: string }).snapshot)).toEqual(['true', 'last']);
    expect(snap[0]!.after).toEqual({ id: 1, name: 'Ann', email: 'ann@x' });
    expect(d.records[0]!.topic).toBe('srv.public.customers');
    expect(d.records[0]!.key).toEqual({ id: 1 });

    await pgServer().query(
      `INSERT INTO customers VALUES (3, 'Cy', 'c@x'); UPDATE customers SET email = 'b@x' WHERE id = 2; DELETE FROM customers WHERE id = 1;`,
      [],
      db,
    );
    await d.pollUntil('stream', (rs) => rs.length >= 6);
    const streamed = d.records.slice(2);
    expect(streamed.map((r) => (r.value as { op: string } | null)?.op ?? null)).toEqual([
      'c',
      'u',
      'd',
      null,
    ]);
    const [c, u, del, tomb] = streamed;
    expect((c!.value as Record<string, unknown>).after).toEqual({ id: 3, name: 'Cy', email: 'c@x' });
    expect((u!.value as Record<string, unknown>).before).toBeNull();
    expect((u!.value as Record<string, unknown>).after).toEqual({ id: 2, name: 'Bob', email: 'b@x' });
    expect((del!.value as Record<string, unknown>).before).toEqual({ id: 1, name: '', email: null });
    expect(tomb!.key).toEqual({ id: 1 });
    expect(tomb!.value).toBeNull();

    // The JsonConverter writes Debezium's schema/payload envelope.
    const json = asJson(c!);
    expect(json.key).toEqual({
      schema: {
        type: 'struct',
        fields: [{ type: 'int32', optional: false, field: 'id' }],
        optional: false,
        name: 'srv.public.customers.Key',
      },
      payload: { id: 3 },
    });
    const v = json.value!;
    expect((v.schema as { name: string }).name).toBe('srv.public.customers.Envelope');
    const payload = v.payload;
    expect(payload.op).toBe('c');
    expect(payload.before).toBeNull();
    const source = payload.source as Record<string, unknown>;
    expect(source).toMatchObject({
      connector: 'postgresql',
      name: 'srv',
      db,
      schema: 'public',
      table: 'customers',
      snapshot: 'false',
    });
    expect(typeof source.lsn).toBe('number');
    expect(typeof source.txId).toBe('number');
    expect(typeof source.ts_ms).toBe('number');
    expect(JSON.parse(source.sequence as string)).toHaveLength(2);
    expect(typeof payload.ts_ms).toBe('number');
    const fields = (v.schema as { fields: { field: string }[] }).fields.map((f) => f.field);
    expect(fields).toEqual(['before', 'after', 'source', 'transaction', 'op', 'ts_ms']);
  });

  it('confirms the slot only up to acknowledged records, and reports the slot lag', async () => {
    const db = await freshDb('CREATE TABLE t (id int PRIMARY KEY, v text);');
    const d = driver();
    d.autoAck = false;
    await d.start(cdcProps(pgServer(), db, { 'slot.name': 's2', 'snapshot.mode': 'no_data' }));
    // Whether the slot's confirmed LSN is past `lsn` (keepalives may move it up to the insert, never into it).
    const confirmedPast = async (lsn: string) =>
      (
        await pgServer().query<{ past: boolean }>(
          `SELECT confirmed_flush_lsn > $1::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = 's2'`,
          [lsn],
        )
      )[0]!.past;
    const beforeInsert = (await pgServer().query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l'))[0]!
      .l;
    await pgServer().query(`INSERT INTO t SELECT g, 'x' FROM generate_series(1, 50) g`, [], db);
    await d.pollUntil('50 inserts', (rs) => rs.length >= 50);
    await d.drain(500);
    expect(await confirmedPast(beforeInsert)).toBe(false);
    const status = await d.task.refreshLag();
    expect(status.slot_lag_bytes).toBeGreaterThan(0);
    expect(status.wal_retained_bytes).toBeGreaterThanOrEqual(status.slot_lag_bytes!);
    expect(status.pending_records).toBe(50);
    for (const r of d.records.slice(0, 49)) d.ack(r);
    await d.drain(300);
    expect(await confirmedPast(beforeInsert)).toBe(false);
    d.ack(d.records[49]!);
    await d.drain(300);
    expect(await confirmedPast(beforeInsert)).toBe(true);
    expect((await d.task.refreshLag()).slot_lag_bytes).toBeLessThan(100_000);
  });

  it('keeps every change, in order and intact, while thousands wait in its queue (paused stream, arena moved and grown)', async () => {
    const db = await freshDb(
      'CREATE TABLE public.w (id int PRIMARY KEY, pad text NOT NULL); CREATE PUBLICATION p3 FOR TABLE public.w;',
    );
    await pgServer().query(`SELECT pg_create_logical_replication_slot('s3', 'pgoutput')`, [], db);
    const rows = 12_000;
    await pgServer().query(
      `INSERT INTO w SELECT g, repeat(md5(g::text), 6) || 'é' || g FROM generate_series(1, ${rows}) g`,
      [],
      db,
    );
    // The changes (about 3 MB of messages) are all there when the stream starts, and polls are
    // small: the queue fills, the socket pauses and resumes, and the waiting messages outgrow the
    // arena and are moved within it.
    const d = driver();
    await d.start(
      cdcProps(pgServer(), db, {
        'slot.name': 's3',
        'publication.name': 'p3',
        'publication.autocreate.mode': 'disabled',
        'snapshot.mode': 'no_data',
        'max.batch.size': '97',
        'max.queue.size': '2000',
      }),
    );
    await d.pollUntil(`${rows} inserts`, (rs) => rs.length >= rows, 60_000);
    const after = values(d.records).map((v) => v.after as { id: number; pad: string });
    expect(after.length).toBe(rows);
    const { createHash } = await import('node:crypto');
    after.forEach((a, i) => {
      expect(a.id).toBe(i + 1);
      expect(a.pad).toBe(
        `${createHash('md5')
          .update(String(i + 1))
          .digest('hex')
          .repeat(6)}é${i + 1}`,
      );
    });
    // Debezium's sequence: [last commit's end LSN before the change, the change's LSN].
    const sequences = () =>
      values(d.records).map((v) => {
        const source = v.source as { sequence: string; lsn: number };
        return { seq: JSON.parse(source.sequence) as [string | null, string], lsn: source.lsn };
      });
    const first = sequences();
    expect(new Set(first.map((x) => x.seq[0])).size).toBe(1);
    for (const x of first) expect(x.seq[1]).toBe(String(x.lsn));
    await pgServer().query('INSERT INTO w VALUES (0, $1)', ['late'], db);
    await d.pollUntil('one more insert', (rs) => rs.length >= rows + 1);
    const late = sequences()[rows]!;
    expect(Number(late.seq[0])).toBeGreaterThan(first[rows - 1]!.lsn);
    expect(late.seq[1]).toBe(String(late.lsn));
  });
});
