/**
 * Errors of the log layer. Every failure carries a stable `code` from {@link LogErrorCode}
 * (Kafka's error names; the protocol layer maps them to Kafka's numeric codes) and whether a
 * client may retry. Messages say what was wrong and, where it helps, what to do.
 */

export type LogErrorCode =
  | 'CORRUPT_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'RECORD_LIST_TOO_LARGE'
  | 'OFFSET_OUT_OF_RANGE'
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  | 'INVALID_PRODUCER_EPOCH'
  | 'DUPLICATE_SEQUENCE_NUMBER'
  | 'UNKNOWN_PRODUCER_ID'
  | 'INVALID_TIMESTAMP'
  | 'UNSUPPORTED_FOR_MESSAGE_FORMAT'
  | 'INVALID_RECORD'
  | 'KAFKA_STORAGE_ERROR'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'TOPIC_ALREADY_EXISTS'
  | 'INVALID_TOPIC_EXCEPTION'
  | 'INVALID_PARTITIONS'
  | 'INVALID_CONFIG'
  | 'POLICY_VIOLATION'
  | 'INVALID_REPLICATION_FACTOR';

/** Kafka's retriable flag for each code (`RetriableException` subclasses in the Java client). */
const RETRIABLE: Readonly<Record<LogErrorCode, boolean>> = {
  CORRUPT_MESSAGE: true,
  MESSAGE_TOO_LARGE: false,
  RECORD_LIST_TOO_LARGE: false,
  OFFSET_OUT_OF_RANGE: false,
  OUT_OF_ORDER_SEQUENCE_NUMBER: false,
  INVALID_PRODUCER_EPOCH: false,
  DUPLICATE_SEQUENCE_NUMBER: false,
  UNKNOWN_PRODUCER_ID: false,
  INVALID_TIMESTAMP: false,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: false,
  INVALID_RECORD: false,
  KAFKA_STORAGE_ERROR: true,
  UNKNOWN_TOPIC_OR_PARTITION: true,
  TOPIC_ALREADY_EXISTS: false,
  INVALID_TOPIC_EXCEPTION: false,
  INVALID_PARTITIONS: false,
  INVALID_CONFIG: false,
  POLICY_VIOLATION: false,
  INVALID_REPLICATION_FACTOR: false,
};

/** One refused record of a batch: its index in the batch and why (Produce v8+ `record_errors`). */
export interface RecordError {
  readonly batchIndex: number;
  readonly message: string;
}

export class LogError extends Error {
  readonly code: LogErrorCode;
  readonly retriable: boolean;
  /** The records that made the batch fail, when the check is per record (INVALID_TIMESTAMP). */
  readonly recordErrors: readonly RecordError[];

  constructor(
    code: LogErrorCode,
    message: string,
    options?: { cause?: unknown; retriable?: boolean; recordErrors?: readonly RecordError[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LogError';
    this.code = code;
    this.retriable = options?.retriable ?? RETRIABLE[code];
    this.recordErrors = options?.recordErrors ?? [];
  }
}

export function isLogError(err: unknown, code?: LogErrorCode): err is LogError {
  return err instanceof LogError && (code === undefined || err.code === code);
}
