/** The metadata quorum's Raft: a node, its configuration, messages, codec and transport contract. */

export { decodeMessage, encodeMessage, FrameDecoder } from './codec.js';
export {
  DEFAULT_RAFT_CONFIG,
  parseQuorumVoters,
  type QuorumVoter,
  type RaftConfig,
  type RaftConfigInput,
  resolveRaftConfig,
} from './config.js';
export { isRaftError, RaftError, type RaftErrorCode } from './errors.js';
export type * from './messages.js';
export { RaftNode, type RaftNodeOptions } from './raft-node.js';
export type { FollowerInfo } from './replication.js';
export type { Transport } from './transport.js';
export {
  EntryType,
  type LogEntry,
  type NodeId,
  type ProposeResult,
  type RaftRole,
  type RaftStatus,
  type StateMachine,
} from './types.js';
