/**
 * The connectors inside real Connect workers:
 * - `trib connect standalone worker.json pg.json` as a child process, killed with SIGKILL while
 *   changes stream: a second worker resumes from the committed offsets and the slot, and every
 *   change is in the topic (at least once);
 * - an in-process worker running the CDC source and the Postgres sink together: CDC → topic →
 *   sink reproduces the table in another database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../../connect/index.js';
import { connect } from '../../../core/client/index.js';
import type { KafkaClient } from '../../../core/client/types.js';
import { http, readTopic, waitFor } from '../../connect/helpers.js';
import { startWorkerProcess } from '../../connect/process.js';
import { startTestBroker, type TestBroker } from '../../helpers/broker.js';
import { usePostgres } from '../../helpers/postgres.js';
import { cdcProps } from './driver.js';

const pgServer = usePostgres({ beforeAll, afterAll });
let dir: string;
let broker: TestBroker;
let client: KafkaClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-pg-worker-'));
  broker = await startTestBroker();
  client = await connect({ 'bootstrap.servers': broker.bootstrap });
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Distinct ids of create/read events in the topic, and how many events it holds. */
async function idsInTopic(topic: string, expected: number): Promise<{ ids: Set<number>; events: number }> {
  const records = await readTopic(client, topic, expected, 5_000);
  const ids = new Set<number>();
  for (const r of records) {
    if (r.value === null) continue;
    const p = JSON.parse(r.value).payload as { op: string; after: { id: number } | null };
    if (p.after) ids.add(p.after.id);
  }
  return { ids, events: records.length };
}

describe('postgres-cdc in a Connect worker', () => {
  it('a worker killed with SIGKILL mid-stream resumes with nothing lost', async () => {
    const db = 'killdb';
    await pgServer().createDatabase(db);
    await pgServer().query(
      'CREATE TABLE public.events (id int PRIMARY KEY, payload text); INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, 500) g;',
      [],
      db,
    );
    const workerFile = join(dir, 'worker.json');
    writeFileSync(
      workerFile,
      JSON.stringify({
        'bootstrap.servers': broker.bootstrap,
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'offset.storage.file.filename': join(dir, 'offsets'),
        'offset.flush.interval.ms': 300,
        listeners: 'http://127.0.0.1:0',
        'producer.linger.ms': 1,
      }),
    );
    const pgFile = join(dir, 'pg.json');
    writeFileSync(
      pgFile,
      JSON.stringify({ ...cdcProps(pgServer(), db, { 'slot.name': 'kill_slot' }), 'tasks.max': '1' }),
    );
    const first = await startWorkerProcess(['standalone', workerFile, pgFile]);
    const status = await waitFor('RUNNING', async () => {
      const s = await http(first.url, 'GET', '/connectors/pg-cdc/status');
      return s.body?.tasks?.[0]?.state === 'RUNNING' ? s.body : null;
    });
    expect(status.connector.state).toBe('RUNNING');
    // Changes keep coming while the worker dies.
    let next = 501;
    let writing = true;
    const writer = (async () => {
      while (writing || next <= 3000) {
        await pgServer().query(
          `INSERT INTO events SELECT g, md5(g::text) FROM generate_series(${next}, ${next + 49}) g`,
          [],
          db,
        );
        next += 50;
        if (next > 3000) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor(
      'some streamed changes',
      async () => (await idsInTopic('srv.public.events', 800)).ids.size >= 800,
      30_000,
    );
    await first.kill('SIGKILL');
    writing = false;
    await writer;
    expect(next).toBeGreaterThan(3000);
    const second = await startWorkerProcess(['standalone', workerFile, pgFile]);
    const got = await waitFor(
      'every change',
      async () => {
        const r = await idsInTopic('srv.public.events', 3000);
        return r.ids.size >= 3000 ? r : null;
      },
      60_000,
    );
    for (let id = 1; id <= 3000; id++) expect(got.ids.has(id)).toBe(true);
    await second.kill('SIGTERM');
    expect(second.child.exitCode).toBe(0);
  }, 120_000);

  it('in-process worker: CDC source and Postgres sink reproduce a table in another database', async () => {
    await pgServer().createDatabase('rtsrc');
    await pgServer().createDatabase('rtdst');
    await pgServer().query(
      `CREATE TABLE public.orders (id int PRIMARY KEY, customer text NOT NULL, total numeric(12,2), placed timestamptz, items jsonb);
       INSERT INTO orders SELECT g, 'c' || (g % 7), g * 3.5, '2024-05-01 12:00:00+00'::timestamptz + g * interval '1 minute', jsonb_build_array(g, g + 1) FROM generate_series(1, 200) g;`,
      [],
      'rtsrc',
    );
    const worker = await startWorker({
      client,
      config: {
        'offset.storage.file.filename': join(dir, 'rt-offsets'),
        'plugin.path': fileURLToPath(new URL('./plugin', import.meta.url)),
        'offset.flush.interval.ms': 200,
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      },
      rest: false,
      log: () => {},
      connectors: [
        {
          ...cdcProps(pgServer(), 'rtsrc', { 'slot.name': 'rt_slot' }),
          name: 'src',
          'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        },
        {
          name: 'dst',
          'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
          topics: 'srv.public.orders',
          'connection.url': `jdbc:postgresql://${pgServer().host}:${pgServer().port}/rtdst`,
          'connection.user': 'postgres',
          'insert.mode': 'upsert',
          'pk.mode': 'record_key',
          'delete.enabled': 'true',
          'auto.create': 'true',
          'auto.evolve': 'true',
        },
      ],
    });
    try {
      await worker.waitForRunning('src');
      await worker.waitForRunning('dst');
      await pgServer().query(
        `UPDATE orders SET total = total + 1 WHERE id % 10 = 0; DELETE FROM orders WHERE id > 190; INSERT INTO orders VALUES (1000, 'late', 1.00, now(), '{}');
         ALTER TABLE orders ADD COLUMN note text; UPDATE orders SET note = 'noted' WHERE id = 1;`,
        [],
        'rtsrc',
      );
      const dump = (db: string) =>
        pgServer().query(
          `SELECT id, customer, total::text, placed::text, items::text, note FROM public.orders ORDER BY id`,
          [],
          db,
        );
      const want = await dump('rtsrc');
      await waitFor(
        'the copy',
        async () => JSON.stringify(await dump('rtdst').catch(() => [])) === JSON.stringify(want),
        30_000,
      );
    } finally {
      await worker.stop();
    }
  }, 60_000);
});
