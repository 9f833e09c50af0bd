/**
 * One seeded simulation run (VOPR style). Phase 1: `steps` events of workload under random
 * faults. Phase 2, quiet: faults stop, every node is up, and the cluster must make progress —
 * a leader within livenessBoundMs, every proposal issued from then on acknowledged, and every
 * replica (voters and learners) converged to the same applied index and state digest.
 * Every event is checked by the Checker. A failure reports its seed and the trace tail; the
 * same seed replays the same run (the trace digest is equal).
 */
import { SeededRandom } from '../../env/random.js';
import type { RaftConfig } from '../raft/config.js';
import { isRaftError } from '../raft/errors.js';
import type { NodeId } from '../raft/types.js';
import { SimViolation } from './checker.js';
import { FaultInjector } from './faults.js';
import { describeScenario, randomScenario, type Scenario } from './scenario.js';
import { SimCluster } from './sim-cluster.js';
import { Workload } from './workload.js';

export interface SimulationOptions {
  readonly seed: number;
  /** Events in the faulty phase. */
  readonly steps: number;
  /** Bound on the quiet phase, virtual ms. */
  readonly quietMs?: number;
  /** Deliberately broken Raft variants (to prove the checkers catch them). */
  readonly unsafe?: Partial<RaftConfig['unsafe']>;
  /** Trace lines kept for the report. */
  readonly traceTail?: number;
  /** Debugging: called with the cluster when the run ends (inspect logs, state machines...). */
  readonly inspect?: (cluster: SimCluster) => void;
}

export interface SimulationResult {
  readonly seed: number;
  readonly ok: boolean;
  /** Safety violations fail `safety`; liveness failures (quiet phase) fail `liveness`. */
  readonly kind: 'ok' | 'safety' | 'liveness';
  readonly failure: string | null;
  /** Ready to print: the seed, how to replay, the scenario, the failure, the trace tail. */
  readonly report: string;
  readonly traceDigest: string;
  readonly steps: number;
  readonly virtualMs: number;
  readonly stats: Readonly<Record<string, number>>;
}

export async function runSimulation(opts: SimulationOptions): Promise<SimulationResult> {
  const random = new SeededRandom(opts.seed);
  const scenario = randomScenario(random);
  const c = new SimCluster({
    random,
    voters: scenario.voters,
    learners: [...scenario.learners, ...(scenario.lateLearner === null ? [] : [scenario.lateLearner])],
    raft: { ...scenario.raft, unsafe: opts.unsafe },
    network: scenario.network,
    disk: scenario.disk,
    clockDrift: scenario.clockDrift,
    snapshotPadBytes: scenario.snapshotPadBytes,
  });
  c.log(`SEED=${opts.seed} ${describeScenario(scenario)}`);
  for (const id of [...scenario.voters, ...scenario.learners]) c.start(id);

  const faults = new FaultInjector(c, scenario);
  const workload = new Workload(
    c,
    `s${opts.seed}`,
    scenario.proposeMeanIntervalMs,
    scenario.readProbability,
    scenario.maxPayloadBytes,
  );
  faults.start();
  workload.start();
  let kind: SimulationResult['kind'] = 'ok';
  let lateStarted = false;
  while (c.failed === null && c.steps < opts.steps) {
    if (!lateStarted && scenario.lateLearner !== null && c.steps >= opts.steps / 2) {
      lateStarted = true;
      c.start(scenario.lateLearner);
    }
    if (!(await c.step())) break;
  }
  if (scenario.lateLearner !== null && !lateStarted) c.start(scenario.lateLearner);

  workload.stop();
  faults.halt();
  if (c.failed === null) {
    faults.stop();
    const problem = await quietPhase(c, scenario, opts.quietMs ?? 30_000, workload);
    if (problem !== null && c.failed === null) {
      kind = 'liveness';
      c.fail(new Error(`liveness: ${problem}`));
    }
  }
  if (c.failed !== null && kind === 'ok') kind = 'safety';

  opts.inspect?.(c);
  const stats = {
    steps: c.steps,
    virtualMs: Math.round(c.nowMs),
    faults: faults.faults,
    proposed: workload.proposed,
    acked: c.checker.acked,
    reads: c.checker.reads,
    committed: c.checker.maxCommitted,
    leaderTerms: c.checker.termsWithLeader,
    messages: c.network.sent,
    snapshotChunks: c.network.sentOf('snapshot'),
    snapshotRestores: c.checker.restores,
    learnerJoins: c.network.sentOf('learnerJoin'),
    dropped: c.network.dropped,
    duplicated: c.network.duplicated,
    lostDiskOps: sum(c, (n) => n.disk.lostWrites),
    tornWrites: sum(c, (n) => n.disk.tornWrites),
    restarts: sum(c, (n) => Math.max(0, n.incarnation - 1)),
  };
  const failure = c.failed === null ? null : (c.failed.message ?? String(c.failed));
  const report =
    failure === null
      ? `SEED=${opts.seed} ok: ${JSON.stringify(stats)}`
      : [
          `SEED=${opts.seed} FAILED (${kind}) after ${c.steps} steps, ${c.nowMs.toFixed(1)} virtual ms: ${failure}`,
          `replay: SEED=${opts.seed} SIM_STEPS=${opts.steps} npm run test:sim${opts.unsafe ? ` (with unsafe ${JSON.stringify(opts.unsafe)})` : ''}`,
          `scenario: ${describeScenario(scenario)}`,
          `stats: ${JSON.stringify(stats)}`,
          `trace digest: ${c.trace.digest()}`,
          'trace tail:',
          ...c.trace.tail(opts.traceTail ?? 80),
        ].join('\n');
  return {
    seed: opts.seed,
    ok: failure === null,
    kind,
    failure,
    report,
    traceDigest: c.trace.digest(),
    steps: c.steps,
    virtualMs: c.nowMs,
    stats,
  };
}

function sum(
  c: SimCluster,
  f: (n: SimCluster['nodes'] extends Map<NodeId, infer N> ? N : never) => number,
): number {
  let total = 0;
  for (const n of c.nodes.values()) total += f(n);
  return total;
}

/** Returns null when the cluster made progress, else what went wrong. */
async function quietPhase(
  c: SimCluster,
  s: Scenario,
  quietMs: number,
  workload: Workload,
): Promise<string | null> {
  const electionMs = s.raft.electionTimeoutMs ?? 300;
  const deadline = c.nowMs + quietMs;
  const livenessBoundMs = 20 * electionMs;
  if (!(await c.runUntil(() => c.leader() !== null, livenessBoundMs))) {
    return c.failed === null ? `no leader within ${livenessBoundMs} ms after faults stopped` : null;
  }
  c.log(`quiet: leader ${c.leader()!.id} elected`);
  // every proposal issued from now on must be acknowledged (retrying NOT_LEADER, TOO_MANY_PENDING...)
  const probes = 10;
  const backoffMs = s.raft.heartbeatIntervalMs ?? 50;
  for (let i = 0; i < probes; i++) {
    let acked = false;
    while (!acked) {
      if (c.failed !== null) return null;
      if (c.nowMs >= deadline) return `proposal ${i} was not acknowledged by the end of the quiet phase`;
      const leader = c.leader();
      if (leader === null) {
        await c.runUntil(() => c.leader() !== null, Math.max(1, deadline - c.nowMs));
        continue;
      }
      const st: { outcome: 'ok' | 'rejected' | 'pending'; why: string } = { outcome: 'pending', why: '' };
      workload.propose(leader.id).then(
        () => {
          st.outcome = 'ok';
        },
        (err: unknown) => {
          st.outcome = 'rejected';
          st.why = isRaftError(err) ? err.code : String(err);
        },
      );
      await c.runUntil(() => st.outcome !== 'pending', Math.max(1, deadline - c.nowMs));
      if (st.outcome === 'ok') acked = true;
      else if (st.outcome === 'rejected') {
        c.log(`quiet: proposal ${i} rejected at ${leader.id} (${st.why}), retrying`);
        await c.runFor(backoffMs);
      }
    }
  }
  const converged = (): boolean => {
    const leader = c.leader();
    if (leader === null) return false;
    const target = leader.status().commitIndex;
    const digests = new Set<string>();
    for (const n of c.nodes.values()) {
      if (n.node === null) return false;
      const st = n.node.status();
      if (st.lastApplied !== target) return false;
      digests.add(n.sm!.digest);
    }
    return digests.size === 1;
  };
  if (!(await c.runUntil(converged, Math.max(1, deadline - c.nowMs)))) {
    if (c.failed !== null) return null;
    const state = [...c.nodes.values()]
      .map((n) => {
        const st = n.node?.status();
        return st
          ? `${n.id}:${st.role}/t${st.term} applied=${st.lastApplied} commit=${st.commitIndex}`
          : `${n.id}:down`;
      })
      .join(' ');
    const leader = c.leader();
    const progress = leader === null ? '' : ` leader progress ${JSON.stringify(leader.followers())}`;
    return `replicas did not converge by the end of the quiet phase: ${state}${progress}`;
  }
  c.log('quiet: all replicas converged');
  return null;
}

export { SimViolation };
