/**
 * Distributed mode: two `trib connect distributed` processes in one group share connectors and
 * tasks; one is killed with SIGKILL while its file sources are producing; its work moves to the
 * other worker, and every line of every file is in the topic exactly once. Also: a worker that is
 * rebalancing answers writes with 409, and configs and statuses live in the compacted topics.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../connect/index.js';
import { connect } from '../../core/client/index.js';
import type { KafkaClient } from '../../core/client/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { http, readTopic, waitFor } from './helpers.js';
import { startWorkerProcess, type WorkerProcess } from './process.js';

const FILES = 4;
let dir: string;
let broker: TestBroker;
let client: KafkaClient;
let workerConfig: Record<string, string | number>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-connect-dist-'));
  broker = await startTestBroker({ config: { 'group.min.session.timeout.ms': 500 } });
  client = await connect({ 'bootstrap.servers': broker.bootstrap });
  workerConfig = {
    'bootstrap.servers': broker.bootstrap,
    'group.id': 'connect-cluster',
    'config.storage.topic': 'connect-configs',
    'offset.storage.topic': 'connect-offsets',
    'status.storage.topic': 'connect-status',
    'config.storage.replication.factor': 1,
    'offset.storage.replication.factor': 1,
    'status.storage.replication.factor': 1,
    'offset.storage.partitions': 5,
    'status.storage.partitions': 2,
    'session.timeout.ms': 3000,
    'heartbeat.interval.ms': 300,
    'rebalance.timeout.ms': 10_000,
    'offset.flush.interval.ms': 200,
    'exactly.once.source.support': 'enabled',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    listeners: 'http://127.0.0.1:0',
  };
  writeFileSync(join(dir, 'worker.json'), JSON.stringify(workerConfig, null, 2));
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sourceConfig = (i: number) => ({
  'connector.class': 'FileStreamSource',
  file: join(dir, `in-${i}.txt`),
  topic: 'dist-lines',
  'batch.size': '50',
});

describe('two distributed workers', () => {
  let a: WorkerProcess;
  let b: WorkerProcess;

  it('share connectors and tasks through the group', async () => {
    const admin = client.admin();
    await admin.createTopics([{ topic: 'dist-lines', numPartitions: 3 }]);
    await admin.close();
    for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `in-${i}.txt`), '');
    [a, b] = await Promise.all([
      startWorkerProcess(['distributed', join(dir, 'worker.json')]),
      startWorkerProcess(['distributed', join(dir, 'worker.json')]),
    ]);
    for (let i = 0; i < FILES; i++) {
      const r = await waitFor('the connector to be created', async () => {
        const res = await http(a.url, 'PUT', `/connectors/src-${i}/config`, sourceConfig(i));
        return res.status === 201 ? res : undefined;
      });
      expect(r.body.name).toBe(`src-${i}`);
    }
    const statuses = await waitFor(
      'all tasks running',
      async () => {
        const res = await http(b.url, 'GET', '/connectors?expand=status');
        const all = Object.values(res.body ?? {}) as {
          status: {
            connector: { state: string; worker_id: string };
            tasks: { state: string; worker_id: string }[];
          };
        }[];
        const ok =
          all.length === FILES &&
          all.every(
            (s) =>
              s.status.connector.state === 'RUNNING' &&
              s.status.tasks.length === 1 &&
              s.status.tasks[0]!.state === 'RUNNING',
          );
        return ok ? all : undefined;
      },
      30_000,
    );
    const workers = new Set(
      statuses.flatMap((s) => [s.status.connector.worker_id, s.status.tasks[0]!.worker_id]),
    );
    expect(workers.size).toBe(2);
    // Both workers answer for every connector (configs come from the config topic).
    expect((await http(a.url, 'GET', '/connectors')).body).toEqual(['src-0', 'src-1', 'src-2', 'src-3']);
    expect((await http(b.url, 'GET', '/connectors/src-3/config')).body).toMatchObject(sourceConfig(3));
  }, 60_000);

  it('pause, resume and task restarts work from either worker, whoever owns the work', async () => {
    type St = {
      connector: { state: string; worker_id: string };
      tasks: { state: string; worker_id: string }[];
    };
    const status = async (url: string, name: string) =>
      (await http(url, 'GET', `/connectors/${name}/status`)).body as St;
    expect((await http(b.url, 'PUT', '/connectors/src-0/pause')).status).toBe(202);
    await waitFor('PAUSED', async () => {
      const s = await status(a.url, 'src-0');
      return s.connector.state === 'PAUSED' && s.tasks[0]?.state === 'PAUSED';
    });
    expect((await http(a.url, 'PUT', '/connectors/src-0/resume')).status).toBe(202);
    await waitFor('RUNNING', async () => (await status(b.url, 'src-0')).tasks[0]?.state === 'RUNNING');
    // Restart every task through the worker that does not own it.
    for (let i = 0; i < FILES; i++) {
      const s = await status(a.url, `src-${i}`);
      const other = s.tasks[0]!.worker_id === new URL(a.url).host ? b : a;
      expect((await http(other.url, 'POST', `/connectors/src-${i}/tasks/0/restart`)).status).toBe(204);
    }
    await waitFor('all RUNNING again', async () => {
      for (let i = 0; i < FILES; i++)
        if ((await status(a.url, `src-${i}`)).tasks[0]?.state !== 'RUNNING') return false;
      return true;
    });
  }, 30_000);

  it('SIGKILL one worker while its sources produce: tasks move, every line lands exactly once', async () => {
    const LINES_PER_FILE = 600;
    let written = 0;
    const writeSome = (n: number) => {
      for (let k = 0; k < n && written < LINES_PER_FILE; k++, written++) {
        for (let i = 0; i < FILES; i++) appendFileSync(join(dir, `in-${i}.txt`), `file${i}-line${written}\n`);
      }
    };
    writeSome(200);
    const writer = setInterval(() => writeSome(10), 10);
    await waitFor(
      'records flowing',
      async () => (await readTopic(client, 'dist-lines', 1, 500)).length > 100,
      20_000,
    );
    // Active topics come from the status topic, so every worker knows them.
    for (const w of [a, b]) {
      await waitFor('active topics', async () => {
        const t = await http(w.url, 'GET', '/connectors/src-1/topics');
        return JSON.stringify(t.body) === JSON.stringify({ 'src-1': { topics: ['dist-lines'] } });
      });
    }
    await a.kill('SIGKILL');
    await waitFor(
      'every task running on the surviving worker',
      async () => {
        const res = await http(b.url, 'GET', '/connectors?expand=status');
        const all = Object.values(res.body ?? {}) as {
          status: {
            connector: { state: string; worker_id: string };
            tasks: { state: string; worker_id: string }[];
          };
        }[];
        const bId = all[0]?.status.tasks[0]?.worker_id;
        return (
          all.length === FILES &&
          all.every(
            (s) =>
              s.status.tasks[0]?.state === 'RUNNING' &&
              s.status.tasks[0].worker_id === s.status.connector.worker_id,
          ) &&
          all.every((s) => s.status.tasks[0]!.worker_id === bId)
        );
      },
      30_000,
    );
    await waitFor('all lines written', () => written >= LINES_PER_FILE, 20_000);
    clearInterval(writer);
    const records = await waitFor(
      'every line in the topic',
      async () => {
        const all = await readTopic(client, 'dist-lines', FILES * LINES_PER_FILE, 5000);
        return all.length >= FILES * LINES_PER_FILE ? all : undefined;
      },
      30_000,
    );
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.value!, (counts.get(r.value!) ?? 0) + 1);
    const missing: string[] = [];
    const duplicated: string[] = [];
    for (let i = 0; i < FILES; i++) {
      for (let l = 0; l < LINES_PER_FILE; l++) {
        const n = counts.get(`file${i}-line${l}`) ?? 0;
        if (n === 0) missing.push(`file${i}-line${l}`);
        if (n > 1) duplicated.push(`file${i}-line${l}`);
      }
    }
    if (duplicated.length > 0 || missing.length > 0)
      console.log(
        duplicated.length,
        duplicated.slice(0, 20),
        b
          .output()
          .split('\n')
          .filter((l) => /recovered|joined|failed|WARN/.test(l))
          .join('\n'),
      );
    expect({
      missing: missing.slice(0, 5),
      duplicated: duplicated.slice(0, 5),
      total: records.length,
    }).toEqual({ missing: [], duplicated: [], total: FILES * LINES_PER_FILE });
    // A record's key is null and its value the line, as Kafka's FileStreamSource writes them.
    expect(records[0]!.key).toBeNull();
    await b.kill('SIGTERM');
  }, 90_000);

  it('a worker answers writes with 409 while it is rebalancing', async () => {
    const c = await startWorker({
      mode: 'distributed',
      config: { ...workerConfig, 'heartbeat.interval.ms': 2000 },
      log: () => {},
    });
    try {
      const r = await http(c.url!, 'POST', '/connectors', { name: 'late', config: sourceConfig(0) });
      expect(r.status).toBe(409);
      expect(r.body).toEqual({
        error_code: 409,
        message: 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)',
      });
      // Reads still work from the config topic.
      expect((await http(c.url!, 'GET', '/connectors')).status).toBe(200);
    } finally {
      await c.stop();
    }
  }, 30_000);

  it("keeps configs in the config topic in Kafka Connect's format", async () => {
    const records = await readTopic(client, 'connect-configs', 4, 5000);
    const byKey = new Map(records.map((r) => [r.key, r.value]));
    expect(JSON.parse(byKey.get('connector-src-0')!)).toEqual({
      properties: { ...sourceConfig(0), name: 'src-0' },
    });
    expect(JSON.parse(byKey.get('commit-src-0')!)).toEqual({ tasks: 1 });
    expect(JSON.parse(byKey.get('task-src-0-0')!).properties.file).toBe(join(dir, 'in-0.txt'));
    const admin = client.admin();
    const described = await admin.describeConfigs(
      ['connect-configs', 'connect-offsets', 'connect-status'].map((name) => ({
        type: 'topic' as const,
        name,
      })),
    );
    await admin.close();
    for (const d of described) {
      expect(d.entries.find((e) => e.name === 'cleanup.policy')?.value).toBe('compact');
    }
    const [offsetsTopic] = await client.admin().describeTopics(['connect-offsets']);
    expect(offsetsTopic?.partitions).toHaveLength(5);
  });
});
