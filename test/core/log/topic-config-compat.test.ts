/**
 * Kafka topic configs beyond the ones the log acts on: timestamp bounds
 * (message.timestamp.before/after.max.ms and the older difference.max.ms) are enforced on
 * append, segment.jitter.ms moves time-based rolls earlier, and the configs that only matter to
 * features Tributary lacks (tiered storage, throttling, preallocation) are accepted and stored so
 * that configs written for Kafka apply unchanged — except remote.storage.enable=true, which would
 * promise something that does not happen.
 */
import { describe, expect, it } from 'vitest';
import type { Random } from '../../../core/env/random.js';
import { LogError } from '../../../core/log/errors.js';
import { LOG_CONFIG_DOCS, parseLogConfig } from '../../../core/log/log-config.js';
import { encodeBatch } from '../../../core/records/index.js';
import { FakeClock, openLog, readAll } from './helpers.js';

const HOUR = 3_600_000;

function refused(fn: () => unknown): LogError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LogError);
    return err as LogError;
  }
  throw new Error('expected a LogError');
}

describe('Kafka topic configs without an effect here', () => {
  it('are accepted, stored and documented as having no effect', () => {
    const c = parseLogConfig({
      preallocate: 'true',
      'local.retention.ms': '3600000',
      'local.retention.bytes': -2,
      'compression.zstd.level': '9',
      'leader.replication.throttled.replicas': '*',
      'message.downconversion.enable': 'false',
      'message.format.version': '2.8-IV1',
      'remote.storage.enable': 'false',
    });
    expect(c.preallocate).toBe(true);
    expect(c['compression.zstd.level']).toBe(9);
    expect(c['leader.replication.throttled.replicas']).toBe('*');
    expect(c['message.format.version']).toBe('2.8-IV1');
    for (const k of [
      'preallocate',
      'local.retention.ms',
      'compression.gzip.level',
      'message.format.version',
    ] as const)
      expect(LOG_CONFIG_DOCS[k].doc).toMatch(/no effect/);
  });

  it('still check their values', () => {
    expect(refused(() => parseLogConfig({ 'compression.gzip.level': 12 })).message).toMatch(
      /-1 .* or 1 to 9/,
    );
    // Kafka: -1 or 1..9 (0 is not a level it accepts)
    expect(refused(() => parseLogConfig({ 'compression.gzip.level': '0' })).code).toBe('INVALID_CONFIG');
    expect(parseLogConfig({ 'compression.gzip.level': '-1' })['compression.gzip.level']).toBe(-1);
    expect(parseLogConfig({ 'leader.replication.throttled.replicas': '0:1, 1:2' })).toBeDefined();
    expect(
      refused(() => parseLogConfig({ 'follower.replication.throttled.replicas': 'all' })).message,
    ).toMatch(/partition:broker/);
    expect(refused(() => parseLogConfig({ 'message.format.version': 'latest' })).message).toMatch(
      /Kafka version/,
    );
    expect(refused(() => parseLogConfig({ preallocate: 'maybe' })).message).toMatch(/boolean/);
    expect(refused(() => parseLogConfig({ 'message.format.version': 'x'.repeat(100) })).message).toMatch(
      /Kafka version/,
    );
  });

  it('refuse remote.storage.enable=true, saying there is no tiered storage', () => {
    const err = refused(() => parseLogConfig({ 'remote.storage.enable': 'true' }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(/no tiered storage/);
  });
});

describe('message.timestamp.before.max.ms / after.max.ms', () => {
  const at = (ts: number, n = 3, opts: { gzip?: boolean } = {}) =>
    encodeBatch(
      Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`v${i}`), timestamp: ts + i })),
      { now: ts, ...(opts.gzip ? { compression: 1 } : {}) },
    );

  it('refuse a batch holding a record too far in the past or the future, appending nothing of it', () => {
    const clock = new FakeClock();
    const now = clock.nowMs;
    const log = openLog(
      { 'message.timestamp.before.max.ms': HOUR, 'message.timestamp.after.max.ms': 60_000 },
      { clock },
    );
    log.append(at(now - HOUR + 10));
    log.append(at(now + 50_000));
    const past = refused(() => log.append(at(now - 2 * HOUR)));
    expect(past.code).toBe('INVALID_TIMESTAMP');
    expect(past.message).toMatch(/before.max.ms.*before the broker clock/);
    // The third record of this batch is the one too far ahead.
    const future = refused(() => log.append(at(now + 60_000 - 1)));
    expect(future.code).toBe('INVALID_TIMESTAMP');
    expect(future.message).toMatch(/record 2 .*after.max.ms/);
    expect(log.logEndOffset).toBe(6);
    expect(readAll(log).map((r) => r.value)).toEqual(['v0', 'v1', 'v2', 'v0', 'v1', 'v2']);
    log.close();
  });

  it('look inside compressed batches', () => {
    const clock = new FakeClock();
    const log = openLog({ 'message.timestamp.after.max.ms': 1000 }, { clock });
    expect(refused(() => log.append(at(clock.nowMs + HOUR, 5, { gzip: true }))).code).toBe(
      'INVALID_TIMESTAMP',
    );
    expect(log.logEndOffset).toBe(0);
    log.close();
  });

  it('let an explicit before/after bound win over the deprecated difference.max.ms, which fills a side left unset', () => {
    const clock = new FakeClock();
    const log = openLog(
      { 'message.timestamp.difference.max.ms': 1000, 'message.timestamp.before.max.ms': 24 * HOUR },
      { clock },
    );
    log.append(at(clock.nowMs - 60_000)); // within before (1 day), though past the difference
    expect(refused(() => log.append(at(clock.nowMs + 60_000))).code).toBe('INVALID_TIMESTAMP'); // after: the difference
    expect(log.logEndOffset).toBe(3);
    log.close();
  });

  it('skip records without a timestamp (-1), and name a timestamp in nanoseconds plainly', () => {
    const clock = new FakeClock();
    const log = openLog(
      { 'message.timestamp.before.max.ms': 1000, 'message.timestamp.after.max.ms': 1000 },
      { clock },
    );
    log.append(encodeBatch([{ value: Buffer.from('t'), timestamp: -1 }], { now: -1 }));
    expect(log.logEndOffset).toBe(1);
    const nanos = refused(() => log.append(at(clock.nowMs * 1e6, 1)));
    expect(nanos.code).toBe('INVALID_TIMESTAMP');
    expect(nanos.message).toMatch(/milliseconds since the epoch/);
    log.close();
  });

  it('apply to the leader only: a follower copies what the leader accepted', () => {
    const clock = new FakeClock();
    const log = openLog({ 'message.timestamp.after.max.ms': 1000 }, { clock });
    const copied = at(clock.nowMs + HOUR);
    log.append(copied, { assignOffsets: false });
    expect(log.logEndOffset).toBe(3);
    log.close();
  });

  it('take the deprecated difference.max.ms as a bound in both directions', () => {
    const clock = new FakeClock();
    const log = openLog({ 'message.timestamp.difference.max.ms': 1000 }, { clock });
    expect(refused(() => log.append(at(clock.nowMs - 5000))).code).toBe('INVALID_TIMESTAMP');
    expect(refused(() => log.append(at(clock.nowMs + 5000))).code).toBe('INVALID_TIMESTAMP');
    log.append(at(clock.nowMs - 500));
    expect(log.logEndOffset).toBe(3);
    log.close();
  });

  it('do not apply with LogAppendTime (the broker stamps the batch) nor by default', () => {
    const clock = new FakeClock();
    const stamped = openLog(
      { 'message.timestamp.type': 'LogAppendTime', 'message.timestamp.before.max.ms': 0 },
      { clock },
    );
    stamped.append(at(0));
    expect(stamped.logEndOffset).toBe(3);
    stamped.close();
    const plain = openLog({}, { clock });
    plain.append(at(0));
    plain.append(at(clock.nowMs + 100 * 365 * 24 * HOUR));
    expect(plain.logEndOffset).toBe(6);
    plain.close();
  });
});

describe('segment.jitter.ms', () => {
  /** Draws that are always half the bound (the log asks for an int below the jitter). */
  const half: Random = { next: () => 0.5, int: (bound) => Math.floor(bound / 2), fill: () => {} };

  it('rolls a segment by time the drawn jitter earlier than segment.ms, not before', () => {
    const clock = new FakeClock();
    const one = () =>
      encodeBatch([{ value: Buffer.from('x'), timestamp: clock.nowMs }], { now: clock.nowMs });
    const log = openLog({ 'segment.ms': 10_000, 'segment.jitter.ms': 4000 }, { clock, random: half });
    log.append(one());
    clock.advance(7999); // before segment.ms - 2000
    log.append(one());
    expect(log.numberOfSegments).toBe(1);
    clock.advance(2); // 8001 ms after the segment's first record
    log.append(one());
    expect(log.numberOfSegments).toBe(2);
    log.close();

    const noJitter = openLog({ 'segment.ms': 10_000 }, { clock, random: half });
    noJitter.append(one());
    clock.advance(8001);
    noJitter.append(one());
    expect(noJitter.numberOfSegments).toBe(1);
    noJitter.close();
  });
});
