/**
 * Tributary's schema registry (Confluent-compatible) and the Avro serde, converter and registry
 * client that go with it. docs/schema-registry.md.
 */
export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  canonicalForm,
  compatibilityErrors,
  parseAvroSchema,
  parsingCanonicalForm,
  readError,
} from './avro.js';
export { type RegisteredSchema, RegistryClient, type RegistryClientConfig } from './client.js';
export {
  type ConnectField,
  type ConnectSchema,
  type ConnectType,
  fromAvroValue,
  inferSchema,
  toAvroSchema,
  toAvroValue,
  toConnectSchema,
} from './connect-avro.js';
export { AVRO_CONVERTER_NAMES, AvroConverter, type SchemaAndValue } from './converter.js';
export { RegistryError, type RegistryErrorCode } from './errors.js';
export { type Mode, SCHEMAS_TOPIC } from './log-format.js';
export {
  type CompatibilityResult,
  type RegistryOptions,
  SchemaRegistry,
  type SchemaRequest,
  type SubjectVersion,
} from './registry.js';
export {
  type AvroSerde,
  type AvroSerdeOptions,
  avroSchemaSource,
  avroSerde,
  createAvroSerde,
} from './serde.js';
export {
  CONTENT_TYPE,
  handleRequest,
  type RegistryServerOptions,
  type RunningRegistry,
  startRegistry,
} from './server.js';
export {
  RecordNameStrategy,
  type SubjectNameStrategy,
  subjectNameStrategy,
  TopicNameStrategy,
  TopicRecordNameStrategy,
} from './strategy.js';
export { frame, HEADER_BYTES, MAGIC_BYTE, unframe } from './wire.js';
