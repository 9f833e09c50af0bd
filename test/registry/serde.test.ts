/**
 * The Avro serde (streams) and the Avro converter (Connect): Confluent framing, subject name
 * strategies, auto.register.schemas, use.latest.version, schema evolution on read, and the
 * synchronous paths against a registry in this process and in another one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AvroConverter,
  avroSchemaSource,
  avroSerde,
  type ConnectSchema,
  createAvroSerde,
  RegistryClient,
  RegistryError,
  toAvroSchema,
  unframe,
} from '../../registry/index.js';
import { avroSerde as streamsAvroSerde } from '../../streams/index.js';
import { call, startRegistryProcess, startTestRegistry, type TestRegistry } from './helpers.js';

const USER_V1 = {
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'age', type: 'int' },
  ],
};
const USER_V2 = {
  ...USER_V1,
  fields: [
    { name: 'name', type: 'string' },
    { name: 'age', type: 'long' },
    { name: 'email', type: ['null', 'string'], default: null },
    { name: 'country', type: 'string', default: 'NL' },
  ],
};

describe('avro serde against a registry in this process', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry();
  });

  it('writes 0x00 + id + Avro and reads it back; the subject is <topic>-value', async () => {
    const serde = await createAvroSerde<{ name: string; age: number }>({
      registry: reg.url,
      schema: USER_V1,
      topics: ['users'],
    });
    const bytes = serde.serialize({ name: 'ann', age: 31 }, 'users')!;
    const { schemaId, body } = unframe(bytes);
    expect(bytes[0]).toBe(0);
    expect(schemaId).toBe(serde.schemaIdFor('users'));
    expect(body.length).toBeGreaterThan(0);
    expect({ ...serde.deserialize(bytes, 'users') }).toEqual({ name: 'ann', age: 31 });
    // The same registry named localhost: still answered in-process (blocking HTTP to this thread would hang).
    const viaLocalhost = avroSerde<{ name: string }>({ registry: reg.url.replace('127.0.0.1', 'localhost') });
    expect(viaLocalhost.deserialize(bytes, 'users').name).toBe('ann');
    expect(serde.serialize(null as never, 'users')).toBeNull();
    expect(serde.deserialize(null, 'users')).toBeNull();
    expect((await call(reg.url, 'GET', '/subjects')).body).toContain('users-value');
  });

  it('reads data written with an older schema into a newer one (evolution on read)', async () => {
    const v1 = await createAvroSerde({ registry: reg.url, schema: USER_V1, topics: ['evolve'] });
    const old = v1.serialize({ name: 'bob', age: 40 }, 'evolve')!;
    const v2 = await createAvroSerde<Record<string, unknown>>({
      registry: reg.url,
      schema: USER_V2,
      topics: ['evolve'],
    });
    expect(v2.schemaIdFor('evolve')).not.toBe(v1.schemaIdFor('evolve'));
    expect({ ...v2.deserialize(old, 'evolve') }).toEqual({
      name: 'bob',
      age: 40,
      email: null,
      country: 'NL',
    });
    // A reader without a schema reads with the writer's.
    const any = avroSerde<Record<string, unknown>>({ registry: reg.url });
    expect({ ...any.deserialize(old, 'evolve') }).toEqual({ name: 'bob', age: 40 });
    expect(() => any.serialize({}, 'evolve')).toThrow(/can read but not write/);
  });

  it('subject name strategies: record and topic-record', async () => {
    const record = await createAvroSerde({
      registry: reg.url,
      schema: USER_V1,
      subjectNameStrategy: 'io.confluent.kafka.serializers.subject.RecordNameStrategy',
      topics: ['a', 'b'],
    });
    expect(record.schemaIdFor('a')).toBe(record.schemaIdFor('b'));
    await createAvroSerde({
      registry: reg.url,
      schema: USER_V1,
      subjectNameStrategy: 'TopicRecordNameStrategy',
      topics: ['a'],
    });
    const keySerde = await createAvroSerde({
      registry: reg.url,
      schema: '"string"',
      isKey: true,
      topics: ['k'],
    });
    expect(keySerde.deserialize(keySerde.serialize('key-1', 'k'), 'k')).toBe('key-1');
    const subjects = (await call(reg.url, 'GET', '/subjects')).body as string[];
    expect(subjects).toEqual(expect.arrayContaining(['com.example.User', 'a-com.example.User', 'k-key']));
    expect(() =>
      avroSerde({ registry: reg.url, schema: '"string"', subjectNameStrategy: 'record' }).serialize('x', 't'),
    ).toThrow(/needs a named schema/);
    expect(() => avroSerde({ registry: reg.url, subjectNameStrategy: 'nope' })).toThrow(
      /Unknown subject name strategy/,
    );
  });

  it('auto.register.schemas=false looks up, use.latest.version writes with the latest schema', async () => {
    const noRegister = avroSerde({ registry: reg.url, schema: USER_V1, autoRegister: false });
    await expect(noRegister.prepare('unregistered')).rejects.toMatchObject({ code: 'SUBJECT_NOT_FOUND' });
    await createAvroSerde({ registry: reg.url, schema: USER_V2, topics: ['latest'] });
    const latest = await createAvroSerde({ registry: reg.url, useLatestVersion: true, topics: ['latest'] });
    const bytes = latest.serialize({ name: 'c', age: 1, email: null, country: 'BE' }, 'latest')!;
    const client = new RegistryClient(reg.url);
    expect(unframe(bytes).schemaId).toBe((await client.latest('latest-value')).id);
  });

  it("plugs into streams' own avroSerde as its AvroSchemaSource", async () => {
    const source = await avroSchemaSource({
      registry: reg.url,
      subject: 'streams-own-value',
      schema: USER_V2,
    });
    const own = streamsAvroSerde<Record<string, unknown>>(USER_V2, {
      wireFormat: 'confluent',
      registry: source,
    });
    const theirs = (
      await createAvroSerde({ registry: reg.url, schema: USER_V1, topics: ['streams-own-old'] })
    ).serialize({ name: 'eve', age: 2 }, 'streams-own-old');
    expect({ ...own.deserialize(theirs, 'streams-own') }).toEqual({
      name: 'eve',
      age: 2,
      email: null,
      country: 'NL',
    });
    expect(unframe(own.serialize({ name: 'f', age: 1, email: null, country: 'DE' }, 'x')!).schemaId).toBe(
      source.schemaId,
    );
  });

  it('clear errors: wrong magic byte, unknown id, a value not matching the schema, a new schema with no prepare()', async () => {
    const serde = await createAvroSerde({ registry: reg.url, schema: USER_V1, topics: ['errs'] });
    expect(() => serde.deserialize(Buffer.from('plain text'), 'errs')).toThrow(/Unknown magic byte/);
    expect(() => serde.deserialize(Buffer.from([0, 0, 0, 0x7f, 0x7f, 2]), 'errs')).toThrow(
      /Schema 32639 not found/,
    );
    expect(() => serde.serialize({ name: 1 } as never, 'errs')).toThrow(
      /could not serialize a value of topic 'errs'/,
    );
    const fresh = avroSerde({ registry: reg.url, schema: { type: 'record', name: 'Fresh', fields: [] } });
    const err = (() => {
      try {
        fresh.serialize({}, 'fresh');
      } catch (e) {
        return e as RegistryError;
      }
    })();
    expect(err).toBeInstanceOf(RegistryError);
    expect(err!.message).toMatch(
      /cannot be registered synchronously with the registry running in this same thread/,
    );
    await fresh.prepare('fresh');
    expect(fresh.serialize({}, 'fresh')).toBeInstanceOf(Buffer);
  });
});

describe('against a registry in another process (blocking lookups)', () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await startRegistryProcess());
  });

  it('the serde registers and looks up synchronously', async () => {
    const serde = avroSerde<{ name: string; age: number }>({ registry: url, schema: USER_V1 });
    const bytes = serde.serialize({ name: 'dee', age: 5 }, 'remote')!;
    expect((await call(url, 'GET', '/subjects/remote-value/versions')).body).toEqual([1]);
    const reader = avroSerde<Record<string, unknown>>({ registry: url, schema: USER_V2 });
    expect({ ...reader.deserialize(bytes, 'remote') }).toEqual({
      name: 'dee',
      age: 5,
      email: null,
      country: 'NL',
    });
  });

  it('the Avro converter round-trips Connect data and registers Confluent-style schemas', async () => {
    const converter = new AvroConverter();
    converter.configure({ 'schema.registry.url': url }, false);
    const address: ConnectSchema = {
      type: 'struct',
      name: 'com.example.Address',
      optional: true,
      fields: [{ name: 'city', index: 0, schema: { type: 'string' } }],
    };
    const schema: ConnectSchema = {
      type: 'struct',
      name: 'com.example.Order',
      fields: [
        { name: 'id', index: 0, schema: { type: 'int64' } },
        { name: 'qty', index: 1, schema: { type: 'int16' } },
        { name: 'note', index: 2, schema: { type: 'string', optional: true } },
        {
          name: 'at',
          index: 3,
          schema: { type: 'int64', name: 'org.apache.kafka.connect.data.Timestamp', version: 1 },
        },
        { name: 'tags', index: 4, schema: { type: 'array', valueSchema: { type: 'string' } } },
        {
          name: 'attrs',
          index: 5,
          schema: { type: 'map', keySchema: { type: 'string' }, valueSchema: { type: 'int32' } },
        },
        { name: 'address', index: 6, schema: address },
        { name: 'blob', index: 7, schema: { type: 'bytes' } },
      ],
    };
    const value = {
      id: 42,
      qty: 3,
      note: null,
      at: new Date(1_700_000_000_000),
      tags: ['a', 'b'],
      attrs: { x: 1 },
      address: { city: 'Utrecht' },
      blob: Buffer.from([1, 2, 3]),
    };
    const bytes = converter.fromConnectData('orders', schema, value)!;
    const back = converter.toConnectData('orders', bytes);
    expect(back.value).toEqual(value);
    expect(back.schema).toMatchObject({ type: 'struct', name: 'com.example.Order' });
    expect(back.schema!.fields!.map((f) => [f.name, f.schema.type, f.schema.optional === true])).toEqual([
      ['id', 'int64', false],
      ['qty', 'int16', false],
      ['note', 'string', true],
      ['at', 'int64', false],
      ['tags', 'array', false],
      ['attrs', 'map', false],
      ['address', 'struct', true],
      ['blob', 'bytes', false],
    ]);
    const registered = (await call(url, 'GET', '/subjects/orders-value/versions/latest')).body as {
      schema: string;
    };
    expect(JSON.parse(registered.schema)).toEqual(toAvroSchema(schema));
    // Schemaless primitives, nulls, and keys.
    const keys = new AvroConverter();
    keys.configure({ 'schema.registry.url': url, 'key.subject.name.strategy': 'TopicNameStrategy' }, true);
    expect(keys.toConnectData('orders', keys.fromConnectData('orders', null, 'k1'))).toEqual({
      schema: { type: 'string' },
      value: 'k1',
    });
    expect(keys.fromConnectData('orders', null, null)).toBeNull();
    expect(keys.toConnectData('orders', null)).toEqual({ schema: null, value: null });
    expect((await call(url, 'GET', '/subjects')).body).toContain('orders-key');
  });

  it('the converter honours auto.register.schemas=false and needs schema.registry.url', () => {
    const c = new AvroConverter();
    expect(() => c.configure({}, false)).toThrow(/schema.registry.url/);
    c.configure({ 'schema.registry.url': url, 'auto.register.schemas': 'false' }, false);
    expect(() => c.fromConnectData('nothing-here', { type: 'string' }, 'x')).toThrow(
      /Subject 'nothing-here-value' not found/,
    );
  });
});
