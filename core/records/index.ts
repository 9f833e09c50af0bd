/** Public API of the record layer: Kafka record batch v2, codecs, checksums, varints. */
export * from './batch.js';
export * from './compression.js';
export * from './control.js';
export { crc32c, crc32cBackend, crc32cJs } from './crc32c.js';
export * from './errors.js';
export type {
  DecodedRecord,
  RecordHeader,
  RecordHeaderInput,
  RecordInput,
  TextRecordInput,
} from './record.js';
export { maxRecordSize, recordBodySize } from './record.js';
export * from './record-index.js';
export * from './varint.js';
