import type { OperatorFunction } from 'rxjs';
import type { StreamRecord, TableRecord, Windowed } from '../types.js';
import type { SessionWindows } from '../windows/windows.js';
import { type SessionAggregateOptions, sessionAggregate } from './session-aggregate.js';

/**
 * Counts each key's records per session.
 *
 * @example
 * ```ts
 * clicks.pipe(sessionCount(sessionWindows(30 * 60_000, { graceMs: 60_000 }), { emit: 'final' }));
 * ```
 */
export function sessionCount<K, V>(
  windows: SessionWindows,
  opts: SessionAggregateOptions = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, number>> {
  return sessionAggregate<K, V, number>(
    windows,
    () => 0,
    (_k, _v, n) => n + 1,
    (a, b) => a + b,
    opts,
  );
}
