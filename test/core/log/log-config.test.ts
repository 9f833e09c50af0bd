import { describe, expect, it } from 'vitest';
import { LogError } from '../../../core/log/errors.js';
import { DEFAULT_LOG_CONFIG, LOG_CONFIG_DOCS, parseLogConfig } from '../../../core/log/log-config.js';

function invalid(overrides: Record<string, string | number | boolean>): string {
  try {
    parseLogConfig(overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(LogError);
    expect((err as LogError).code).toBe('INVALID_CONFIG');
    return (err as LogError).message;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('log config', () => {
  it("has Kafka's defaults, with Tributary's flush.ms", () => {
    expect(DEFAULT_LOG_CONFIG['segment.bytes']).toBe(1073741824);
    expect(DEFAULT_LOG_CONFIG['segment.ms']).toBe(604800000);
    expect(DEFAULT_LOG_CONFIG['max.message.bytes']).toBe(1048588);
    expect(DEFAULT_LOG_CONFIG['max.compaction.lag.ms']).toBe(Number.MAX_SAFE_INTEGER);
    expect(DEFAULT_LOG_CONFIG['flush.ms']).toBe(1000);
    expect(DEFAULT_LOG_CONFIG['flush.messages']).toBe(Number.MAX_SAFE_INTEGER);
    expect(LOG_CONFIG_DOCS['flush.ms'].doc).toMatch(/no replicas/);
    expect(Object.isFrozen(parseLogConfig({}))).toBe(true);
  });

  it('parses strings, numbers and booleans', () => {
    const c = parseLogConfig({
      'segment.bytes': '1048576',
      'retention.ms': -1,
      'cleanup.policy': 'delete,compact',
      'unclean.leader.election.enable': 'TRUE',
      'min.cleanable.dirty.ratio': '0.1',
      'flush.messages': '9223372036854775807',
      'message.timestamp.type': 'LogAppendTime',
    });
    expect(c['segment.bytes']).toBe(1048576);
    expect(c['retention.ms']).toBe(-1);
    expect(c['cleanup.policy']).toBe('compact,delete');
    expect(c['unclean.leader.election.enable']).toBe(true);
    expect(c['min.cleanable.dirty.ratio']).toBe(0.1);
    expect(c['flush.messages']).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseLogConfig({ 'retention.ms': 5 }, c)['segment.bytes']).toBe(1048576);
  });

  it('refuses unknown keys naming the closest one', () => {
    expect(invalid({ 'retention.msec': 1 })).toMatch(
      /unknown topic config 'retention.msec'.*did you mean 'retention.ms'/,
    );
    expect(invalid({ 'foo.bar': 1 })).toMatch(/known: segment.bytes/);
  });

  it('refuses bad values naming the key, the value and the range', () => {
    expect(invalid({ 'segment.bytes': 10 })).toMatch(/10.*'segment.bytes'.*\[14, 2147483647\]/);
    expect(invalid({ 'segment.bytes': 'lots' })).toMatch(/"lots"/);
    expect(invalid({ 'min.cleanable.dirty.ratio': 2 })).toMatch(/\[0, 1\]/);
    expect(invalid({ 'cleanup.policy': 'forever' })).toMatch(/delete, compact/);
    expect(invalid({ 'message.timestamp.type': 'Now' })).toMatch(/CreateTime, LogAppendTime/);
    expect(invalid({ 'unclean.leader.election.enable': 'yes' })).toMatch(/boolean/);
    expect(invalid({ 'segment.ms': 1.5 })).toMatch(/segment.ms/);
  });
});
