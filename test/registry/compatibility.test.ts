/**
 * Compatibility, rule by rule, against Avro's schema resolution: for each change, which of
 * BACKWARD (new reads old), FORWARD (old reads new) and FULL (both) allow it; then the transitive
 * levels, and the same decisions through the REST API.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CompatibilityLevel,
  canonicalForm,
  compatibilityErrors,
  parseAvroSchema,
  parsingCanonicalForm,
} from '../../registry/index.js';
import { call, record, startTestRegistry, type TestRegistry } from './helpers.js';

const t = (schema: unknown) => parseAvroSchema(JSON.stringify(schema)).type;
const prev = (...schemas: unknown[]) =>
  schemas.map((s, i) => ({ version: i + 1, text: JSON.stringify(s), type: t(s) }));
const ok = (level: CompatibilityLevel, oldS: unknown, newS: unknown) =>
  compatibilityErrors(level, t(newS), prev(oldS)).length === 0;

/** [backward, forward] for one change old → new. */
function directions(oldS: unknown, newS: unknown): [boolean, boolean] {
  const b = ok('BACKWARD', oldS, newS);
  const f = ok('FORWARD', oldS, newS);
  expect(ok('FULL', oldS, newS)).toBe(b && f);
  expect(ok('NONE', oldS, newS)).toBe(true);
  return [b, f];
}

const rec = (fields: unknown[], name = 'R') => ({ type: 'record', name, fields });
const f = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({ name, type, ...extra });

describe('compatibility rules (Avro schema resolution)', () => {
  it('a field added with a default: backward and forward', () => {
    expect(
      directions(rec([f('a', 'int')]), rec([f('a', 'int'), f('b', 'string', { default: 'x' })])),
    ).toEqual([true, true]);
  });

  it('a field added without a default: forward only', () => {
    expect(directions(rec([f('a', 'int')]), rec([f('a', 'int'), f('b', 'string')]))).toEqual([false, true]);
  });

  it('a field removed: backward; forward only if the old one had a default', () => {
    expect(directions(rec([f('a', 'int'), f('b', 'string')]), rec([f('a', 'int')]))).toEqual([true, false]);
    expect(directions(rec([f('a', 'int'), f('b', 'string', { default: '' })]), rec([f('a', 'int')]))).toEqual(
      [true, true],
    );
  });

  it('a field renamed with an alias reads the old name', () => {
    expect(directions(rec([f('a', 'int')]), rec([f('b', 'int', { aliases: ['a'] })]))[0]).toBe(true);
    expect(directions(rec([f('a', 'int')]), rec([f('b', 'int')]))[0]).toBe(false);
  });

  it('type promotions int → long → float → double, one way only', () => {
    const chain = ['int', 'long', 'float', 'double'];
    for (let i = 0; i < chain.length; i++) {
      for (let j = i + 1; j < chain.length; j++) {
        expect(
          directions(rec([f('x', chain[i])]), rec([f('x', chain[j])])),
          `${chain[i]} → ${chain[j]}`,
        ).toEqual([true, false]);
        expect(
          directions(rec([f('x', chain[j])]), rec([f('x', chain[i])])),
          `${chain[j]} → ${chain[i]}`,
        ).toEqual([false, true]);
      }
    }
  });

  it('string ⇄ bytes both ways; string ⇄ int neither', () => {
    expect(directions('string', 'bytes')).toEqual([true, true]);
    expect(directions('bytes', 'string')).toEqual([true, true]);
    expect(directions('string', 'int')).toEqual([false, false]);
    expect(directions('boolean', 'int')).toEqual([false, false]);
  });

  it('enum symbols: adding is backward, removing is forward; a reader default allows both', () => {
    const e = (symbols: string[], extra: Record<string, unknown> = {}) => ({
      type: 'enum',
      name: 'E',
      symbols,
      ...extra,
    });
    expect(directions(e(['A', 'B']), e(['A', 'B', 'C']))).toEqual([true, false]);
    expect(directions(e(['A', 'B', 'C']), e(['A', 'B']))).toEqual([false, true]);
    expect(directions(e(['A', 'B'], { default: 'A' }), e(['A', 'B', 'C'], { default: 'A' }))).toEqual([
      true,
      true,
    ]);
    expect(directions(e(['A']), { type: 'enum', name: 'F', symbols: ['A'] })).toEqual([false, false]);
  });

  it('unions: T → [null, T] is backward; a branch added is backward; a branch removed is forward', () => {
    expect(directions('string', ['null', 'string'])).toEqual([true, false]);
    expect(directions(['null', 'string'], 'string')).toEqual([false, true]);
    expect(directions(['null', 'string'], ['null', 'string', 'int'])).toEqual([true, false]);
    expect(directions(['null', 'int'], ['null', 'long'])).toEqual([true, false]);
    expect(
      directions(
        rec([f('o', ['null', 'int'], { default: null })]),
        rec([f('o', ['null', 'int', 'string'], { default: null })]),
      ),
    ).toEqual([true, false]);
  });

  it('arrays and maps resolve their items and values', () => {
    expect(directions({ type: 'array', items: 'int' }, { type: 'array', items: 'long' })).toEqual([
      true,
      false,
    ]);
    expect(directions({ type: 'map', values: 'int' }, { type: 'map', values: 'string' })).toEqual([
      false,
      false,
    ]);
    expect(directions({ type: 'array', items: 'int' }, { type: 'map', values: 'int' })).toEqual([
      false,
      false,
    ]);
  });

  it('records: names must match (namespaces ignored, aliases honoured); fixed sizes must match', () => {
    expect(directions(rec([f('a', 'int')], 'A'), rec([f('a', 'int')], 'B'))).toEqual([false, false]);
    expect(directions(rec([f('a', 'int')], 'x.A'), rec([f('a', 'int')], 'y.A'))).toEqual([true, true]);
    expect(directions({ type: 'fixed', name: 'F', size: 4 }, { type: 'fixed', name: 'F', size: 8 })).toEqual([
      false,
      false,
    ]);
  });

  it('transitive levels check every earlier version, the others only the latest', () => {
    const v1 = rec([f('a', 'int')]);
    const v2 = rec([f('a', 'int'), f('b', 'int', { default: 0 })]);
    const v3 = rec([f('b', 'int')]); // reads v2 (has b) but not v1 (no b, no default)
    expect(compatibilityErrors('BACKWARD', t(v3), prev(v1, v2))).toEqual([]);
    const errs = compatibilityErrors('BACKWARD_TRANSITIVE', t(v3), prev(v1, v2));
    expect(errs.join(' ')).toContain('oldSchemaVersion: 1');
    expect(errs.join(' ')).not.toContain('oldSchemaVersion: 2');
    // FORWARD_TRANSITIVE: v1 must read v3 (it cannot: a is gone and has no default in v1).
    expect(compatibilityErrors('FORWARD', t(v3), prev(v1, v2))).not.toEqual([]);
    const w1 = rec([f('a', 'int'), f('c', 'int', { default: 1 })]);
    const w2 = rec([f('a', 'int')]);
    const w3 = rec([f('a', 'int'), f('c', 'string', { default: 'x' })]);
    // w2 reads w3 (ignores c) but w1 cannot (c: string is not an int).
    expect(compatibilityErrors('FORWARD', t(w3), prev(w1, w2))).toEqual([]);
    expect(compatibilityErrors('FORWARD_TRANSITIVE', t(w3), prev(w1, w2))).not.toEqual([]);
    expect(compatibilityErrors('FULL', t(w3), prev(w1, w2))).toEqual([]);
    expect(compatibilityErrors('FULL_TRANSITIVE', t(w3), prev(w1, w2))).not.toEqual([]);
  });

  it('canonical form: whitespace, key order and {"type": T} do not matter; defaults do', () => {
    const a = '{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}';
    const b = '{ "fields": [ { "type": { "type": "int" }, "name": "a" } ], "name": "R", "type": "record" }';
    expect(canonicalForm(a)).toBe(canonicalForm(b));
    const c = '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]}';
    expect(canonicalForm(a)).not.toBe(canonicalForm(c));
    // Avro's Parsing Canonical Form drops the default.
    expect(parsingCanonicalForm(c)).toBe(parsingCanonicalForm(a));
  });
});

describe('compatibility levels through the REST API', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry();
  });

  it.each([
    ['BACKWARD', [true, false]],
    ['FORWARD', [false, true]],
    ['FULL', [false, false]],
    ['NONE', [true, true]],
  ] as const)('%s', async (level, [addNoDefault, removeNoDefault]) => {
    const subject = `s-${level}`;
    const api = (m: string, p: string, b?: unknown) => call(reg.url, m, p, b);
    await api('PUT', `/config/${subject}`, { compatibility: level });
    const base = record('R', [
      { name: 'a', type: 'int' },
      { name: 'b', type: 'int' },
    ]);
    expect((await api('POST', `/subjects/${subject}/versions`, { schema: base })).status).toBe(200);
    // Removing b (no default): backward only. Adding c without default: forward only.
    const removed = await api('POST', `/compatibility/subjects/${subject}/versions/latest`, {
      schema: record('R', [{ name: 'a', type: 'int' }]),
    });
    const added = await api('POST', `/compatibility/subjects/${subject}/versions/latest`, {
      schema: record('R', [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int' },
        { name: 'c', type: 'int' },
      ]),
    });
    expect((removed.body as { is_compatible: boolean }).is_compatible).toBe(addNoDefault);
    expect((added.body as { is_compatible: boolean }).is_compatible).toBe(removeNoDefault);
    const reg2 = await api('POST', `/subjects/${subject}/versions`, {
      schema: record('R', [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int' },
        { name: 'c', type: 'int' },
      ]),
    });
    expect(reg2.status).toBe(removeNoDefault ? 200 : 409);
  });
});
