/**
 * Datagen's field generators: the quickstart schemas (Confluent datagen's users, pageviews,
 * orders, with the same field names and value shapes) and a small custom field spec:
 *
 *   `id:int(1,1000), name:string(8), score:double(0,100), ok:boolean, at:timestamp,
 *    seq:sequence, status:enum(NEW|PAID|SHIPPED), user:pick(User_,1,9)`
 */
import { ConfigException, type Schema, Schemas, structSchema } from '../../connect/sdk.js';

/** A seeded PRNG (mulberry32): the same seed gives the same records. */
export class Random {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

export interface Generator {
  schema: Schema;
  /** The record value for iteration `i`. */
  next(i: number, rnd: Random, now: number): Record<string, unknown>;
  /** The default key field. */
  keyField: string | null;
}

type FieldGen = { name: string; schema: Schema; gen: (i: number, rnd: Random, now: number) => unknown };

function struct(name: string, fields: FieldGen[], keyField: string | null): Generator {
  return {
    schema: structSchema(
      fields.map((f) => ({ name: f.name, schema: f.schema })),
      { name },
    ),
    keyField,
    next(i, rnd, now) {
      const out: Record<string, unknown> = {};
      for (const f of fields) out[f.name] = f.gen(i, rnd, now);
      return out;
    },
  };
}

const CITIES = ['City_1', 'City_2', 'City_3', 'City_4', 'City_5', 'City_6', 'City_7', 'City_8', 'City_9'];
const STATES = [
  'State_1',
  'State_2',
  'State_3',
  'State_4',
  'State_5',
  'State_6',
  'State_7',
  'State_8',
  'State_9',
];

export const QUICKSTARTS: Record<string, () => Generator> = {
  users: () =>
    struct(
      'ksql.users',
      [
        {
          name: 'registertime',
          schema: Schemas.INT64,
          gen: (_i, rnd) => 1487715775521 + rnd.int(0, 30_000_000_000),
        },
        { name: 'userid', schema: Schemas.STRING, gen: (_i, rnd) => `User_${rnd.int(1, 9)}` },
        { name: 'regionid', schema: Schemas.STRING, gen: (_i, rnd) => `Region_${rnd.int(1, 9)}` },
        {
          name: 'gender',
          schema: Schemas.STRING,
          gen: (_i, rnd) => ['MALE', 'FEMALE', 'OTHER'][rnd.int(0, 2)],
        },
      ],
      'userid',
    ),
  pageviews: () =>
    struct(
      'ksql.pageviews',
      [
        { name: 'viewtime', schema: Schemas.INT64, gen: (i) => 1 + i * 10 },
        { name: 'userid', schema: Schemas.STRING, gen: (_i, rnd) => `User_${rnd.int(1, 9)}` },
        { name: 'pageid', schema: Schemas.STRING, gen: (_i, rnd) => `Page_${rnd.int(1, 99)}` },
      ],
      'viewtime',
    ),
  orders: () => {
    const address = structSchema(
      [
        { name: 'city', schema: Schemas.STRING },
        { name: 'state', schema: Schemas.STRING },
        { name: 'zipcode', schema: Schemas.INT64 },
      ],
      { name: 'ksql.address' },
    );
    return struct(
      'ksql.orders',
      [
        { name: 'ordertime', schema: Schemas.INT64, gen: (_i, _r, now) => now },
        { name: 'orderid', schema: Schemas.INT32, gen: (i) => i },
        { name: 'itemid', schema: Schemas.STRING, gen: (_i, rnd) => `Item_${rnd.int(1, 999)}` },
        {
          name: 'orderunits',
          schema: Schemas.FLOAT64,
          gen: (_i, rnd) => Math.round((0.1 + rnd.next() * 9.9) * 100) / 100,
        },
        {
          name: 'address',
          schema: address,
          gen: (_i, rnd) => ({
            city: CITIES[rnd.int(0, 8)],
            state: STATES[rnd.int(0, 8)],
            zipcode: rnd.int(10000, 99999),
          }),
        },
      ],
      'orderid',
    );
  },
};

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Parses a custom `fields` spec into a generator. */
export function customGenerator(spec: string, key = 'fields'): Generator {
  const fields: FieldGen[] = [];
  for (const part of spec
    .split(/,(?![^(]*\))/)
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const m = /^([A-Za-z_][\w.]*)\s*:\s*([a-z]+)(?:\(([^)]*)\))?$/.exec(part);
    if (!m)
      throw new ConfigException(
        key,
        spec,
        `cannot read field '${part}'; expected NAME:TYPE or NAME:TYPE(ARGS)`,
      );
    const [, name, type, rawArgs] = m as unknown as [string, string, string, string | undefined];
    const args = rawArgs === undefined ? [] : rawArgs.split(/[,|]/).map((s) => s.trim());
    const num = (i: number, def: number) => {
      const v = args[i] === undefined || args[i] === '' ? def : Number(args[i]);
      if (!Number.isFinite(v))
        throw new ConfigException(key, spec, `field '${name}': '${args[i]}' is not a number`);
      return v;
    };
    switch (type) {
      case 'int':
      case 'long': {
        const lo = num(0, 0);
        const hi = num(1, 1_000_000);
        fields.push({
          name,
          schema: type === 'int' ? Schemas.INT32 : Schemas.INT64,
          gen: (_i, rnd) => rnd.int(lo, hi),
        });
        break;
      }
      case 'double': {
        const lo = num(0, 0);
        const hi = num(1, 1);
        fields.push({ name, schema: Schemas.FLOAT64, gen: (_i, rnd) => lo + rnd.next() * (hi - lo) });
        break;
      }
      case 'string': {
        const len = num(0, 8);
        fields.push({
          name,
          schema: Schemas.STRING,
          gen: (_i, rnd) => Array.from({ length: len }, () => LETTERS[rnd.int(0, 25)]).join(''),
        });
        break;
      }
      case 'boolean':
        fields.push({ name, schema: Schemas.BOOLEAN, gen: (_i, rnd) => rnd.next() < 0.5 });
        break;
      case 'timestamp':
        fields.push({ name, schema: Schemas.INT64, gen: (_i, _r, now) => now });
        break;
      case 'sequence':
        fields.push({ name, schema: Schemas.INT64, gen: (i) => i });
        break;
      case 'enum': {
        if (args.length === 0)
          throw new ConfigException(key, spec, `field '${name}': enum needs values, e.g. enum(A|B|C)`);
        fields.push({ name, schema: Schemas.STRING, gen: (_i, rnd) => args[rnd.int(0, args.length - 1)] });
        break;
      }
      case 'pick': {
        const prefix = args[0] ?? '';
        const lo = num(1, 1);
        const hi = num(2, 9);
        fields.push({ name, schema: Schemas.STRING, gen: (_i, rnd) => `${prefix}${rnd.int(lo, hi)}` });
        break;
      }
      default:
        throw new ConfigException(
          key,
          spec,
          `field '${name}': unknown type '${type}' (int, long, double, string, boolean, timestamp, sequence, enum, pick)`,
        );
    }
  }
  if (fields.length === 0) throw new ConfigException(key, spec, 'no fields');
  return struct('datagen.custom', fields, null);
}
