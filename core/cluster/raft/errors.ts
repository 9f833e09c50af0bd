/**
 * Errors of the metadata quorum. Every failure carries a stable `code` and `retriable`; NOT_LEADER
 * carries the leader this node knows of (or null) so that a caller can redirect.
 *
 * - NOT_LEADER: this node is not the leader, or the proposal's entry was overwritten by another
 *   leader's: the command was definitely not committed.
 * - REQUEST_TIMED_OUT: no answer within the timeout; the command may or may not commit later.
 * - OUTCOME_UNKNOWN: the entry was covered by an installed snapshot before this node applied it;
 *   it may or may not have committed.
 */
import type { NodeId } from './types.js';

export type RaftErrorCode =
  | 'NOT_LEADER'
  | 'REQUEST_TIMED_OUT'
  | 'OUTCOME_UNKNOWN'
  | 'SHUT_DOWN'
  | 'PROPOSAL_TOO_LARGE'
  | 'TOO_MANY_PENDING'
  | 'CORRUPT_MESSAGE'
  | 'CORRUPT_STATE'
  | 'INVALID_CONFIG'
  | 'SAFETY_VIOLATION';

const RETRIABLE: Readonly<Record<RaftErrorCode, boolean>> = {
  NOT_LEADER: true,
  REQUEST_TIMED_OUT: true,
  OUTCOME_UNKNOWN: true,
  SHUT_DOWN: true,
  PROPOSAL_TOO_LARGE: false,
  TOO_MANY_PENDING: true,
  CORRUPT_MESSAGE: false,
  CORRUPT_STATE: false,
  INVALID_CONFIG: false,
  SAFETY_VIOLATION: false,
};

export class RaftError extends Error {
  override readonly name = 'RaftError';
  readonly code: RaftErrorCode;
  readonly retriable: boolean;
  /** For NOT_LEADER: the leader this node knows of, if any. */
  readonly leaderId: NodeId | null;

  constructor(
    code: RaftErrorCode,
    message: string,
    opts: { leaderId?: NodeId | null; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retriable = RETRIABLE[code];
    this.leaderId = opts.leaderId ?? null;
  }
}

export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}

export function notLeader(leaderId: NodeId | null, what: string): RaftError {
  const hint = leaderId === null ? 'no leader is known yet; retry shortly' : `send it to node ${leaderId}`;
  return new RaftError('NOT_LEADER', `${what}: this node is not the leader; ${hint}`, { leaderId });
}
