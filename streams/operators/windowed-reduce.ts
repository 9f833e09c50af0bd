import type { OperatorFunction } from 'rxjs';
import type { StreamRecord, TableRecord, Windowed } from '../types.js';
import type { SlidingWindows, TimeWindows } from '../windows/windows.js';
import { type WindowedAggregateOptions, windowedAggregate } from './windowed-aggregate.js';

/**
 * Combines the values of each key per window: the first as it is, then `reducer(aggregate, value)`.
 *
 * @example
 * ```ts
 * readings.pipe(windowedReduce(hoppingWindows(60_000, 10_000), (a, b) => Math.max(a, b)));
 * ```
 */
export function windowedReduce<K, V>(
  windows: TimeWindows | SlidingWindows,
  reducer: (aggregate: V, value: V) => V,
  opts: WindowedAggregateOptions<V> = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, V>> {
  return windowedAggregate<K, V, V | null>(
    windows,
    () => null,
    (_k, v, agg) => (agg === null ? v : reducer(agg, v)),
    opts as WindowedAggregateOptions<V | null>,
  ) as OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, V>>;
}
