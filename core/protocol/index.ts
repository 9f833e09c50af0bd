/**
 * core/protocol: the Kafka wire protocol, one declarative schema per API driving both
 * directions. See schema.ts (the schema language), frames.ts (whole frames for the broker and
 * the client), messages/index.ts (the registry and our version ranges).
 */
export * from './api-keys.js';
export * from './errors.js';
export * from './frames.js';
export * from './headers.js';
export * from './messages/index.js';
export * from './reader.js';
export * from './schema.js';
export * from './versions.js';
export * from './writer.js';
