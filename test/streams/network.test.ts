/** The same job over the network (a Tributary broker speaking the Kafka protocol), unchanged. */
import { describe, expect, it } from 'vitest';
import { connect } from '../../core/client/index.js';
import wordcount from '../../examples/wordcount/job.js';
import { runJob } from '../../streams/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';
import { createTopics, latest, produce, readTopic } from './helpers.js';

describe('over the network', () => {
  it('runs wordcount against a broker through bootstrap.servers', async () => {
    const broker = await startTestBroker();
    const client = await connect({ 'bootstrap.servers': broker.bootstrap });
    try {
      await createTopics(client, { 'text-lines': 2, 'word-counts': 2 });
      const handle = await runJob(wordcount, {
        client,
        stateDir: tempDir(),
        config: { 'commit.interval.ms': 100 },
      });
      await produce(client, [
        { topic: 'text-lines', value: 'one two two' },
        { topic: 'text-lines', value: 'three three three' },
      ]);
      const out = await readTopic(client, 'word-counts', (r) => latest(r).get('three') === '3');
      expect(latest(out).get('two')).toBe('2');
      expect(latest(out).get('three')).toBe('3');
      await handle.close();
    } finally {
      await client.close();
    }
  });
});
