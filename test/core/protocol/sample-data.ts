/**
 * Builds sample data for a message version from its schema: every field present in the
 * version gets a non-default value (or null / [] in the "sparse" variant where allowed), every
 * absent field its default. Decoding the encoding of such data must give it back unchanged.
 */
import type { Field, Fields, MessageSchema } from '../../../core/protocol/schema.js';
import { inVersions } from '../../../core/protocol/schema.js';

export type Variant = 'full' | 'sparse';
type Value = unknown;

const NUMBERS: Record<string, number> = {
  int8: 7,
  int16: 300,
  int32: 70_000,
  int64: 2 ** 40 + 5,
  uint16: 65_000,
  uint32: 4_000_000_000,
  float64: 1.5,
};

export function defaultFor(field: Field): Value {
  if (field.default !== undefined) return field.default;
  switch (field.kind) {
    case 'array':
      return [];
    case 'struct':
      return Object.fromEntries(Object.entries(field.fields).map(([k, f]) => [k, defaultFor(f)]));
    case 'scalar':
      switch (field.type) {
        case 'bool':
          return false;
        case 'string':
          return '';
        case 'bytes':
          return Buffer.alloc(0);
        case 'records':
          return null;
        case 'uuid':
          return 'AAAAAAAAAAAAAAAAAAAAAA';
        default:
          return 0;
      }
  }
}

function scalarSample(type: string, name: string, version: number, def: unknown, salt: number): Value {
  switch (type) {
    case 'bool':
      return def !== true;
    case 'string':
      return `${name}-v${version}-${salt}-ü`;
    case 'bytes':
      return Buffer.from([1, 2, 3, salt & 0xff]);
    case 'records':
      return Buffer.from(`records-${name}-${salt}`);
    case 'uuid': {
      const b = Buffer.alloc(16, salt + 1);
      b[0] = version;
      return b.toString('base64url');
    }
    default: {
      let n = NUMBERS[type]! + salt;
      if (n === def) n += 1;
      return n;
    }
  }
}

function fieldSample(name: string, field: Field, version: number, variant: Variant, salt: number): Value {
  if (!inVersions(field.versions, version)) return defaultFor(field);
  const nullable = inVersions(field.nullableVersions, version);
  if (variant === 'sparse' && nullable) return null;
  switch (field.kind) {
    case 'scalar':
      return scalarSample(field.type, name, version, field.default, salt);
    case 'array': {
      if (variant === 'sparse') return [];
      const items = field.items;
      return [0, 1].map((i) =>
        typeof items === 'string'
          ? scalarSample(items, name, version, undefined, salt + i)
          : structSample(items, version, variant, salt + i + 1),
      );
    }
    case 'struct':
      return structSample(field.fields, version, variant, salt + 1);
  }
}

export function structSample(
  fields: Fields,
  version: number,
  variant: Variant,
  salt = 0,
): Record<string, Value> {
  const out: Record<string, Value> = {};
  let i = 0;
  for (const [name, field] of Object.entries(fields)) {
    out[name] = fieldSample(name, field, version, variant, salt + i++);
  }
  return out;
}

export function sample(schema: MessageSchema, version: number, variant: Variant): Record<string, Value> {
  return structSample(schema.fields, version, variant);
}

export function versionsOf(spec: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec);
  if (!m) throw new Error(`bad range ${spec}`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}
