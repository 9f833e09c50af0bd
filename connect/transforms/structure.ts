/**
 * Transforms that reshape a record: ValueToKey, ExtractField, HoistField, Flatten (Kafka's names
 * and options), on schemaless maps and on structs.
 */
import { ConfigDef, getList, getString, NO_DEFAULT } from '../config-def.js';
import { asOptional, type ConnectRecord, fieldOf, type Schema, structSchema } from '../data.js';
import { DataException } from '../errors.js';
import { FieldTransform, nonEmptyList } from './field-transform.js';
import { requireMap, requireStruct } from './transformation.js';

// ─── ValueToKey ─────────────────────────────────────────────────────────────────────────────────

export class ValueToKey extends FieldTransform {
  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'fields',
      type: 'list',
      default: NO_DEFAULT,
      importance: 'high',
      documentation: 'Field names on the record value to extract as the record key.',
      validator: nonEmptyList,
    });
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const fields = getList(this.cfg, 'fields');
    if (r.valueSchema === null) {
      const value = requireMap(r.value, 'copying fields from value to key');
      const key: Record<string, unknown> = {};
      for (const f of fields) key[f] = value[f];
      return { ...r, keySchema: null, key };
    }
    const value = requireStruct(r.valueSchema, r.value, 'copying fields from value to key');
    const keyFields = fields.map((f) => {
      const field = fieldOf(r.valueSchema!, f);
      if (!field) throw new DataException(`Field does not exist: ${f}`);
      return { name: f, schema: field.schema };
    });
    const key: Record<string, unknown> = {};
    for (const f of fields) key[f] = value[f];
    return { ...r, keySchema: structSchema(keyFields), key };
  }
}

// ─── ExtractField ───────────────────────────────────────────────────────────────────────────────

export class ExtractField extends FieldTransform {
  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'field',
      type: 'string',
      default: NO_DEFAULT,
      importance: 'medium',
      documentation: 'Field name to extract.',
    });
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const field = getString(this.cfg, 'field');
    const value = this.side.value(r);
    const schema = this.side.schema(r);
    if (schema === null) {
      if (value === null || value === undefined) return this.side.with(r, null, null);
      const map = requireMap(value, 'field extraction');
      return this.side.with(r, null, map[field] ?? null);
    }
    const f = fieldOf(schema, field);
    if (!f) throw new IllegalArgument(`Unknown field: ${field}`);
    if (value === null || value === undefined) return this.side.with(r, f.schema, null);
    const struct = requireStruct(schema, value, 'field extraction');
    return this.side.with(r, f.schema, struct[field] ?? null);
  }
}

class IllegalArgument extends DataException {}

// ─── HoistField ─────────────────────────────────────────────────────────────────────────────────

export class HoistField extends FieldTransform {
  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'field',
      type: 'string',
      default: NO_DEFAULT,
      importance: 'medium',
      documentation: 'Field name for the single field that will be created in the resulting Struct or Map.',
    });
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const field = getString(this.cfg, 'field');
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    if (schema === null) return this.side.with(r, null, { [field]: value });
    return this.side.with(r, structSchema([{ name: field, schema }]), { [field]: value });
  }
}

// ─── Flatten ────────────────────────────────────────────────────────────────────────────────────

export class Flatten extends FieldTransform {
  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'delimiter',
      type: 'string',
      default: '.',
      importance: 'medium',
      documentation:
        'Delimiter to insert between field names from the input record when generating field names for the output record',
    });
  }

  apply<R extends ConnectRecord>(r: R): R | null {
    const value = this.side.value(r);
    const schema = this.side.schema(r);
    const delim = getString(this.cfg, 'delimiter');
    if (value === null || value === undefined) return r;
    if (schema === null) {
      const out: Record<string, unknown> = {};
      const walk = (obj: Record<string, unknown>, prefix: string) => {
        for (const [k, v] of Object.entries(obj)) {
          const name = prefix === '' ? k : `${prefix}${delim}${k}`;
          if (
            v !== null &&
            typeof v === 'object' &&
            !Array.isArray(v) &&
            !Buffer.isBuffer(v) &&
            !(v instanceof Date)
          ) {
            walk(v instanceof Map ? Object.fromEntries(v) : (v as Record<string, unknown>), name);
          } else out[name] = v;
        }
      };
      walk(requireMap(value, 'flattening'), '');
      return this.side.with(r, null, out);
    }
    const struct = requireStruct(schema, value, 'flattening');
    const fields: { name: string; schema: Schema }[] = [];
    const out: Record<string, unknown> = {};
    const walk = (s: Schema, v: Record<string, unknown> | null, prefix: string, optionalParent: boolean) => {
      for (const f of s.fields ?? []) {
        const name = prefix === '' ? f.name : `${prefix}${delim}${f.name}`;
        const fv = v === null ? null : (v[f.name] ?? null);
        if (f.schema.type === 'struct')
          walk(
            f.schema,
            fv as Record<string, unknown> | null,
            name,
            optionalParent || f.schema.optional === true,
          );
        else {
          fields.push({ name, schema: optionalParent ? asOptional(f.schema) : f.schema });
          out[name] = fv;
        }
      }
    };
    walk(schema, struct, '', false);
    return this.side.with(
      r,
      structSchema(fields, { name: schema.name, optional: schema.optional, version: schema.version }),
      out,
    );
  }
}
