import { describe, expect, it } from 'vitest';
import {
  fieldTime,
  hoppingWindows,
  recordTime,
  StreamsError,
  tumblingWindows,
  windowsFor,
} from '../../streams/index.js';
import { ExpiryIndex } from '../../streams/windows/expiry-index.js';

describe('window boundaries', () => {
  it('tumbling windows are [start, start + size): the end belongs to the next window', () => {
    const w = tumblingWindows(1000);
    expect(windowsFor(w, 0)).toEqual([{ start: 0, end: 1000 }]);
    expect(windowsFor(w, 999)).toEqual([{ start: 0, end: 1000 }]);
    expect(windowsFor(w, 1000)).toEqual([{ start: 1000, end: 2000 }]);
  });

  it('hopping windows: every window containing the timestamp, oldest first, none before 0', () => {
    const w = hoppingWindows(1000, 250);
    expect(windowsFor(w, 1100)).toEqual([
      { start: 250, end: 1250 },
      { start: 500, end: 1500 },
      { start: 750, end: 1750 },
      { start: 1000, end: 2000 },
    ]);
    expect(windowsFor(w, 100)).toEqual([{ start: 0, end: 1000 }]);
    expect(windowsFor(w, 250)).toEqual([
      { start: 0, end: 1000 },
      { start: 250, end: 1250 },
    ]);
  });

  it('refuses invalid definitions', () => {
    expect(() => hoppingWindows(100, 200)).toThrow(StreamsError);
    expect(() => tumblingWindows(0)).toThrow(StreamsError);
    expect(() => tumblingWindows(10, { graceMs: -1 })).toThrow(StreamsError);
  });

  it('the expiry index hands out windows in close-time order, once, and is bounded', () => {
    const idx = new ExpiryIndex<string>('test', 3);
    idx.add(300, 'c', 'c');
    idx.add(100, 'a', 'a');
    idx.add(200, 'b', 'b');
    expect(() => idx.add(400, 'd', 'd')).toThrow(/more than 3 open windows/);
    idx.remove(200, 'b');
    expect(idx.due(250).map((d) => d.item)).toEqual(['a']);
    expect(idx.due(250)).toEqual([]);
    expect(idx.due(1000).map((d) => d.item)).toEqual(['c']);
  });
});

describe('timestamp extractors', () => {
  const rec = (value: unknown) => ({ key: null, value, timestamp: 5, topic: 't', partition: 0 });
  it('record time, a numeric or ISO field, else the record time', () => {
    expect(recordTime(rec({}), -1)).toBe(5);
    expect(fieldTime('at')(rec({ at: 42 }), -1)).toBe(42);
    expect(fieldTime('at')(rec({ at: '2026-01-01T00:00:00Z' }), -1)).toBe(Date.UTC(2026, 0, 1));
    expect(fieldTime('at')(rec('text'), -1)).toBe(5);
  });
});
