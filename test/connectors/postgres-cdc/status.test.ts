/**
 * What the CDC task tells the REST status about its slot, in a real worker against the real
 * PostgreSQL: the snapshot's progress, then the slot's lag growing while the connector is paused
 * and changes keep coming, and shrinking once it resumed and caught up. And a filter transform
 * dropping every change of a table still lets the slot's confirmed LSN move past those changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../../connect/index.js';
import { connect } from '../../../core/client/index.js';
import type { KafkaClient } from '../../../core/client/types.js';
import { http, readTopic, waitFor } from '../../connect/helpers.js';
import { usePostgres } from '../../helpers/postgres.js';
import { cdcProps } from './driver.js';

const pgServer = usePostgres({ beforeAll, afterAll });
let dir: string;
let client: KafkaClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-pg-status-'));
  client = await connect({ 'data.dir': join(dir, 'log') });
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function worker(name: string, connector: Record<string, string>): Promise<WorkerHandle> {
  const w = await startWorker({
    client,
    config: {
      listeners: 'http://127.0.0.1:0',
      'offset.storage.file.filename': join(dir, `offsets-${name}`),
      'plugin.path': fileURLToPath(new URL('./plugin', import.meta.url)),
      'offset.flush.interval.ms': 200,
    },
    log: () => {},
    connectors: [
      { ...connector, name, 'connector.class': 'io.debezium.connector.postgresql.PostgresConnector' },
    ],
  });
  await w.waitForRunning(name);
  return w;
}

/** Whether LSN a ≥ b, as PostgreSQL compares them. */
async function lsnAtLeast(a: string, b: string): Promise<boolean> {
  return (await pgServer().query<{ ge: boolean }>('SELECT $1::pg_lsn >= $2::pg_lsn AS ge', [a, b]))[0]!.ge;
}

/**
 * The end of the WAL written so far, commit records included: the insert position (the test server
 * runs with synchronous_commit=off, so pg_current_wal_lsn() may still be before the last commit).
 */
const currentLsn = async (): Promise<string> =>
  (await pgServer().query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l'))[0]!.l;

interface SlotMetrics {
  phase: string;
  slot_name: string;
  confirmed_flush_lsn: string | null;
  restart_lsn: string | null;
  wal_retained_bytes: number | null;
  slot_lag_bytes: number | null;
  slot_checked_at: string | null;
  last_received_lsn: string | null;
  last_confirmed_lsn: string | null;
  pending_records: number;
  snapshot_rows_done: number | null;
  snapshot_rows_total: number | null;
  streamed_records: number;
}

describe('postgres-cdc status', () => {
  it('shows snapshot progress, then the slot lag growing while paused and shrinking after catch-up', async () => {
    const db = 'statusdb';
    await pgServer().createDatabase(db);
    await pgServer().query(
      "CREATE TABLE public.t (id int PRIMARY KEY, pad text); INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 300) g;",
      [],
      db,
    );
    const w = await worker(
      'lagging',
      cdcProps(pgServer(), db, { 'slot.name': 'lag_slot', 'status.update.interval.ms': '200' }),
    );
    try {
      const metrics = async (): Promise<SlotMetrics> =>
        (await http(w.url!, 'GET', '/connectors/lagging/status')).body.tasks[0].metrics as SlotMetrics;
      const streaming = await waitFor('the snapshot done and the slot read', async () => {
        const m = await metrics();
        return m.phase === 'streaming' && m.slot_checked_at !== null && m.pending_records === 0 ? m : null;
      });
      expect(streaming).toMatchObject({
        slot_name: 'lag_slot',
        snapshot_rows_done: 300,
        snapshot_rows_total: 300,
      });
      expect(streaming.confirmed_flush_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(streaming.restart_lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

      // Paused: nothing is acknowledged, so nothing is confirmed, while about 1 MB of WAL is written.
      expect((await http(w.url!, 'PUT', '/connectors/lagging/pause')).status).toBe(202);
      await waitFor(
        'the task paused',
        async () => (await http(w.url!, 'GET', '/connectors/lagging/tasks/0/status')).body.state === 'PAUSED',
      );
      const before = await currentLsn();
      await pgServer().query(
        // Flushed at commit (the server's default is off), so that the server's WAL position is past it.
        'SET synchronous_commit = on; INSERT INTO t SELECT g, repeat(md5(g::text), 30) FROM generate_series(1001, 3000) g',
        [],
        db,
      );
      const after = await currentLsn();
      const written = Number(
        (await pgServer().query<{ d: string }>('SELECT pg_wal_lsn_diff($1, $2) AS d', [after, before]))[0]!.d,
      );
      expect(written).toBeGreaterThan(500_000);
      const lagging = await waitFor('the lag to show', async () => {
        const t = (await http(w.url!, 'GET', '/connectors/lagging/tasks/0/status')).body;
        return t.state === 'PAUSED' && (t.metrics as SlotMetrics).slot_lag_bytes! >= written ? t : null;
      });
      const lm = lagging.metrics as SlotMetrics;
      expect(lm.wal_retained_bytes).toBeGreaterThanOrEqual(lm.slot_lag_bytes!);
      expect(await lsnAtLeast(lm.confirmed_flush_lsn!, after)).toBe(false);
      // The same figures in the connector's status.
      expect((await metrics()).slot_lag_bytes).toBeGreaterThanOrEqual(written);

      // Resumed: everything reaches the topic, is confirmed, and the lag falls back.
      expect((await http(w.url!, 'PUT', '/connectors/lagging/resume')).status).toBe(202);
      const caughtUp = await waitFor(
        'the lag to shrink',
        async () => {
          const m = await metrics();
          return m.slot_lag_bytes !== null &&
            m.slot_lag_bytes < 100_000 &&
            (await lsnAtLeast(m.confirmed_flush_lsn!, after))
            ? m
            : null;
        },
        30_000,
      );
      expect(await lsnAtLeast(caughtUp.last_confirmed_lsn!, after)).toBe(true);
      expect(await lsnAtLeast(caughtUp.last_received_lsn!, before)).toBe(true);
      expect(caughtUp.streamed_records).toBe(2000);
      const records = await readTopic(client, 'srv.public.t', 2300);
      const ids = new Set(records.map((r) => JSON.parse(r.value!).payload.after.id as number));
      expect(ids.size).toBe(2300);
    } finally {
      await w.stop();
    }
  }, 60_000);

  it('changes dropped by a filter transform are confirmed to the slot', async () => {
    const db = 'filterdb';
    await pgServer().createDatabase(db);
    await pgServer().query(
      'CREATE TABLE public.noise (id int PRIMARY KEY, v text); CREATE TABLE public.kept (id int PRIMARY KEY);',
      [],
      db,
    );
    const w = await worker('filtered', {
      ...cdcProps(pgServer(), db, { 'slot.name': 'filter_slot', 'snapshot.mode': 'no_data' }),
      transforms: 'dropNoise',
      'transforms.dropNoise.type': 'org.apache.kafka.connect.transforms.Filter',
      'transforms.dropNoise.predicate': 'isNoise',
      predicates: 'isNoise',
      'predicates.isNoise.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
      'predicates.isNoise.pattern': 'srv\\.public\\.noise',
    });
    try {
      await pgServer().query('INSERT INTO kept VALUES (1)', [], db);
      await readTopic(client, 'srv.public.kept', 1);
      // Only filtered changes from here on: the slot must still move past them.
      await pgServer().query("INSERT INTO noise SELECT g, 'n' FROM generate_series(1, 500) g", [], db);
      await pgServer().query("UPDATE noise SET v = 'm' WHERE id <= 100", [], db);
      const after = await currentLsn();
      await waitFor(
        'the slot confirmed past the dropped changes',
        async () => {
          const slot = await pgServer().query<{ c: string }>(
            "SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = 'filter_slot'",
          );
          return lsnAtLeast(slot[0]!.c, after);
        },
        20_000,
      );
      const admin = client.admin();
      const topics = await admin.listTopics();
      await admin.close();
      expect(topics).toContain('srv.public.kept');
      expect(topics).not.toContain('srv.public.noise');
    } finally {
      await w.stop();
    }
  }, 60_000);
});
