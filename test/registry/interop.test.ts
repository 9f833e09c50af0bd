/**
 * Interop with a third-party registry client, @kafkajs/confluent-schema-registry: it registers,
 * encodes and decodes against our registry; our serde reads what it encodes and the other way
 * round; and a kafkajs producer writes Confluent-framed Avro through our broker that our consumer
 * and serde read.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../core/client/index.js';
import { createAvroSerde, startRegistry } from '../../registry/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { call, cleanup, startTestRegistry, type TestRegistry } from './helpers.js';

const PAYMENT_V1 = {
  type: 'record',
  name: 'Payment',
  namespace: 'com.acme',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double' },
  ],
};
const PAYMENT_V2 = {
  ...PAYMENT_V1,
  fields: [...PAYMENT_V1.fields, { name: 'currency', type: 'string', default: 'EUR' }],
};

describe('@kafkajs/confluent-schema-registry against our registry', () => {
  let reg: TestRegistry;
  let kjs: SchemaRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry();
    kjs = new SchemaRegistry({ host: reg.url }, { forSchemaOptions: {} });
  });

  it('registers (same schema → same id), encodes and decodes', async () => {
    const { id } = await kjs.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(PAYMENT_V1) },
      { subject: 'payments-value' },
    );
    expect(id).toBe(1);
    // It set the subject's compatibility on first registration (its default BACKWARD).
    expect((await call(reg.url, 'GET', '/config/payments-value')).body).toEqual({
      compatibilityLevel: 'BACKWARD',
    });
    const again = await kjs.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(PAYMENT_V1) },
      { subject: 'payments-value' },
    );
    expect(again.id).toBe(1);
    expect(await kjs.getLatestSchemaId('payments-value')).toBe(1);
    const bytes = await kjs.encode(id, { id: 'p1', amount: 9.5 });
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 1]));
    expect(await kjs.decode(bytes)).toEqual({ id: 'p1', amount: 9.5 });
    // A fresh client (empty cache) fetches the schema by id from us.
    const fresh = new SchemaRegistry({ host: reg.url });
    expect(await fresh.decode(bytes)).toEqual({ id: 'p1', amount: 9.5 });
    expect(await fresh.getRegistryId('payments-value', 1)).toBe(1);
    expect(
      await fresh.getRegistryIdBySchema('payments-value', {
        type: SchemaType.AVRO,
        schema: JSON.stringify(PAYMENT_V1),
      }),
    ).toBe(1);
  });

  it('our serde reads what it encodes (with evolution) and it reads what we encode', async () => {
    const { id } = await kjs.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(PAYMENT_V1) },
      { subject: 'pay2-value' },
    );
    const theirs = await kjs.encode(id, { id: 'p2', amount: 1.25 });
    const ours = await createAvroSerde<Record<string, unknown>>({
      registry: reg.url,
      schema: PAYMENT_V2,
      topics: ['pay2'],
    });
    expect({ ...ours.deserialize(theirs, 'pay2') }).toEqual({ id: 'p2', amount: 1.25, currency: 'EUR' });
    const mine = ours.serialize({ id: 'p3', amount: 2, currency: 'USD' }, 'pay2')!;
    expect(await kjs.decode(mine)).toEqual({ id: 'p3', amount: 2, currency: 'USD' });
  });

  it('sees our compatibility errors (409) as errors', async () => {
    await kjs.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(PAYMENT_V1) },
      { subject: 'strict-value', compatibility: COMPATIBILITY.FULL },
    );
    const incompatible = { ...PAYMENT_V1, fields: [{ name: 'id', type: 'int' }] };
    await expect(
      kjs.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(incompatible) },
        { subject: 'strict-value', compatibility: COMPATIBILITY.FULL },
      ),
    ).rejects.toMatchObject({ status: 409 });
  });
});

describe('a kafkajs producer writing Confluent-framed Avro through our broker', () => {
  it('is read by our consumer and deserializer', async () => {
    const broker = await startTestBroker();
    const client = await connect({ 'bootstrap.servers': broker.bootstrap });
    const registry = await startRegistry({ client, listen: '127.0.0.1:0' });
    cleanup(async () => {
      await registry.close();
      await client.close();
    });
    const kjs = new SchemaRegistry({ host: registry.url });
    const { id } = await kjs.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(PAYMENT_V1) },
      { subject: 'kafkajs-payments-value' },
    );
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const admin = client.admin();
    await admin.createTopics([{ topic: 'kafkajs-payments', numPartitions: 1 }]);
    await admin.close();
    await producer.send({
      topic: 'kafkajs-payments',
      messages: await Promise.all(
        [1, 2, 3].map(async (n) => ({
          key: `k${n}`,
          value: await kjs.encode(id, { id: `p${n}`, amount: n * 1.5 }),
        })),
      ),
    });
    await producer.disconnect();

    const serde = await createAvroSerde<Record<string, unknown>>({
      registry: registry.url,
      schema: PAYMENT_V2,
    });
    const consumer = client.consumer({ 'auto.offset.reset': 'earliest' });
    consumer.assign([{ topic: 'kafkajs-payments', partition: 0 }]);
    const got: unknown[] = [];
    for (let i = 0; i < 50 && got.length < 3; i++) {
      for (const r of await consumer.poll({ timeoutMs: 200 }))
        got.push({ ...serde.deserialize(r.value, r.topic) });
    }
    await consumer.close();
    expect(got).toEqual([
      { id: 'p1', amount: 1.5, currency: 'EUR' },
      { id: 'p2', amount: 3, currency: 'EUR' },
      { id: 'p3', amount: 4.5, currency: 'EUR' },
    ]);
  });
});
