/**
 * The same job against a Kafka broker we did not write: librdkafka's mock cluster. It has no
 * CreateTopics (topics are auto-created by Metadata with 4 partitions) and no DescribeGroups;
 * the runtime falls back to auto-creation for its internal topics.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '../../core/client/index.js';
import wordcount from '../../examples/wordcount/job.js';
import { runJob } from '../../streams/index.js';
import { startMockCluster } from '../helpers/mock-cluster.js';
import { tempDir } from '../helpers/tmp.js';
import { latest, produce, readTopic } from './helpers.js';

describe('against librdkafka’s mock Kafka cluster', () => {
  it('runs the wordcount example unchanged', async () => {
    const cluster = await startMockCluster({
      brokers: 1,
      topics: [
        { topic: 'text-lines', partitions: 4 },
        { topic: 'word-counts', partitions: 4 },
      ],
    });
    const client = await connect({ 'bootstrap.servers': cluster.bootstrap });
    try {
      const handle = await runJob(wordcount, {
        client,
        stateDir: tempDir(),
        config: { 'commit.interval.ms': 100 },
      });
      await produce(client, [
        { topic: 'text-lines', value: 'red green red' },
        { topic: 'text-lines', value: 'blue red' },
      ]);
      const out = await readTopic(client, 'word-counts', (r) => latest(r).get('red') === '3', 20_000);
      expect(latest(out).get('red')).toBe('3');
      expect(latest(out).get('blue')).toBe('1');
      await handle.close();
    } finally {
      await client.close();
    }
  });
});
