/**
 * Single message transforms and predicates against the examples of Kafka's documentation
 * (https://kafka.apache.org/documentation/#connect_transforms) and Confluent's transform pages.
 */
import { describe, expect, it } from 'vitest';
import {
  type ConnectRecord,
  LOGICAL,
  Schemas,
  type SinkRecord,
  type SourceRecord,
  structSchema,
} from '../../connect/data.js';
import { buildChain, validateChain } from '../../connect/transforms/index.js';

function source(value: unknown, extra: Partial<SourceRecord> = {}): SourceRecord {
  return {
    topic: 'test',
    kafkaPartition: 0,
    keySchema: null,
    key: null,
    valueSchema: null,
    value,
    timestamp: 1_500_000_000_000,
    headers: [],
    sourcePartition: null,
    sourceOffset: null,
    ...extra,
  };
}

function sink(value: unknown, extra: Partial<SinkRecord> = {}): SinkRecord {
  return {
    topic: 'test',
    kafkaPartition: 1,
    kafkaOffset: 42,
    keySchema: null,
    key: null,
    valueSchema: null,
    value,
    timestamp: 1_500_000_000_000,
    timestampType: 'CreateTime',
    headers: [],
    originalTopic: 'test',
    originalKafkaPartition: 1,
    originalKafkaOffset: 42,
    ...extra,
  };
}

function run<R extends ConnectRecord>(props: Record<string, string>, r: R): R | null {
  return buildChain(props).apply(r);
}

const T = 'org.apache.kafka.connect.transforms.';

describe('Kafka documentation example: HoistField + InsertField on FileStreamSource lines', () => {
  it('wraps each line in a map and adds the static field', () => {
    const props = {
      transforms: 'MakeMap, InsertSource',
      'transforms.MakeMap.type': `${T}HoistField$Value`,
      'transforms.MakeMap.field': 'line',
      'transforms.InsertSource.type': `${T}InsertField$Value`,
      'transforms.InsertSource.static.field': 'data_source',
      'transforms.InsertSource.static.value': 'test-file-source',
    };
    const out = run(props, source('foo', { valueSchema: Schemas.STRING }));
    expect(out?.value).toEqual({ line: 'foo', data_source: 'test-file-source' });
    expect(out?.valueSchema?.fields?.map((f) => [f.name, f.schema.type, f.schema.optional ?? false])).toEqual(
      [
        ['line', 'string', false],
        ['data_source', 'string', true],
      ],
    );
  });
});

describe('InsertField', () => {
  it('adds topic, partition, offset and timestamp fields (sink records), schemaless', () => {
    const out = run(
      {
        transforms: 'i',
        'transforms.i.type': 'InsertField$Value',
        'transforms.i.topic.field': 'topic',
        'transforms.i.partition.field': 'p',
        'transforms.i.offset.field': 'o!',
        'transforms.i.timestamp.field': 'ts',
      },
      sink({ a: 1 }),
    );
    expect(out?.value).toEqual({ a: 1, topic: 'test', p: 1, o: 42, ts: new Date(1_500_000_000_000) });
  });

  it('passes tombstones through and refuses non-maps without a schema', () => {
    const props = {
      transforms: 'i',
      'transforms.i.type': 'InsertField$Value',
      'transforms.i.static.field': 'x',
      'transforms.i.static.value': 'y',
    };
    expect(run(props, source(null))?.value).toBeNull();
    expect(() => run(props, source('text'))).toThrow(
      /Only Map objects supported in absence of schema for \[field insertion\], found: java.lang.String/,
    );
  });
});

describe('ReplaceField', () => {
  it('excludes, includes and renames (Kafka docs: renames=foo:c,bar:d)', () => {
    const base = { transforms: 'r', 'transforms.r.type': `${T}ReplaceField$Value` };
    expect(run({ ...base, 'transforms.r.exclude': 'c' }, source({ a: 1, b: 2, c: 3 }))?.value).toEqual({
      a: 1,
      b: 2,
    });
    expect(run({ ...base, 'transforms.r.include': 'a,c' }, source({ a: 1, b: 2, c: 3 }))?.value).toEqual({
      a: 1,
      c: 3,
    });
    expect(
      run({ ...base, 'transforms.r.renames': 'foo:c,bar:d' }, source({ foo: 1, bar: 2, x: 3 }))?.value,
    ).toEqual({ c: 1, d: 2, x: 3 });
  });

  it('derives a new struct schema', () => {
    const schema = structSchema([
      { name: 'a', schema: Schemas.INT32 },
      { name: 'b', schema: Schemas.STRING },
    ]);
    const out = run(
      {
        transforms: 'r',
        'transforms.r.type': 'ReplaceField$Value',
        'transforms.r.exclude': 'b',
        'transforms.r.renames': 'a:id',
      },
      source({ a: 1, b: 'x' }, { valueSchema: schema }),
    );
    expect(out?.value).toEqual({ id: 1 });
    expect(out?.valueSchema?.fields?.map((f) => f.name)).toEqual(['id']);
  });
});

describe('MaskField', () => {
  it("replaces values with their type's empty value, or the replacement", () => {
    const base = {
      transforms: 'm',
      'transforms.m.type': `${T}MaskField$Value`,
      'transforms.m.fields': 'ssn,age,ok',
    };
    expect(run(base, source({ ssn: '123-45-6789', age: 42, ok: true, name: 'x' }))?.value).toEqual({
      ssn: '',
      age: 0,
      ok: false,
      name: 'x',
    });
    expect(
      run(
        { ...base, 'transforms.m.fields': 'ssn', 'transforms.m.replacement': '*****' },
        source({ ssn: '123' }),
      )?.value,
    ).toEqual({ ssn: '*****' });
  });
});

describe('ValueToKey, ExtractField, HoistField', () => {
  it('ValueToKey copies value fields into a key struct (with schema) or map', () => {
    const schema = structSchema([
      { name: 'id', schema: Schemas.INT32 },
      { name: 'name', schema: Schemas.STRING },
    ]);
    const out = run(
      { transforms: 'k', 'transforms.k.type': `${T}ValueToKey`, 'transforms.k.fields': 'id' },
      source({ id: 42, name: 'x' }, { valueSchema: schema }),
    );
    expect(out?.key).toEqual({ id: 42 });
    expect(out?.keySchema?.fields?.map((f) => [f.name, f.schema.type])).toEqual([['id', 'int32']]);
  });

  it('ValueToKey then ExtractField$Key gives a primitive key (the classic JDBC pattern)', () => {
    const out = run(
      {
        transforms: 'createKey,extractInt',
        'transforms.createKey.type': `${T}ValueToKey`,
        'transforms.createKey.fields': 'c1',
        'transforms.extractInt.type': `${T}ExtractField$Key`,
        'transforms.extractInt.field': 'c1',
      },
      source({ c1: 7, c2: 'x' }),
    );
    expect(out?.key).toBe(7);
  });

  it('ExtractField$Value with a schema takes the field schema', () => {
    const schema = structSchema([{ name: 'id', schema: Schemas.INT64 }]);
    const out = run(
      { transforms: 'e', 'transforms.e.type': 'ExtractField$Value', 'transforms.e.field': 'id' },
      source({ id: 5 }, { valueSchema: schema }),
    );
    expect(out?.value).toBe(5);
    expect(out?.valueSchema).toEqual(Schemas.INT64);
  });

  it('HoistField$Key wraps the key', () => {
    const out = run(
      { transforms: 'h', 'transforms.h.type': 'HoistField$Key', 'transforms.h.field': 'k' },
      source(1, { key: 'a', keySchema: Schemas.STRING }),
    );
    expect(out?.key).toEqual({ k: 'a' });
    expect(out?.keySchema?.fields?.[0]?.name).toBe('k');
  });
});

describe('Cast', () => {
  it('casts fields (spec=age:int32,active:boolean) and whole values', () => {
    const base = { transforms: 'c', 'transforms.c.type': `${T}Cast$Value` };
    expect(
      run(
        { ...base, 'transforms.c.spec': 'age:int32,active:boolean,score:string' },
        source({ age: '42', active: 1, score: 9.5 }),
      )?.value,
    ).toEqual({ age: 42, active: true, score: '9.5' });
    expect(run({ ...base, 'transforms.c.spec': 'int8' }, source(300))?.value).toBe(44);
    const schema = structSchema([{ name: 'n', schema: Schemas.STRING }]);
    const out = run(
      { ...base, 'transforms.c.spec': 'n:float64' },
      source({ n: '1.5' }, { valueSchema: schema }),
    );
    expect(out?.value).toEqual({ n: 1.5 });
    expect(out?.valueSchema?.fields?.[0]?.schema.type).toBe('float64');
  });

  it('refuses unknown types', () => {
    expect(() =>
      buildChain({ transforms: 'c', 'transforms.c.type': 'Cast$Value', 'transforms.c.spec': 'a:uuid' }),
    ).toThrow(/transforms.c.spec.*Invalid type found in casting spec: uuid/);
  });
});

describe('TimestampConverter', () => {
  const base = { transforms: 't', 'transforms.t.type': `${T}TimestampConverter$Value` };
  it('unix ms → formatted string and back (UTC)', () => {
    const toStr = {
      ...base,
      'transforms.t.field': 'ts',
      'transforms.t.target.type': 'string',
      'transforms.t.format': 'yyyy-MM-dd HH:mm:ss',
    };
    expect(run(toStr, source({ ts: 1_500_000_000_000 }))?.value).toEqual({ ts: '2017-07-14 02:40:00' });
    const toUnix = {
      ...base,
      'transforms.t.field': 'ts',
      'transforms.t.target.type': 'unix',
      'transforms.t.format': 'yyyy-MM-dd HH:mm:ss',
    };
    expect(run(toUnix, source({ ts: '2017-07-14 02:40:00' }))?.value).toEqual({ ts: 1_500_000_000_000 });
    // unix.precision applies to unix inputs and outputs alike.
    const secs = {
      ...base,
      'transforms.t.field': 'ts',
      'transforms.t.target.type': 'Timestamp',
      'transforms.t.unix.precision': 'seconds',
    };
    expect(run(secs, source({ ts: 1_500_000_000 }))?.value).toEqual({ ts: new Date(1_500_000_000_000) });
    const toSecs = {
      ...base,
      'transforms.t.field': 'ts',
      'transforms.t.target.type': 'unix',
      'transforms.t.unix.precision': 'seconds',
      'transforms.t.format': 'yyyy-MM-dd',
    };
    expect(run(toSecs, source({ ts: '2017-07-14' }))?.value).toEqual({ ts: 1_499_990_400 });
  });

  it('whole value to Timestamp with a logical schema', () => {
    const out = run(
      { ...base, 'transforms.t.target.type': 'Timestamp' },
      source(1_500_000_000_000, { valueSchema: Schemas.INT64 }),
    );
    expect(out?.value).toEqual(new Date(1_500_000_000_000));
    expect(out?.valueSchema?.name).toBe(LOGICAL.timestamp);
  });

  it('needs a format for string', () => {
    expect(() => buildChain({ ...base, 'transforms.t.target.type': 'string' })).toThrow(/format/);
  });
});

describe('Flatten', () => {
  it('flattens nested maps with the delimiter (Confluent docs example)', () => {
    const value = { content: { id: 42, name: { first: 'David', middle: null, last: 'Wong' } } };
    expect(run({ transforms: 'f', 'transforms.f.type': `${T}Flatten$Value` }, source(value))?.value).toEqual({
      'content.id': 42,
      'content.name.first': 'David',
      'content.name.middle': null,
      'content.name.last': 'Wong',
    });
    expect(
      run(
        { transforms: 'f', 'transforms.f.type': 'Flatten$Value', 'transforms.f.delimiter': '_' },
        source({ a: { b: 1 } }),
      )?.value,
    ).toEqual({ a_b: 1 });
  });

  it('flattens structs into a flat schema', () => {
    const inner = structSchema([{ name: 'x', schema: Schemas.INT32 }], { optional: true });
    const schema = structSchema([
      { name: 'a', schema: inner },
      { name: 'b', schema: Schemas.STRING },
    ]);
    const out = run(
      { transforms: 'f', 'transforms.f.type': 'Flatten$Value' },
      source({ a: { x: 1 }, b: 'y' }, { valueSchema: schema }),
    );
    expect(out?.value).toEqual({ 'a.x': 1, b: 'y' });
    expect(out?.valueSchema?.fields?.map((f) => [f.name, f.schema.optional ?? false])).toEqual([
      ['a.x', true],
      ['b', false],
    ]);
  });
});

describe('routing', () => {
  it('RegexRouter (Kafka docs: regex=(.*)-(.*), replacement=$2)', () => {
    const props = {
      transforms: 'r',
      'transforms.r.type': `${T}RegexRouter`,
      'transforms.r.regex': '(.*)-(.*)',
      'transforms.r.replacement': '$2',
    };
    expect(run(props, source(1, { topic: 'prefix-orders' }))?.topic).toBe('orders');
    expect(run(props, source(1, { topic: 'plain' }))?.topic).toBe('plain');
  });

  it('TimestampRouter: topic.format <topic>-<timestamp> with yyyyMMdd by default', () => {
    expect(run({ transforms: 'r', 'transforms.r.type': `${T}TimestampRouter` }, source(1))?.topic).toBe(
      'test-20170714',
    );
    expect(
      run(
        {
          transforms: 'r',
          'transforms.r.type': 'TimestampRouter',
          'transforms.r.topic.format': ['logs_$', '{timestamp}'].join(''),
          'transforms.r.timestamp.format': 'yyyy-MM',
        },
        source(1),
      )?.topic,
    ).toBe('logs_2017-07');
  });

  it('InsertHeader and DropHeaders', () => {
    const out = run(
      {
        transforms: 'i,d',
        'transforms.i.type': `${T}InsertHeader`,
        'transforms.i.header': 'app',
        'transforms.i.value.literal': 'orders',
        'transforms.d.type': `${T}DropHeaders`,
        'transforms.d.headers': 'secret',
      },
      source(1, { headers: [{ key: 'secret', schema: null, value: 'x' }] }),
    );
    expect(out?.headers.map((h) => [h.key, h.value])).toEqual([['app', 'orders']]);
  });
});

describe('Filter with predicates (Kafka docs example)', () => {
  const props = {
    transforms: 'Filter',
    'transforms.Filter.type': `${T}Filter`,
    'transforms.Filter.predicate': 'IsFoo',
    predicates: 'IsFoo',
    'predicates.IsFoo.type': `${T}predicates.TopicNameMatches`,
    'predicates.IsFoo.pattern': 'foo',
  };

  it('drops records of matching topics only', () => {
    expect(run(props, source(1, { topic: 'foo' }))).toBeNull();
    expect(run(props, source(1, { topic: 'bar' }))?.value).toBe(1);
    expect(run(props, source(1, { topic: 'foobar' }))?.value).toBe(1);
  });

  it('negate=true inverts the predicate', () => {
    expect(run({ ...props, 'transforms.Filter.negate': 'true' }, source(1, { topic: 'foo' }))?.value).toBe(1);
    expect(run({ ...props, 'transforms.Filter.negate': 'true' }, source(1, { topic: 'bar' }))).toBeNull();
  });

  it('RecordIsTombstone and HasHeaderKey', () => {
    const tomb = {
      transforms: 'f',
      'transforms.f.type': 'Filter',
      'transforms.f.predicate': 't',
      predicates: 't',
      'predicates.t.type': 'RecordIsTombstone',
    };
    expect(run(tomb, source(null))).toBeNull();
    expect(run(tomb, source('x'))?.value).toBe('x');
    const hdr = {
      transforms: 'f',
      'transforms.f.type': 'Filter',
      'transforms.f.predicate': 'h',
      predicates: 'h',
      'predicates.h.type': 'HasHeaderKey',
      'predicates.h.name': 'skip',
    };
    expect(run(hdr, source('x', { headers: [{ key: 'skip', schema: null, value: null }] }))).toBeNull();
    expect(run(hdr, source('x'))?.value).toBe('x');
  });

  it('an unknown predicate or type is a config error naming the key', () => {
    expect(validateChain({ ...props, 'transforms.Filter.predicate': 'Nope' })[0]?.value.errors[0]).toMatch(
      /Predicate Nope is not listed/,
    );
    expect(
      validateChain({ transforms: 'x', 'transforms.x.type': 'com.example.Nope' })[0]?.definition.name,
    ).toBe('transforms.x.type');
  });
});
