/**
 * The REST API end to end, on a standalone worker over the embedded log: every endpoint with
 * Kafka Connect's paths, bodies and status codes, and every error with its code and body.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../connect/index.js';
import { http, waitFor } from './helpers.js';

let dir: string;
let worker: WorkerHandle;
let base: string;
const get = (p: string) => http(base, 'GET', p);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-connect-rest-'));
  writeFileSync(join(dir, 'in.txt'), 'a\nb\nc\n');
  worker = await startWorker({
    config: {
      'data.dir': join(dir, 'data'),
      'offset.storage.file.filename': join(dir, 'offsets.json'),
      'offset.flush.interval.ms': 100,
      listeners: 'http://127.0.0.1:0',
      'rest.request.max.bytes': 4096,
    },
    log: () => {},
  });
  base = worker.url!;
});

afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const source = (name: string, extra: Record<string, string> = {}) => ({
  name,
  'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
  file: join(dir, 'in.txt'),
  topic: 'rest-lines',
  ...extra,
});

describe('server and plugins', () => {
  it('GET / gives version, commit and the Kafka cluster id', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      version: expect.any(String),
      commit: expect.any(String),
      kafka_cluster_id: expect.any(String),
    });
  });

  it('GET /connector-plugins lists connectors; connectorsOnly=false adds transforms, predicates, converters', async () => {
    const r = await get('/connector-plugins');
    expect(r.status).toBe(200);
    expect(r.body).toContainEqual({
      class: 'org.apache.kafka.connect.file.FileStreamSourceConnector',
      type: 'source',
      version: expect.any(String),
    });
    expect(r.body).toContainEqual(
      expect.objectContaining({
        class: 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        type: 'sink',
      }),
    );
    const all = await get('/connector-plugins?connectorsOnly=false');
    const types = new Set(all.body.map((p: { type: string }) => p.type));
    expect([...types].sort()).toEqual([
      'converter',
      'header_converter',
      'predicate',
      'sink',
      'source',
      'transformation',
    ]);
    expect(all.body).toContainEqual(
      expect.objectContaining({
        class: 'org.apache.kafka.connect.transforms.InsertField$Value',
        type: 'transformation',
      }),
    );
  });

  it('GET /connector-plugins/{type}/config describes the keys; unknown → 404', async () => {
    const r = await get('/connector-plugins/FileStreamSource/config');
    expect(r.status).toBe(200);
    expect(r.body.map((k: { name: string }) => k.name)).toEqual(['file', 'topic', 'batch.size']);
    expect(r.body[2]).toMatchObject({
      name: 'batch.size',
      type: 'INT',
      required: false,
      default_value: '2000',
      importance: 'LOW',
    });
    const mask = await get('/connector-plugins/org.apache.kafka.connect.transforms.MaskField$Value/config');
    expect(mask.body.map((k: { name: string }) => k.name)).toEqual(['fields', 'replacement']);
    const missing = await get('/connector-plugins/com.example.Nope/config');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error_code: 404, message: expect.stringContaining('com.example.Nope') });
  });

  it('PUT /connector-plugins/{type}/config/validate reports each key with its errors', async () => {
    const r = await http(base, 'PUT', '/connector-plugins/FileStreamSinkConnector/config/validate', {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      name: 'x',
      'tasks.max': 'many',
    });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('org.apache.kafka.connect.file.FileStreamSinkConnector');
    expect(r.body.error_count).toBe(3);
    const errorsOf = (key: string) =>
      r.body.configs.find((c: { definition: { name: string } }) => c.definition.name === key).value.errors;
    expect(errorsOf('tasks.max')[0]).toMatch(/Invalid value many for configuration tasks.max/);
    expect(errorsOf('topics')).toEqual(['Must configure one of topics or topics.regex']);
    expect(r.body.groups).toContain('Common');
    const ok = await http(base, 'PUT', '/connector-plugins/FileStreamSink/config/validate', {
      name: 'x',
      topics: 't',
    });
    expect(ok.body.error_count).toBe(0);
  });

  it('validate: a class that does not match the path → 400; malformed JSON → 400', async () => {
    const r = await http(base, 'PUT', '/connector-plugins/FileStreamSink/config/validate', {
      'connector.class': 'FileStreamSource',
      name: 'x',
    });
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe(400);
    const bad = await http(
      base,
      'PUT',
      '/connector-plugins/FileStreamSink/config/validate',
      undefined,
      '{"name": ',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/Malformed JSON/);
  });
});

describe('connectors', () => {
  it('POST /connectors creates (201 + Location) and refuses duplicates (409)', async () => {
    const r = await http(base, 'POST', '/connectors', { name: 'src', config: source('src') });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe('/connectors/src');
    expect(r.body).toMatchObject({ name: 'src', config: { ...source('src') }, type: 'source' });
    expect(Array.isArray(r.body.tasks)).toBe(true);
    const again = await http(base, 'POST', '/connectors', { name: 'src', config: source('src') });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error_code: 409, message: 'Connector src already exists' });
    await worker.waitForRunning('src');
  });

  it('POST errors: invalid config 400 naming the key, unknown class 400, no name 400, bad JSON 400, too large 413', async () => {
    const invalid = await http(base, 'POST', '/connectors', {
      name: 'bad',
      config: source('bad', { 'tasks.max': '0' }),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toMatch(
      /tasks.max: Invalid value 0 for configuration tasks.max: Value must be at least 1/,
    );
    const unknown = await http(base, 'POST', '/connectors', {
      name: 'bad',
      config: { 'connector.class': 'com.example.Nope' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/com.example.Nope/);
    const noName = await http(base, 'POST', '/connectors', {
      config: { 'connector.class': 'FileStreamSource' },
    });
    expect(noName.status).toBe(400);
    const malformed = await http(base, 'POST', '/connectors', undefined, '{"name": "x", "config": {');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error_code).toBe(400);
    const huge = await http(base, 'POST', '/connectors', {
      name: 'big',
      config: { ...source('big'), pad: 'x'.repeat(10_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({
      error_code: 413,
      message: expect.stringContaining('rest.request.max.bytes'),
    });
    const missingTopic = await http(base, 'POST', '/connectors', {
      name: 'bad',
      config: { 'connector.class': 'FileStreamSource' },
    });
    expect(missingTopic.status).toBe(400);
    expect(missingTopic.body.message).toMatch(/topic/);
  });

  it('GET /connectors, with ?expand=status and ?expand=info', async () => {
    expect((await get('/connectors')).body).toEqual(['src']);
    const status = await get('/connectors?expand=status');
    expect(status.body.src.status).toMatchObject({
      name: 'src',
      connector: { state: 'RUNNING' },
      type: 'source',
    });
    const both = await get('/connectors?expand=status&expand=info');
    expect(Object.keys(both.body.src).sort()).toEqual(['info', 'status']);
    expect(both.body.src.info.tasks).toEqual([{ connector: 'src', task: 0 }]);
  });

  it("GET /connectors/{name}; unknown → 404 with Kafka's message", async () => {
    const r = await get('/connectors/src');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      name: 'src',
      config: source('src'),
      tasks: [{ connector: 'src', task: 0 }],
      type: 'source',
    });
    const missing = await get('/connectors/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error_code: 404, message: 'Connector nope not found' });
    for (const p of [
      '/connectors/nope/config',
      '/connectors/nope/status',
      '/connectors/nope/tasks',
      '/connectors/nope/offsets',
      '/connectors/nope/topics',
    ]) {
      expect((await get(p)).status).toBe(404);
    }
    expect((await http(base, 'DELETE', '/connectors/nope')).status).toBe(404);
    expect((await http(base, 'PUT', '/connectors/nope/pause')).status).toBe(404);
    expect((await http(base, 'POST', '/connectors/nope/restart')).status).toBe(404);
  });

  it('PUT /connectors/{name}/config creates (201) or updates (200); GET returns it; PATCH merges', async () => {
    const sinkConfig = {
      'connector.class': 'FileStreamSink',
      file: join(dir, 'out.txt'),
      topics: 'rest-lines',
    };
    const created = await http(base, 'PUT', '/connectors/sink/config', sinkConfig);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'sink',
      type: 'sink',
      config: { ...sinkConfig, name: 'sink' },
    });
    const updated = await http(base, 'PUT', '/connectors/sink/config', { ...sinkConfig, 'tasks.max': '1' });
    expect(updated.status).toBe(200);
    expect((await get('/connectors/sink/config')).body).toEqual({
      ...sinkConfig,
      'tasks.max': '1',
      name: 'sink',
    });
    const mismatch = await http(base, 'PUT', '/connectors/sink/config', { ...sinkConfig, name: 'other' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toMatch(/doesn't match connector name in the URL/);
    const patched = await http(base, 'PATCH', '/connectors/sink/config', {
      'tasks.max': null,
      'errors.log.enable': 'true',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.config).toEqual({ ...sinkConfig, 'errors.log.enable': 'true', name: 'sink' });
    const viaPut = await http(base, 'PUT', '/connectors/sink', { ...sinkConfig });
    expect(viaPut.status).toBe(200);
    await worker.waitForRunning('sink');
    await waitFor('the sink to write the lines', () => {
      try {
        return readFileSync(join(dir, 'out.txt'), 'utf8') === 'a\nb\nc\n';
      } catch {
        return false;
      }
    });
  });

  it('GET status, tasks, task status (404 for unknown or non-numeric tasks)', async () => {
    const s = await get('/connectors/src/status');
    expect(s.body).toEqual({
      name: 'src',
      connector: { state: 'RUNNING', worker_id: worker.workerId },
      tasks: [{ id: 0, state: 'RUNNING', worker_id: worker.workerId }],
      type: 'source',
    });
    const tasks = await get('/connectors/src/tasks');
    expect(tasks.body).toEqual([
      {
        id: { connector: 'src', task: 0 },
        config: expect.objectContaining({ topic: 'rest-lines', file: join(dir, 'in.txt') }),
      },
    ]);
    expect((await get('/connectors/src/tasks/0/status')).body).toEqual({
      id: 0,
      state: 'RUNNING',
      worker_id: worker.workerId,
    });
    const missing = await get('/connectors/src/tasks/7/status');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error_code: 404, message: 'No status found for task src-7' });
    expect((await get('/connectors/src/tasks/x/status')).status).toBe(404);
  });

  it('restarts: plain 204, includeTasks 202 with RESTARTING, a task 204, unknown task 404', async () => {
    expect((await http(base, 'POST', '/connectors/src/restart')).status).toBe(204);
    await worker.waitForRunning('src');
    const r = await http(base, 'POST', '/connectors/src/restart?includeTasks=true&onlyFailed=false');
    expect(r.status).toBe(202);
    expect(r.body.connector.state).toBe('RESTARTING');
    expect(r.body.tasks[0].state).toBe('RESTARTING');
    await worker.waitForRunning('src');
    const onlyFailed = await http(base, 'POST', '/connectors/src/restart?includeTasks=true&onlyFailed=true');
    expect(onlyFailed.status).toBe(202);
    expect(onlyFailed.body.tasks[0].state).toBe('RUNNING');
    expect((await http(base, 'POST', '/connectors/src/tasks/0/restart')).status).toBe(204);
    expect((await http(base, 'POST', '/connectors/src/tasks/3/restart')).status).toBe(404);
    await worker.waitForRunning('src');
  });

  it('pause (202) and resume (202)', async () => {
    expect((await http(base, 'PUT', '/connectors/src/pause')).status).toBe(202);
    await waitFor('PAUSED', async () => {
      const s = (await get('/connectors/src/status')).body;
      return s.connector.state === 'PAUSED' && s.tasks[0].state === 'PAUSED';
    });
    expect((await http(base, 'PUT', '/connectors/src/resume')).status).toBe(202);
    await worker.waitForRunning('src');
  });

  it('offsets: GET; PATCH/DELETE refused unless STOPPED (400); stop (204); PATCH and DELETE (200)', async () => {
    await waitFor(
      'the source offset',
      async () => (await get('/connectors/src/offsets')).body.offsets[0]?.offset.position === 6,
    );
    expect((await get('/connectors/src/offsets')).body).toEqual({
      offsets: [{ partition: { filename: join(dir, 'in.txt') }, offset: { position: 6 } }],
    });
    const early = await http(base, 'PATCH', '/connectors/src/offsets', {
      offsets: [{ partition: { filename: join(dir, 'in.txt') }, offset: { position: 2 } }],
    });
    expect(early.status).toBe(400);
    expect(early.body.message).toMatch(
      /Connectors must be in the STOPPED state before their offsets can be modified/,
    );
    expect((await http(base, 'PUT', '/connectors/src/stop')).status).toBe(204);
    await waitFor(
      'STOPPED',
      async () => (await get('/connectors/src/status')).body.connector.state === 'STOPPED',
    );
    expect((await get('/connectors/src')).body.tasks).toEqual([]);
    const altered = await http(base, 'PATCH', '/connectors/src/offsets', {
      offsets: [{ partition: { filename: join(dir, 'in.txt') }, offset: { position: 2 } }],
    });
    expect(altered.status).toBe(200);
    expect(altered.body).toEqual({
      message: 'The offsets for this connector have been altered successfully',
    });
    expect((await get('/connectors/src/offsets')).body.offsets[0].offset).toEqual({ position: 2 });
    expect((await http(base, 'PATCH', '/connectors/src/offsets', { offsets: [] })).status).toBe(400);
    const reset = await http(base, 'DELETE', '/connectors/src/offsets');
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ message: 'The offsets for this connector have been reset successfully' });
    expect((await get('/connectors/src/offsets')).body).toEqual({ offsets: [] });
    // Resuming a stopped connector starts it from the (reset) offsets: the 3 lines again.
    expect((await http(base, 'PUT', '/connectors/src/resume')).status).toBe(202);
    await worker.waitForRunning('src');
    await waitFor(
      'the lines again',
      () => readFileSync(join(dir, 'out.txt'), 'utf8') === 'a\nb\nc\na\nb\nc\n',
    );
  });

  it("sink offsets are the consumer group's", async () => {
    await waitFor(
      'sink offsets',
      async () => (await get('/connectors/sink/offsets')).body.offsets[0]?.offset.kafka_offset === 6,
    );
    expect((await get('/connectors/sink/offsets')).body).toEqual({
      offsets: [
        { partition: { kafka_topic: 'rest-lines', kafka_partition: 0 }, offset: { kafka_offset: 6 } },
      ],
    });
  });

  it('topics: GET and PUT reset (202)', async () => {
    expect((await get('/connectors/src/topics')).body).toEqual({ src: { topics: ['rest-lines'] } });
    expect((await http(base, 'PUT', '/connectors/src/topics/reset')).status).toBe(202);
    expect((await get('/connectors/src/topics')).body).toEqual({ src: { topics: [] } });
  });

  it('DELETE /connectors/{name} → 204, then 404', async () => {
    expect((await http(base, 'DELETE', '/connectors/src')).status).toBe(204);
    expect((await get('/connectors/src')).status).toBe(404);
    expect((await get('/connectors')).body).toEqual(['sink']);
  });

  it('unknown paths → 404, wrong methods → 405, both as JSON errors', async () => {
    expect(await get('/nope')).toMatchObject({
      status: 404,
      body: { error_code: 404, message: 'HTTP 404 Not Found' },
    });
    expect(await http(base, 'DELETE', '/connectors')).toMatchObject({
      status: 405,
      body: { error_code: 405, message: 'HTTP 405 Method Not Allowed' },
    });
  });

  it('a connector created with initial_state STOPPED does not run', async () => {
    const r = await http(base, 'POST', '/connectors', {
      name: 'idle',
      config: source('idle'),
      initial_state: 'STOPPED',
    });
    expect(r.status).toBe(201);
    await waitFor(
      'STOPPED',
      async () => (await get('/connectors/idle/status')).body.connector.state === 'STOPPED',
    );
    expect(
      (await http(base, 'POST', '/connectors', { name: 'x', config: source('x'), initial_state: 'SLEEPING' }))
        .status,
    ).toBe(400);
  });
});
