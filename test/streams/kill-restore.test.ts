/**
 * Restore after kill -9: `trib run examples/wordcount/job.ts` is killed with SIGKILL in the middle
 * of the input, restarted, and stopped with SIGTERM once it consumed the input; what is left on
 * the repartition hop is then finished in-process from the same state directory. The final count
 * of every word must be exact (no update lost, none counted twice).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connect } from '../../core/client/index.js';
import wordcount from '../../examples/wordcount/job.js';
import { runJob } from '../../streams/index.js';
import { tempDir } from '../helpers/tmp.js';
import { latest, readTopic } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNNER = join(ROOT, 'test/streams/trib-run.mjs');
const JOB = join(ROOT, 'examples/wordcount/job.ts');
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
const LINES = 20_000;

function start(dataDir: string, stateDir: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(
    process.execPath,
    [
      RUNNER,
      JOB,
      '--data-dir',
      dataDir,
      '--state-dir',
      stateDir,
      '--set',
      'commit.interval.ms=50',
      '--set',
      'max.poll.records=500',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { child, stderr: () => err };
}

/** Sum of the committed offsets of `topic` in every task's checkpoint. */
function checkpointed(stateDir: string, topic = 'text-lines'): number {
  const dir = join(stateDir, 'wordcount');
  if (!existsSync(dir)) return 0;
  let sum = 0;
  for (const task of readdirSync(dir)) {
    try {
      const cp = JSON.parse(readFileSync(join(dir, task, 'checkpoint.json'), 'utf8')) as {
        offsets: Record<string, number>;
      };
      sum += cp.offsets[topic] ?? 0;
    } catch {
      // not written yet
    }
  }
  return sum;
}

async function waitFor(
  cond: () => boolean,
  timeoutMs: number,
  what: string,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
}

describe('trib run: restore after kill -9', () => {
  it('keeps exact counts across a SIGKILL and a restart', async () => {
    const dir = tempDir('trib-kill-');
    const dataDir = join(dir, 'data');
    const stateDir = join(dir, 'state');
    const expected = new Map<string, number>();
    {
      const client = await connect({ 'data.dir': dataDir });
      const admin = client.admin();
      await admin.createTopics([
        { topic: 'text-lines', numPartitions: 2 },
        { topic: 'word-counts', numPartitions: 2 },
      ]);
      await admin.close();
      const producer = client.producer({ 'linger.ms': 5 });
      const records = [];
      for (let i = 0; i < LINES; i++) {
        const words = [WORDS[i % 10]!, WORDS[(i * 7) % 10]!, `w${i % 101}`];
        for (const w of words) expected.set(w, (expected.get(w) ?? 0) + 1);
        records.push({ topic: 'text-lines', key: String(i), value: words.join(' ') });
      }
      await producer.sendBatch(records);
      await producer.close();
      await client.close();
    }
    const first = start(dataDir, stateDir);
    await waitFor(() => checkpointed(stateDir) > 1000, 30_000, 'progress', first.stderr);
    expect(checkpointed(stateDir)).toBeLessThan(LINES);
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = start(dataDir, stateDir);
    await waitFor(
      () => checkpointed(stateDir) >= LINES,
      40_000,
      'the restarted job to catch up',
      second.stderr,
    );
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    // progress goes to stderr as plain lines when it is not a terminal
    expect(first.stderr()).toContain('reading text-lines (2 partitions)');
    expect(second.stderr()).toMatch(/tasks: 0, 1\n/);
    expect(second.stderr()).toMatch(/stopped: [\d,]+ records in/);

    // What the repartition hop still holds is finished in-process (a third restore of the same state).
    const client = await connect({ 'data.dir': dataDir });
    try {
      const handle = await runJob(wordcount, { client, stateDir, config: { 'commit.interval.ms': 50 } });
      const deadline = Date.now() + 20_000;
      let idleRounds = 0;
      while (idleRounds < 5 && Date.now() < deadline) {
        const lag = await handle.lag();
        idleRounds = lag.length > 0 && lag.every((l) => l.lag === 0) ? idleRounds + 1 : 0;
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.close();
      const total = [...expected.values()].reduce((a, b) => a + b, 0);
      const out = await readTopic(client, 'word-counts', (r) => r.length >= total, 20_000);
      const counts = latest(out);
      for (const [word, n] of expected) expect(counts.get(word), word).toBe(String(n));
    } finally {
      await client.close();
    }
  });
});
