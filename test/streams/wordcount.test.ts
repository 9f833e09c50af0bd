import { describe, expect, it } from 'vitest';
import wordcount from '../../examples/wordcount/job.js';
import { runJob } from '../../streams/index.js';
import { createTopics, embedded, latest, produce, readTopic } from './helpers.js';

describe('wordcount', () => {
  it('counts words across partitions', async () => {
    const { client, stateDir } = await embedded();
    await createTopics(client, { 'text-lines': 2, 'word-counts': 2 });
    const handle = await runJob(wordcount, { client, stateDir, config: { 'commit.interval.ms': 100 } });
    await produce(client, [
      { topic: 'text-lines', value: 'Hello world, hello Streams!' },
      { topic: 'text-lines', value: 'the world is big; THE end' },
    ]);
    const out = await readTopic(client, 'word-counts', (r) => r.length >= 9);
    const counts = latest(out);
    expect(counts.get('hello')).toBe('2');
    expect(counts.get('world')).toBe('2');
    expect(counts.get('the')).toBe('2');
    expect(counts.get('streams')).toBe('1');
    expect(handle.get('counts', 'hello')).toBe(2);
    await handle.close();
  });
});
