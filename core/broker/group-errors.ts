/**
 * Kafka error codes the group coordinator answers with, and the translation of storage
 * failures into the codes Kafka's coordinator gives clients for them.
 */
import { ErrorCode, type KafkaErrorName } from '../protocol/errors.js';

export { ErrorCode };

/**
 * The Kafka error code a storage failure stands for: errors carrying a numeric `code` (a
 * KafkaProtocolError) or a Kafka error name as `code` (LogError: 'KAFKA_STORAGE_ERROR', …);
 * anything else is UNKNOWN_SERVER_ERROR.
 */
export function kafkaCodeOf(err: unknown): number {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'number' && Number.isInteger(code)) return code;
    if (typeof code === 'string' && Object.hasOwn(ErrorCode, code)) return ErrorCode[code as KafkaErrorName];
  }
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * What a failed append of group metadata answers (Kafka's GroupMetadataManager.storeGroup):
 * the client rediscovers the coordinator, or rejoins, or gets an unknown error.
 */
export function groupAppendError(err: unknown): number {
  const code = kafkaCodeOf(err);
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.REBALANCE_IN_PROGRESS;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

/** What a failed append of offset commits answers (Kafka's maybeConvertOffsetCommitError). */
export function offsetAppendError(err: unknown): number {
  const code = kafkaCodeOf(err);
  switch (code) {
    case ErrorCode.NETWORK_EXCEPTION:
      return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}
