/**
 * The deterministic simulation of the metadata quorum (VOPR style): many seeds, each a random
 * cluster under random faults, then a quiet period that must show progress.
 *
 *   npm test                                  30 seeds × 5,000 steps (CI size)
 *   SIM_SEEDS=500 npm run test:sim            500 seeds
 *   SIM_SEEDS=200 SIM_SEED_BASE=$RANDOM SIM_STEPS=20000 npm run test:sim   explore new seeds, longer runs
 *   SEED=1234 SIM_STEPS=5000 npm run test:sim replay one seed exactly (prints its trace digest)
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../core/cluster/sim/simulation.js';

const single = process.env.SEED !== undefined ? Number(process.env.SEED) : null;
const seedCount = Number(process.env.SIM_SEEDS ?? 30);
const base = Number(process.env.SIM_SEED_BASE ?? 1);
const steps = Number(process.env.SIM_STEPS ?? 5000);
const seeds = single !== null ? [single] : Array.from({ length: seedCount }, (_, i) => base + i);

describe('metadata quorum simulation', () => {
  it(`keeps every invariant and makes progress: ${seeds.length} seed(s) × ${steps} steps`, async () => {
    const failures: string[] = [];
    const t0 = performance.now();
    let totalSteps = 0;
    for (const seed of seeds) {
      const r = await runSimulation({ seed, steps, traceTail: single !== null ? 300 : 80 });
      totalSteps += r.steps;
      if (!r.ok) {
        failures.push(r.report.split('\n')[0]!);
        console.error(`${r.report}\n`);
      } else if (single !== null || process.env.SIM_VERBOSE) {
        console.log(`${r.report} trace=${r.traceDigest}`);
      }
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(`simulated ${seeds.length} seed(s), ${totalSteps} events in ${secs.toFixed(1)} s`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
