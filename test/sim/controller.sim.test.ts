/**
 * The controller simulation: 3 controllers + 3 brokers, metadata workload under faults, then a
 * quiet phase that must show progress (see core/cluster/controller/sim/controller-sim.ts).
 *
 *   npx vitest run test/sim/controller.sim.test.ts               CI size
 *   SIM_SEEDS=100 SIM_STEPS=20000 npx vitest run test/sim/controller.sim.test.ts
 *   SEED=1234 SIM_STEPS=6000 npx vitest run test/sim/controller.sim.test.ts   replay one seed
 */
import { describe, expect, it } from 'vitest';
import { runControllerSimulation } from '../../core/cluster/controller/sim/controller-sim.js';

const single = process.env.SEED !== undefined ? Number(process.env.SEED) : null;
const seedCount = Number(process.env.SIM_SEEDS ?? 10);
const base = Number(process.env.SIM_SEED_BASE ?? 1);
const steps = Number(process.env.SIM_STEPS ?? 8000);
const seeds = single !== null ? [single] : Array.from({ length: seedCount }, (_, i) => base + i);

describe('controller simulation', () => {
  it(`keeps the metadata invariants and converges: ${seeds.length} seed(s) × ${steps} steps`, async () => {
    const failures: string[] = [];
    for (const seed of seeds) {
      const r = await runControllerSimulation({ seed, steps });
      if (!r.ok) {
        failures.push(r.report.split('\n')[0]!);
        console.error(`${r.report}\n`);
      } else if (single !== null || process.env.SIM_VERBOSE) {
        console.log(`${r.report} trace=${r.traceDigest}`);
      }
    }
    expect(failures).toEqual([]);
  }, 3_600_000);

  it('replays a seed exactly', async () => {
    const a = await runControllerSimulation({ seed: 77, steps: 1500 });
    const b = await runControllerSimulation({ seed: 77, steps: 1500 });
    expect(a.traceDigest).toBe(b.traceDigest);
  }, 600_000);
});
