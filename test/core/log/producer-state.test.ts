import { describe, expect, it } from 'vitest';
import { LogError } from '../../../core/log/errors.js';
import { lastSequence } from '../../../core/log/producer-state.js';
import { batch, openLog, readAll, reopen } from './helpers.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof LogError) return err.code;
    throw err;
  }
  return 'OK';
}

const P = 4242;

describe('idempotent producers', () => {
  it('detects a retried batch as a duplicate and returns the original offsets', () => {
    const log = openLog();
    log.append(batch(2));
    const first = log.append(batch(3, { producerId: P, producerEpoch: 0, baseSequence: 0 }));
    log.append(batch(2, { producerId: P, producerEpoch: 0, baseSequence: 3 }));
    const leo = log.logEndOffset;
    const retry = log.append(batch(3, { producerId: P, producerEpoch: 0, baseSequence: 0 }));
    expect(retry).toMatchObject({
      duplicate: true,
      firstOffset: first.firstOffset,
      lastOffset: first.lastOffset,
    });
    expect(log.logEndOffset).toBe(leo);
    expect(readAll(log).length).toBe(7);
    log.close();
  });

  it('remembers the last 5 batches only', () => {
    const log = openLog();
    for (let i = 0; i < 7; i++) log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: i }));
    expect(log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 2 })).duplicate).toBe(true);
    expect(code(() => log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 1 })))).toBe(
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
    );
    log.close();
  });

  it('refuses a gap in sequences', () => {
    const log = openLog();
    log.append(batch(3, { producerId: P, producerEpoch: 0, baseSequence: 0 }));
    expect(code(() => log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 4 })))).toBe(
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
    );
    expect(log.logEndOffset).toBe(3);
    log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 3 }));
    log.close();
  });

  it('fences an older epoch and requires sequence 0 for a new one', () => {
    const log = openLog();
    log.append(batch(3, { producerId: P, producerEpoch: 5, baseSequence: 0 }));
    expect(code(() => log.append(batch(1, { producerId: P, producerEpoch: 4, baseSequence: 3 })))).toBe(
      'INVALID_PRODUCER_EPOCH',
    );
    expect(code(() => log.append(batch(1, { producerId: P, producerEpoch: 6, baseSequence: 3 })))).toBe(
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
    );
    log.append(batch(1, { producerId: P, producerEpoch: 6, baseSequence: 0 }));
    expect(code(() => log.append(batch(1, { producerId: P, producerEpoch: 5, baseSequence: 3 })))).toBe(
      'INVALID_PRODUCER_EPOCH',
    );
    log.close();
  });

  it('accepts an unknown producer at any sequence (state lost to retention)', () => {
    const log = openLog();
    expect(log.append(batch(1, { producerId: P, producerEpoch: 3, baseSequence: 1234 })).firstOffset).toBe(0);
    log.append(batch(1, { producerId: P, producerEpoch: 3, baseSequence: 1235 }));
    log.close();
  });

  it('wraps sequences past Int32.MAX to 0', () => {
    expect(lastSequence(0x7fffffff - 1, 3)).toBe(1);
    expect(lastSequence(0x7fffffff, 0)).toBe(0x7fffffff);
    const log = openLog();
    log.append(batch(2, { producerId: P, producerEpoch: 0, baseSequence: 0x7fffffff - 1 }));
    log.append(batch(2, { producerId: P, producerEpoch: 0, baseSequence: 0 }));
    expect(log.logEndOffset).toBe(4);
    log.close();
  });

  it('checks several batches of one producer in one append against each other', () => {
    const log = openLog();
    const ok = Buffer.concat([
      batch(2, { producerId: P, producerEpoch: 0, baseSequence: 0 }),
      batch(2, { producerId: P, producerEpoch: 0, baseSequence: 2 }),
    ]);
    expect(log.append(ok).batchCount).toBe(2);
    const bad = Buffer.concat([
      batch(2, { producerId: P, producerEpoch: 0, baseSequence: 4 }),
      batch(2, { producerId: P, producerEpoch: 0, baseSequence: 7 }),
    ]);
    expect(code(() => log.append(bad))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(log.logEndOffset).toBe(4);
    log.close();
  });

  it('does not check sequences on the follower path', () => {
    const log = openLog();
    log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 0, baseOffset: 0 }), {
      assignOffsets: false,
    });
    log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 9, baseOffset: 1 }), {
      assignOffsets: false,
    });
    expect(log.logEndOffset).toBe(2);
    log.close();
  });

  it('rebuilds producer state on reopen (from a snapshot and from batch headers) and after truncation', () => {
    const log = openLog({ 'segment.bytes': 600 });
    for (let i = 0; i < 20; i++)
      log.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: i, valueBytes: 50 }));
    expect(log.numberOfSegments).toBeGreaterThan(2);
    log.close();
    const again = reopen(log);
    expect(again.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 19 })).duplicate).toBe(
      true,
    );
    expect(code(() => again.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 21 })))).toBe(
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
    );
    // kill -9: no snapshot at close, rescan from the last roll's snapshot
    again.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 20 }));
    const crashed = reopen(again);
    expect(crashed.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 20 })).duplicate).toBe(
      true,
    );
    crashed.truncateTo(15);
    expect(crashed.append(batch(1, { producerId: P, producerEpoch: 0, baseSequence: 15 })).duplicate).toBe(
      false,
    );
    crashed.close();
    again.close();
  });
});
