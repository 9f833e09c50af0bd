/**
 * Avro schemas as the registry sees them: parsing and validation (avsc), the normalized text the
 * registry stores and answers with, the canonical form two schemas are compared in, and the
 * compatibility rules, decided by Avro's schema resolution (avsc's `reader.createResolver(writer)`
 * throws when `reader` cannot read what `writer` wrote).
 *
 * Two texts are the same schema when their canonical forms are equal: the same JSON up to
 * whitespace and key order, with `{"type": "int"}` the same as `"int"`. Unlike Avro's Parsing
 * Canonical Form, it keeps defaults, aliases, docs and custom properties (`connect.name`,
 * `logicalType`…): two schemas that differ in a default resolve differently, so they must not share
 * an id. Avro's Parsing Canonical Form is available as {@link parsingCanonicalForm} (and its
 * fingerprint through avsc) for those who want it.
 */
import avro from 'avsc';
import { RegistryError } from './errors.js';

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export const COMPATIBILITY_LEVELS: readonly CompatibilityLevel[] = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
];

export function isCompatibilityLevel(v: unknown): v is CompatibilityLevel {
  return typeof v === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(v);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** `{"type":"int"}` → `"int"`, recursively through fields, items, values and unions. */
function collapse(node: Json): Json {
  if (Array.isArray(node)) return node.map(collapse);
  if (node === null || typeof node !== 'object') return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === 'type' && typeof node.type === 'string' && PRIMITIVES.has(node.type)) {
    return node.type;
  }
  const out: { [k: string]: Json } = {};
  for (const k of keys) {
    const v = node[k]!;
    if (k === 'type' || k === 'items' || k === 'values') out[k] = collapse(v);
    else if (k === 'fields' && Array.isArray(v)) {
      out[k] = v.map((f) =>
        f !== null && typeof f === 'object' && !Array.isArray(f) && 'type' in f
          ? { ...f, type: collapse(f.type!) }
          : f,
      );
    } else out[k] = v;
  }
  return out;
}

/** JSON with object keys sorted: equal for equal JSON whatever the key order. */
function stableStringify(node: Json): string {
  if (Array.isArray(node)) return `[${node.map(stableStringify).join(',')}]`;
  if (node === null || typeof node !== 'object') return JSON.stringify(node);
  return `{${Object.keys(node)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(node[k]!)}`)
    .join(',')}}`;
}

/**
 * The canonical form of a schema text (see the file comment), without validating it as Avro.
 * Texts that are not JSON are their own canonical form.
 */
export function canonicalForm(text: string, schemaType = 'AVRO'): string {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    return `${schemaType}:${text}`;
  }
  const form = stableStringify(schemaType === 'AVRO' ? collapse(json) : json);
  return schemaType === 'AVRO' ? form : `${schemaType}:${form}`;
}

export interface ParsedAvroSchema {
  /** What the registry stores and answers with: the schema as given, without insignificant whitespace. */
  readonly text: string;
  /** Identity: equal canonical forms are the same schema (same id). */
  readonly canonical: string;
  readonly type: avro.Type;
}

/** Parses and validates an Avro schema text; throws INVALID_SCHEMA (42201) saying what is wrong. */
export function parseAvroSchema(text: string): ParsedAvroSchema {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    throw new RegistryError(
      'INVALID_SCHEMA',
      `Invalid schema: not JSON (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(json as avro.Schema, { registry: {} });
  } catch (err) {
    throw new RegistryError(
      'INVALID_SCHEMA',
      `Invalid schema: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const collapsed = collapse(json);
  return { text: JSON.stringify(collapsed), canonical: stableStringify(collapsed), type };
}

/** Avro's Parsing Canonical Form of a valid schema (names, types, fields, symbols, items, values, size). */
export function parsingCanonicalForm(text: string): string {
  return JSON.stringify(parseAvroSchema(text).type.schema());
}

/** Why `reader` cannot read data written with `writer`, or undefined when it can. */
export function readError(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    // Java's SchemaCompatibility compares unqualified names of named types; so does Confluent.
    reader.createResolver(writer, { ignoreNamespaces: true });
    return undefined;
  } catch (err) {
    // avsc throws TypeErrors of its own when the kinds differ (a record read from a long…).
    if (err instanceof TypeError || !(err instanceof Error))
      return `cannot read ${describe(writer)} as ${describe(reader)}`;
    return err.message;
  }
}

function describe(t: avro.Type): string {
  return t.name !== undefined ? `${t.typeName} ${t.name}` : (t.typeName ?? 'union');
}

/** Confluent's errorType names, guessed from avsc's message. */
function errorType(message: string): string {
  if (message.includes('default-less')) return 'READER_FIELD_MISSING_DEFAULT_VALUE';
  if (message.includes('no alias found')) return 'NAME_MISMATCH';
  return 'TYPE_MISMATCH';
}

export interface PreviousSchema {
  readonly version: number;
  readonly text: string;
  readonly type: avro.Type;
}

/**
 * The reasons `candidate` may not be registered after `previous` (oldest first, live versions
 * only) under `level`; empty when it may. The transitive levels check every previous version, the
 * others the latest only. BACKWARD: the new schema reads data written with the old one; FORWARD:
 * the old one reads data written with the new one; FULL: both.
 */
export function compatibilityErrors(
  level: CompatibilityLevel,
  candidate: avro.Type,
  previous: readonly PreviousSchema[],
): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const old of [...against].reverse()) {
    const found: string[] = [];
    if (backward) {
      const e = readError(candidate, old.type);
      if (e) {
        found.push(
          `{errorType:'${errorType(e)}', description:'The new schema cannot read data written with version ${old.version}: ${e}'}`,
        );
      }
    }
    if (forward) {
      const e = readError(old.type, candidate);
      if (e) {
        found.push(
          `{errorType:'${errorType(e)}', description:'Version ${old.version} cannot read data written with the new schema: ${e}'}`,
        );
      }
    }
    if (found.length > 0) {
      messages.push(...found, `{oldSchemaVersion: ${old.version}}`, `{oldSchema: '${old.text}'}`);
    }
  }
  if (messages.length > 0) messages.push(`{compatibility: '${level}'}`);
  return messages;
}
