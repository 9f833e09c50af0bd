/**
 * The ack tracker: the LSN it lets the slot confirm is that of the last "complete up to" mark whose
 * every record before it is acknowledged, whatever order acknowledgements come in (those of
 * records a transform dropped come at once, ahead of earlier records still in flight).
 */
import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../connect/sdk.js';
import { AckTracker } from '../../../connectors/postgres-cdc/offsets.js';

function record(n: number): SourceRecord {
  return {
    topic: 't',
    kafkaPartition: null,
    keySchema: null,
    key: null,
    valueSchema: null,
    value: n,
    timestamp: null,
    headers: [],
    sourcePartition: { server: 's' },
    sourceOffset: { lsn: n },
  };
}

describe('AckTracker', () => {
  it('confirms a mark once every record before it is acknowledged, in any order', () => {
    const confirmed: number[] = [];
    const t = new AckTracker((lsn) => confirmed.push(lsn));
    const rs = Array.from({ length: 6 }, (_, i) => record(i));
    t.track(rs[0]!);
    t.track(rs[1]!);
    t.mark(100);
    t.track(rs[2]!);
    t.track(rs[3]!);
    t.mark(200);
    t.track(rs[4]!);
    t.track(rs[5]!);
    t.mark(300);
    expect(t.pending).toBe(6);
    t.ack(rs[3]!); // dropped: acknowledged ahead of the others
    t.ack(rs[1]!);
    expect(confirmed).toEqual([]);
    t.ack(rs[0]!);
    expect(confirmed).toEqual([100]);
    t.ack(rs[0]!); // twice: ignored
    t.ack(record(9)); // never tracked: ignored
    t.ack(rs[4]!);
    t.ack(rs[5]!);
    expect(confirmed).toEqual([100]);
    t.ack(rs[2]!);
    expect(confirmed).toEqual([100, 300]);
    expect(t.pending).toBe(0);
    expect(t.confirmableLsn).toBe(300);
    // Nothing in flight: a mark is confirmable at once.
    t.mark(400);
    expect(confirmed).toEqual([100, 300, 400]);
  });

  it('keeps up with many records acknowledged in order, a few of them early', () => {
    const confirmed: number[] = [];
    const t = new AckTracker((lsn) => confirmed.push(lsn));
    const rs: SourceRecord[] = [];
    for (let i = 0; i < 20_000; i++) {
      const r = record(i);
      rs.push(r);
      t.track(r);
      if (i % 100 === 99) t.mark(i + 1);
    }
    for (let i = 0; i < rs.length; i += 7) t.ack(rs[i]!);
    for (let i = 0; i < rs.length; i++) if (i % 7 !== 0) t.ack(rs[i]!);
    expect(t.pending).toBe(0);
    expect(confirmed.at(-1)).toBe(20_000);
    expect(confirmed).toEqual([...confirmed].sort((a, b) => a - b));
  });
});
