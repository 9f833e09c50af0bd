/**
 * Avro serde (avsc), in two wire formats:
 *
 * - `raw`: the Avro binary encoding alone (both sides agree on the schema);
 * - `confluent`: Confluent's framing — byte 0, the writer schema's id (4 bytes, big-endian), then
 *   the Avro binary — which is what Kafka's Avro serializers and schema registries use.
 *
 * A schema registry plugs in through {@link AvroSchemaSource}: the writer schema id to stamp on
 * what we write, and the writer schema of an id read (records written with an older or newer
 * schema are resolved to ours with Avro's schema resolution). Serdes are synchronous, so a
 * registry client looks ids up ahead (on startup) and answers from its cache here.
 */
import avro from 'avsc';
import { StreamsError } from './errors.js';
import type { Serde } from './types.js';

/** What a schema registry provides to the serde (synchronously, from its cache). */
export interface AvroSchemaSource {
  /** The id under which our schema is registered (written into each record). */
  readonly schemaId: number;
  /** The writer schema (JSON) of an id seen in a record, or undefined if unknown. */
  schemaById(id: number): object | string | undefined;
}

export interface AvroSerdeOptions {
  /** Default 'raw'; 'confluent' needs `registry` or `schemaId`. */
  wireFormat?: 'raw' | 'confluent';
  /** A fixed schema id for the confluent format when there is no registry client. */
  schemaId?: number;
  registry?: AvroSchemaSource;
}

const MAGIC = 0;
const HEADER_BYTES = 5;
const MAX_RESOLVERS = 64;

export function avroSerde<T>(schema: object | string, opts: AvroSerdeOptions = {}): Serde<T> {
  const type = avro.Type.forSchema(
    typeof schema === 'string' ? (JSON.parse(schema) as avro.Schema) : (schema as avro.Schema),
  );
  const format = opts.wireFormat ?? 'raw';
  const schemaId = opts.registry?.schemaId ?? opts.schemaId;
  if (format === 'confluent' && schemaId === undefined) {
    throw new StreamsError(
      'INVALID_CONFIG',
      "avroSerde: the 'confluent' wire format needs a registry or a schemaId",
    );
  }
  const resolvers = new Map<number, ReturnType<avro.Type['createResolver']> | null>();
  const fail = (topic: string, cause: unknown) =>
    new StreamsError(
      'SERDE_FAILED',
      `avro serde could not handle a record of topic '${topic}': ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  return {
    name: `avro(${format})`,
    serialize(value, topic) {
      if (value === null || value === undefined) return null;
      try {
        const body = type.toBuffer(value);
        if (format === 'raw') return body;
        const header = Buffer.alloc(HEADER_BYTES);
        header.writeUInt8(MAGIC, 0);
        header.writeInt32BE(schemaId!, 1);
        return Buffer.concat([header, body]);
      } catch (err) {
        throw fail(topic, err);
      }
    },
    deserialize(data, topic) {
      if (data === null) return null as T;
      try {
        if (format === 'raw') return type.fromBuffer(data) as T;
        if (data.length < HEADER_BYTES || data[0] !== MAGIC)
          throw new Error('not in the Confluent wire format');
        const id = data.readInt32BE(1);
        const body = data.subarray(HEADER_BYTES);
        if (id === schemaId) return type.fromBuffer(body) as T;
        let resolver = resolvers.get(id);
        if (resolver === undefined) {
          const writer = opts.registry?.schemaById(id);
          resolver = writer
            ? type.createResolver(
                avro.Type.forSchema(
                  (typeof writer === 'string' ? JSON.parse(writer) : writer) as avro.Schema,
                ),
              )
            : null;
          if (resolvers.size < MAX_RESOLVERS) resolvers.set(id, resolver);
        }
        if (!resolver) throw new Error(`unknown writer schema id ${id}`);
        return type.fromBuffer(body, resolver) as T;
      } catch (err) {
        throw fail(topic, err);
      }
    },
  };
}
