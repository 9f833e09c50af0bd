import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bytesToBigint } from '../../../connectors/postgres-cdc/types.js';
import { usePostgres } from '../../helpers/postgres.js';
import { asJson, cdcProps, TaskDriver } from './driver.js';

const pgServer = usePostgres({ beforeAll, afterAll });
const drivers: TaskDriver[] = [];
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.stop();
});
let n = 0;

const TABLE = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE DOMAIN posint AS int CHECK (VALUE > 0);
  CREATE TABLE all_types (
    id bigint PRIMARY KEY,
    b boolean, i2 smallint, i4 integer, f4 real, f8 double precision,
    num numeric(10,2), numfree numeric, money_col money,
    txt text, vc varchar(20), ch char(3),
    u uuid, j json, jb jsonb, x xml,
    by bytea,
    d date, t time, t3 time(3), tz timetz,
    ts timestamp, ts3 timestamp(3), tstz timestamptz,
    iv interval,
    m mood, pi posint,
    ia int[], ta text[], ma mood[],
    ip inet
  );`;

const ROW = `INSERT INTO all_types VALUES (
  1, true, -3, 42, 1.5, 2.25,
  12345.67, -0.000123, 12.34,
  'hello', 'vc', 'ab',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '{"b": [1, 2]}', '<x>1</x>',
  '\\x00ff10',
  '2024-02-29', '13:14:15.123456', '13:14:15.123', '13:14:15+02',
  '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123', '2024-02-29 13:14:15.5+02',
  '1 year 2 mons 3 days 04:05:06.5',
  'happy', 7,
  '{1,2,NULL}', '{"a b","c,d",NULL}', '{sad,ok}',
  '10.0.0.1/32'
)`;

function decimal(b: unknown, scale: number): string {
  const v = bytesToBigint(Buffer.from(b as Buffer));
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
}

async function capture(extra: Record<string, string> = {}) {
  const db = `types${++n}`;
  await pgServer().createDatabase(db);
  await pgServer().query(TABLE, [], db);
  await pgServer().query(ROW, [], db);
  const d = new TaskDriver();
  drivers.push(d);
  await d.start(cdcProps(pgServer(), db, { 'slot.name': `ty${n}`, ...extra }));
  await d.pollUntil('snapshot row', (rs) => rs.length >= 1);
  await pgServer().query(ROW.replace('(\n  1,', '(\n  2,'), [], db);
  await d.pollUntil('streamed row', (rs) => rs.length >= 2);
  return d.records;
}

describe('postgres-cdc: type mapping', () => {
  it('maps every common type the same way in the snapshot and the stream, with Debezium schema names', async () => {
    const records = await capture();
    for (const r of records) {
      const after = (r.value as { after: Record<string, unknown> }).after;
      expect(after).toMatchObject({
        b: true,
        i2: -3,
        i4: 42,
        f4: 1.5,
        f8: 2.25,
        txt: 'hello',
        vc: 'vc',
        ch: 'ab ',
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        j: '{"a": 1}',
        jb: '{"b": [1, 2]}',
        x: '<x>1</x>',
        d: 19782,
        t: 47655123456,
        t3: 47655123,
        tz: '13:14:15+02',
        ts: 1709212455123456,
        ts3: 1709212455123,
        tstz: '2024-02-29T11:14:15.5Z',
        iv: Math.round(14 * (365.25 / 12) * 86_400_000_000 + 3 * 86_400_000_000 + 14706.5 * 1_000_000),
        m: 'happy',
        pi: 7,
        ia: [1, 2, null],
        ta: ['a b', 'c,d', null],
        ma: ['sad', 'ok'],
        ip: '10.0.0.1',
      });
      expect(decimal(after.num, 2)).toBe('12345.67');
      expect(decimal(after.money_col, 2)).toBe('12.34');
      const free = after.numfree as { scale: number; value: Buffer };
      expect(free.scale).toBe(6);
      expect(bytesToBigint(free.value)).toBe(-123n);
      expect(Buffer.from(after.by as Buffer).toString('hex')).toBe('00ff10');
    }
    const json = asJson(records[1]!).value!;
    const after = (
      json.schema as { fields: { field: string; fields: Record<string, unknown>[] }[] }
    ).fields.find((f) => f.field === 'after')!;
    const f = (name: string) => after.fields.find((x) => x.field === name)!;
    expect(f('num')).toMatchObject({
      type: 'bytes',
      name: 'org.apache.kafka.connect.data.Decimal',
      parameters: { scale: '2', 'connect.decimal.precision': '10' },
    });
    expect(f('numfree')).toMatchObject({ type: 'struct', name: 'io.debezium.data.VariableScaleDecimal' });
    expect(f('u')).toMatchObject({ type: 'string', name: 'io.debezium.data.Uuid' });
    expect(f('jb')).toMatchObject({ type: 'string', name: 'io.debezium.data.Json' });
    expect(f('d')).toMatchObject({ type: 'int32', name: 'io.debezium.time.Date' });
    expect(f('t')).toMatchObject({ type: 'int64', name: 'io.debezium.time.MicroTime' });
    expect(f('ts')).toMatchObject({ type: 'int64', name: 'io.debezium.time.MicroTimestamp' });
    expect(f('ts3')).toMatchObject({ type: 'int64', name: 'io.debezium.time.Timestamp' });
    expect(f('tstz')).toMatchObject({ type: 'string', name: 'io.debezium.time.ZonedTimestamp' });
    expect(f('iv')).toMatchObject({ type: 'int64', name: 'io.debezium.time.MicroDuration' });
    expect(f('m')).toMatchObject({
      type: 'string',
      name: 'io.debezium.data.Enum',
      parameters: { allowed: 'sad,ok,happy' },
    });
    expect(f('ia')).toMatchObject({ type: 'array', items: { type: 'int32', optional: true } });
    expect(f('by')).toMatchObject({ type: 'bytes' });
    const payload = json.payload as { after: Record<string, unknown> };
    expect(payload.after.by).toBe(Buffer.from('00ff10', 'hex').toString('base64'));
    expect(payload.after.num).toBe(Buffer.from([0x12, 0xd6, 0x87]).toString('base64')); // 1234567
  });

  it('offers decimal.handling.mode double and string, binary.handling.mode hex, time.precision.mode connect', async () => {
    const records = await capture({
      'decimal.handling.mode': 'string',
      'binary.handling.mode': 'hex',
      'time.precision.mode': 'connect',
    });
    const after = (records[1]!.value as { after: Record<string, unknown> }).after;
    expect(after.num).toBe('12345.67');
    expect(after.numfree).toBe('-0.000123');
    expect(after.by).toBe('00ff10');
    expect(after.d).toEqual(new Date('2024-02-29T00:00:00Z'));
    expect(after.ts).toEqual(new Date('2024-02-29T13:14:15.123Z'));
    const doubles = await capture({ 'decimal.handling.mode': 'double' });
    const a2 = (doubles[1]!.value as { after: Record<string, unknown> }).after;
    expect(a2.num).toBe(12345.67);
    expect(a2.numfree).toBe(-0.000123);
    expect(a2.money_col).toBe(12.34);
  });
});
