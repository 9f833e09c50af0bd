/**
 * Connect's data model, as in Kafka Connect's `org.apache.kafka.connect.data`: schemas (primitive,
 * array, map, struct, with names, versions, parameters and logical types) and the records that
 * flow between connectors, converters and transforms.
 *
 * Values are plain JavaScript: a struct is an object whose keys are its fields, a map an object
 * (string keys) or a Map, bytes a Buffer, int64 a number (exact up to 2^53), and the logical types
 * Timestamp, Date and Time a `Date`.
 */

export type SchemaType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'map'
  | 'struct';

export interface Field {
  readonly name: string;
  readonly index: number;
  readonly schema: Schema;
}

export interface Schema {
  readonly type: SchemaType;
  readonly optional?: boolean;
  readonly defaultValue?: unknown;
  readonly name?: string;
  readonly version?: number;
  readonly doc?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  /** struct only */
  readonly fields?: readonly Field[];
  /** map only */
  readonly keySchema?: Schema;
  /** array and map */
  readonly valueSchema?: Schema;
}

/** Kafka's logical type names. */
export const LOGICAL = {
  timestamp: 'org.apache.kafka.connect.data.Timestamp',
  date: 'org.apache.kafka.connect.data.Date',
  time: 'org.apache.kafka.connect.data.Time',
  decimal: 'org.apache.kafka.connect.data.Decimal',
} as const;

const prim = (type: SchemaType, optional = false): Schema => ({ type, optional });

/** Kafka's Schema.*_SCHEMA constants. */
export const Schemas = {
  INT8: prim('int8'),
  INT16: prim('int16'),
  INT32: prim('int32'),
  INT64: prim('int64'),
  FLOAT32: prim('float32'),
  FLOAT64: prim('float64'),
  BOOLEAN: prim('boolean'),
  STRING: prim('string'),
  BYTES: prim('bytes'),
  OPTIONAL_INT8: prim('int8', true),
  OPTIONAL_INT16: prim('int16', true),
  OPTIONAL_INT32: prim('int32', true),
  OPTIONAL_INT64: prim('int64', true),
  OPTIONAL_FLOAT32: prim('float32', true),
  OPTIONAL_FLOAT64: prim('float64', true),
  OPTIONAL_BOOLEAN: prim('boolean', true),
  OPTIONAL_STRING: prim('string', true),
  OPTIONAL_BYTES: prim('bytes', true),
  TIMESTAMP: { type: 'int64', name: LOGICAL.timestamp, version: 1 } as Schema,
  OPTIONAL_TIMESTAMP: { type: 'int64', name: LOGICAL.timestamp, version: 1, optional: true } as Schema,
} as const;

/** A struct schema from fields in order. */
export function structSchema(
  fields: readonly { name: string; schema: Schema }[],
  opts: { name?: string; optional?: boolean; version?: number; doc?: string } = {},
): Schema {
  return {
    type: 'struct',
    ...opts,
    fields: fields.map((f, index) => ({ name: f.name, index, schema: f.schema })),
  };
}

export function fieldOf(schema: Schema, name: string): Field | undefined {
  return schema.fields?.find((f) => f.name === name);
}

/** A copy of a schema marked optional (SchemaUtil.copySchemaBasics + optional()). */
export function asOptional(schema: Schema): Schema {
  return schema.optional ? schema : { ...schema, optional: true };
}

export interface ConnectHeader {
  readonly key: string;
  readonly schema: Schema | null;
  readonly value: unknown;
}

/** What every record has: where it goes (or came from), its key, value, schemas, timestamp and headers. */
export interface ConnectRecord {
  readonly topic: string;
  /** null: let the producer's partitioner decide. */
  readonly kafkaPartition: number | null;
  readonly keySchema: Schema | null;
  readonly key: unknown;
  readonly valueSchema: Schema | null;
  readonly value: unknown;
  /** Milliseconds since the epoch, or null. */
  readonly timestamp: number | null;
  readonly headers: readonly ConnectHeader[];
}

/** Where a source record came from in the source system, as JSON-able maps (Kafka's sourcePartition/sourceOffset). */
export type SourceMap = Readonly<Record<string, unknown>>;

export interface SourceRecord extends ConnectRecord {
  readonly sourcePartition: SourceMap | null;
  readonly sourceOffset: SourceMap | null;
}

export interface SinkRecord extends ConnectRecord {
  readonly kafkaPartition: number;
  readonly kafkaOffset: number;
  readonly timestampType: 'CreateTime' | 'LogAppendTime' | 'NoTimestampType';
  /** The topic, partition and offset as read, before any transform changed them. */
  readonly originalTopic: string;
  readonly originalKafkaPartition: number;
  readonly originalKafkaOffset: number;
}

/** A source record with defaults: `{ topic, value }` is enough. */
export function sourceRecord(r: Partial<SourceRecord> & { topic: string; value: unknown }): SourceRecord {
  return {
    kafkaPartition: null,
    keySchema: null,
    key: null,
    valueSchema: null,
    timestamp: null,
    headers: [],
    sourcePartition: null,
    sourceOffset: null,
    ...r,
  };
}

export interface TopicPartitionKey {
  topic: string;
  partition: number;
}

/** Offsets a sink task commits: topic-partition → the next offset to read. */
export type SinkOffsets = Map<string, { topic: string; partition: number; offset: number }>;

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
