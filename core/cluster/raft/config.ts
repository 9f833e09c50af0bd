/**
 * Quorum configuration: defaults → validate → freeze. The voter set is fixed from
 * `controller.quorum.voters` (`1@host:port,2@host:port,...`, Kafka's syntax); there is no joint
 * consensus. Non-voting learners (brokers following the metadata log) join at run time through
 * the log itself (see membership.ts).
 */
import { RaftError } from './errors.js';
import type { NodeId } from './types.js';

export interface RaftConfig {
  /** The voting controllers (ids from `controller.quorum.voters`). */
  readonly voters: readonly NodeId[];
  /** Base election timeout; each wait is random in [base, 2×base). Kafka: controller.quorum.election.timeout.ms. */
  readonly electionTimeoutMs: number;
  /** Leader heartbeat (empty AppendEntries) period; well below electionTimeoutMs. */
  readonly heartbeatIntervalMs: number;
  /** Ask for pre-votes before bumping the term, so that a partitioned node cannot disrupt on rejoin. */
  readonly preVote: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout. */
  readonly checkQuorum: boolean;
  /** Limits of one AppendEntries message. */
  readonly maxEntriesPerAppend: number;
  readonly maxAppendBytes: number;
  /** AppendEntries with entries in flight to one follower while pipelining. */
  readonly maxInflightAppends: number;
  /** No answer from a follower for this long while messages are in flight: probe again. */
  readonly appendTimeoutMs: number;
  readonly maxCommandBytes: number;
  readonly maxPendingProposals: number;
  readonly proposeTimeoutMs: number;
  readonly maxPendingReads: number;
  readonly readTimeoutMs: number;
  /** Take a snapshot once this many entries / bytes were applied since the last one. */
  readonly snapshotIntervalEntries: number;
  readonly snapshotIntervalBytes: number;
  /** Entries kept in the log behind a snapshot so that slightly lagging followers avoid a snapshot transfer. */
  readonly retainEntriesAfterSnapshot: number;
  readonly snapshotChunkBytes: number;
  readonly maxSnapshotBytes: number;
  /** A snapshot chunk not answered within this is sent again. */
  readonly snapshotChunkTimeoutMs: number;
  /** Log segment files roll at this size. */
  readonly segmentBytes: number;
  readonly maxLearners: number;
  /** Largest encoded message accepted from the transport. */
  readonly maxMessageBytes: number;
  /**
   * Deliberately broken behaviours, for proving that the simulator's checkers catch bugs.
   * Never set these outside tests.
   */
  readonly unsafe: {
    readonly skipVoteLogCheck: boolean;
    readonly commitPreviousTermEntries: boolean;
  };
}

export type RaftConfigInput = Partial<Omit<RaftConfig, 'unsafe' | 'voters'>> & {
  voters: readonly NodeId[];
  unsafe?: Partial<RaftConfig['unsafe']>;
};

export const DEFAULT_RAFT_CONFIG: Omit<RaftConfig, 'voters'> = Object.freeze({
  electionTimeoutMs: 1000,
  heartbeatIntervalMs: 100,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 512,
  maxAppendBytes: 1024 * 1024,
  maxInflightAppends: 8,
  appendTimeoutMs: 1000,
  maxCommandBytes: 1024 * 1024,
  maxPendingProposals: 4096,
  proposeTimeoutMs: 30_000,
  maxPendingReads: 4096,
  readTimeoutMs: 10_000,
  snapshotIntervalEntries: 20_000,
  snapshotIntervalBytes: 64 * 1024 * 1024,
  retainEntriesAfterSnapshot: 5000,
  snapshotChunkBytes: 512 * 1024,
  maxSnapshotBytes: 256 * 1024 * 1024,
  snapshotChunkTimeoutMs: 2000,
  segmentBytes: 16 * 1024 * 1024,
  maxLearners: 1024,
  maxMessageBytes: 8 * 1024 * 1024,
  unsafe: Object.freeze({ skipVoteLogCheck: false, commitPreviousTermEntries: false }),
});

function invalid(key: string, why: string): RaftError {
  return new RaftError('INVALID_CONFIG', `raft config ${key}: ${why}`);
}

export function resolveRaftConfig(input: RaftConfigInput): RaftConfig {
  const c: RaftConfig = {
    ...DEFAULT_RAFT_CONFIG,
    ...input,
    voters: [...input.voters],
    unsafe: { ...DEFAULT_RAFT_CONFIG.unsafe, ...input.unsafe },
  };
  if (c.voters.length === 0) throw invalid('voters', 'at least one voter is required');
  if (new Set(c.voters).size !== c.voters.length)
    throw invalid('voters', `duplicate ids in ${c.voters.join(',')}`);
  for (const v of c.voters) {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
      throw invalid('voters', `${v} is not a valid node id`);
  }
  const positive: (keyof RaftConfig)[] = [
    'electionTimeoutMs',
    'heartbeatIntervalMs',
    'maxEntriesPerAppend',
    'maxAppendBytes',
    'maxInflightAppends',
    'appendTimeoutMs',
    'maxCommandBytes',
    'maxPendingProposals',
    'proposeTimeoutMs',
    'maxPendingReads',
    'readTimeoutMs',
    'snapshotIntervalEntries',
    'snapshotIntervalBytes',
    'snapshotChunkBytes',
    'maxSnapshotBytes',
    'snapshotChunkTimeoutMs',
    'segmentBytes',
    'maxLearners',
    'maxMessageBytes',
  ];
  for (const key of positive) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw invalid(key, `must be a positive number, got ${v}`);
  }
  if (!Number.isInteger(c.retainEntriesAfterSnapshot) || c.retainEntriesAfterSnapshot < 0) {
    throw invalid('retainEntriesAfterSnapshot', 'must be a non-negative integer');
  }
  if (c.heartbeatIntervalMs >= c.electionTimeoutMs) {
    throw invalid('heartbeatIntervalMs', `must be below electionTimeoutMs (${c.electionTimeoutMs})`);
  }
  // an AppendEntries holds at least one entry, so the largest is max(maxAppendBytes, one command)
  const largestAppend = Math.max(c.maxAppendBytes, c.maxCommandBytes) + 1024;
  if (largestAppend > c.maxMessageBytes || c.snapshotChunkBytes + 1024 > c.maxMessageBytes) {
    throw invalid(
      'maxMessageBytes',
      'must hold the largest AppendEntries and snapshot chunk (plus 1 KiB framing)',
    );
  }
  return Object.freeze(c);
}

export interface QuorumVoter {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
}

/** Parses Kafka's `controller.quorum.voters`: `1@host:port,2@[::1]:port`. */
export function parseQuorumVoters(value: string): QuorumVoter[] {
  const voters: QuorumVoter[] = [];
  for (const part of value.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const m = /^(\d+)@(\[[^\]]+\]|[^:@\s]+):(\d+)$/.exec(item);
    if (!m) {
      throw new RaftError(
        'INVALID_CONFIG',
        `controller.quorum.voters: "${item}" is not of the form id@host:port (e.g. 1@localhost:9093)`,
      );
    }
    const id = Number(m[1]);
    const port = Number(m[3]);
    if (id > 0x7fffffff)
      throw new RaftError('INVALID_CONFIG', `controller.quorum.voters: node id ${id} is too large`);
    if (port < 1 || port > 65535)
      throw new RaftError('INVALID_CONFIG', `controller.quorum.voters: bad port in "${item}"`);
    const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
    if (voters.some((v) => v.id === id))
      throw new RaftError('INVALID_CONFIG', `controller.quorum.voters: node ${id} twice`);
    voters.push({ id, host, port });
  }
  if (voters.length === 0) throw new RaftError('INVALID_CONFIG', 'controller.quorum.voters: no voters given');
  return voters;
}
