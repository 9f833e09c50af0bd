/**
 * The retry and tolerance rules of errors.retry.timeout / errors.retry.delay.max.ms /
 * errors.tolerance, on the error handler alone.
 */
import { describe, expect, it } from 'vitest';
import { DataException, RetriableException } from '../../connect/errors.js';
import { ErrorHandler, type ErrorHandlingConfig } from '../../connect/runtime/error-handler.js';

const cfg = (over: Partial<ErrorHandlingConfig>): ErrorHandlingConfig => ({
  retryTimeoutMs: 0,
  retryDelayMaxMs: 60_000,
  toleranceAll: false,
  logEnable: false,
  logIncludeMessages: false,
  dlqTopic: '',
  dlqReplicationFactor: 1,
  dlqContextHeaders: false,
  ...over,
});
const ctx = { stage: 'TASK_PUT' as const, executingClass: 'Test' };

describe('ErrorHandler', () => {
  it('retries retriable errors within errors.retry.timeout, with backoff capped by errors.retry.delay.max.ms', async () => {
    const h = new ErrorHandler(cfg({ retryTimeoutMs: 5000, retryDelayMaxMs: 20 }), 'c', 0, () => {}, null);
    let calls = 0;
    const started = Date.now();
    const v = await h.execute(() => {
      if (++calls < 4) throw new RetriableException('not yet');
      return 'done';
    }, ctx);
    expect(v).toBe('done');
    expect(calls).toBe(4);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('does not retry non-retriable errors; tolerance none fails, all skips and counts', async () => {
    let calls = 0;
    const op = () => {
      calls++;
      throw new DataException('bad');
    };
    const strict = new ErrorHandler(cfg({ retryTimeoutMs: 5000 }), 'c', 0, () => {}, null);
    await expect(strict.execute(op, ctx)).rejects.toThrow(/Tolerance exceeded in error handler/);
    expect(calls).toBe(1);
    const logs: string[] = [];
    const lenient = new ErrorHandler(
      cfg({ toleranceAll: true, logEnable: true }),
      'c',
      3,
      (l) => logs.push(l),
      null,
    );
    expect(await lenient.execute(op, ctx)).toBeUndefined();
    expect(lenient.skipped).toBe(1);
    expect(logs[0]).toMatch(/Error encountered in task c-3. Executing stage 'TASK_PUT' with class 'Test'/);
  });

  it('gives up on retriable errors once errors.retry.timeout has passed', async () => {
    const h = new ErrorHandler(cfg({ retryTimeoutMs: 200, retryDelayMaxMs: 50 }), 'c', 0, () => {}, null);
    let calls = 0;
    const started = Date.now();
    await expect(
      h.execute(() => {
        calls++;
        throw new RetriableException('down');
      }, ctx),
    ).rejects.toThrow(/Tolerance exceeded/);
    expect(calls).toBeGreaterThan(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
