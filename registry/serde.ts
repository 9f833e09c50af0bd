/**
 * An Avro serde in Confluent's wire format (0x00, schema id, Avro body) backed by a schema
 * registry: what Kafka's KafkaAvroSerializer/Deserializer do, as a streams `Serde<T>`
 * (`{ name, serialize(value, topic), deserialize(data, topic) }`, matched structurally).
 *
 * Writing: the subject comes from the subject name strategy; the schema's id is found by
 * registering it (`autoRegister`, default true), by looking it up, or (`useLatestVersion`) the
 * subject's latest schema is used to write. Reading: the writer schema comes from the record's id;
 * with a reader `schema`, data written with older (or newer) compatible schemas is resolved to it
 * (Avro schema resolution: defaults filled in, removed fields skipped, int widened to long…).
 *
 * Serdes are synchronous: ids are cached after the first use; `prepare(topic)` (or
 * {@link createAvroSerde} with `topics`) resolves them ahead, and is required when the registry
 * runs in this same thread and the schema is new (it cannot be registered synchronously there).
 */
import avro from 'avsc';
import { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { type SubjectNameStrategy, schemaFullName, subjectNameStrategy } from './strategy.js';
import { frame, unframe } from './wire.js';

export interface AvroSerdeOptions {
  /** The registry: its URL(s) (`schema.registry.url`) or a client to share caches with. */
  registry: string | RegistryClient;
  /** The schema values are written with and read into. Without it, values are read with their writer schema and cannot be written. */
  schema?: string | object;
  /** Key or value serde (the subject is `<topic>-key` or `<topic>-value` by default). */
  isKey?: boolean;
  /** TopicNameStrategy (default), RecordNameStrategy, TopicRecordNameStrategy, or a function. */
  subjectNameStrategy?: string | SubjectNameStrategy;
  /** Register the schema when it is not there yet (Confluent's `auto.register.schemas`). Default true. */
  autoRegister?: boolean;
  /** Write with the subject's latest schema instead of ours (`use.latest.version`). Default false. */
  useLatestVersion?: boolean;
  /** avsc options for parsing schemas (`logicalTypes`, `wrapUnions`…). */
  avroOptions?: Partial<avro.ForSchemaOptions>;
  /** Writer resolvers kept per serde. Default 100. */
  maxResolvers?: number;
}

export interface AvroSerde<T> {
  readonly name: string;
  serialize(value: T, topic: string): Buffer | null;
  deserialize(data: Buffer | null, topic: string): T;
  /** Resolves (registers or looks up) the schema id used for `topic`, so serialize never blocks. */
  prepare(topic: string): Promise<number>;
  /** The id `serialize` stamps for `topic`, once known. */
  schemaIdFor(topic: string): number | undefined;
}

function text(schema: string | object): string {
  return typeof schema === 'string' ? JSON.stringify(JSON.parse(schema)) : JSON.stringify(schema);
}

export function avroSerde<T = unknown>(opts: AvroSerdeOptions): AvroSerde<T> {
  const client = typeof opts.registry === 'string' ? new RegistryClient(opts.registry) : opts.registry;
  const isKey = opts.isKey === true;
  const strategy = subjectNameStrategy(opts.subjectNameStrategy);
  const autoRegister = opts.autoRegister ?? true;
  const useLatest = opts.useLatestVersion === true;
  const maxResolvers = opts.maxResolvers ?? 100;
  const avroOptions = opts.avroOptions ?? {};
  const schemaText = opts.schema === undefined ? undefined : text(opts.schema);
  const parse = (t: string): avro.Type =>
    avro.Type.forSchema(JSON.parse(t) as avro.Schema, { ...avroOptions, registry: {} });
  const readerType = schemaText === undefined ? undefined : parse(schemaText);
  const fullName = schemaText === undefined ? undefined : schemaFullName(JSON.parse(schemaText));
  /** topic → [id, writer type] */
  const writers = new Map<string, { id: number; type: avro.Type }>();
  const resolvers = new Map<number, { type: avro.Type; resolver?: avro.Resolver }>();
  const kind = isKey ? 'key' : 'value';

  const fail = (topic: string, what: string, cause: unknown): RegistryError =>
    new RegistryError(
      'SERIALIZATION_FAILED',
      `avro serde could not ${what} a ${kind} of topic '${topic}': ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );

  const needSchema = (): string => {
    if (schemaText === undefined) {
      throw new RegistryError('INVALID_CONFIG', 'this avro serde has no schema: it can read but not write');
    }
    return schemaText;
  };

  const writerFor = (topic: string): { id: number; type: avro.Type } => {
    let w = writers.get(topic);
    if (!w) {
      const subject = strategy(topic, isKey, fullName);
      if (useLatest) {
        const latest = client.latestSync(subject);
        w = { id: latest.id, type: parse(latest.schema) };
      } else {
        const s = needSchema();
        const id = autoRegister ? client.registerSync(subject, s) : client.lookupSync(subject, s);
        w = { id, type: readerType! };
      }
      writers.set(topic, w);
    }
    return w;
  };

  return {
    name: 'avro(registry)',
    async prepare(topic) {
      const subject = strategy(topic, isKey, fullName);
      let w: { id: number; type: avro.Type };
      if (useLatest) {
        const latest = await client.latest(subject);
        w = { id: latest.id, type: parse(latest.schema) };
      } else {
        const s = needSchema();
        const id = autoRegister ? await client.register(subject, s) : (await client.lookup(subject, s)).id;
        w = { id, type: readerType! };
      }
      writers.set(topic, w);
      return w.id;
    },
    schemaIdFor: (topic) => writers.get(topic)?.id,
    serialize(value, topic) {
      if (value === null || value === undefined) return null;
      let w: { id: number; type: avro.Type };
      try {
        w = writerFor(topic);
      } catch (err) {
        throw err instanceof RegistryError && err.code !== 'SERIALIZATION_FAILED'
          ? err
          : fail(topic, 'serialize', err);
      }
      try {
        return frame(w.id, w.type.toBuffer(value));
      } catch (err) {
        throw fail(topic, 'serialize', err);
      }
    },
    deserialize(data, topic) {
      if (data === null) return null as T;
      try {
        const { schemaId, body } = unframe(data);
        let r = resolvers.get(schemaId);
        if (!r) {
          const writer = client.avroTypeSync(schemaId);
          // Same Parsing Canonical Form: the same binary layout, read directly (no resolver).
          r =
            readerType === undefined
              ? { type: writer }
              : writer.equals(readerType)
                ? { type: readerType }
                : { type: readerType, resolver: readerType.createResolver(writer) };
          if (resolvers.size >= maxResolvers) resolvers.delete(resolvers.keys().next().value!);
          resolvers.set(schemaId, r);
        }
        return (r.resolver ? r.type.fromBuffer(body, r.resolver) : r.type.fromBuffer(body)) as T;
      } catch (err) {
        throw err instanceof RegistryError && err.code !== 'SERIALIZATION_FAILED'
          ? err
          : fail(topic, 'deserialize', err);
      }
    },
  };
}

/** {@link avroSerde}, with the schema ids of `topics` resolved before it returns. */
export async function createAvroSerde<T = unknown>(
  opts: AvroSerdeOptions & { topics?: readonly string[] },
): Promise<AvroSerde<T>> {
  const serde = avroSerde<T>(opts);
  for (const t of opts.topics ?? []) await serde.prepare(t);
  return serde;
}

/**
 * What streams' own `avroSerde(schema, { wireFormat: 'confluent', registry })` takes
 * (`AvroSchemaSource`): our schema's id under `subject` (registered if new) and writer schemas by
 * id, from the client's caches (blocking on a miss).
 */
export async function avroSchemaSource(opts: {
  registry: string | RegistryClient;
  subject: string;
  schema: string | object;
  autoRegister?: boolean;
}): Promise<{ readonly schemaId: number; schemaById(id: number): string | undefined }> {
  const client = typeof opts.registry === 'string' ? new RegistryClient(opts.registry) : opts.registry;
  const s = text(opts.schema);
  const schemaId =
    opts.autoRegister === false
      ? (await client.lookup(opts.subject, s)).id
      : await client.register(opts.subject, s);
  return {
    schemaId,
    schemaById(id) {
      try {
        return client.getSchemaByIdSync(id).schema;
      } catch {
        return undefined;
      }
    },
  };
}
