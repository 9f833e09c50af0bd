/**
 * Kafka topic configs beyond the ones the log acts on: timestamp bounds
 * (message.timestamp.before/after.max.ms and the older difference.max.ms) are enforced on
 * append, segment.jitter.ms moves time-based rolls earlier, and the configs that only matter to
 * features Tributary lacks (tiered storage, throttling, preallocation) are accepted and stored so
 * that configs written for Kafka apply unchanged — except remote.storage.enable=true, which would
 * promise something that does not happen.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
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
    expect(refused(() => parseLogConfig({ 'compression.gzip.level': 12 })).message).toMatch(/\[-1, 9\]/);
    expect(refused(() => parseLogConfig({ preallocate: 'maybe' })).message).toMatch(/boolean/);
    expect(refused(() => parseLogConfig({ 'message.format.version': 'x'.repeat(100) })).message).toMatch(
      /at most 32/,
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
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('rolls a segment by time up to the jitter earlier than segment.ms', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const clock = new FakeClock();
    const log = openLog({ 'segment.ms': 10_000, 'segment.jitter.ms': 4000 }, { clock });
    const one = () =>
      encodeBatch([{ value: Buffer.from('x'), timestamp: clock.nowMs }], { now: clock.nowMs });
    log.append(one());
    clock.advance(8001); // past segment.ms - 2000 (half of the jitter), before segment.ms
    log.append(one());
    expect(log.numberOfSegments).toBe(2);
    log.close();

    const noJitter = openLog({ 'segment.ms': 10_000 }, { clock });
    noJitter.append(one());
    clock.advance(8001);
    noJitter.append(one());
    expect(noJitter.numberOfSegments).toBe(1);
    noJitter.close();
  });
});
