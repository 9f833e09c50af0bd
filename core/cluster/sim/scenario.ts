/**
 * A per-seed random scenario: cluster shape, Raft limits (small, so that segments roll,
 * snapshots are taken and sent, and pipelines fill within a short run), network and disk fault
 * rates, and workload rates. Everything is drawn from the run's one PRNG.
 */
import type { Random } from '../../env/random.js';
import type { RaftConfigInput } from '../raft/config.js';
import type { NodeId } from '../raft/types.js';
import type { SimDiskOptions } from './sim-disk.js';
import type { NetworkOptions } from './sim-network.js';

export interface Scenario {
  readonly voters: readonly NodeId[];
  /** Learners started with the cluster; they join through LearnerJoin. */
  readonly learners: readonly NodeId[];
  /** A learner started halfway through the faulty phase: a broker joining a running cluster. */
  readonly lateLearner: NodeId | null;
  readonly raft: Omit<RaftConfigInput, 'voters'>;
  readonly network: NetworkOptions;
  readonly disk: SimDiskOptions;
  readonly clockDrift: number;
  readonly snapshotPadBytes: number;
  readonly faultMeanIntervalMs: number;
  readonly proposeMeanIntervalMs: number;
  readonly readProbability: number;
  readonly maxPayloadBytes: number;
}

function between(r: Random, lo: number, hi: number): number {
  return lo + r.int(hi - lo + 1);
}

export function randomScenario(r: Random): Scenario {
  const voterCount = [1, 3, 3, 3, 5, 5][r.int(6)]!;
  const voters = Array.from({ length: voterCount }, (_, i) => i + 1);
  const learnerCount = r.int(3);
  const learners = Array.from({ length: learnerCount }, (_, i) => 100 + i);
  const electionTimeoutMs = between(r, 150, 400);
  const maxPayloadBytes = between(r, 8, 300);
  return {
    voters,
    learners,
    lateLearner: r.next() < 0.5 ? 200 : null,
    raft: {
      electionTimeoutMs,
      heartbeatIntervalMs: Math.floor(electionTimeoutMs / between(r, 3, 6)),
      maxEntriesPerAppend: between(r, 1, 16),
      maxAppendBytes: between(r, 256, 4096),
      maxInflightAppends: between(r, 1, 4),
      appendTimeoutMs: electionTimeoutMs,
      maxCommandBytes: 1024,
      proposeTimeoutMs: 5 * electionTimeoutMs,
      readTimeoutMs: 3 * electionTimeoutMs,
      snapshotIntervalEntries: between(r, 8, 120),
      snapshotIntervalBytes: 1024 * 1024,
      retainEntriesAfterSnapshot: between(r, 0, 24),
      snapshotChunkBytes: between(r, 64, 2048),
      snapshotChunkTimeoutMs: electionTimeoutMs,
      segmentBytes: between(r, 200, 4096),
      maxPendingProposals: 256,
    },
    network: {
      dropProbability: r.next() * 0.12,
      duplicateProbability: r.next() * 0.06,
      minDelayMs: 0.2 + r.next(),
      maxDelayMs: 2 + r.next() * 20,
      longDelayProbability: r.next() * 0.05,
      longDelayMaxMs: r.next() * 2 * electionTimeoutMs,
    },
    disk: {
      tornWriteProbability: r.next(),
      minSyncMs: 0.1 + r.next(),
      maxSyncMs: 1 + r.next() * 8,
      stallProbability: r.next() * 0.02,
      stallMaxMs: r.next() * electionTimeoutMs,
    },
    clockDrift: r.next() * 0.05,
    snapshotPadBytes: r.int(3000),
    faultMeanIntervalMs: between(r, 50, 1500),
    proposeMeanIntervalMs: between(r, 5, 80),
    readProbability: 0.05 + r.next() * 0.3,
    maxPayloadBytes,
  };
}

export function describeScenario(s: Scenario): string {
  const n = s.network;
  return [
    `voters=${s.voters.join(',')} learners=${s.learners.join(',') || '-'} late=${s.lateLearner ?? '-'}`,
    `election=${s.raft.electionTimeoutMs}ms heartbeat=${s.raft.heartbeatIntervalMs}ms snapshotEvery=${s.raft.snapshotIntervalEntries}`,
    `drop=${n.dropProbability.toFixed(3)} dup=${n.duplicateProbability.toFixed(3)} delay=${n.minDelayMs.toFixed(1)}-${n.maxDelayMs.toFixed(1)}ms`,
    `faultEvery~${s.faultMeanIntervalMs}ms proposeEvery~${s.proposeMeanIntervalMs}ms`,
  ].join(' ');
}
