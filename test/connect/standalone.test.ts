/**
 * `trib connect standalone` as a user runs it: .properties worker and connector files (Kafka's
 * connect-standalone.properties and connect-file-source.properties, pasted), against a broker;
 * a clean stop and a restart continue from the offset file without repeating a line.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../core/client/index.js';
import type { KafkaClient } from '../../core/client/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { http, readTopic, waitFor } from './helpers.js';
import { startWorkerProcess } from './process.js';

let dir: string;
let broker: TestBroker;
let client: KafkaClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trib-connect-standalone-'));
  broker = await startTestBroker();
  client = await connect({ 'bootstrap.servers': broker.bootstrap });
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('trib connect standalone', () => {
  it("runs Kafka's file source and sink configs; a restart continues from the offset file", async () => {
    const input = join(dir, 'test.txt');
    const output = join(dir, 'test.sink.txt');
    writeFileSync(input, 'foo\nbar\n');
    // Kafka's config/connect-standalone.properties, with the paths of this test.
    writeFileSync(
      join(dir, 'connect-standalone.properties'),
      [
        `bootstrap.servers=${broker.bootstrap}`,
        'key.converter=org.apache.kafka.connect.json.JsonConverter',
        'value.converter=org.apache.kafka.connect.json.JsonConverter',
        'key.converter.schemas.enable=true',
        'value.converter.schemas.enable=true',
        `offset.storage.file.filename=${join(dir, 'connect.offsets')}`,
        'offset.flush.interval.ms=200',
        'listeners=http://127.0.0.1:0',
        'producer.linger.ms=1',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'connect-file-source.properties'),
      `name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=${input}\ntopic=connect-test\n`,
    );
    writeFileSync(
      join(dir, 'connect-file-sink.properties'),
      `name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=${output}\ntopics=connect-test\n`,
    );
    const args = [
      'standalone',
      join(dir, 'connect-standalone.properties'),
      join(dir, 'connect-file-source.properties'),
      join(dir, 'connect-file-sink.properties'),
    ];
    const first = await startWorkerProcess(args);
    await waitFor('the sink file', () => existsSync(output) && readFileSync(output, 'utf8') === 'foo\nbar\n');
    // The topic holds Kafka's JSON envelope for a string value, with a null key.
    const records = await readTopic(client, 'connect-test', 2);
    expect(records.map((r) => [r.key, r.value])).toEqual([
      [null, '{"schema":{"type":"string","optional":false},"payload":"foo"}'],
      [null, '{"schema":{"type":"string","optional":false},"payload":"bar"}'],
    ]);
    const status = await http(first.url, 'GET', '/connectors/local-file-source/status');
    expect(status.body.connector.state).toBe('RUNNING');
    await waitFor(
      'offsets flushed',
      () =>
        existsSync(join(dir, 'connect.offsets')) &&
        readFileSync(join(dir, 'connect.offsets'), 'utf8').includes('"position\\":8'),
    );
    await first.kill('SIGTERM');
    expect(first.child.exitCode).toBe(0);

    appendFileSync(input, 'baz\n');
    const second = await startWorkerProcess(args);
    await waitFor('the new line', () => readFileSync(output, 'utf8') === 'foo\nbar\nbaz\n');
    expect((await readTopic(client, 'connect-test', 3)).length).toBe(3);
    await second.kill('SIGTERM');
  }, 60_000);

  it('refuses an unknown worker key, naming it', async () => {
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({
        'bootstrap.servers': broker.bootstrap,
        'offset.storage.file.filename': join(dir, 'o'),
        'offset.flush.intervall.ms': 100,
      }),
    );
    await expect(startWorkerProcess(['standalone', join(dir, 'bad.json')], 10_000)).rejects.toThrow(
      /offset.flush.intervall.ms.*did you mean 'offset.flush.interval.ms'/,
    );
  });
});
