import { describe, expect, it } from 'vitest';
import {
  autoSerde,
  avroSerde,
  jsonSerde,
  numberSerde,
  StreamsError,
  stringSerde,
} from '../../streams/index.js';

const V1 = { type: 'record', name: 'User', fields: [{ name: 'name', type: 'string' }] };
const V2 = {
  type: 'record',
  name: 'User',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'age', type: 'int', default: -1 },
  ],
};

describe('serdes', () => {
  it('json reads string literals as JSON.parse does, and gives the same text as its bytes', () => {
    const json = jsonSerde<unknown>();
    const texts = [
      '"word"',
      '""',
      '"héllo 🎉"',
      '"a\\"b"',
      '"tab\\tnew\\nline"',
      '"\\u00e9"',
      '"unterminated',
      '"x" ',
      '"ctl\u0001"',
      `"${'long'.repeat(100)}"`,
      '42',
      'null',
      '{"k":"v"}',
    ];
    for (const text of texts) {
      const bytes = Buffer.from(text);
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch {
        expect(() => json.deserialize(bytes, 't')).toThrow(StreamsError);
        continue;
      }
      expect(json.deserialize(bytes, 't')).toEqual(expected);
    }
    for (const v of ['w', 'é"\\', 7, { a: [1, null] }, [true]]) {
      expect(Buffer.from(json.serializeToString!(v, 't')!)).toEqual(json.serialize(v, 't'));
      expect(Buffer.from(autoSerde.serializeToString!(v, 't')!)).toEqual(autoSerde.serialize(v, 't'));
    }
    expect(autoSerde.serializeToString!(Buffer.from('b'), 't')).toBeUndefined();
    expect(() => json.serialize(() => 1, 't')).toThrow(StreamsError);
  });

  it('string, json, number and auto round-trip; null stays null', () => {
    expect(stringSerde.deserialize(stringSerde.serialize('hé', 't'), 't')).toBe('hé');
    expect(jsonSerde<{ a: number[] }>().deserialize(jsonSerde().serialize({ a: [1] }, 't'), 't')).toEqual({
      a: [1],
    });
    expect(numberSerde.deserialize(Buffer.from('42'), 't')).toBe(42);
    expect(autoSerde.serialize({ x: 1 }, 't')?.toString()).toBe('{"x":1}');
    expect(autoSerde.serialize('text', 't')?.toString()).toBe('text');
    expect(jsonSerde().serialize(null, 't')).toBeNull();
    expect(() => numberSerde.deserialize(Buffer.from('x'), 't')).toThrow(StreamsError);
  });

  it('avro raw and Confluent wire format, with schema resolution through a registry', () => {
    const raw = avroSerde<{ name: string }>(V1);
    expect(raw.deserialize(raw.serialize({ name: 'ada' }, 't'), 't')).toEqual({ name: 'ada' });
    const writer = avroSerde<{ name: string }>(V1, { wireFormat: 'confluent', schemaId: 7 });
    const bytes = writer.serialize({ name: 'ada' }, 't')!;
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(7);
    const reader = avroSerde<{ name: string; age: number }>(V2, {
      wireFormat: 'confluent',
      registry: { schemaId: 8, schemaById: (id) => (id === 7 ? V1 : undefined) },
    });
    expect(reader.deserialize(bytes, 't')).toEqual({ name: 'ada', age: -1 });
    const unknown = Buffer.from(bytes);
    unknown.writeInt32BE(99, 1);
    expect(() => reader.deserialize(unknown, 't')).toThrow(/unknown writer schema id 99/);
  });
});
