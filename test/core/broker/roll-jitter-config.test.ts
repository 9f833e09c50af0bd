/** log.roll.jitter.ms / log.roll.jitter.hours set the topics' default segment.jitter.ms, as in Kafka. */
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../core/broker/broker.js';
import { tempDir } from '../../helpers/tmp.js';

const open: Broker[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});

async function jitterOf(config: Record<string, string | number | boolean>): Promise<number> {
  const b = await Broker.open({ dataDir: tempDir(), config });
  open.push(b);
  b.logs.createTopic('t', { partitions: 1 });
  return b.logs.topic('t')!.config['segment.jitter.ms'];
}

describe('log.roll.jitter.*', () => {
  it('defaults to no jitter; hours are converted; ms wins over hours', async () => {
    expect(await jitterOf({})).toBe(0);
    expect(await jitterOf({ 'log.roll.jitter.hours': 2 })).toBe(7_200_000);
    expect(await jitterOf({ 'log.roll.jitter.hours': 2, 'log.roll.jitter.ms': 5000 })).toBe(5000);
  });
});
