/**
 * How Raft nodes reach each other. Delivery is best effort: messages may be lost, delayed,
 * duplicated or reordered, and Raft copes. send() must not call a handler synchronously
 * (no re-entrancy). The simulator's SimNetwork implements it; a TCP transport carries the
 * frames of codec.ts.
 */
import type { RaftMessage } from './messages.js';
import type { NodeId } from './types.js';

export interface Transport {
  send(to: NodeId, msg: RaftMessage): void;
  /** Registers the one handler for incoming messages (a later call replaces it). */
  onMessage(handler: (msg: RaftMessage) => void): void;
}
