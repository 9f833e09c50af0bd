import { describe, expect, it } from 'vitest';
import { defineJob, jsonSerde, mapValues, to } from '../../streams/index.js';
import { TestDriver } from '../../streams/testing.js';

describe('sources and sinks', () => {
  it('a pattern source reads every matching topic; to() takes a partitioner and a topic per record', async () => {
    const job = defineJob({
      applicationId: 'pattern',
      build(b) {
        b.stream<string, string>(/^events-/).pipe(
          mapValues((v, _k, r) => `${r.topic}:${v}`),
          to((r) => (r.value.startsWith('events-a') ? 'out-a' : 'out-b'), { partitioner: () => 1 }),
        );
      },
    });
    const d = await TestDriver.start(job, {
      topics: { 'events-a': 2, 'events-b': 2, 'out-a': 2, 'out-b': 2 },
    });
    try {
      await d.pipeInput('events-a', [{ key: 'k1', value: 'x' }]);
      await d.pipeInput('events-b', [{ key: 'k2', value: 'y' }]);
      const a = await d.readOutput('out-a');
      const b = await d.readOutput('out-b');
      expect(a.map((r) => [r.value, r.partition])).toEqual([['events-a:x', 1]]);
      expect(b.map((r) => [r.value, r.partition])).toEqual([['events-b:y', 1]]);
    } finally {
      await d.close();
    }
  });

  it('log-and-continue skips records that do not deserialize, and counts them', async () => {
    const job = defineJob({
      applicationId: 'skip',
      config: { 'default.deserialization.exception.handler': 'log-and-continue' },
      build(b) {
        b.stream<string, { n: number }>('in', { valueSerde: jsonSerde<{ n: number }>() }).pipe(
          mapValues((v) => String(v.n * 2)),
          to('out'),
        );
      },
    });
    const d = await TestDriver.start(job, { topics: { in: 1, out: 1 } });
    try {
      await d.pipeInput('in', [{ value: '{"n":1}' }, { value: 'not json' }, { value: '{"n":2}' }]);
      expect((await d.readOutput('out')).map((r) => r.value)).toEqual(['2', '4']);
      expect(d.handle.metrics().recordsSkipped).toBe(1);
    } finally {
      await d.close();
    }
  });

  it('the default handler fails the job with the serde error', async () => {
    const job = defineJob({
      applicationId: 'fail',
      build(b) {
        b.stream<string, unknown>('in', { valueSerde: jsonSerde() }).pipe(to('out'));
      },
    });
    const d = await TestDriver.start(job, { topics: { in: 1, out: 1 } });
    try {
      await d.pipeInput('in', [{ value: 'not json' }]);
      await expect(d.handle.done).rejects.toThrow(/json serde could not handle a record of topic 'in'/);
    } finally {
      await d.close().catch(() => undefined);
    }
  });
});
