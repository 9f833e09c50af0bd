/**
 * Kafka Connect's Avro converter, as Confluent's `io.confluent.connect.avro.AvroConverter`:
 * Connect data ⇄ Confluent-framed Avro with the schema in a registry. It satisfies connect's
 * `Converter` interface structurally (configure / fromConnectData / toConnectData).
 *
 * Configuration (under `key.converter.` / `value.converter.` in a worker or connector config):
 * `schema.registry.url` (required), `auto.register.schemas` (default true),
 * `use.latest.version` (default false), `key.subject.name.strategy` /
 * `value.subject.name.strategy` (default TopicNameStrategy), `basic.auth.user.info`,
 * `latest.cache.size` (default 1000).
 */
import avro from 'avsc';
import { RegistryClient } from './client.js';
import {
  type ConnectSchema,
  fromAvroValue,
  inferSchema,
  toAvroSchema,
  toAvroValue,
  toConnectSchema,
} from './connect-avro.js';
import { RegistryError } from './errors.js';
import { type SubjectNameStrategy, schemaFullName, subjectNameStrategy } from './strategy.js';
import { frame, unframe } from './wire.js';

/** Connect's class name for this converter, and the short name. */
export const AVRO_CONVERTER_NAMES = ['io.confluent.connect.avro.AvroConverter', 'AvroConverter'] as const;

export interface SchemaAndValue {
  schema: ConnectSchema | null;
  value: unknown;
}

const CACHE = 1000;

export class AvroConverter {
  private client: RegistryClient | undefined;
  private isKey = false;
  private autoRegister = true;
  private useLatest = false;
  private strategy: SubjectNameStrategy = subjectNameStrategy(undefined);
  /** Connect schema → [Avro schema text, avsc type] */
  private readonly toAvro = new WeakMap<
    ConnectSchema,
    { text: string; type: avro.Type; fullName?: string }
  >();
  private readonly byText = new Map<string, { text: string; type: avro.Type; fullName?: string }>();
  /** subject\0text → id */
  private readonly ids = new Map<string, number>();
  /** id → reading state */
  private readonly readers = new Map<number, { type: avro.Type; schema: ConnectSchema }>();

  configure(configs: Readonly<Record<string, string>>, isKey: boolean): void {
    const url = configs['schema.registry.url'];
    if (!url) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `Missing required configuration "schema.registry.url" for the Avro ${isKey ? 'key' : 'value'} converter`,
      );
    }
    this.client = new RegistryClient({
      url,
      ...(configs['basic.auth.user.info'] ? { basicAuth: configs['basic.auth.user.info'] } : {}),
      cacheCapacity: Number(configs['latest.cache.size'] ?? CACHE),
    });
    this.isKey = isKey;
    this.autoRegister = (configs['auto.register.schemas'] ?? 'true').toLowerCase() !== 'false';
    this.useLatest = (configs['use.latest.version'] ?? 'false').toLowerCase() === 'true';
    this.strategy = subjectNameStrategy(
      configs[isKey ? 'key.subject.name.strategy' : 'value.subject.name.strategy'],
    );
  }

  private registry(): RegistryClient {
    if (!this.client) throw new RegistryError('INVALID_CONFIG', 'AvroConverter used before configure()');
    return this.client;
  }

  private avroOf(schema: ConnectSchema): { text: string; type: avro.Type; fullName?: string } {
    let a = this.toAvro.get(schema);
    if (!a) {
      // Connectors that build a new (equal) schema object per record hit the by-text cache.
      const json = toAvroSchema(schema);
      const text = JSON.stringify(json);
      a = this.byText.get(text);
      if (!a) {
        a = { text, type: avro.Type.forSchema(json as avro.Schema, { registry: {} }) };
        const fullName = schemaFullName(json);
        if (fullName !== undefined) a.fullName = fullName;
        if (this.byText.size >= CACHE) this.byText.delete(this.byText.keys().next().value!);
        this.byText.set(text, a);
      }
      this.toAvro.set(schema, a);
    }
    return a;
  }

  fromConnectData(topic: string, schema: ConnectSchema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    const s = schema ?? inferSchema(value);
    const client = this.registry();
    try {
      const a = this.avroOf(s);
      const subject = this.strategy(topic, this.isKey, a.fullName);
      let writer = a;
      let id: number;
      if (this.useLatest) {
        const latest = client.latestSync(subject);
        id = latest.id;
        writer = { text: latest.schema, type: client.avroTypeSync(latest.id) };
      } else {
        const key = `${subject}\0${a.text}`;
        const known = this.ids.get(key);
        if (known !== undefined) id = known;
        else {
          id = this.autoRegister ? client.registerSync(subject, a.text) : client.lookupSync(subject, a.text);
          if (this.ids.size >= CACHE) this.ids.delete(this.ids.keys().next().value!);
          this.ids.set(key, id);
        }
      }
      return frame(id, writer.type.toBuffer(toAvroValue(s, value)));
    } catch (err) {
      throw new RegistryError(
        'SERIALIZATION_FAILED',
        `Failed to serialize Avro data from topic ${topic}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  toConnectData(topic: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null) return { schema: null, value: null };
    const client = this.registry();
    try {
      const { schemaId, body } = unframe(bytes);
      let r = this.readers.get(schemaId);
      if (!r) {
        const s = client.getSchemaByIdSync(schemaId);
        const json = JSON.parse(s.schema) as Parameters<typeof toConnectSchema>[0];
        r = { type: client.avroTypeSync(schemaId), schema: toConnectSchema(json) };
        if (this.readers.size >= CACHE) this.readers.delete(this.readers.keys().next().value!);
        this.readers.set(schemaId, r);
      }
      return { schema: r.schema, value: fromAvroValue(r.schema, r.type.fromBuffer(body)) };
    } catch (err) {
      throw new RegistryError(
        'SERIALIZATION_FAILED',
        `Failed to deserialize Avro data of topic ${topic}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
}
