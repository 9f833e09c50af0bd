/**
 * Connect's errors. Every failure carries a stable `code`, whether it is `retriable` (Kafka's
 * RetriableException: the runtime retries it within `errors.retry.timeout`), and — for the REST
 * API — the HTTP status Kafka Connect answers with.
 */

export type ConnectErrorCode =
  | 'CONFIG' // an invalid config: 400
  | 'BAD_REQUEST' // a malformed request: 400
  | 'NOT_FOUND' // unknown connector, task or plugin: 404
  | 'ALREADY_EXISTS' // 409
  | 'REBALANCING' // a conflicting rebalance or config change: 409
  | 'PAYLOAD_TOO_LARGE' // 413
  | 'DATA' // a value a converter or transform cannot handle (Kafka's DataException)
  | 'RETRIABLE' // a transient failure the runtime retries
  | 'TOLERANCE_EXCEEDED'
  | 'CONNECT'; // anything else: 500

const STATUS: Record<ConnectErrorCode, number> = {
  CONFIG: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  REBALANCING: 409,
  PAYLOAD_TOO_LARGE: 413,
  DATA: 500,
  RETRIABLE: 500,
  TOLERANCE_EXCEEDED: 500,
  CONNECT: 500,
};

export class ConnectError extends Error {
  override readonly name: string = 'ConnectError';
  readonly code: ConnectErrorCode;
  readonly retriable: boolean;

  constructor(code: ConnectErrorCode, message: string, opts: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retriable = opts.retriable ?? code === 'RETRIABLE';
  }

  /** The HTTP status Kafka Connect's REST API answers this error with. */
  get httpStatus(): number {
    return STATUS[this.code];
  }
}

/** Kafka's ConfigException: a key with a value that is not accepted, and why. */
export class ConfigException extends ConnectError {
  override readonly name = 'ConfigException';
  constructor(
    readonly key: string,
    value: unknown,
    why: string,
  ) {
    super(
      'CONFIG',
      value === undefined
        ? `Invalid value for configuration ${key}: ${why}`
        : `Invalid value ${String(value)} for configuration ${key}: ${why}`,
    );
  }
}

/** Kafka's DataException: a record a converter or transform cannot handle. */
export class DataException extends ConnectError {
  override readonly name = 'DataException';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('DATA', message, opts);
  }
}

/** Kafka's RetriableException: the runtime retries the operation (sink put, source poll). */
export class RetriableException extends ConnectError {
  override readonly name = 'RetriableException';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('RETRIABLE', message, { ...opts, retriable: true });
  }
}

/** The message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A Java-like trace for statuses and DLQ headers: the error's class, message and stack, with causes. */
export function traceOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let text = err.stack ?? `${err.name}: ${err.message}`;
  if (err.cause !== undefined) text += `\nCaused by: ${traceOf(err.cause)}`;
  return text;
}
