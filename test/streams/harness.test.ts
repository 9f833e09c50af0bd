import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { murmur2 as clientMurmur2 } from '../../core/client/murmur2.js';
import wordcount from '../../examples/wordcount/job.js';
import {
  count,
  defineJob,
  filterTable,
  flatMapValues,
  groupBy,
  jsonSerde,
  mapTableValues,
  mapValues,
  punctuate,
  runJob,
  StreamsError,
  tableAggregate,
  to,
} from '../../streams/index.js';
import { resolveJobConfig } from '../../streams/job.js';
import { murmur2 } from '../../streams/runtime/partition-of.js';
import { TestDriver } from '../../streams/testing.js';
import { createTopics, embedded, latest, produce, readTopic } from './helpers.js';

describe('TestDriver (the topology test harness)', () => {
  it('runs the wordcount example in-process: pipe lines in, read counts out', async () => {
    const driver = await TestDriver.start(wordcount, { topics: { 'text-lines': 2, 'word-counts': 2 } });
    try {
      await driver.pipeInput('text-lines', [
        { value: 'To be, or not to be' },
        { value: 'That is the question' },
      ]);
      const counts = await driver.readLatest('word-counts');
      expect(counts.get('to')).toBe('2');
      expect(counts.get('be')).toBe('2');
      expect(counts.get('question')).toBe('1');
      expect(counts.size).toBe(8);
      expect(driver.get('counts', 'be')).toBe(2);
      // readOutput returns only what is new since the last read
      await driver.pipeInput('text-lines', [{ value: 'be' }]);
      expect((await driver.readOutput('word-counts')).map((r) => `${r.key}=${r.value}`)).toEqual(['be=3']);
    } finally {
      await driver.close();
    }
  });
});

describe('tables', () => {
  it('mapTableValues, filterTable and tableAggregate with adder and subtractor', async () => {
    const job = defineJob({
      applicationId: 'tables',
      build(b) {
        const users = b.table<string, { city: string; active: boolean }>('users', {
          valueSerde: jsonSerde<{ city: string; active: boolean }>(),
        });
        users.pipe(
          filterTable((u) => u.active),
          mapTableValues((u) => u.city),
          to('active-cities'),
        );
        users.pipe(
          tableAggregate(
            (_id, u) => u.city,
            () => 0,
            (_c, _u, n) => n + 1,
            (_c, _u, n) => n - 1,
            { name: 'per-city' },
          ),
          mapValues((n) => String(n)),
          to('users-per-city'),
        );
      },
    });
    const driver = await TestDriver.start(job, {
      topics: { users: 2, 'active-cities': 1, 'users-per-city': 1 },
    });
    try {
      await driver.pipeInput('users', [
        { key: 'u1', value: { city: 'Oslo', active: true } },
        { key: 'u2', value: { city: 'Oslo', active: false } },
        { key: 'u3', value: { city: 'Rome', active: true } },
      ]);
      await driver.settle();
      await driver.pipeInput('users', [{ key: 'u1', value: { city: 'Rome', active: true } }]);
      await driver.settle();
      await driver.pipeInput('users', [{ key: 'u3', value: null }]);
      const perCity = await driver.readLatest('users-per-city');
      expect(perCity.get('Oslo')).toBe('1');
      expect(perCity.get('Rome')).toBe('1');
      const active = await driver.readLatest('active-cities');
      expect(active.get('u1')).toBe('Rome');
      expect(active.has('u2')).toBe(false); // never passed the filter: nothing to retract
      expect(active.get('u3')).toBeNull();
    } finally {
      await driver.close();
    }
  });
});

describe('two repartition hops', () => {
  it('word counts, then how many words have each count (tableAggregate over the counts)', async () => {
    const job = defineJob({
      applicationId: 'histogram',
      build(b) {
        b.stream<string | null, string>('lines').pipe(
          flatMapValues((line) => line.split(' ')),
          groupBy((_k, w) => w, { name: 'words' }),
          count({ store: 'counts' }),
          tableAggregate(
            (_word, n) => n,
            () => 0,
            (_n, _w, total) => total + 1,
            (_n, _w, total) => total - 1,
            { name: 'by-count' },
          ),
          mapValues((n) => String(n)),
          to('histogram'),
        );
      },
    });
    const d = await TestDriver.start(job, { topics: { lines: 2, histogram: 1 } });
    try {
      await d.pipeInput('lines', [{ value: 'a b a c' }, { value: 'd e f g' }]);
      await d.settle();
      await d.pipeInput('lines', [{ value: 'g' }]);
      const h = await d.readLatest('histogram');
      // a=2 g=2, b c d e f = 1
      expect(h.get('1')).toBe('5');
      expect(h.get('2')).toBe('2');
    } finally {
      await d.close();
    }
  });
});

describe('state', () => {
  it('rebuilds a store from its changelog when the local state is gone', async () => {
    const { client, dir } = await embedded();
    await createTopics(client, { 'text-lines': 1, 'word-counts': 1 });
    const stateDir = join(dir, 'state');
    const first = await runJob(wordcount, { client, stateDir, config: { 'commit.interval.ms': 50 } });
    await produce(client, [{ topic: 'text-lines', value: 'a b a' }]);
    await readTopic(client, 'word-counts', (r) => latest(r).get('a') === '2');
    await first.close();
    rmSync(join(stateDir, 'wordcount'), { recursive: true, force: true });
    const events: string[] = [];
    const second = await runJob(wordcount, {
      client,
      stateDir,
      config: { 'commit.interval.ms': 50 },
      onEvent: (e) => {
        if (e.type === 'restore') events.push(`${e.store}:${e.restored}/${e.total}`);
      },
    });
    await produce(client, [{ topic: 'text-lines', value: 'a' }]);
    const out = await readTopic(client, 'word-counts', (r) => latest(r).get('a') === '3');
    expect(latest(out).get('a')).toBe('3');
    expect(events.length).toBeGreaterThan(0);
    await second.close();
  });

  it('in-memory stores restore from the changelog too', async () => {
    const job = defineJob({
      applicationId: 'mem',
      build(b) {
        b.stream('in').pipe(count({ store: 'mem-counts', inMemory: true }), mapValues(String), to('out'));
      },
    });
    const { client, stateDir } = await embedded();
    await createTopics(client, { in: 1, out: 1 });
    const first = await runJob(job, { client, stateDir, config: { 'commit.interval.ms': 50 } });
    await produce(client, [
      { topic: 'in', key: 'k', value: '1' },
      { topic: 'in', key: 'k', value: '1' },
    ]);
    await readTopic(client, 'out', (r) => latest(r).get('k') === '2');
    await first.close();
    const second = await runJob(job, { client, stateDir, config: { 'commit.interval.ms': 50 } });
    await produce(client, [{ topic: 'in', key: 'k', value: '1' }]);
    const out = await readTopic(client, 'out', (r) => latest(r).get('k') === '3');
    expect(latest(out).get('k')).toBe('3');
    await second.close();
  });

  it('stream-time punctuation fires as record time passes each interval', async () => {
    const fired: number[] = [];
    const job = defineJob({
      applicationId: 'punct',
      build(b) {
        punctuate(1000, 'stream-time', (t) => fired.push(t));
        b.stream('in').pipe(to('out'));
      },
    });
    const driver = await TestDriver.start(job, { topics: { in: 1, out: 1 } });
    try {
      await driver.pipeInput(
        'in',
        [100, 900, 1000, 1500, 3200].map((timestamp) => ({ value: 'x', timestamp })),
      );
      await driver.readOutput('out');
      expect(fired).toEqual([1000, 3200]);
    } finally {
      await driver.close();
    }
  });

  it('wall-clock punctuation follows the scheduler it is given', async () => {
    const fired: number[] = [];
    const job = defineJob({
      applicationId: 'wall',
      build(b) {
        punctuate(1000, 'wall-clock', (t) => fired.push(t));
        b.stream('in').pipe(to('out'));
      },
    });
    const { client, stateDir } = await embedded();
    await createTopics(client, { in: 1, out: 1 });
    let now = 0;
    const handle = await runJob(job, {
      client,
      stateDir,
      scheduler: {
        now: () => now,
        schedule: () => {
          throw new Error('unused');
        },
      },
    });
    const waitTasks = Date.now() + 10_000;
    while (handle.tasks().length === 0 && Date.now() < waitTasks) await new Promise((r) => setTimeout(r, 20));
    for (const t of [0, 500, 1500, 2000, 2600]) {
      now = t;
      await new Promise((r) => setTimeout(r, 150));
    }
    await handle.close();
    expect(fired).toEqual([1500, 2600]);
  });

  it('refuses stateful operators outside a build, and bad jobs, with stable codes', () => {
    expect(() => count()(undefined as never)).toThrow(StreamsError);
    try {
      defineJob({ applicationId: 'bad id!', build() {}, config: { 'commit.interval.ms': 0 } });
    } catch (err) {
      expect((err as StreamsError).code).toBe('INVALID_JOB');
    }
  });

  it('hands the tasks 1000 records a poll unless told otherwise (as Kafka Streams)', () => {
    // Larger polls keep their records alive long enough to be promoted out of the young generation.
    expect(resolveJobConfig({})['max.poll.records']).toBe(1000);
    expect(resolveJobConfig({ 'max.poll.records': 250 })['max.poll.records']).toBe(250);
  });
});

describe('repartition replays', () => {
  it('a record replayed into a repartition topic (an upstream crash) is not counted twice', async () => {
    const job = defineJob({
      applicationId: 'dedup',
      build(b) {
        b.stream('in').pipe(
          groupBy((_k, v) => v, { name: 'g' }),
          count({ store: 'c' }),
          mapValues(String),
          to('out'),
        );
      },
    });
    const driver = await TestDriver.start(job, { topics: { in: 1, out: 1 } });
    try {
      await driver.pipeInput('in', [{ value: 'x' }]);
      await driver.settle();
      const reader = driver.client.consumer({ 'auto.offset.reset': 'earliest', 'enable.auto.commit': false });
      reader.assign([{ topic: 'dedup-g-repartition', partition: 0 }]);
      const [written] = await reader.poll({ timeoutMs: 5000 });
      await reader.close();
      expect(written!.headers.map((h) => h.key)).toContain('trib.bundle');
      const producer = driver.client.producer();
      await producer.send({
        topic: written!.topic,
        partition: 0,
        key: written!.key,
        value: written!.value,
        headers: written!.headers,
      });
      await producer.close();
      await driver.settle();
      await driver.pipeInput('in', [{ value: 'x' }]);
      expect((await driver.readOutput('out')).map((r) => `${r.key}=${r.value}`)).toEqual(['x=1', 'x=2']);
      expect(driver.get('c', 'x')).toBe(2);
    } finally {
      await driver.close();
    }
  });
});

describe('interactive queries over HTTP', () => {
  it('answers from the instance holding the key and names the owner otherwise', async () => {
    const { client, dir } = await embedded();
    await createTopics(client, { 'text-lines': 2, 'word-counts': 2 });
    const config = { 'commit.interval.ms': 50, 'application.server': '127.0.0.1:0' };
    const a = await runJob(wordcount, { client, stateDir: join(dir, 'a'), config });
    const b = await runJob(wordcount, { client, stateDir: join(dir, 'b'), config });
    try {
      const deadline = Date.now() + 15_000;
      while (a.tasks().length + b.tasks().length !== 2 || a.tasks().length === 0 || b.tasks().length === 0) {
        if (Date.now() > deadline) throw new Error('tasks were not shared');
        await new Promise((r) => setTimeout(r, 20));
      }
      await produce(client, [{ topic: 'text-lines', value: 'pear plum pear fig kiwi lime' }]);
      await readTopic(client, 'word-counts', (r) => latest(r).get('pear') === '2');
      for (const word of ['pear', 'plum', 'fig', 'kiwi', 'lime']) {
        const ra = await fetch(`http://${a.endpoint}/v1/stores/counts/${word}`);
        const rb = await fetch(`http://${b.endpoint}/v1/stores/counts/${word}`);
        const [ja, jb] = [
          (await ra.json()) as { value?: number; owner?: string },
          (await rb.json()) as { value?: number; owner?: string },
        ];
        const expected = word === 'pear' ? 2 : 1;
        if (ra.status === 200) {
          expect(ja.value).toBe(expected);
          expect(rb.status).toBe(404);
          expect(jb.owner).toBe(a.endpoint);
        } else {
          expect(rb.status).toBe(200);
          expect(jb.value).toBe(expected);
          expect(ja.owner).toBe(b.endpoint);
        }
      }
      const inst = (await (await fetch(`http://${a.endpoint}/v1/instances`)).json()) as {
        endpoint: string;
      }[];
      expect(inst.map((i) => i.endpoint).sort()).toEqual([a.endpoint, b.endpoint].sort());
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('computes partitions exactly as the client does', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'abcd', 'hello world', '"pear"']) {
      expect(murmur2(Buffer.from(s))).toBe(clientMurmur2(Buffer.from(s)));
    }
  });
});
