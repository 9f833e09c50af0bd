/**
 * Postgres CDC throughput: changes per second from `INSERT … SELECT generate_series` into the
 * topic, end to end (replication stream → pgoutput decoding → Debezium envelope → JsonConverter
 * with schemas → producer → the embedded log, acknowledged), as a ratio of what `pg_recvlogical`
 * streams from a slot of the same plugin (pgoutput) over the same changes in the same run
 * (goal ≥ 0.5).
 *
 * All slots are created before the insert, so all read the same WAL; pg_recvlogical writes the
 * raw pgoutput stream to a file, and its time is until the last inserted row is in that file. A throwaway PostgreSQL is
 * started for the run (test/helpers/postgres.ts; fsync off).
 *
 * Also CPU time per change: of this process while the connector runs (worker, producer and the
 * embedded log; PostgreSQL's walsender not counted), and of pg_recvlogical. On a shared machine
 * these move much less than the rates do.
 *
 * Runs from dist/ (npm run bench): the Connect worker finds the compiled connector there.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorker } from '../connect/index.js';
import { connect } from '../core/client/index.js';
import { type PostgresServer, startPostgres } from '../test/helpers/postgres.js';
import type { BenchResult } from './types.js';
import { nowMs, procCpuMs, progress, tempDir } from './util.js';

export async function runPostgresBench(opts: { quick?: boolean }): Promise<BenchResult[]> {
  const rows = opts.quick ? 20_000 : 200_000;
  const tmp = tempDir('trib-bench-pg-');
  const pg = await startPostgres();
  try {
    const db = 'bench';
    await pg.createDatabase(db);
    await pg.query(
      `CREATE TABLE public.changes (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,2), at timestamptz);
       CREATE PUBLICATION bench_pub FOR TABLE public.changes;`,
      [],
      db,
    );
    // One statement each: a slot cannot be created in a transaction that wrote.
    for (const slot of ['base_slot', 'ours_schemas', 'ours_plain']) {
      await pg.query(`SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput')`, [], db);
    }
    progress(`postgres: inserting ${rows} rows`);
    await pg.query(
      `INSERT INTO changes SELECT g, 'name-' || g, g * 1.01, '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, ${rows}) g`,
      [],
      db,
    );

    // Baseline: pg_recvlogical from its own pgoutput slot, until the last inserted row is out.
    // (--endpos cannot be used: a keepalive at or past it ends the run before the data came.)
    progress('postgres: pg_recvlogical baseline');
    const base = await recvlogicalMs(pg, db, 'base_slot', `name-${rows}`, join(tmp.path, 'recvlogical.out'));
    const baseRate = rows / (base.ms / 1000);

    const withSchemas = await measureConnector(pg, db, 'ours_schemas', rows, true, tmp.path);
    const plain = await measureConnector(pg, db, 'ours_plain', rows, false, tmp.path);
    const cpuPerChange = (ms: number) => Math.round((ms * 1000 * 100) / rows) / 100;
    const results: BenchResult[] = [
      {
        name: `pg_recvlogical, pgoutput, ${rows} inserted rows (baseline)`,
        value: Math.round(baseRate),
        unit: 'changes/s',
      },
      {
        name: `Postgres CDC → topic, Debezium JSON with schemas, ${rows} rows`,
        value: Math.round(withSchemas.rate),
        unit: 'changes/s',
        ratio: { of: 'pg_recvlogical', value: withSchemas.rate / baseRate },
        goal: { value: 0.5, of: 'ratio' },
        note: 'worker + task start included; producer batch.size 1 MB, linger 20 ms, lz4',
      },
      {
        name: `Postgres CDC → topic, JSON without schemas, ${rows} rows`,
        value: Math.round(plain.rate),
        unit: 'changes/s',
        ratio: { of: 'pg_recvlogical', value: plain.rate / baseRate },
      },
      {
        name: 'pg_recvlogical CPU per change',
        value: cpuPerChange(base.cpuMs),
        unit: 'µs',
      },
      {
        name: 'Postgres CDC → topic CPU per change, Debezium JSON with schemas',
        value: cpuPerChange(withSchemas.cpuMs),
        unit: 'µs',
        ratio: { of: 'pg_recvlogical CPU', value: withSchemas.cpuMs / Math.max(base.cpuMs, 1e-9) },
        note: 'this process while the connector runs: worker, converters, producer, embedded log',
      },
      {
        name: 'Postgres CDC → topic CPU per change, JSON without schemas',
        value: cpuPerChange(plain.cpuMs),
        unit: 'µs',
        ratio: { of: 'pg_recvlogical CPU', value: plain.cpuMs / Math.max(base.cpuMs, 1e-9) },
      },
    ];
    return results;
  } finally {
    await pg.stop();
    tmp.remove();
  }
}

/** Milliseconds (and CPU milliseconds) pg_recvlogical takes to stream from `slot` until `lastText` (in the last row) appears in its output. */
async function recvlogicalMs(
  pg: PostgresServer,
  db: string,
  slot: string,
  lastText: string,
  out: string,
): Promise<{ ms: number; cpuMs: number }> {
  const t0 = nowMs();
  const child = spawn(
    join(pg.binDir, 'pg_recvlogical'),
    [
      '-h',
      pg.host,
      '-p',
      String(pg.port),
      '-U',
      pg.user,
      '-d',
      db,
      '-S',
      slot,
      '--start',
      '-o',
      'proto_version=1',
      '-o',
      'publication_names=bench_pub',
      '--no-loop',
      '-F',
      '0',
      '-f',
      out,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const needle = Buffer.from(lastText);
  try {
    for (;;) {
      if (nowMs() - t0 > 300_000)
        throw new Error(`pg_recvlogical did not stream ${lastText} in 5 minutes: ${stderr}`);
      if (child.exitCode !== null) throw new Error(`pg_recvlogical exited (${child.exitCode}): ${stderr}`);
      await new Promise((r) => setTimeout(r, 2));
      let size = 0;
      try {
        size = statSync(out).size;
      } catch {
        continue;
      }
      if (size < needle.length) continue;
      const fd = openSync(out, 'r');
      const tail = Buffer.alloc(Math.min(size, 4096));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      closeSync(fd);
      if (tail.includes(needle)) {
        const ms = nowMs() - t0;
        let cpuMs = 0;
        try {
          cpuMs = procCpuMs(child.pid!);
        } catch {
          // exited already
        }
        return { ms, cpuMs };
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
}

/** Changes/s of the CDC connector in an in-process Connect worker, into the embedded log, from `slot` (created before the insert), and this process's CPU milliseconds meanwhile. */
async function measureConnector(
  pg: PostgresServer,
  db: string,
  slot: string,
  rows: number,
  schemas: boolean,
  dir: string,
): Promise<{ rate: number; cpuMs: number }> {
  progress(
    `postgres: CDC connector into the topic (${schemas ? 'JSON with schemas' : 'JSON without schemas'})`,
  );
  const client = await connect({ 'data.dir': join(dir, `log-${slot}`) });
  const consumer = client.consumer({ 'enable.auto.commit': false });
  const admin = client.admin();
  try {
    const t0 = nowMs();
    const cpu0 = process.cpuUsage();
    const worker = await startWorker({
      client,
      rest: false,
      log: () => {},
      config: {
        'offset.storage.file.filename': join(dir, `offsets-${slot}`),
        'plugin.path': fileURLToPath(new URL('../connectors/postgres-cdc', import.meta.url)),
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'key.converter.schemas.enable': schemas,
        'value.converter.schemas.enable': schemas,
        // Debezium's events are large (the schema travels with each): batch them as Kafka users tune it.
        'producer.batch.size': 1_048_576,
        'producer.linger.ms': 20,
        'producer.compression.type': 'lz4',
      },
      connectors: [
        {
          name: `bench-${slot}`,
          'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
          'database.hostname': pg.host,
          'database.port': pg.port,
          'database.user': pg.user,
          'database.dbname': db,
          'topic.prefix': slot,
          'slot.name': slot,
          'publication.name': 'bench_pub',
          'publication.autocreate.mode': 'disabled',
          'snapshot.mode': 'no_data',
        },
      ],
    });
    try {
      const topic = `${slot}.public.changes`;
      let count = 0;
      while (count < rows) {
        if (nowMs() - t0 > 600_000)
          throw new Error(`postgres bench: only ${count} of ${rows} changes arrived in 10 minutes`);
        await new Promise((r) => setTimeout(r, 20));
        const desc = (await admin.describeTopics([topic]).catch(() => []))[0];
        if (!desc) continue;
        const ends = await consumer.endOffsets(
          desc.partitions.map((p) => ({ topic, partition: p.partition })),
        );
        count = ends.reduce((sum, e) => sum + e.offset, 0);
      }
      const rate = rows / ((nowMs() - t0) / 1000);
      const cpu = process.cpuUsage(cpu0);
      return { rate, cpuMs: (cpu.user + cpu.system) / 1000 };
    } finally {
      await worker.stop();
    }
  } finally {
    await admin.close();
    await consumer.close();
    await client.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  for (const r of await runPostgresBench({ quick })) console.log(JSON.stringify(r));
}
