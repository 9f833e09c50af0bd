/**
 * Subject name strategies: which subject a schema is registered and looked up under, as
 * Confluent's serializers name them (`key.subject.name.strategy`, `value.subject.name.strategy`).
 *
 * - TopicNameStrategy (default): `<topic>-key` / `<topic>-value`; one schema lineage per topic.
 * - RecordNameStrategy: the record's full name; one lineage per record type, across topics.
 * - TopicRecordNameStrategy: `<topic>-<record full name>`.
 */
import { RegistryError } from './errors.js';

export type SubjectNameStrategy = (topic: string, isKey: boolean, recordName: string | undefined) => string;

export const TopicNameStrategy: SubjectNameStrategy = (topic, isKey) => `${topic}-${isKey ? 'key' : 'value'}`;

function needName(strategy: string, recordName: string | undefined): string {
  if (recordName === undefined) {
    throw new RegistryError(
      'SERIALIZATION_FAILED',
      `${strategy} needs a named schema (record, enum or fixed); this one has no name`,
    );
  }
  return recordName;
}

export const RecordNameStrategy: SubjectNameStrategy = (_topic, _isKey, recordName) =>
  needName('RecordNameStrategy', recordName);

export const TopicRecordNameStrategy: SubjectNameStrategy = (topic, _isKey, recordName) =>
  `${topic}-${needName('TopicRecordNameStrategy', recordName)}`;

const BY_NAME = new Map<string, SubjectNameStrategy>();
for (const [names, s] of [
  [['TopicNameStrategy', 'topic'], TopicNameStrategy],
  [['RecordNameStrategy', 'record'], RecordNameStrategy],
  [['TopicRecordNameStrategy', 'topic-record', 'topic_record'], TopicRecordNameStrategy],
] as const) {
  for (const n of names) BY_NAME.set(n, s);
  BY_NAME.set(`io.confluent.kafka.serializers.subject.${names[0]}`, s);
}

/** A strategy by Confluent's class name, its simple name, or `topic` / `record` / `topic-record`. */
export function subjectNameStrategy(name: string | SubjectNameStrategy | undefined): SubjectNameStrategy {
  if (name === undefined) return TopicNameStrategy;
  if (typeof name === 'function') return name;
  const s = BY_NAME.get(name);
  if (!s) {
    throw new RegistryError(
      'INVALID_CONFIG',
      `Unknown subject name strategy '${name}': use TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy`,
    );
  }
  return s;
}

/** The full name of a schema's top-level named type (`namespace.name`), or undefined. */
export function schemaFullName(schema: unknown): string | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const s = schema as { name?: unknown; namespace?: unknown };
  if (typeof s.name !== 'string') return undefined;
  if (s.name.includes('.') || typeof s.namespace !== 'string' || s.namespace === '') return s.name;
  return `${s.namespace}.${s.name}`;
}
