/**
 * Converters against Kafka's documented formats: JsonConverter's envelope (schemas.enable) byte
 * for byte, schemaless JSON, StringConverter, ByteArrayConverter, and the errors Kafka gives.
 */
import { describe, expect, it, vi } from 'vitest';
import { createConverter } from '../../connect/converters/index.js';
import { JsonConverter, jsonWriter, schemaToJson, valueToJson } from '../../connect/converters/json.js';
import { ByteArrayConverter, StringConverter } from '../../connect/converters/simple.js';
import { LOGICAL, type Schema, Schemas, structSchema } from '../../connect/data.js';
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

describe('JsonConverter fast writer', () => {
  /** What the writer must equal: Kafka's value JSON, built as an object and stringified. */
  const reference = (schema: Schema, v: unknown): string => JSON.stringify(valueToJson(schema, v));
  const outcome = (f: () => string): string => {
    try {
      return f();
    } catch (err) {
      return `threw ${(err as Error).constructor.name}: ${(err as Error).message}`;
    }
  };

  it('writes exactly what the general path writes, errors included, for every schema shape', () => {
    const row = structSchema(
      [
        { name: 'id', schema: Schemas.INT64 },
        { name: 'name', schema: Schemas.OPTIONAL_STRING },
        { name: 'score', schema: Schemas.OPTIONAL_FLOAT64 },
        { name: 'ok', schema: Schemas.OPTIONAL_BOOLEAN },
        { name: 'raw', schema: Schemas.OPTIONAL_BYTES },
        { name: 'at', schema: Schemas.OPTIONAL_TIMESTAMP },
        { name: 'tags', schema: { type: 'array', optional: true, valueSchema: Schemas.OPTIONAL_STRING } },
        {
          name: 'm',
          schema: { type: 'map', optional: true, keySchema: Schemas.STRING, valueSchema: Schemas.INT32 },
        },
        { name: 'd', schema: { type: 'string', optional: true, defaultValue: 'dflt' } },
        {
          name: 'nested',
          schema: structSchema([{ name: 'x', schema: Schemas.INT32 }], { optional: true }),
        },
      ],
      { name: 'row', optional: true },
    );
    const envelope = structSchema([
      { name: 'before', schema: row },
      { name: 'after', schema: row },
      { name: 'op', schema: Schemas.STRING },
    ]);
    const full = {
      id: 7,
      name: 'quote " backslash \\ newline \n emoji 🙂 lone \ud800',
      score: -0,
      ok: false,
      raw: Buffer.from([0, 255, 1]),
      at: new Date(1_700_000_000_123),
      tags: ['a', null, 'c'],
      m: { k: 1, '1': 2 },
      d: null,
      nested: { x: 3 },
    };
    const cases: [Schema, unknown][] = [
      [envelope, { before: null, after: full, op: 'c' }],
      [envelope, { before: full, after: { ...full, score: Number.NaN, tags: [] }, op: 'u' }],
      [envelope, { before: null, after: { id: 1 }, op: 'r' }],
      [envelope, { before: null, after: { ...full, d: 'given' }, op: 'r' }],
      [envelope, { before: null, after: { ...full, score: Number.POSITIVE_INFINITY, id: 2n }, op: 'd' }],
      [envelope, { before: null, after: null, op: null }], // required field null: an error
      [envelope, { before: null, after: { ...full, id: 'seven' }, op: 'c' }], // wrong type: an error
      [envelope, { before: null, after: { ...full, nested: 5 }, op: 'c' }],
      [envelope, 'not a struct'],
      [
        structSchema([
          { name: '1', schema: Schemas.INT32 },
          { name: 'a', schema: Schemas.INT32 },
        ]),
        { a: 1, '1': 2 },
      ],
      [structSchema([{ name: '__proto__', schema: Schemas.OPTIONAL_INT32 }]), { ['__proto__']: 3 }],
      [Schemas.OPTIONAL_STRING, undefined],
      [Schemas.STRING, 'x'],
      [Schemas.INT32, 1e21],
      [Schemas.INT64, -(2 ** 53 - 1)],
      [Schemas.INT64, 1_700_000_000_123],
      [Schemas.INT64, 100_000_000],
      [Schemas.INT64, 99_999_999],
      [Schemas.INT64, 2 ** 53],
      [Schemas.FLOAT64, -0.000001],
      [Schemas.FLOAT64, 123.45],
      [structSchema([]), {}],
      [structSchema([{ name: 'a b"c', schema: Schemas.INT32 }]), { 'a b"c': 1 }],
      [{ type: 'array', valueSchema: { type: 'array', valueSchema: Schemas.INT8 } }, [[1, 2], [], [3]]],
    ];
    // Strings of code units from every range JSON treats differently (controls, quote, backslash,
    // DEL, Latin-1, BMP, surrogates paired or not).
    const units = [0, 7, 10, 31, 32, 34, 47, 92, 126, 127, 233, 0x2028, 0xfffe, 0xd83d, 0xde42, 0xdfff];
    let seed = 1;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      const text = String.fromCharCode(...Array.from({ length: rand(8) }, () => units[rand(units.length)]!));
      cases.push([Schemas.STRING, text], [Schemas.STRING, `plain ${text}`]);
    }
    const plain = new JsonConverter();
    plain.configure({ 'schemas.enable': 'false' }, false);
    for (const [schema, value] of cases) {
      expect(outcome(() => jsonWriter(schema)(value))).toBe(outcome(() => reference(schema, value)));
      // The converter's bytes are the reference's UTF-8, and a failed record leaves nothing behind.
      expect(outcome(() => plain.fromConnectData('t', schema, value)!.toString('hex'))).toBe(
        outcome(() => Buffer.from(reference(schema, value)).toString('hex')),
      );
    }
    const c = new JsonConverter();
    c.configure({ 'schemas.enable': 'true' }, false);
    const v = { before: null, after: full, op: 'c' };
    expect(c.fromConnectData('t', envelope, v)!.toString()).toBe(
      `{"schema":${JSON.stringify(schemaToJson(envelope))},"payload":${reference(envelope, v)}}`,
    );
  });

  it('follows its configuration and the schema of each record, whatever came before', () => {
    const c = new JsonConverter();
    c.configure({ 'schemas.enable': 'true' }, false);
    const a = structSchema([{ name: 'a', schema: Schemas.INT32 }]);
    const b = structSchema([{ name: 'b', schema: Schemas.STRING }]);
    const text = (schema: Schema, v: unknown) => c.fromConnectData('t', schema, v)!.toString();
    expect(text(a, { a: 1 })).toBe(`{"schema":${JSON.stringify(schemaToJson(a))},"payload":{"a":1}}`);
    expect(text(b, { b: 'x' })).toBe(`{"schema":${JSON.stringify(schemaToJson(b))},"payload":{"b":"x"}}`);
    expect(text(a, { a: 2 })).toBe(`{"schema":${JSON.stringify(schemaToJson(a))},"payload":{"a":2}}`);
    c.configure({ 'schemas.enable': 'false' }, false);
    expect(text(a, { a: 3 })).toBe('{"a":3}');
  });

  it('writes the same without generated code (where code generation is disallowed)', () => {
    const row = structSchema([
      { name: 'id', schema: Schemas.INT64 },
      { name: 'name "quoted"', schema: Schemas.OPTIONAL_STRING },
      { name: 'tags', schema: { type: 'array', optional: true, valueSchema: Schemas.STRING } },
      { name: 'empty', schema: structSchema([], { optional: true }) },
    ]);
    const schema = structSchema([
      { name: 'after', schema: { ...row, optional: true } },
      { name: 'op', schema: Schemas.STRING },
    ]);
    const values = [
      { after: { id: 1, 'name "quoted"': 'é\n', tags: ['a'], empty: {} }, op: 'c' },
      { after: null, op: 'd' },
      { after: { id: 'x' }, op: 'c' },
    ];
    const generated = values.map((v) => outcome(() => jsonWriter(schema)(v)));
    const refused = () => {
      throw new EvalError('Code generation from strings disallowed for this context');
    };
    vi.stubGlobal('Function', refused);
    try {
      // Fresh schema objects: compiled again, now without generated code.
      const copy = JSON.parse(JSON.stringify(schema)) as Schema;
      expect(values.map((v) => outcome(() => jsonWriter(copy)(v)))).toEqual(generated);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(generated).toEqual(values.map((v) => outcome(() => reference(schema, v))));
  });

  it('buffers it returned stay intact while it keeps converting', () => {
    const c = new JsonConverter();
    c.configure({ 'schemas.enable': 'false' }, false);
    const out = Array.from(
      { length: 5000 },
      (_, i) => c.fromConnectData('t', Schemas.STRING, `v${i}-${'é'.repeat(i % 50)}`)!,
    );
    out.push(c.fromConnectData('t', Schemas.STRING, 'x'.repeat(200_000))!);
    out.forEach((b, i) => {
      expect(JSON.parse(b.toString())).toBe(i < 5000 ? `v${i}-${'é'.repeat(i % 50)}` : 'x'.repeat(200_000));
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
