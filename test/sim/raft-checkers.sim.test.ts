/**
 * The simulator is only as good as its checkers: a deliberately broken Raft (votes granted
 * without the log up-to-date check) must be caught for some seed, the report must carry the
 * seed, and replaying that seed must reproduce the same run event for event.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../core/cluster/sim/simulation.js';

describe('simulation checkers', () => {
  it('catch a Raft that skips the log up-to-date check in votes', async () => {
    let caught: Awaited<ReturnType<typeof runSimulation>> | null = null;
    for (let seed = 1; seed <= 60 && caught === null; seed++) {
      const r = await runSimulation({ seed, steps: 5000, unsafe: { skipVoteLogCheck: true } });
      if (!r.ok) caught = r;
    }
    expect(caught, 'no seed caught the broken vote check').not.toBeNull();
    const r = caught!;
    expect(r.kind).toBe('safety');
    expect(r.report).toMatch(new RegExp(`^SEED=${r.seed} FAILED`));
    expect(r.report).toContain(`replay: SEED=${r.seed} SIM_STEPS=5000 npm run test:sim`);
    expect(r.report).toContain('trace tail:');
    // replay: the same seed fails the same way, with the same sequence of events
    const again = await runSimulation({ seed: r.seed, steps: 5000, unsafe: { skipVoteLogCheck: true } });
    expect(again.failure).toBe(r.failure);
    expect(again.traceDigest).toBe(r.traceDigest);
    // and the correct Raft passes that very seed
    const correct = await runSimulation({ seed: r.seed, steps: 5000 });
    expect(correct.ok, correct.report).toBe(true);
  }, 300_000);

  it('replays a seed exactly', async () => {
    const a = await runSimulation({ seed: 4242, steps: 3000 });
    const b = await runSimulation({ seed: 4242, steps: 3000 });
    expect(a.ok, a.report).toBe(true);
    expect(b.traceDigest).toBe(a.traceDigest);
    expect(b.stats).toEqual(a.stats);
    const other = await runSimulation({ seed: 4243, steps: 3000 });
    expect(other.traceDigest).not.toBe(a.traceDigest);
  }, 120_000);
});
