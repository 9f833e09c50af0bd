/**
 * The records of the `_schemas` topic, in Confluent Schema Registry's layout, so that a Confluent
 * registry pointed at the same topic reads what Tributary wrote (and the other way round).
 *
 * One partition, compacted (`cleanup.policy=compact`). Keys and values are JSON; a key's fields
 * are written in Confluent's order (Jackson `@JsonPropertyOrder`), so the same key is the same
 * bytes whoever wrote it and compaction keeps only the newest:
 *
 * | key                                                            | value                                                   |
 * | -------------------------------------------------------------- | ------------------------------------------------------- |
 * | `{"keytype":"SCHEMA","subject":S,"version":V,"magic":1}`       | `{"subject","version","id","schema","deleted"}` (+`schemaType` when not Avro); null: permanently deleted |
 * | `{"keytype":"CONFIG","subject":S,"magic":0}` (no subject: global) | `{"compatibilityLevel":"BACKWARD"}`; null: removed     |
 * | `{"keytype":"MODE","subject":S,"magic":0}` (no subject: global)   | `{"mode":"READONLY"}`; null: removed                   |
 * | `{"keytype":"DELETE_SUBJECT","subject":S,"magic":0}`           | `{"subject":S,"version":V}`: versions ≤ V soft-deleted  |
 * | `{"keytype":"CLEAR_SUBJECT","subject":S,"magic":0}`            | `{"subject":S}`: soft-deleted versions removed          |
 * | `{"keytype":"NOOP","magic":0}`                                 | null (Confluent's leader writes these; ignored)         |
 *
 * Tributary writes SCHEMA, CONFIG and MODE records (a soft delete rewrites each version with
 * `deleted: true`); it reads all six.
 */

export const SCHEMAS_TOPIC = '_schemas';

export type Mode = 'READWRITE' | 'READONLY' | 'READONLY_OVERRIDE' | 'IMPORT';
export const MODES: readonly Mode[] = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'];

export type StoreKey =
  | { readonly keytype: 'SCHEMA'; readonly subject: string; readonly version: number }
  | { readonly keytype: 'CONFIG' | 'MODE'; readonly subject: string | null }
  | { readonly keytype: 'DELETE_SUBJECT' | 'CLEAR_SUBJECT'; readonly subject: string }
  | { readonly keytype: 'NOOP' };

export interface SchemaValue {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  /** Omitted for Avro. */
  readonly schemaType?: string;
  readonly schema: string;
  readonly deleted: boolean;
}

export function encodeKey(key: StoreKey): Buffer {
  let json: string;
  switch (key.keytype) {
    case 'SCHEMA':
      json = `{"keytype":"SCHEMA","subject":${JSON.stringify(key.subject)},"version":${key.version},"magic":1}`;
      break;
    case 'CONFIG':
    case 'MODE':
      json =
        key.subject === null
          ? `{"keytype":"${key.keytype}","magic":0}`
          : `{"keytype":"${key.keytype}","subject":${JSON.stringify(key.subject)},"magic":0}`;
      break;
    case 'DELETE_SUBJECT':
    case 'CLEAR_SUBJECT':
      json = `{"keytype":"${key.keytype}","subject":${JSON.stringify(key.subject)},"magic":0}`;
      break;
    case 'NOOP':
      json = '{"keytype":"NOOP","magic":0}';
      break;
  }
  return Buffer.from(json, 'utf8');
}

function obj(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A key read from the topic, or undefined for what this registry does not know (skipped). */
export function decodeKey(bytes: Buffer | null): StoreKey | undefined {
  if (!bytes) return undefined;
  const k = obj(bytes);
  if (!k) return undefined;
  const subject = typeof k.subject === 'string' ? k.subject : null;
  switch (k.keytype) {
    case 'SCHEMA':
      return subject !== null && Number.isInteger(k.version)
        ? { keytype: 'SCHEMA', subject, version: k.version as number }
        : undefined;
    case 'CONFIG':
    case 'MODE':
      return { keytype: k.keytype, subject };
    case 'DELETE_SUBJECT':
    case 'CLEAR_SUBJECT':
      return subject !== null ? { keytype: k.keytype, subject } : undefined;
    case 'NOOP':
      return { keytype: 'NOOP' };
    default:
      return undefined;
  }
}

export function encodeSchemaValue(v: SchemaValue): Buffer {
  const out: Record<string, unknown> = { subject: v.subject, version: v.version, id: v.id };
  if (v.schemaType !== undefined && v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  out.schema = v.schema;
  out.deleted = v.deleted;
  return Buffer.from(JSON.stringify(out), 'utf8');
}

export function decodeSchemaValue(bytes: Buffer): SchemaValue | undefined {
  const v = obj(bytes);
  if (!v) return undefined;
  if (typeof v.subject !== 'string' || !Number.isInteger(v.version) || !Number.isInteger(v.id))
    return undefined;
  if (typeof v.schema !== 'string') return undefined;
  return {
    subject: v.subject,
    version: v.version as number,
    id: v.id as number,
    ...(typeof v.schemaType === 'string' && v.schemaType !== 'AVRO' ? { schemaType: v.schemaType } : {}),
    schema: v.schema,
    deleted: v.deleted === true,
  };
}

export function encodeJson(value: Readonly<Record<string, unknown>>): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function decodeJson(bytes: Buffer): Record<string, unknown> | undefined {
  return obj(bytes);
}
