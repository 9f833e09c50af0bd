/**
 * Errors of the streams layer: a stable `code`, whether retrying can help, and a message that
 * says what was wrong and what to do.
 */
export type StreamsErrorCode =
  | 'NO_TASK_CONTEXT'
  | 'INVALID_JOB'
  | 'INVALID_CONFIG'
  | 'SERDE_FAILED'
  | 'STORE_NOT_FOUND'
  | 'STORE_CLOSED'
  | 'STORE_LIMIT'
  | 'NOT_RUNNING'
  | 'RESTORE_FAILED'
  | 'TOPOLOGY_MISMATCH';

export class StreamsError extends Error {
  override readonly name = 'StreamsError';
  readonly code: StreamsErrorCode;
  readonly retriable: boolean;

  constructor(code: StreamsErrorCode, message: string, opts: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}
