import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureKcat, ensureLibrdkafka, which } from '../helpers/system.js';

describe('system packages for interop tests', () => {
  it('installs kcat (and librdkafka with it) when missing, and is fast once present', () => {
    const kcat = ensureKcat();
    expect(kcat).toMatch(/kcat$/);
    expect(which('kcat')).toBe(kcat);
    expect(execFileSync(kcat, ['-V'], { encoding: 'utf8' })).toMatch(/librdkafka/);
    expect(ensureLibrdkafka()).toMatch(/librdkafka\.so\.1$/);
    const started = Date.now();
    ensureKcat();
    ensureLibrdkafka();
    expect(Date.now() - started).toBeLessThan(1000);
  }, 600_000);
});
