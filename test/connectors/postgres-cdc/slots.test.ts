import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SourceMap, SourceRecord } from '../../../connect/sdk.js';
import { usePostgres } from '../../helpers/postgres.js';
import { cdcProps, TaskDriver } from './driver.js';

const pgServer = usePostgres({ beforeAll, afterAll });
const drivers: TaskDriver[] = [];
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.stop().catch(() => {});
});
let n = 0;

async function db(sql: string): Promise<string> {
  const name = `sl${++n}`;
  await pgServer().createDatabase(name);
  if (sql) await pgServer().query(sql, [], name);
  return name;
}

function driver(offsets?: Map<string, SourceMap>): TaskDriver {
  const d = new TaskDriver(offsets);
  drivers.push(d);
  return d;
}

const op = (r: SourceRecord) => (r.value as { op: string } | null)?.op ?? null;
const slots = async () =>
  (await pgServer().query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots')).map(
    (r) => r.slot_name,
  );

describe('postgres-cdc: slots and publications', () => {
  it('publication.autocreate.mode: all_tables, filtered (and updated), disabled', async () => {
    const name = await db('CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);');
    const d1 = driver();
    await d1.start(cdcProps(pgServer(), name, { 'slot.name': 'p1', 'publication.name': 'pub_all' }));
    await d1.stop();
    const all = await pgServer().query<{ puballtables: boolean }>(
      `SELECT puballtables FROM pg_publication WHERE pubname = 'pub_all'`,
      [],
      name,
    );
    expect(all[0]!.puballtables).toBe(true);

    const d2 = driver();
    await d2.start(
      cdcProps(pgServer(), name, {
        'slot.name': 'p2',
        'publication.name': 'pub_f',
        'publication.autocreate.mode': 'filtered',
        'table.include.list': 'public\\.a',
      }),
    );
    await d2.stop();
    const tables = async () =>
      (
        await pgServer().query<{ tablename: string }>(
          `SELECT tablename FROM pg_publication_tables WHERE pubname = 'pub_f' ORDER BY 1`,
          [],
          name,
        )
      ).map((r) => r.tablename);
    expect(await tables()).toEqual(['a']);
    const d3 = driver();
    await d3.start(
      cdcProps(pgServer(), name, {
        'slot.name': 'p2',
        'publication.name': 'pub_f',
        'publication.autocreate.mode': 'filtered',
        'table.include.list': 'public\\.(a|b)',
      }),
    );
    await d3.stop();
    expect(await tables()).toEqual(['a', 'b']);

    const d4 = driver();
    await expect(
      d4.start(
        cdcProps(pgServer(), name, {
          'slot.name': 'p3',
          'publication.name': 'nope',
          'publication.autocreate.mode': 'disabled',
        }),
      ),
    ).rejects.toThrow(/publication.name.*"nope" does not exist/);
  });

  it('creates a missing slot, keeps it across restarts, drops it with slot.drop.on.stop', async () => {
    const name = await db('CREATE TABLE a (id int PRIMARY KEY);');
    const d1 = driver();
    await d1.start(cdcProps(pgServer(), name, { 'slot.name': 'keep_me' }));
    expect(await slots()).toContain('keep_me');
    await d1.stop();
    expect(await slots()).toContain('keep_me');
    const d2 = driver();
    await d2.start(cdcProps(pgServer(), name, { 'slot.name': 'drop_me', 'slot.drop.on.stop': 'true' }));
    expect(await slots()).toContain('drop_me');
    await d2.stop();
    expect(await slots()).not.toContain('drop_me');
  });

  it('refuses a slot of another plugin or database, naming slot.name', async () => {
    const name = await db('CREATE TABLE a (id int PRIMARY KEY);');
    await pgServer().query(`SELECT pg_create_logical_replication_slot('td_slot', 'test_decoding')`, [], name);
    await expect(driver().start(cdcProps(pgServer(), name, { 'slot.name': 'td_slot' }))).rejects.toThrow(
      /slot.name.*test_decoding/,
    );
    const other = await db('');
    await pgServer().query(`SELECT pg_create_logical_replication_slot('other_db', 'pgoutput')`, [], other);
    await expect(driver().start(cdcProps(pgServer(), name, { 'slot.name': 'other_db' }))).rejects.toThrow(
      /slot.name.*belongs to database/,
    );
  });

  it('a slot lost while offsets exist: reported under snapshot.mode=initial, re-snapshotted under when_needed', async () => {
    const name = await db('CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1), (2);');
    const offsets = new Map<string, SourceMap>();
    const d1 = driver(offsets);
    await d1.start(cdcProps(pgServer(), name, { 'slot.name': 'lost' }));
    await d1.pollUntil('snapshot', (rs) => rs.length >= 2);
    await pgServer().query(`INSERT INTO a VALUES (3)`, [], name);
    await d1.pollUntil('stream', (rs) => rs.length >= 3);
    await d1.stop();
    await pgServer().query(`SELECT pg_drop_replication_slot('lost')`);
    await expect(driver(offsets).start(cdcProps(pgServer(), name, { 'slot.name': 'lost' }))).rejects.toThrow(
      /slot "lost" \(slot.name\) does not exist.*snapshot.mode=when_needed/,
    );
    const d3 = driver(offsets);
    await d3.start(cdcProps(pgServer(), name, { 'slot.name': 'lost', 'snapshot.mode': 'when_needed' }));
    await d3.pollUntil('re-snapshot', (rs) => rs.length >= 3);
    expect(d3.records.map(op)).toEqual(['r', 'r', 'r']);
  });

  it('snapshot.mode initial_only stops after the snapshot; always snapshots at every start', async () => {
    const name = await db('CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1), (2);');
    const offsets = new Map<string, SourceMap>();
    const d1 = driver(offsets);
    await d1.start(cdcProps(pgServer(), name, { 'slot.name': 'io', 'snapshot.mode': 'initial_only' }));
    await d1.pollUntil('snapshot', (rs) => rs.length >= 2);
    await pgServer().query(`INSERT INTO a VALUES (3)`, [], name);
    expect(await d1.drain(300)).toEqual([]);
    await d1.stop();
    // The snapshot's slot was temporary: nothing keeps WAL for a connector that never streams.
    expect(await slots()).not.toContain('io');
    const d2 = driver(new Map(offsets));
    await d2.start(cdcProps(pgServer(), name, { 'slot.name': 'io', 'snapshot.mode': 'always' }));
    await d2.pollUntil('snapshot again', (rs) => rs.length >= 3);
    expect(d2.records.slice(0, 3).map(op)).toEqual(['r', 'r', 'r']);
  });

  it('the snapshot is consistent with the slot: concurrent writes are neither lost nor doubled', async () => {
    const name = await db(
      'CREATE TABLE a (id int PRIMARY KEY, v int); INSERT INTO a SELECT g, 0 FROM generate_series(1, 3000) g;',
    );
    const d = driver();
    await d.start(
      cdcProps(pgServer(), name, {
        'slot.name': 'cons',
        'snapshot.fetch.size': '100',
        'max.batch.size': '100',
      }),
    );
    // Writes while the snapshot is being read (the snapshot was exported when the slot was created).
    const writer = (async () => {
      for (let i = 0; i < 20; i++) {
        await pgServer().query(
          `INSERT INTO a VALUES (${5000 + i}, 1); UPDATE a SET v = v + 1 WHERE id = ${i + 1};`,
          [],
          name,
        );
      }
    })();
    await d.pollOnce();
    await writer;
    await d.pollUntil('snapshot + changes', (rs) => rs.length >= 3000 + 40);
    await d.drain(300);
    const reads = d.records.filter((r) => op(r) === 'r');
    const creates = d.records.filter((r) => op(r) === 'c');
    const updates = d.records.filter((r) => op(r) === 'u');
    expect(reads).toHaveLength(3000);
    expect(creates).toHaveLength(20);
    expect(updates).toHaveLength(20);
    // Every snapshot row shows v = 0: the updates came after the snapshot point and stream as 'u'.
    expect(reads.every((r) => (r.value as { after: { v: number } }).after.v === 0)).toBe(true);
  });

  it('resumes after a crash with nothing lost: unacknowledged changes come again', async () => {
    const name = await db('CREATE TABLE a (id int PRIMARY KEY);');
    const offsets = new Map<string, SourceMap>();
    const d1 = driver(offsets);
    d1.autoAck = false;
    await d1.start(cdcProps(pgServer(), name, { 'slot.name': 'crash', 'snapshot.mode': 'no_data' }));
    for (let i = 0; i < 10; i++)
      await pgServer().query(
        `INSERT INTO a SELECT g FROM generate_series(${i * 100 + 1}, ${i * 100 + 100}) g`,
        [],
        name,
      );
    await d1.pollUntil('all', (rs) => rs.length >= 1000);
    // The log acknowledged the first 450 records only; then the worker dies.
    for (const r of d1.records.slice(0, 450)) d1.ack(r);
    await d1.task.commit();
    await pgServer().query(
      `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'crash'`,
    );
    await d1.stop();
    const seen = new Set(d1.records.slice(0, 450).map((r) => (r.key as { id: number }).id));
    for (let i = 10; i < 12; i++)
      await pgServer().query(
        `INSERT INTO a SELECT g FROM generate_series(${i * 100 + 1}, ${i * 100 + 100}) g`,
        [],
        name,
      );
    const d2 = driver(offsets);
    await d2.start(cdcProps(pgServer(), name, { 'slot.name': 'crash', 'snapshot.mode': 'no_data' }));
    await d2.pollUntil('the rest', (rs) => rs.length >= 1200 - 450);
    await d2.drain(300);
    for (const r of d2.records) seen.add((r.key as { id: number }).id);
    expect(seen.size).toBe(1200);
    // At-least-once, but no more than the unacknowledged transaction (400..500) is repeated.
    expect(d2.records.length).toBeLessThanOrEqual(1200 - 400);
  });
});

describe('postgres-cdc: a replication connection that drops', () => {
  it('reconnects and streams again from the confirmed LSN', async () => {
    const name = await db('CREATE TABLE a (id int PRIMARY KEY);');
    const d = driver();
    await d.start(cdcProps(pgServer(), name, { 'slot.name': 'recon', 'snapshot.mode': 'no_data' }));
    await pgServer().query('INSERT INTO a VALUES (1)', [], name);
    await d.pollUntil('first', (rs) => rs.length >= 1);
    await pgServer().query(
      `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'recon'`,
    );
    await pgServer().query('INSERT INTO a VALUES (2)', [], name);
    await d.pollUntil('after the reconnect', (rs) => rs.some((r) => (r.key as { id: number }).id === 2));
    expect(d.task.status().phase).toBe('streaming');
    // Both connections at once, then a change that needs the catalog (a Relation message).
    await pgServer().query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('tributary-cdc', 'tributary-cdc-replication') AND datname = '${name}'`,
    );
    await pgServer().query("ALTER TABLE a ADD COLUMN b text; INSERT INTO a VALUES (3, 'x')", [], name);
    await d.pollUntil(
      'after both reconnected',
      (rs) => rs.some((r) => (r.key as { id: number }).id === 3),
      30_000,
    );
    const last = d.records.find((r) => (r.key as { id: number }).id === 3)!;
    expect((last.value as { after: unknown }).after).toEqual({ id: 3, b: 'x' });
  });
});
