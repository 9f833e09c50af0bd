/**
 * A connector and a streams job reading each other's Avro through the registry: Datagen writes
 * users with the Avro converter, a streams job reads them with the Avro serde and writes a record
 * of its own, and the file sink reads that with the Avro converter.
 *
 * The worker finds `io.confluent.connect.avro.AvroConverter` because this test registers it
 * through connect's `registerConverter` hook (what a process hosting both does). The registry
 * runs in another process: converters are synchronous and block on registry lookups.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerConverter, startWorker } from '../../connect/index.js';
import { connect } from '../../core/client/index.js';
import { AVRO_CONVERTER_NAMES, AvroConverter, createAvroSerde } from '../../registry/index.js';
import { defineJob, map, runJob, to } from '../../streams/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { call, cleanup, startRegistryProcess, tempDataDir } from './helpers.js';

const REGION = {
  type: 'record',
  name: 'UserRegion',
  namespace: 'com.example',
  fields: [
    { name: 'user', type: 'string' },
    { name: 'region', type: 'string' },
    { name: 'registered', type: 'long' },
  ],
};

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('streams and connect share Avro through the registry', () => {
  it('datagen (AvroConverter) → streams job (avro serde) → file sink (AvroConverter)', async () => {
    const { url } = await startRegistryProcess();
    const broker = await startTestBroker();
    const client = await connect({ 'bootstrap.servers': broker.bootstrap });
    cleanup(() => client.close());
    const dir = tempDataDir();
    const admin = client.admin();
    await admin.createTopics([
      { topic: 'users-avro', numPartitions: 1 },
      { topic: 'user-regions', numPartitions: 1 },
    ]);
    await admin.close();
    registerConverter(AVRO_CONVERTER_NAMES, () => new AvroConverter());

    const output = join(dir, 'regions.txt');
    const worker = await startWorker({
      client,
      rest: false,
      log: () => {},
      config: {
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'io.confluent.connect.avro.AvroConverter',
        'value.converter.schema.registry.url': url,
        'offset.storage.file.filename': join(dir, 'offsets'),
        'offset.flush.interval.ms': 200,
      },
      connectors: [
        {
          name: 'users',
          'connector.class': 'DatagenConnector',
          'kafka.topic': 'users-avro',
          quickstart: 'users',
          iterations: 5,
          'max.interval': 1,
          'random.seed': 7,
        },
        { name: 'regions-file', 'connector.class': 'FileStreamSink', topics: 'user-regions', file: output },
      ],
    });
    cleanup(() => worker.stop());

    const usersValue = await createAvroSerde<Record<string, unknown>>({ registry: url });
    const regionValue = await createAvroSerde<Record<string, unknown>>({
      registry: url,
      schema: REGION,
      topics: ['user-regions'],
    });
    const job = defineJob({
      applicationId: 'avro-regions',
      build(builder) {
        builder.stream<string, Record<string, unknown>>('users-avro', { valueSerde: usersValue }).pipe(
          map((key, user) => ({
            key,
            value: { user: user.userid, region: user.regionid, registered: user.registertime },
          })),
          to('user-regions', { valueSerde: regionValue }),
        );
      },
      config: { 'commit.interval.ms': 100, consumer: { 'auto.offset.reset': 'earliest' } },
    });
    const handle = await runJob(job, { client, stateDir: join(dir, 'state') });
    cleanup(() => handle.close());

    await waitFor(
      '5 lines in the sink file',
      () => existsSync(output) && readFileSync(output, 'utf8').split('\n').length > 5,
    );
    // The sink prints Connect's Struct.toString(): the converter gave it a struct with our schema.
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(/^Struct\{user=User_\d,region=Region_\d,registered=\d+\}$/);
    // Both sides registered under TopicNameStrategy subjects; the datagen schema is Confluent's shape.
    expect((await call(url, 'GET', '/subjects')).body).toEqual(['user-regions-value', 'users-avro-value']);
    const users = (await call(url, 'GET', '/subjects/users-avro-value/versions/latest')).body as {
      schema: string;
    };
    expect(JSON.parse(users.schema)).toMatchObject({ type: 'record', name: 'ksql.users' });
  });
});
