import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  count,
  defineJob,
  hoppingWindows,
  map,
  sessionCount,
  sessionWindows,
  slidingWindows,
  to,
  tumblingWindows,
  windowedCount,
  windowedReduce,
} from '../../streams/index.js';
import { TestDriver } from '../../streams/testing.js';
import type { Windowed } from '../../streams/types.js';

/** Windowed results as "key@start-end" so that outputs read naturally. */
const flat = map((k: Windowed<string>, v: number | null) => ({
  key: `${k.key}@${k.window.start}-${k.window.end}`,
  value: v === null ? null : String(v),
}));
const asPairs = (out: { key: string | null; value: string | null }[]) =>
  out.map((r) => `${r.key}=${r.value}`);

const job = defineJob({
  applicationId: 'windows',
  build(b) {
    const input = b.stream<string, string>('in');
    input.pipe(windowedCount(tumblingWindows(1000, { graceMs: 200 })), flat, to('tumbling'));
    input.pipe(
      windowedCount(tumblingWindows(1000, { graceMs: 200 }), { emit: 'final' }),
      flat,
      to('tumbling-final'),
    );
    input.pipe(windowedCount(hoppingWindows(1000, 500)), flat, to('hopping'));
    input.pipe(windowedCount(slidingWindows(100)), flat, to('sliding'));
    input.pipe(sessionCount(sessionWindows(100)), flat, to('sessions'));
    input.pipe(sessionCount(sessionWindows(100), { emit: 'final' }), flat, to('sessions-final'));
    b.stream<string, string>('nums').pipe(
      map((k, v) => ({ key: k, value: Number(v) })),
      windowedReduce(tumblingWindows(1000), (a: number, x: number) => Math.max(a, x)),
      flat,
      to('max'),
    );
    b.stream<string, string>('plain').pipe(count({ store: 'plain-counts' }), to('plain-counts'));
  },
});

const TOPICS = {
  in: 1,
  nums: 1,
  plain: 1,
  tumbling: 1,
  'tumbling-final': 1,
  hopping: 1,
  sliding: 1,
  sessions: 1,
  'sessions-final': 1,
  max: 1,
  'plain-counts': 1,
};

describe('windows', () => {
  let driver: TestDriver;
  beforeAll(async () => {
    driver = await TestDriver.start(job, { topics: TOPICS });
    // stream time: 0, 500, 999, 1000, 1500 then late 900 (closed: 1000+200 ≤ 1500),
    // out of order 1100 (open), then 1201..: boundaries
    await driver.pipeInput(
      'in',
      [0, 500, 999, 1000, 1500, 900, 1100, 2300].map((timestamp) => ({ key: 'a', value: 'x', timestamp })),
    );
  });
  afterAll(() => driver.close());

  it('tumbling windows count per update, drop late records and accept out-of-order ones within grace', async () => {
    expect(asPairs(await driver.readOutput('tumbling'))).toEqual([
      'a@0-1000=1',
      'a@0-1000=2',
      'a@0-1000=3',
      'a@1000-2000=1',
      'a@1000-2000=2',
      'a@1000-2000=3',
      'a@2000-3000=1',
    ]);
    expect(driver.handle.metrics().lateRecordsDropped).toBeGreaterThanOrEqual(1);
  });

  it('emit final: one result per window, when stream time reaches end + grace', async () => {
    // [0,1000) closes at 1200 (record 1500); [1000,2000) closes at 2200 (record 2300); [2000,3000) is open
    expect(asPairs(await driver.readOutput('tumbling-final'))).toEqual(['a@0-1000=3', 'a@1000-2000=3']);
  });

  it('hopping windows: each record in size/advance windows', async () => {
    const out = asPairs(await driver.readOutput('hopping'));
    expect(out.slice(0, 2)).toEqual(['a@0-1000=1', 'a@0-1000=2']);
    expect(out).toContain('a@500-1500=1');
    // record 999 falls in [0,1000) and [500,1500)
    expect(out).toContain('a@0-1000=3');
    expect(out).toContain('a@500-1500=2');
    expect(out).toContain('a@1000-2000=1');
  });

  it('sliding windows: [t − difference, t] per record', async () => {
    const out = asPairs(await driver.readOutput('sliding'));
    // 0 | 500 | 999 | 1000 (the window ending at 1000 holds 999 and 1000) | 1500 | 900 late | 1100 | 2300
    expect(out).toEqual([
      'a@-100-0=1',
      'a@400-500=1',
      'a@899-999=1',
      'a@900-1000=2',
      'a@1400-1500=1',
      'a@2200-2300=1',
    ]);
  });

  it('sessions merge records closer than the gap and retract merged sessions', async () => {
    const out = asPairs(await driver.readOutput('sessions'));
    expect(out.slice(0, 2)).toEqual(['a@0-0=1', 'a@500-500=1']);
    // 999 then 1000 merge into [999,1000]
    expect(out).toContain('a@999-999=null');
    expect(out).toContain('a@999-1000=2');
  });

  it('sessions with emit final emit each closed session once', async () => {
    const out = asPairs(await driver.readOutput('sessions-final'));
    expect(out).toContain('a@0-0=1');
    expect(out).toContain('a@500-500=1');
    expect(new Set(out).size).toBe(out.length);
  });

  it('windowed reduce keeps the max per window', async () => {
    await driver.pipeInput('nums', [
      { key: 'k', value: '3', timestamp: 10_010 },
      { key: 'k', value: '7', timestamp: 10_020 },
      { key: 'k', value: '5', timestamp: 10_030 },
      { key: 'k', value: '1', timestamp: 11_010 },
    ]);
    // (stream time is per task: these come after the 'in' records, hence the later timestamps)
    expect(asPairs(await driver.readOutput('max'))).toEqual([
      'k@10000-11000=3',
      'k@10000-11000=7',
      'k@10000-11000=7',
      'k@11000-12000=1',
    ]);
  });

  it('count per key and interactive query of its store', async () => {
    await driver.pipeInput('plain', [
      { key: 'x', value: '1' },
      { key: 'y', value: '1' },
      { key: 'x', value: '1' },
    ]);
    expect(await driver.readLatest('plain-counts')).toEqual(
      new Map([
        ['x', '2'],
        ['y', '1'],
      ]),
    );
    expect(driver.get('plain-counts', 'x')).toBe(2);
  });
});
