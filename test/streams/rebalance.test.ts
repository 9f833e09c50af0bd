import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import wordcount from '../../examples/wordcount/job.js';
import { type JobHandle, runJob } from '../../streams/index.js';
import { createTopics, embedded, latest, produce, readTopic } from './helpers.js';

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('two instances of one job', () => {
  it('share the partitions, rebalance when one joins or leaves, and keep counts exact', async () => {
    const { client, dir } = await embedded();
    await createTopics(client, { 'text-lines': 4, 'word-counts': 4 });
    const config = { 'commit.interval.ms': 100 };
    const lines = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({
        topic: 'text-lines',
        key: `${tag}${i}`,
        value: `apple banana w${i % 13}`,
      }));

    const a: JobHandle = await runJob(wordcount, { client, stateDir: join(dir, 'a'), config });
    await until(() => a.tasks().length === 4, 'instance a to take every task');
    await produce(client, lines(200, 'x'));
    await until(() => a.metrics().recordsIn >= 200 + 600, 'a to process the first lines');

    const b = await runJob(wordcount, { client, stateDir: join(dir, 'b'), config });
    await until(() => a.tasks().length === 2 && b.tasks().length === 2, 'the tasks to be shared');
    expect([...a.tasks(), ...b.tasks()].sort()).toEqual([0, 1, 2, 3]);
    await produce(client, lines(200, 'y'));
    await until(
      () => a.metrics().recordsIn + b.metrics().recordsIn >= 2 * 800,
      'both to process the second lines',
    );

    await a.close();
    await until(() => b.tasks().length === 4, 'b to take the tasks back');
    await produce(client, lines(200, 'z'));
    const out = await readTopic(client, 'word-counts', (r) => latest(r).get('apple') === '600');
    const counts = latest(out);
    expect(counts.get('apple')).toBe('600');
    expect(counts.get('banana')).toBe('600');
    expect(b.get('counts', 'apple')).toBe(600);
    await b.close();
  });
});
