/**
 * The task status hook: what a task's `status()` returns is the `metrics` of its entry in
 * `GET /connectors/{name}/status` and `GET /connectors/{name}/tasks/{id}/status` — live from the
 * worker running the task, and through the status topic from any other worker of a distributed
 * group — while Kafka's fields stay as they are and tasks without the hook show none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../connect/index.js';
import { ConfigDef, type ConnectorPlugin, type SourceRecord, type SourceTask } from '../../connect/sdk.js';
import { connect } from '../../core/client/index.js';
import type { KafkaClient } from '../../core/client/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { http, waitFor } from './helpers.js';

/** A source that writes nothing and counts its polls; with `report=false` it has no status() hook. */
const counter: ConnectorPlugin = {
  className: 'PollCounter',
  type: 'source',
  version: '1',
  create: () => {
    let props: Record<string, string> = {};
    return {
      type: 'source',
      version: () => '1',
      config: () => new ConfigDef(),
      start(p) {
        props = { ...p };
      },
      taskConfigs: (max) => Array.from({ length: max }, (_, i) => ({ ...props, 'task.index': String(i) })),
      stop() {},
      createTask: (): SourceTask => {
        let polls = 0;
        let index = '';
        const task: SourceTask = {
          version: () => '1',
          start(p) {
            index = p['task.index'] ?? '';
            // The runtime creates tasks from a fresh connector: the task's own config decides.
            if (p.report !== 'false') task.status = () => ({ polls, index, nested: { ok: true } });
          },
          async poll(): Promise<SourceRecord[] | null> {
            polls++;
            await new Promise((r) => setTimeout(r, 20));
            return null;
          },
          stop() {},
        };
        return task;
      },
    };
  },
};

let broker: TestBroker;
const clients: KafkaClient[] = [];

beforeAll(async () => {
  broker = await startTestBroker({ config: { 'group.min.session.timeout.ms': 500 } });
});

afterAll(async () => {
  for (const c of clients) await c.close();
});

describe('task status metrics', () => {
  it('standalone: the task status shows what the task reports, live; a task without the hook shows none', async () => {
    const client = await connect({ 'bootstrap.servers': broker.bootstrap });
    clients.push(client);
    const w = await startWorker({
      client,
      plugins: [counter],
      config: { listeners: 'http://127.0.0.1:0' },
      log: () => {},
      connectors: [
        { name: 'counted', 'connector.class': 'PollCounter', 'tasks.max': 1 },
        { name: 'silent', 'connector.class': 'PollCounter', 'tasks.max': 1, report: 'false' },
      ],
    });
    try {
      await w.waitForRunning('counted');
      await w.waitForRunning('silent');
      const first = await waitFor('polls', async () => {
        const s = await http(w.url!, 'GET', '/connectors/counted/status');
        return s.body.tasks[0].metrics?.polls > 2 ? s.body : null;
      });
      expect(Object.keys(first.tasks[0]).sort()).toEqual(['id', 'metrics', 'state', 'worker_id']);
      expect(first.tasks[0]).toMatchObject({ id: 0, state: 'RUNNING', worker_id: w.workerId });
      expect(first.tasks[0].metrics).toMatchObject({ index: '0', nested: { ok: true } });
      // Live: a later request sees more polls, with no publishing interval in between.
      await waitFor('more polls', async () => {
        const t = await http(w.url!, 'GET', '/connectors/counted/tasks/0/status');
        return t.body.metrics.polls > first.tasks[0].metrics.polls ? t : null;
      });
      const silent = await http(w.url!, 'GET', '/connectors/silent/status');
      expect(Object.keys(silent.body.tasks[0]).sort()).toEqual(['id', 'state', 'worker_id']);
      const silentTask = await http(w.url!, 'GET', '/connectors/silent/tasks/0/status');
      expect(silentTask.body).toEqual({ id: 0, state: 'RUNNING', worker_id: w.workerId });
    } finally {
      await w.stop();
    }
  }, 30_000);

  it('distributed: any worker shows the metrics of tasks running on another one (through the status topic)', async () => {
    const config = {
      'group.id': 'metrics-cluster',
      'config.storage.topic': 'm-configs',
      'offset.storage.topic': 'm-offsets',
      'status.storage.topic': 'm-status',
      'config.storage.replication.factor': 1,
      'offset.storage.replication.factor': 1,
      'status.storage.replication.factor': 1,
      'offset.storage.partitions': 2,
      'status.storage.partitions': 2,
      'session.timeout.ms': 3000,
      'heartbeat.interval.ms': 300,
      'status.metrics.interval.ms': 200,
      listeners: 'http://127.0.0.1:0',
    };
    const workers: WorkerHandle[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const client = await connect({ 'bootstrap.servers': broker.bootstrap });
        clients.push(client);
        workers.push(
          await startWorker({ mode: 'distributed', client, plugins: [counter], config, log: () => {} }),
        );
      }
      const [a, b] = workers as [WorkerHandle, WorkerHandle];
      await waitFor('the connector created', async () => {
        const r = await http(a.url!, 'PUT', '/connectors/spread/config', {
          'connector.class': 'PollCounter',
          'tasks.max': '4',
        });
        return r.status === 201 || r.status === 200;
      });
      // Both workers run some of the four tasks, and each shows every task's polls.
      const seen = await waitFor(
        'every task with metrics on both workers',
        async () => {
          const views = await Promise.all(
            workers.map((w) => http(w.url!, 'GET', '/connectors/spread/status')),
          );
          const ok = views.every(
            (v) =>
              v.status === 200 &&
              v.body.tasks.length === 4 &&
              v.body.tasks.every(
                (t: { state: string; metrics?: { polls: number } }) =>
                  t.state === 'RUNNING' && (t.metrics?.polls ?? 0) > 0,
              ),
          );
          return ok ? views.map((v) => v.body) : null;
        },
        40_000,
      );
      const owners = new Set(seen[0].tasks.map((t: { worker_id: string }) => t.worker_id));
      expect(owners).toEqual(new Set([a.workerId, b.workerId]));
      // A task owned by b, asked of a: its index and a poll count that keeps moving.
      const remote = seen[0].tasks.find((t: { worker_id: string }) => t.worker_id === b.workerId);
      expect(remote.metrics.index).toBe(String(remote.id));
      await waitFor('the remote figures to be republished', async () => {
        const t = await http(a.url!, 'GET', `/connectors/spread/tasks/${remote.id}/status`);
        return t.body.metrics.polls > remote.metrics.polls;
      });
    } finally {
      for (const w of workers.reverse()) await w.stop();
    }
  }, 90_000);
});
