/**
 * Converters against Kafka's documented formats: JsonConverter's envelope (schemas.enable) byte
 * for byte, schemaless JSON, StringConverter, ByteArrayConverter, and the errors Kafka gives.
 */
import { describe, expect, it } from 'vitest';
import { createConverter } from '../../connect/converters/index.js';
import { JsonConverter, schemaToJson } from '../../connect/converters/json.js';
import { ByteArrayConverter, StringConverter } from '../../connect/converters/simple.js';
import { LOGICAL, Schemas, structSchema } from '../../connect/data.js';
import { DataException } from '../../connect/errors.js';

const json = (schemasEnable: boolean) => {
  const c = new JsonConverter();
  c.configure({ 'schemas.enable': String(schemasEnable) }, false);
  return c;
};

describe('JsonConverter', () => {
  it('writes the schema envelope exactly as Kafka does', () => {
    const schema = structSchema(
      [
        { name: 'id', schema: Schemas.INT32 },
        { name: 'name', schema: Schemas.OPTIONAL_STRING },
        { name: 'score', schema: Schemas.FLOAT64 },
      ],
      { name: 'user' },
    );
    const bytes = json(true).fromConnectData('t', schema, { id: 1, name: 'ann', score: 2.5 });
    expect(JSON.parse(bytes!.toString())).toEqual({
      schema: {
        type: 'struct',
        fields: [
          { type: 'int32', optional: false, field: 'id' },
          { type: 'string', optional: true, field: 'name' },
          { type: 'double', optional: false, field: 'score' },
        ],
        optional: false,
        name: 'user',
      },
      payload: { id: 1, name: 'ann', score: 2.5 },
    });
  });

  it('a string with schemas: {"schema":{"type":"string","optional":false},"payload":"hello"}', () => {
    expect(json(true).fromConnectData('t', Schemas.STRING, 'hello')!.toString()).toBe(
      '{"schema":{"type":"string","optional":false},"payload":"hello"}',
    );
    expect(json(false).fromConnectData('t', Schemas.STRING, 'hello')!.toString()).toBe('"hello"');
  });

  it('round-trips arrays, maps, bytes (base64) and the Timestamp logical type', () => {
    const schema = structSchema([
      { name: 'tags', schema: { type: 'array', valueSchema: Schemas.STRING } },
      { name: 'counts', schema: { type: 'map', keySchema: Schemas.STRING, valueSchema: Schemas.INT64 } },
      { name: 'raw', schema: Schemas.BYTES },
      { name: 'at', schema: { type: 'int64', name: LOGICAL.timestamp, version: 1 } },
    ]);
    const value = {
      tags: ['a', 'b'],
      counts: { x: 1 },
      raw: Buffer.from('hi'),
      at: new Date(1_600_000_000_000),
    };
    const bytes = json(true).fromConnectData('t', schema, value)!;
    const parsed = JSON.parse(bytes.toString());
    expect(parsed.payload).toEqual({
      tags: ['a', 'b'],
      counts: { x: 1 },
      raw: 'aGk=',
      at: 1_600_000_000_000,
    });
    expect(parsed.schema.fields[0]).toEqual({
      type: 'array',
      items: { type: 'string', optional: false },
      optional: false,
      field: 'tags',
    });
    expect(parsed.schema.fields[1]).toEqual({
      type: 'map',
      keys: { type: 'string', optional: false },
      values: { type: 'int64', optional: false },
      optional: false,
      field: 'counts',
    });
    expect(parsed.schema.fields[3]).toEqual({
      type: 'int64',
      optional: false,
      name: LOGICAL.timestamp,
      version: 1,
      field: 'at',
    });
    const back = json(true).toConnectData('t', bytes);
    expect(back.value).toEqual(value);
    expect(schemaToJson(back.schema!)).toEqual(schemaToJson(schema));
  });

  it('reads Kafka documentation examples', () => {
    const text =
      '{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"registertime"},{"type":"string","optional":false,"field":"userid"}],"optional":false,"name":"ksql.users"},"payload":{"registertime":1493819497170,"userid":"User_1"}}';
    const { schema, value } = json(true).toConnectData('users', Buffer.from(text));
    expect(schema?.name).toBe('ksql.users');
    expect(value).toEqual({ registertime: 1493819497170, userid: 'User_1' });
    // And writes it back byte for byte.
    expect(json(true).fromConnectData('users', schema, value)!.toString()).toBe(text);
  });

  it("refuses plain JSON with schemas.enable=true, with Kafka's message", () => {
    expect(() => json(true).toConnectData('t', Buffer.from('{"a":1}'))).toThrow(
      /JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields/,
    );
    expect(() => json(true).toConnectData('t', Buffer.from('not json'))).toThrow(DataException);
  });

  it('schemaless: any JSON in and out; null stays a tombstone', () => {
    const c = json(false);
    expect(c.toConnectData('t', Buffer.from('{"a":[1,2],"b":null}'))).toEqual({
      schema: null,
      value: { a: [1, 2], b: null },
    });
    expect(c.fromConnectData('t', null, { a: 1 })!.toString()).toBe('{"a":1}');
    expect(c.fromConnectData('t', null, null)).toBeNull();
    expect(json(true).fromConnectData('t', null, null)).toBeNull();
    expect(c.toConnectData('t', null)).toEqual({ schema: null, value: null });
  });

  it('a null for a required field is an error; optional fields take null; defaults apply', () => {
    const schema = structSchema([{ name: 'x', schema: Schemas.INT32 }]);
    expect(() => json(true).fromConnectData('t', schema, { x: null })).toThrow(DataException);
    const withDefault = structSchema([{ name: 'x', schema: { type: 'int32', defaultValue: 7 } }]);
    expect(JSON.parse(json(false).fromConnectData('t', withDefault, {})!.toString())).toEqual({ x: 7 });
  });

  it('is configured from the prefixed worker keys', () => {
    const c = createConverter(
      'value.converter',
      'org.apache.kafka.connect.json.JsonConverter',
      { 'value.converter.schemas.enable': 'false' },
      false,
    );
    expect(c.fromConnectData('t', Schemas.STRING, 'x')!.toString()).toBe('"x"');
    expect(() => createConverter('value.converter', 'com.example.Nope', {}, false)).toThrow(
      /value.converter/,
    );
  });
});

describe('StringConverter and ByteArrayConverter', () => {
  it('StringConverter writes toString() in UTF-8 and reads an optional string', () => {
    const c = new StringConverter();
    c.configure({}, false);
    expect(c.fromConnectData('t', null, 'héllo')).toEqual(Buffer.from('héllo'));
    expect(c.fromConnectData('t', null, 42)).toEqual(Buffer.from('42'));
    expect(c.fromConnectData('t', null, null)).toBeNull();
    expect(c.toConnectData('t', Buffer.from('x'))).toEqual({ schema: Schemas.OPTIONAL_STRING, value: 'x' });
  });

  it('ByteArrayConverter passes bytes and refuses other schemas', () => {
    const c = new ByteArrayConverter();
    expect(c.fromConnectData('t', Schemas.BYTES, Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(() => c.fromConnectData('t', Schemas.STRING, 'x')).toThrow(
      /Invalid schema type for ByteArrayConverter: STRING/,
    );
    expect(c.toConnectData('t', Buffer.from([3]))).toEqual({
      schema: Schemas.OPTIONAL_BYTES,
      value: Buffer.from([3]),
    });
  });
});

describe('FileStreamSink line format (Java toString)', () => {
  it('prints strings as they are, structs and maps as Java does, null as "null"', async () => {
    const { javaString } = await import('../../connectors/file/sink.js');
    const schema = structSchema([
      { name: 'id', schema: Schemas.INT32 },
      { name: 'name', schema: Schemas.OPTIONAL_STRING },
      { name: 'tags', schema: { type: 'array', valueSchema: Schemas.STRING } },
    ]);
    expect(javaString('plain line', Schemas.STRING)).toBe('plain line');
    expect(javaString({ id: 1, name: null, tags: ['a', 'b'] }, schema)).toBe('Struct{id=1,tags=[a, b]}');
    expect(javaString({ a: 1, b: { c: 'x' } }, null)).toBe('{a=1, b={c=x}}');
    expect(javaString(null, null)).toBe('null');
  });
});
