/**
 * The replicated cluster metadata: records, their binary codec, the immutable MetadataImage,
 * the Raft state machine that builds it, and the listener contract through which a broker
 * learns which partitions it leads and follows.
 */
export {
  decodeRecords,
  decodeSnapshot,
  encodeRecords,
  encodeSnapshot,
  METADATA_FORMAT_VERSION,
  recordBytes,
} from './codec.js';
export { brokerDelta } from './delta.js';
export { MetadataError, type MetadataErrorCode } from './errors.js';
export {
  type ApplyResult,
  type BrokerRegistration,
  MetadataImage,
  type PartitionImage,
  partitionKey,
  type TopicImage,
} from './image.js';
export type {
  BrokerMetadataDelta,
  MetadataListener,
  MetadataSource,
  PartitionRole,
  RemovedPartition,
} from './listener.js';
export { MetadataPublisher } from './publisher.js';
export * from './records.js';
export { MetadataStateMachine, type MetadataStateMachineOptions } from './state-machine.js';
export {
  describeRecords,
  type StaticBroker,
  type StaticDescription,
  StaticMetadata,
  type StaticPartition,
  type StaticTopic,
  staticTopicId,
} from './static.js';
export { isTopicId, newTopicId, topicIdToBytes, topicIdToString } from './uuid.js';
