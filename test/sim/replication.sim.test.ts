/**
 * The deterministic simulation of partition replication (the data path): the real replication
 * code of 3-4 brokers (partitions, follower fetchers, ISR, high watermark and its checkpoint,
 * OffsetForLeaderEpoch truncation, acks=all) over a simulated network and disks, under faults,
 * then a quiet period that must show progress (core/broker/replication/sim/replication-sim.ts).
 *
 *   npx vitest run test/sim/replication.sim.test.ts                 CI size (16 seeds × 5,000 events)
 *   SIM_SEEDS=200 SIM_STEPS=8000 npx vitest run test/sim/replication.sim.test.ts
 *   SIM_SEEDS=100 SIM_SEED_BASE=$RANDOM npx vitest run test/sim/replication.sim.test.ts   new seeds
 *   SEED=1234 SIM_STEPS=4000 npx vitest run test/sim/replication.sim.test.ts   replay one seed
 */
import { describe, expect, it } from 'vitest';
import {
  type ReplicationSimResult,
  type ReplicationUnsafe,
  runReplicationSimulation,
} from '../../core/broker/replication/sim/replication-sim.js';

const single = process.env.SEED !== undefined ? Number(process.env.SEED) : null;
const seedCount = Number(process.env.SIM_SEEDS ?? 16);
const base = Number(process.env.SIM_SEED_BASE ?? 1);
const steps = Number(process.env.SIM_STEPS ?? 5000);
const seeds = single !== null ? [single] : Array.from({ length: seedCount }, (_, i) => base + i);

/** The first seed (from 1) on which the unsafe variant fails, within `tries` seeds. */
async function firstFailure(unsafe: ReplicationUnsafe, tries: number): Promise<ReplicationSimResult | null> {
  for (let seed = 1; seed <= tries; seed++) {
    const r = await runReplicationSimulation({ seed, steps: 3000, unsafe });
    if (!r.ok) return r;
  }
  return null;
}

describe('replication simulation', () => {
  it(`loses no acknowledged record, keeps replicas identical, makes progress: ${seeds.length} seed(s) × ${steps} events`, async () => {
    const failures: string[] = [];
    const t0 = performance.now();
    let acked = 0;
    for (const seed of seeds) {
      const r = await runReplicationSimulation({ seed, steps, traceTail: single !== null ? 400 : 120 });
      acked += r.stats.ackedRecords ?? 0;
      if (!r.ok) {
        failures.push(r.report.split('\n')[0]!);
        console.error(`${r.report}\n`);
      } else if (single !== null || process.env.SIM_VERBOSE) {
        console.log(`${r.report} trace=${r.traceDigest}`);
      }
    }
    console.log(
      `simulated ${seeds.length} seed(s), ${acked} acknowledged records, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(failures).toEqual([]);
    expect(acked).toBeGreaterThan(0);
  }, 3_600_000);

  it('catches acknowledging on the leader append alone (acks=1 counted as acknowledged)', async () => {
    const r = await firstFailure({ ackOnLeaderAppend: true }, 20);
    expect(r, 'no seed caught acks on leader append').not.toBeNull();
    expect(r!.kind).toBe('safety');
    expect(r!.failure).toMatch(/acknowledged|committed/);
    expect(r!.report).toMatch(new RegExp(`^SEED=${r!.seed} FAILED`));
    expect(r!.report).toContain(`replay: SEED=${r!.seed} SIM_STEPS=3000`);
    expect(r!.report).toContain('trace tail:');
    // the failing seed replays exactly, and the correct acks=all passes it
    const again = await runReplicationSimulation({
      seed: r!.seed,
      steps: 3000,
      unsafe: { ackOnLeaderAppend: true },
    });
    expect(again.failure).toBe(r!.failure);
    expect(again.traceDigest).toBe(r!.traceDigest);
    const correct = await runReplicationSimulation({ seed: r!.seed, steps: 3000 });
    expect(correct.ok, correct.report).toBe(true);
  }, 600_000);

  it('catches an unclean leader election (a replica outside the ISR elected)', async () => {
    const r = await firstFailure({ uncleanElection: true }, 20);
    expect(r, 'no seed caught unclean elections').not.toBeNull();
    expect(r!.kind).toBe('safety');
    expect(r!.failure).toMatch(/acknowledged|committed|lacks|high watermark/);
  }, 600_000);

  it('catches a broker that restarts with its high watermark at the log end (no checkpoint)', async () => {
    const r = await firstFailure({ noHwCheckpoint: true }, 20);
    expect(r, 'no seed caught the missing high-watermark checkpoint').not.toBeNull();
    expect(r!.kind).toBe('safety');
    expect(r!.failure).toMatch(/above any leader's|committed/);
  }, 600_000);

  it('catches two leaders in one leader epoch', async () => {
    const r = await firstFailure({ skipLeaderEpochBump: true }, 20);
    expect(r, 'no seed caught a leader change without an epoch bump').not.toBeNull();
    expect(r!.kind).toBe('safety');
    expect(r!.failure).toMatch(/two leaders of partition \d+ in leader epoch/);
  }, 600_000);

  it('replays a seed exactly', async () => {
    const a = await runReplicationSimulation({ seed: 4242, steps: 1500 });
    const b = await runReplicationSimulation({ seed: 4242, steps: 1500 });
    expect(a.ok, a.report).toBe(true);
    expect(b.traceDigest).toBe(a.traceDigest);
    expect(b.stats).toEqual(a.stats);
    const other = await runReplicationSimulation({ seed: 4243, steps: 1500 });
    expect(other.traceDigest).not.toBe(a.traceDigest);
  }, 120_000);
});
