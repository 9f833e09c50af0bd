/**
 * Cast and TimestampConverter, with Kafka's options and conversions.
 */
import { ConfigDef, getList, getOptionalString, getString, NO_DEFAULT } from '../config-def.js';
import { type ConnectRecord, fieldOf, LOGICAL, type Schema, type SchemaType, structSchema } from '../data.js';
import { ConfigException, DataException } from '../errors.js';
import { formatDate, parseDate } from './date-format.js';
import { requireMap, requireStruct, type Side, type Transformation } from './transformation.js';

const CAST_TYPES = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string'] as const;
type CastType = (typeof CAST_TYPES)[number];
const WHOLE = '\u0000whole';

function castValue(value: unknown, to: CastType): unknown {
  if (value === null || value === undefined) return null;
  if (to === 'string') {
    if (Buffer.isBuffer(value)) return value.toString('base64');
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }
  if (to === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value !== 0;
    if (typeof value === 'string') return value.trim().toLowerCase() === 'true';
    throw new DataException(`Unexpected type in Cast transformation: ${typeof value}`);
  }
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'boolean') n = value ? 1 : 0;
  else if (typeof value === 'string') n = Number(value.trim());
  else if (value instanceof Date) n = value.getTime();
  else throw new DataException(`Unexpected type in Cast transformation: ${typeof value}`);
  if (Number.isNaN(n)) throw new DataException(`Value ${String(value)} cannot be cast to ${to}`);
  switch (to) {
    case 'int8':
      return (Math.trunc(n) << 24) >> 24;
    case 'int16':
      return (Math.trunc(n) << 16) >> 16;
    case 'int32':
      return Math.trunc(n) | 0;
    case 'int64':
      return Math.trunc(n);
    case 'float32':
      return Math.fround(n);
    default:
      return n;
  }
}

export class Cast implements Transformation {
  private casts = new Map<string, CastType>();
  constructor(private readonly side: Side) {}

  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'spec',
      type: 'list',
      default: NO_DEFAULT,
      importance: 'high',
      documentation:
        'List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string.',
      validator: Object.assign(
        (name: string, value: unknown) => {
          const list = value as string[];
          if (list.length === 0)
            throw new ConfigException(name, value, 'Must specify at least one field to cast.');
          for (const item of list) {
            const [field, type] = item.includes(':') ? item.split(':') : [WHOLE, item];
            if (!CAST_TYPES.includes(type?.trim() as CastType))
              throw new ConfigException(name, value, `Invalid type found in casting spec: ${type?.trim()}`);
            if (field === WHOLE && list.length > 1)
              throw new ConfigException(
                name,
                value,
                'Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec',
              );
          }
        },
        { describe: 'list of colon-delimited pairs, e.g. foo:bar,abc:xyz' },
      ),
    });
  }

  configure(props: Readonly<Record<string, string>>): void {
    const cfg = this.config().parse(props);
    this.casts = new Map(
      getList(cfg, 'spec').map((item) => {
        const [field, type] = item.includes(':') ? item.split(':') : [WHOLE, item];
        return [field!.trim(), type!.trim() as CastType];
      }),
    );
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = this.side.value(r);
    const schema = this.side.schema(r);
    const whole = this.casts.get(WHOLE);
    if (whole)
      return this.side.with(
        r,
        schema === null ? null : { type: whole, optional: schema.optional },
        castValue(value, whole),
      );
    if (value === null || value === undefined) return r;
    if (schema === null) {
      const out = { ...requireMap(value, 'cast') };
      for (const [f, t] of this.casts) if (f in out) out[f] = castValue(out[f], t);
      return this.side.with(r, null, out);
    }
    const struct = requireStruct(schema, value, 'cast');
    const out: Record<string, unknown> = {};
    const fields = (schema.fields ?? []).map((f) => {
      const t = this.casts.get(f.name);
      out[f.name] = t ? castValue(struct[f.name], t) : struct[f.name];
      return {
        name: f.name,
        schema: t ? ({ type: t as SchemaType, optional: f.schema.optional } as Schema) : f.schema,
      };
    });
    return this.side.with(
      r,
      structSchema(fields, { name: schema.name, optional: schema.optional, version: schema.version }),
      out,
    );
  }
}

// ─── TimestampConverter ─────────────────────────────────────────────────────────────────────────

type TargetType = 'string' | 'unix' | 'Date' | 'Time' | 'Timestamp';
const PRECISION = { seconds: 1000, milliseconds: 1, microseconds: 0.001, nanoseconds: 0.000001 } as const;
const DAY_MS = 86_400_000;

export class TimestampConverter implements Transformation {
  private field = '';
  private target: TargetType = 'Timestamp';
  private format: string | null = null;
  private precision: keyof typeof PRECISION = 'milliseconds';
  constructor(private readonly side: Side) {}

  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'field',
        type: 'string',
        default: '',
        importance: 'high',
        documentation: 'The field containing the timestamp, or empty if the entire value is a timestamp',
      })
      .define({
        name: 'target.type',
        type: 'string',
        default: NO_DEFAULT,
        importance: 'high',
        documentation: 'The desired timestamp representation: string, unix, Date, Time, or Timestamp',
        validator: Object.assign(
          (name: string, v: unknown) => {
            if (!['string', 'unix', 'Date', 'Time', 'Timestamp'].includes(String(v)))
              throw new ConfigException(
                name,
                v,
                'String must be one of: string, unix, Date, Time, Timestamp',
              );
          },
          { describe: '[string, unix, Date, Time, Timestamp]' },
        ),
      })
      .define({
        name: 'format',
        type: 'string',
        default: '',
        importance: 'medium',
        documentation:
          'A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.',
      })
      .define({
        name: 'unix.precision',
        type: 'string',
        default: 'milliseconds',
        importance: 'low',
        documentation:
          'The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds.',
        validator: Object.assign(
          (name: string, v: unknown) => {
            if (!(String(v) in PRECISION))
              throw new ConfigException(
                name,
                v,
                'String must be one of: seconds, milliseconds, microseconds, nanoseconds',
              );
          },
          { describe: '[nanoseconds, microseconds, milliseconds, seconds]' },
        ),
      });
  }

  configure(props: Readonly<Record<string, string>>): void {
    const cfg = this.config().parse(props);
    this.field = getString(cfg, 'field');
    this.target = getString(cfg, 'target.type') as TargetType;
    const f = getOptionalString(cfg, 'format');
    this.format = f === '' ? null : f;
    this.precision = getString(cfg, 'unix.precision') as keyof typeof PRECISION;
    if (this.target === 'string' && this.format === null) {
      throw new ConfigException(
        'format',
        '',
        'TimestampConverter requires format option to be specified when using string timestamps',
      );
    }
  }

  private toDate(value: unknown, schema: Schema | null): Date {
    if (value instanceof Date) return value;
    if (typeof value === 'number') {
      if (schema?.name === LOGICAL.date) return new Date(value * DAY_MS);
      if (schema?.name === LOGICAL.timestamp || schema?.name === LOGICAL.time) return new Date(value);
      return new Date(Math.floor(value * PRECISION[this.precision]));
    }
    if (typeof value === 'string') {
      if (this.format === null)
        throw new DataException(
          'TimestampConverter requires format option to be specified when using string timestamps',
        );
      return parseDate(value, this.format);
    }
    throw new DataException(`Expected a Date, long or String timestamp, found ${typeof value}`);
  }

  private convert(value: unknown, schema: Schema | null): { schema: Schema; value: unknown } {
    const optional = schema?.optional === true;
    if (value === null || value === undefined) return { schema: this.targetSchema(optional), value: null };
    const date = this.toDate(value, schema);
    switch (this.target) {
      case 'string':
        return { schema: this.targetSchema(optional), value: formatDate(date, this.format!) };
      case 'unix':
        return {
          schema: this.targetSchema(optional),
          value: Math.floor(date.getTime() / PRECISION[this.precision]),
        };
      case 'Date':
        return {
          schema: this.targetSchema(optional),
          value: new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS),
        };
      case 'Time':
        return {
          schema: this.targetSchema(optional),
          value: new Date(((date.getTime() % DAY_MS) + DAY_MS) % DAY_MS),
        };
      case 'Timestamp':
        return { schema: this.targetSchema(optional), value: date };
    }
  }

  private targetSchema(optional: boolean): Schema {
    switch (this.target) {
      case 'string':
        return { type: 'string', optional };
      case 'unix':
        return { type: 'int64', optional };
      case 'Date':
        return { type: 'int32', name: LOGICAL.date, version: 1, optional };
      case 'Time':
        return { type: 'int32', name: LOGICAL.time, version: 1, optional };
      case 'Timestamp':
        return { type: 'int64', name: LOGICAL.timestamp, version: 1, optional };
    }
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = this.side.value(r);
    const schema = this.side.schema(r);
    if (this.field === '') {
      const c = this.convert(value, schema);
      return this.side.with(r, schema === null ? null : c.schema, c.value);
    }
    if (value === null || value === undefined) return r;
    if (schema === null) {
      const out = { ...requireMap(value, 'converting timestamp formats') };
      out[this.field] = this.convert(out[this.field], null).value;
      return this.side.with(r, null, out);
    }
    const struct = requireStruct(schema, value, 'converting timestamp formats');
    const out: Record<string, unknown> = { ...struct };
    const fields = (schema.fields ?? []).map((f) => {
      if (f.name !== this.field) return { name: f.name, schema: f.schema };
      const c = this.convert(struct[f.name], f.schema);
      out[f.name] = c.value;
      return { name: f.name, schema: c.schema };
    });
    if (!fieldOf(schema, this.field)) throw new DataException(`Field does not exist: ${this.field}`);
    return this.side.with(
      r,
      structSchema(fields, { name: schema.name, optional: schema.optional, version: schema.version }),
      out,
    );
  }
}
