/**
 * Controller errors, named after Kafka's error codes so that broker handlers map them 1:1
 * onto the wire (core/broker/kafka-errors.ts). `leaderId` on NOT_CONTROLLER is the controller
 * this node believes active (or null), so that a caller can redirect.
 */
export type ControllerErrorCode =
  | 'NOT_CONTROLLER'
  | 'REQUEST_TIMED_OUT'
  | 'TOO_MANY_REQUESTS'
  | 'BROKER_ID_NOT_REGISTERED'
  | 'STALE_BROKER_EPOCH'
  | 'DUPLICATE_BROKER_REGISTRATION'
  | 'TOPIC_ALREADY_EXISTS'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'UNKNOWN_TOPIC_ID'
  | 'INVALID_TOPIC_EXCEPTION'
  | 'INVALID_PARTITIONS'
  | 'INVALID_REPLICATION_FACTOR'
  | 'INVALID_REPLICA_ASSIGNMENT'
  | 'INVALID_CONFIG'
  | 'INVALID_REQUEST'
  | 'NOT_LEADER_OR_FOLLOWER'
  | 'FENCED_LEADER_EPOCH'
  | 'INVALID_UPDATE_VERSION'
  | 'INELIGIBLE_REPLICA'
  | 'ELECTION_NOT_NEEDED'
  | 'PREFERRED_LEADER_NOT_AVAILABLE'
  | 'ELIGIBLE_LEADERS_NOT_AVAILABLE'
  | 'NO_REASSIGNMENT_IN_PROGRESS'
  | 'UNKNOWN_SERVER_ERROR';

const RETRIABLE: ReadonlySet<ControllerErrorCode> = new Set<ControllerErrorCode>([
  'NOT_CONTROLLER',
  'REQUEST_TIMED_OUT',
  'TOO_MANY_REQUESTS',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
]);

export class ControllerError extends Error {
  override readonly name = 'ControllerError';
  readonly retriable: boolean;
  readonly leaderId: number | null;
  constructor(
    readonly code: ControllerErrorCode,
    message: string,
    /** retriable: overrides the code's default (a REQUEST_TIMED_OUT whose change may have taken effect is not). */
    opts: { leaderId?: number | null; cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retriable = opts.retriable ?? RETRIABLE.has(code);
    this.leaderId = opts.leaderId ?? null;
  }
}

export function isControllerError(err: unknown, code?: ControllerErrorCode): err is ControllerError {
  return err instanceof ControllerError && (code === undefined || err.code === code);
}

/** A per-item outcome: null error = success. */
export interface ItemError {
  readonly error: ControllerErrorCode | null;
  readonly message?: string;
}

export const OK: ItemError = Object.freeze({ error: null });

export function fail(error: ControllerErrorCode, message: string): ItemError {
  return { error, message };
}
