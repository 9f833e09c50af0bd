/**
 * Field-level transforms, with Kafka's names and options: InsertField, ReplaceField, MaskField,
 * ValueToKey, ExtractField, HoistField, Flatten. Each works on schemaless maps and on structs (a
 * new struct schema is derived).
 */
import { ConfigDef, getList, getOptionalString, NO_DEFAULT } from '../config-def.js';
import {
  asOptional,
  type ConnectRecord,
  fieldOf,
  type Schema,
  Schemas,
  type SinkRecord,
  structSchema,
} from '../data.js';
import { ConfigException, DataException } from '../errors.js';
import { FieldTransform, nonEmptyList } from './field-transform.js';
import { requireMap, requireStruct } from './transformation.js';

// ─── InsertField ────────────────────────────────────────────────────────────────────────────────

interface InsertSpec {
  name: string;
  optional: boolean;
}

function insertSpec(text: string | null): InsertSpec | null {
  if (text === null || text === '') return null;
  if (text.endsWith('!')) return { name: text.slice(0, -1), optional: false };
  if (text.endsWith('?')) return { name: text.slice(0, -1), optional: true };
  return { name: text, optional: true };
}

export class InsertField extends FieldTransform {
  private topic: InsertSpec | null = null;
  private partition: InsertSpec | null = null;
  private offset: InsertSpec | null = null;
  private timestamp: InsertSpec | null = null;
  private staticField: InsertSpec | null = null;
  private staticValue: string | null = null;

  config(): ConfigDef {
    const opt = (name: string, doc: string) =>
      ({ name, type: 'string', default: null, importance: 'medium', documentation: doc }) as const;
    return new ConfigDef()
      .define(
        opt(
          'topic.field',
          "Field name for Kafka topic. Suffix with '!' to make this a required field, or '?' to keep it optional (the default).",
        ),
      )
      .define(opt('partition.field', 'Field name for Kafka partition.'))
      .define(opt('offset.field', 'Field name for Kafka offset - only applicable to sink connectors.'))
      .define(opt('timestamp.field', 'Field name for record timestamp.'))
      .define(opt('static.field', 'Field name for static data field.'))
      .define(opt('static.value', 'Static field value, if field name configured.'));
  }

  protected override init(): void {
    this.topic = insertSpec(getOptionalString(this.cfg, 'topic.field'));
    this.partition = insertSpec(getOptionalString(this.cfg, 'partition.field'));
    this.offset = insertSpec(getOptionalString(this.cfg, 'offset.field'));
    this.timestamp = insertSpec(getOptionalString(this.cfg, 'timestamp.field'));
    this.staticField = insertSpec(getOptionalString(this.cfg, 'static.field'));
    this.staticValue = getOptionalString(this.cfg, 'static.value');
  }

  private additions(r: ConnectRecord): { spec: InsertSpec; schema: Schema; value: unknown }[] {
    const out: { spec: InsertSpec; schema: Schema; value: unknown }[] = [];
    const add = (spec: InsertSpec | null, schema: Schema, value: unknown) => {
      if (spec) out.push({ spec, schema: spec.optional ? asOptional(schema) : schema, value });
    };
    add(this.topic, Schemas.STRING, r.topic);
    add(this.partition, Schemas.INT32, r.kafkaPartition);
    if (this.offset) {
      const off = (r as Partial<SinkRecord>).kafkaOffset;
      if (off === undefined) throw new DataException('Offset field is only applicable to sink records');
      add(this.offset, Schemas.INT64, off);
    }
    add(this.timestamp, Schemas.TIMESTAMP, r.timestamp === null ? null : new Date(r.timestamp));
    add(this.staticField, Schemas.STRING, this.staticValue);
    return out;
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = this.side.value(r);
    if (value === null || value === undefined) return r;
    const schema = this.side.schema(r);
    const adds = this.additions(r);
    if (schema === null) {
      const map = { ...requireMap(value, 'field insertion') };
      for (const a of adds) map[a.spec.name] = a.value;
      return this.side.with(r, null, map);
    }
    const struct = requireStruct(schema, value, 'field insertion');
    const fields = [
      ...(schema.fields ?? []).map((f) => ({ name: f.name, schema: f.schema })),
      ...adds.map((a) => ({ name: a.spec.name, schema: a.schema })),
    ];
    const newSchema = structSchema(fields, {
      name: schema.name,
      optional: schema.optional,
      version: schema.version,
      doc: schema.doc,
    });
    const out: Record<string, unknown> = { ...struct };
    for (const a of adds) {
      if ((a.value === null || a.value === undefined) && !a.spec.optional)
        throw new DataException(`Invalid null value for required field "${a.spec.name}"`);
      out[a.spec.name] = a.value;
    }
    return this.side.with(r, newSchema, out);
  }
}

// ─── ReplaceField ───────────────────────────────────────────────────────────────────────────────

export class ReplaceField extends FieldTransform {
  private exclude = new Set<string>();
  private include = new Set<string>();
  private renames = new Map<string, string>();

  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'exclude',
        type: 'list',
        default: [],
        importance: 'medium',
        documentation: 'Fields to exclude. This takes precedence over the fields to include.',
      })
      .define({
        name: 'include',
        type: 'list',
        default: [],
        importance: 'medium',
        documentation: 'Fields to include. If specified, only these fields will be used.',
      })
      .define({
        name: 'blacklist',
        type: 'list',
        default: [],
        importance: 'low',
        documentation: 'Deprecated: use exclude.',
      })
      .define({
        name: 'whitelist',
        type: 'list',
        default: [],
        importance: 'low',
        documentation: 'Deprecated: use include.',
      })
      .define({
        name: 'renames',
        type: 'list',
        default: [],
        importance: 'medium',
        documentation: 'Field rename mappings, e.g. foo:bar,abc:xyz.',
        validator: Object.assign(
          (name: string, value: unknown) => {
            for (const pair of value as string[])
              if (!/^[^:]+:[^:]+$/.test(pair))
                throw new ConfigException(name, value, `Invalid rename mapping: ${pair}`);
          },
          { describe: 'list of colon-delimited pairs, e.g. foo:bar,abc:xyz' },
        ),
      });
  }

  protected override init(): void {
    this.exclude = new Set([...getList(this.cfg, 'exclude'), ...getList(this.cfg, 'blacklist')]);
    this.include = new Set([...getList(this.cfg, 'include'), ...getList(this.cfg, 'whitelist')]);
    this.renames = new Map(getList(this.cfg, 'renames').map((p) => p.split(':') as [string, string]));
  }

  private keep(name: string): boolean {
    return !this.exclude.has(name) && (this.include.size === 0 || this.include.has(name));
  }

  private renamed(name: string): string {
    return this.renames.get(name) ?? name;
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = this.side.value(r);
    if (value === null || value === undefined) return r;
    const schema = this.side.schema(r);
    if (schema === null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(requireMap(value, 'field replacement')))
        if (this.keep(k)) out[this.renamed(k)] = v;
      return this.side.with(r, null, out);
    }
    const struct = requireStruct(schema, value, 'field replacement');
    const kept = (schema.fields ?? []).filter((f) => this.keep(f.name));
    const newSchema = structSchema(
      kept.map((f) => ({ name: this.renamed(f.name), schema: f.schema })),
      { name: schema.name, optional: schema.optional, version: schema.version },
    );
    const out: Record<string, unknown> = {};
    for (const f of kept) out[this.renamed(f.name)] = struct[f.name];
    return this.side.with(r, newSchema, out);
  }
}

// ─── MaskField ──────────────────────────────────────────────────────────────────────────────────

function maskOf(value: unknown, schema: Schema | null, replacement: string | null, field: string): unknown {
  const type = schema?.type ?? inferType(value);
  if (replacement !== null) {
    switch (type) {
      case 'string':
        return replacement;
      case 'int8':
      case 'int16':
      case 'int32':
      case 'int64':
      case 'float32':
      case 'float64': {
        const n = Number(replacement);
        if (!Number.isFinite(n))
          throw new DataException(`Unable to convert ${replacement} (${typeof replacement}) to number`);
        return n;
      }
      default:
        throw new DataException(`Cannot mask value of type ${type} with custom replacement (field ${field})`);
    }
  }
  if (schema?.name?.endsWith('.Timestamp') || value instanceof Date) return new Date(0);
  switch (type) {
    case 'string':
      return '';
    case 'boolean':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    case 'array':
      return [];
    case 'map':
    case 'struct':
      return {};
    default:
      return 0;
  }
}

function inferType(value: unknown): Schema['type'] {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  if (Buffer.isBuffer(value)) return 'bytes';
  if (Array.isArray(value)) return 'array';
  return 'map';
}

export class MaskField extends FieldTransform {
  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'fields',
        type: 'list',
        default: NO_DEFAULT,
        importance: 'high',
        documentation: 'Names of fields to mask.',
        validator: nonEmptyList,
      })
      .define({
        name: 'replacement',
        type: 'string',
        default: null,
        importance: 'low',
        documentation:
          "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
      });
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = this.side.value(r);
    if (value === null || value === undefined) return r;
    const schema = this.side.schema(r);
    const fields = getList(this.cfg, 'fields');
    const replacement = getOptionalString(this.cfg, 'replacement');
    const source =
      schema === null ? requireMap(value, 'masking fields') : requireStruct(schema, value, 'masking fields');
    const out = { ...source };
    for (const f of fields) {
      if (!(f in out)) continue;
      out[f] = maskOf(out[f], schema ? (fieldOf(schema, f)?.schema ?? null) : null, replacement, f);
    }
    return this.side.with(r, schema, out);
  }
}
