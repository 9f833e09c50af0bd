/**
 * Public API of the log layer (docs/internal/log-api.md): one partition's log, the log manager
 * that owns a data directory, the cleaner, topic configs and errors. Segments, indexes, the
 * loader, producer state and the leader epoch cache are internals of PartitionLog.
 */
export {
  CheckpointFormatError,
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  type OffsetCheckpoint,
  parseOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from './checkpoints.js';
export {
  type CleanableRange,
  type CleanOptions,
  type CleanStats,
  cleanableRange,
  cleanLog,
} from './cleaner.js';
export { isLogError, LogError, type LogErrorCode } from './errors.js';
export { parsePartitionDirName, partitionDirName } from './files.js';
export {
  type LogAppendResult,
  type LogReadResult,
  PartitionLog,
  type PartitionLogOptions,
  type RecoveryReport,
  type SegmentInfo,
} from './log.js';
export {
  type CleanupPolicy,
  COMPRESSION_TYPES,
  DEFAULT_LOG_CONFIG,
  isLogConfigKey,
  LOG_CONFIG_DOCS,
  LOG_CONFIG_KEYS,
  type LogConfig,
  parseLogConfig,
  type TimestampType,
} from './log-config.js';
export {
  BROKER_LOG_SETTINGS,
  type ConfigSource,
  LogManager,
  type LogManagerLogger,
  type LogManagerOptions,
  MAX_PARTITIONS_PER_TOPIC,
  MAX_TOTAL_PARTITIONS,
  randomUuid,
  resolveBrokerConfig,
  TOPIC_CONFIG_SYNONYMS,
  type TopicChangeEvent,
  type TopicConfigEntry,
  type TopicInfo,
} from './log-manager.js';
export {
  collisionName,
  isInternalTopic,
  MAX_TOPIC_NAME_LENGTH,
  topicNameProblem,
  validateTopicName,
} from './topic-name.js';
