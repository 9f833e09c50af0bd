/**
 * The REST API end to end, path by path, with Confluent's bodies, status codes and error codes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { call, record, startTestRegistry, type TestRegistry } from './helpers.js';

const V1 = record('User', [{ name: 'name', type: 'string' }]);
const V2 = record('User', [
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int', default: 0 },
]);
const V3_BAD = record('User', [
  { name: 'name', type: 'string' },
  { name: 'email', type: 'string' },
]);

let reg: TestRegistry;
let url: string;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call(url, method, path, body, headers);

beforeAll(async () => {
  reg = await startTestRegistry();
  url = reg.url;
});

describe('registry REST API', () => {
  it('GET / and GET /schemas/types', async () => {
    expect(await api('GET', '/')).toMatchObject({ status: 200, body: {} });
    const types = await api('GET', '/schemas/types');
    expect(types.status).toBe(200);
    expect(types.contentType).toBe('application/vnd.schemaregistry.v1+json');
    expect(types.body).toEqual(['AVRO']);
  });

  it('registers, returns the same id for the same schema, and new versions for new ones', async () => {
    const r1 = await api('POST', '/subjects/users-value/versions', { schema: V1 });
    expect(r1).toMatchObject({ status: 200, body: { id: 1 } });
    // Same schema with other whitespace, key order and {"type": "string"} for "string" → same id.
    const same = await api('POST', '/subjects/users-value/versions', {
      schema:
        '{ "name": "User", "type": "record", "fields": [ { "type": {"type": "string"}, "name": "name" } ] }',
    });
    expect(same.body).toEqual({ id: 1 });
    const r2 = await api('POST', '/subjects/users-value/versions', { schema: V2, schemaType: 'AVRO' });
    expect(r2.body).toEqual({ id: 2 });
    // The same schema under another subject shares its id.
    const other = await api('POST', '/subjects/other-value/versions', { schema: V1 });
    expect(other.body).toEqual({ id: 1 });
    expect((await api('GET', '/subjects/users-value/versions')).body).toEqual([1, 2]);
  });

  it('GET /subjects (sorted, subjectPrefix)', async () => {
    expect((await api('GET', '/subjects')).body).toEqual(['other-value', 'users-value']);
    expect((await api('GET', '/subjects?subjectPrefix=users')).body).toEqual(['users-value']);
  });

  it('GET /subjects/{s}/versions/{v|latest|-1} and /schema', async () => {
    const v1 = await api('GET', '/subjects/users-value/versions/1');
    expect(v1).toMatchObject({
      status: 200,
      body: { subject: 'users-value', version: 1, id: 1, schema: V1 },
    });
    expect(v1.body).not.toHaveProperty('schemaType');
    expect((await api('GET', '/subjects/users-value/versions/latest')).body).toMatchObject({
      version: 2,
      id: 2,
    });
    expect((await api('GET', '/subjects/users-value/versions/-1')).body).toMatchObject({ version: 2 });
    const raw = await api('GET', '/subjects/users-value/versions/2/schema');
    expect(raw.status).toBe(200);
    expect(raw.body).toEqual(JSON.parse(V2));
    expect((await api('GET', '/subjects/users-value/versions/2/referencedby')).body).toEqual([]);
  });

  it('GET /schemas/ids/{id} (+ /schema, /versions, /subjects) and GET /schemas', async () => {
    expect((await api('GET', '/schemas/ids/1')).body).toEqual({ schema: V1 });
    expect((await api('GET', '/schemas/ids/1/schema')).body).toEqual(JSON.parse(V1));
    expect((await api('GET', '/schemas/ids/1/versions')).body).toEqual([
      { subject: 'other-value', version: 1 },
      { subject: 'users-value', version: 1 },
    ]);
    expect((await api('GET', '/schemas/ids/1/subjects')).body).toEqual(['other-value', 'users-value']);
    const all = (await api('GET', '/schemas?subjectPrefix=users&latestOnly=true')).body;
    expect(all).toEqual([{ subject: 'users-value', version: 2, id: 2, schema: V2 }]);
  });

  it('POST /subjects/{s} looks a schema up', async () => {
    const hit = await api('POST', '/subjects/users-value', { schema: V2 });
    expect(hit).toMatchObject({
      status: 200,
      body: { subject: 'users-value', version: 2, id: 2, schema: V2 },
    });
    const miss = await api('POST', '/subjects/users-value', { schema: V3_BAD });
    expect(miss).toMatchObject({ status: 404, body: { error_code: 40403 } });
    const noSubject = await api('POST', '/subjects/nope', { schema: V1 });
    expect(noSubject).toMatchObject({
      status: 404,
      body: { error_code: 40401, message: "Subject 'nope' not found." },
    });
  });

  it('404s: 40401 unknown subject, 40402 unknown version, 40403 unknown id, 404 unknown path', async () => {
    expect(await api('GET', '/subjects/nope/versions')).toMatchObject({
      status: 404,
      body: { error_code: 40401 },
    });
    expect(await api('GET', '/subjects/nope/versions/1')).toMatchObject({
      status: 404,
      body: { error_code: 40401 },
    });
    expect(await api('GET', '/subjects/users-value/versions/9')).toMatchObject({
      status: 404,
      body: { error_code: 40402, message: 'Version 9 not found.' },
    });
    expect(await api('GET', '/schemas/ids/999')).toMatchObject({
      status: 404,
      body: { error_code: 40403, message: 'Schema 999 not found' },
    });
    expect(await api('GET', '/schemas/ids/999/versions')).toMatchObject({
      status: 404,
      body: { error_code: 40403 },
    });
    expect(await api('GET', '/no/such/path')).toMatchObject({ status: 404, body: { error_code: 404 } });
    expect(await api('PATCH', '/subjects')).toMatchObject({ status: 405, body: { error_code: 405 } });
  });

  it('422s: 42201 invalid schema, 42202 invalid version, 42203 invalid level, 42204 invalid mode', async () => {
    const notJson = await api('POST', '/subjects/bad/versions', { schema: '{"type": "record"' });
    expect(notJson).toMatchObject({ status: 422, body: { error_code: 42201 } });
    const notAvro = await api('POST', '/subjects/bad/versions', { schema: '{"type": "recordz"}' });
    expect(notAvro).toMatchObject({ status: 422, body: { error_code: 42201 } });
    const badDefault = await api('POST', '/subjects/bad/versions', {
      schema: record('X', [{ name: 'a', type: 'int', default: 'one' }]),
    });
    expect(badDefault).toMatchObject({ status: 422, body: { error_code: 42201 } });
    const noSchema = await api('POST', '/subjects/bad/versions', {});
    expect(noSchema).toMatchObject({ status: 422, body: { error_code: 42201 } });
    const protobuf = await api('POST', '/subjects/bad/versions', {
      schema: 'syntax = "proto3";',
      schemaType: 'PROTOBUF',
    });
    expect(protobuf).toMatchObject({ status: 422, body: { error_code: 42201 } });
    for (const v of ['0', 'abc', '2147483648', '-2']) {
      expect(await api('GET', `/subjects/users-value/versions/${v}`)).toMatchObject({
        status: 422,
        body: { error_code: 42202 },
      });
    }
    expect(await api('PUT', '/config', { compatibility: 'SIDEWAYS' })).toMatchObject({
      status: 422,
      body: { error_code: 42203 },
    });
    expect(await api('PUT', '/mode', { mode: 'WRITEONLY' })).toMatchObject({
      status: 422,
      body: { error_code: 42204 },
    });
    expect(await api('POST', '/subjects/%01bad/versions', { schema: V1 })).toMatchObject({
      status: 422,
      body: { error_code: 42208 },
    });
    expect((await api('GET', '/subjects')).body).toEqual(['other-value', 'users-value']);
  });

  it('409 for an incompatible schema, with the reasons', async () => {
    const r = await api('POST', '/subjects/users-value/versions', { schema: V3_BAD });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error_code: 409 });
    expect((r.body as { message: string }).message).toMatch(
      /^Schema being registered is incompatible with an earlier schema for subject "users-value"/,
    );
    expect((r.body as { message: string }).message).toContain('READER_FIELD_MISSING_DEFAULT_VALUE');
  });

  it('POST /compatibility/subjects/{s}/versions/{v} (?verbose=true) and without a version', async () => {
    const ok = await api('POST', '/compatibility/subjects/users-value/versions/latest', { schema: V2 });
    expect(ok).toMatchObject({ status: 200, body: { is_compatible: true } });
    expect(ok.body).not.toHaveProperty('messages');
    const bad = await api('POST', '/compatibility/subjects/users-value/versions/latest?verbose=true', {
      schema: V3_BAD,
    });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ is_compatible: false });
    expect((bad.body as { messages: string[] }).messages.join('\n')).toContain('oldSchemaVersion: 2');
    expect(
      (await api('POST', '/compatibility/subjects/users-value/versions/1', { schema: V2 })).body,
    ).toEqual({
      is_compatible: true,
    });
    expect(
      (await api('POST', '/compatibility/subjects/users-value/versions', { schema: V3_BAD })).body,
    ).toEqual({
      is_compatible: false,
    });
    expect(await api('POST', '/compatibility/subjects/users-value/versions/7', { schema: V2 })).toMatchObject(
      { status: 404, body: { error_code: 40402 } },
    );
    expect(await api('POST', '/compatibility/subjects/nope/versions/1', { schema: V2 })).toMatchObject({
      status: 404,
      body: { error_code: 40401 },
    });
    expect(await api('POST', '/compatibility/subjects/nope/versions/latest', { schema: V2 })).toMatchObject({
      status: 200,
      body: { is_compatible: true },
    });
    expect(
      await api('POST', '/compatibility/subjects/users-value/versions/latest', { schema: '{' }),
    ).toMatchObject({
      status: 422,
      body: { error_code: 42201 },
    });
  });

  it('GET|PUT|DELETE /config and /config/{s}', async () => {
    expect((await api('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect(await api('GET', '/config/users-value')).toMatchObject({
      status: 404,
      body: { error_code: 40408 },
    });
    expect((await api('GET', '/config/users-value?defaultToGlobal=true')).body).toEqual({
      compatibilityLevel: 'BACKWARD',
    });
    expect((await api('PUT', '/config/users-value', { compatibility: 'none' })).body).toEqual({
      compatibility: 'NONE',
    });
    expect((await api('GET', '/config/users-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    // NONE lets the incompatible schema in.
    expect((await api('POST', '/subjects/users-value/versions', { schema: V3_BAD })).body).toEqual({ id: 3 });
    expect((await api('DELETE', '/config/users-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect(await api('GET', '/config/users-value')).toMatchObject({
      status: 404,
      body: { error_code: 40408 },
    });
    expect((await api('PUT', '/config', { compatibility: 'FULL' })).body).toEqual({ compatibility: 'FULL' });
    expect((await api('GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await api('DELETE', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await api('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('GET|PUT /mode and /mode/{s}: READONLY refuses writes with 42205; IMPORT takes ids', async () => {
    expect((await api('GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    expect(await api('GET', '/mode/users-value')).toMatchObject({ status: 404, body: { error_code: 40409 } });
    expect((await api('PUT', '/mode/users-value', { mode: 'READONLY' })).body).toEqual({ mode: 'READONLY' });
    expect((await api('GET', '/mode/users-value')).body).toEqual({ mode: 'READONLY' });
    const refused = await api('POST', '/subjects/users-value/versions', {
      schema: record('User', [
        { name: 'name', type: 'string' },
        { name: 'z', type: 'int', default: 1 },
      ]),
    });
    expect(refused).toMatchObject({ status: 422, body: { error_code: 42205 } });
    expect((await api('DELETE', '/mode/users-value')).body).toEqual({ mode: 'READONLY' });
    // IMPORT: refused on a non-empty registry unless forced; then ids come from the request.
    expect(await api('PUT', '/mode', { mode: 'IMPORT' })).toMatchObject({
      status: 422,
      body: { error_code: 42205 },
    });
    const withId = { schema: record('Imported', [{ name: 'x', type: 'long' }]), id: 100, version: 5 };
    expect(await api('POST', '/subjects/imported/versions', withId)).toMatchObject({
      status: 422,
      body: { error_code: 42205 },
    });
    expect((await api('PUT', '/mode?force=true', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
    expect((await api('POST', '/subjects/imported/versions', withId)).body).toEqual({ id: 100 });
    expect((await api('GET', '/subjects/imported/versions/5')).body).toMatchObject({ id: 100, version: 5 });
    const clash = { schema: record('Other', [{ name: 'y', type: 'long' }]), id: 100, version: 6 };
    expect(await api('POST', '/subjects/imported/versions', clash)).toMatchObject({
      status: 422,
      body: { error_code: 42207 },
    });
    expect((await api('PUT', '/mode', { mode: 'READWRITE' })).body).toEqual({ mode: 'READWRITE' });
    // New ids continue above the imported ones.
    expect((await api('POST', '/subjects/fresh/versions', { schema: '"string"' })).body).toEqual({ id: 101 });
  });

  it('DELETE versions and subjects: soft, then permanent (40404, 40405, 40406, 40407)', async () => {
    expect(await api('DELETE', '/subjects/users-value/versions/1?permanent=true')).toMatchObject({
      status: 404,
      body: { error_code: 40407 },
    });
    expect((await api('DELETE', '/subjects/users-value/versions/1')).body).toBe(1);
    expect(await api('DELETE', '/subjects/users-value/versions/1')).toMatchObject({
      status: 404,
      body: { error_code: 40406 },
    });
    expect((await api('GET', '/subjects/users-value/versions')).body).toEqual([2, 3]);
    expect((await api('GET', '/subjects/users-value/versions?deleted=true')).body).toEqual([1, 2, 3]);
    expect((await api('GET', '/subjects/users-value/versions/1?deleted=true')).body).toMatchObject({ id: 1 });
    expect(await api('GET', '/subjects/users-value/versions/1')).toMatchObject({
      status: 404,
      body: { error_code: 40402 },
    });
    expect((await api('DELETE', '/subjects/users-value/versions/1?permanent=true')).body).toBe(1);
    expect((await api('GET', '/subjects/users-value/versions?deleted=true')).body).toEqual([2, 3]);
    // id 1 lives on in other-value.
    expect((await api('GET', '/schemas/ids/1')).status).toBe(200);

    expect(await api('DELETE', '/subjects/users-value?permanent=true')).toMatchObject({
      status: 404,
      body: { error_code: 40405 },
    });
    expect((await api('DELETE', '/subjects/users-value')).body).toEqual([2, 3]);
    expect(await api('DELETE', '/subjects/users-value')).toMatchObject({
      status: 404,
      body: { error_code: 40404 },
    });
    expect((await api('GET', '/subjects')).body).not.toContain('users-value');
    expect((await api('GET', '/subjects?deleted=true')).body).toContain('users-value');
    expect((await api('GET', '/subjects?deletedOnly=true')).body).toEqual(['users-value']);
    expect(await api('GET', '/subjects/users-value/versions')).toMatchObject({
      status: 404,
      body: { error_code: 40401 },
    });
    // A soft-deleted subject's ids still resolve (old data stays readable).
    expect((await api('GET', '/schemas/ids/2')).body).toEqual({ schema: V2 });
    // Registering again continues the version numbers.
    expect((await api('POST', '/subjects/users-value/versions', { schema: V2 })).body).toEqual({ id: 2 });
    expect((await api('GET', '/subjects/users-value/versions')).body).toEqual([4]);
    expect((await api('DELETE', '/subjects/users-value')).body).toEqual([4]);
    expect((await api('DELETE', '/subjects/users-value?permanent=true')).body).toEqual([2, 3, 4]);
    expect((await api('GET', '/subjects?deleted=true')).body).not.toContain('users-value');
    expect(await api('GET', '/schemas/ids/2')).toMatchObject({ status: 404, body: { error_code: 40403 } });
    expect(await api('DELETE', '/subjects/nope')).toMatchObject({ status: 404, body: { error_code: 40401 } });
    expect(await api('DELETE', '/subjects/other-value/versions/9')).toMatchObject({
      status: 404,
      body: { error_code: 40402 },
    });
  });

  it('request limits and media types: 400 bad JSON, 413 too large, 415 wrong type, 42209 schema too large', async () => {
    expect(await api('POST', '/subjects/x/versions', '{not json')).toMatchObject({
      status: 400,
      body: { error_code: 400 },
    });
    expect(
      await api('POST', '/subjects/x/versions', { schema: V1 }, { 'content-type': 'text/plain' }),
    ).toMatchObject({ status: 415, body: { error_code: 415 } });
    const huge = {
      schema: JSON.stringify({
        type: 'enum',
        name: 'E',
        symbols: Array.from({ length: 60_000 }, (_, i) => `S${i}`),
      }),
    };
    expect(await api('POST', '/subjects/x/versions', huge)).toMatchObject({
      status: 422,
      body: { error_code: 42209 },
    });
    const tooBig = { schema: 'x'.repeat(3 * 1024 * 1024) };
    expect(await api('POST', '/subjects/x/versions', tooBig)).toMatchObject({
      status: 413,
      body: { error_code: 413 },
    });
    expect(
      (await api('POST', '/subjects/x/versions', { schema: V1 }, { 'content-type': 'application/json' }))
        .body,
    ).toEqual({
      id: 1,
    });
  });
});
