/**
 * Client errors. Every failure a user sees is a {@link KafkaClientError} with a stable `code`
 * (Kafka's error name where a broker answered one, or a client-side code) and `retriable`.
 */
import { errorInfo, KafkaProtocolError } from '../protocol/errors.js';

export type ClientErrorCode =
  | 'CLIENT_CLOSED'
  | 'TIMEOUT'
  | 'INVALID_CONFIG'
  | 'INVALID_ARGUMENT'
  | 'NETWORK_EXCEPTION'
  | 'NO_OFFSET'
  | 'ILLEGAL_STATE'
  | 'RECORD_TOO_LARGE'
  | 'BUFFER_EXHAUSTED'
  | 'UNSUPPORTED';

export class KafkaClientError extends Error {
  override readonly name = 'KafkaClientError';
  readonly code: string;
  readonly retriable: boolean;

  constructor(
    code: ClientErrorCode | string,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}

/** The error for a non-zero Kafka error code in a response, naming what it was about. */
export function brokerError(errorCode: number, context: string, message?: string | null): KafkaClientError {
  const info = errorInfo(errorCode);
  const detail = message ?? info.message ?? info.name;
  return new KafkaClientError(info.name, `${context}: ${info.name}: ${detail}`, {
    retriable: info.retriable,
    cause: new KafkaProtocolError(errorCode, message),
  });
}

export function isRetriable(err: unknown): boolean {
  return (err as { retriable?: unknown } | null)?.retriable === true;
}

/** Kafka error names that mean "your metadata is stale: refresh and retry". */
export const METADATA_ERRORS = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
  'NETWORK_EXCEPTION',
  'REPLICA_NOT_AVAILABLE',
]);
