import type { OperatorFunction } from 'rxjs';
import type { StreamRecord, TableRecord, Windowed } from '../types.js';
import type { SlidingWindows, TimeWindows } from '../windows/windows.js';
import { type WindowedAggregateOptions, windowedAggregate } from './windowed-aggregate.js';

/**
 * Counts the records of each key per window.
 *
 * @example
 * ```ts
 * pageViews.pipe(windowedCount(tumblingWindows(60_000), { emit: 'final' }));
 * ```
 */
export function windowedCount<K, V>(
  windows: TimeWindows | SlidingWindows,
  opts: WindowedAggregateOptions<number> = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, number>> {
  return windowedAggregate<K, V, number>(
    windows,
    () => 0,
    (_k, _v, n) => n + 1,
    opts,
  );
}
