import type { OperatorFunction } from 'rxjs';
import type { StreamRecord, TableRecord } from '../types.js';
import { type AggregateOptions, aggregate } from './aggregate.js';

/**
 * Combines the values of each key: the first value as it is, then `reducer(aggregate, value)`.
 *
 * @example
 * ```ts
 * readings.pipe(reduce((max, v) => Math.max(max, v), { store: 'max-reading' }));
 * ```
 */
export function reduce<K, V>(
  reducer: (aggregate: V, value: V, key: K) => V,
  opts: AggregateOptions<K, V> = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<K, V>> {
  const FIRST = Symbol('first');
  return aggregate<K, V, V>(
    () => FIRST as unknown as V,
    (key, value, agg) => ((agg as unknown) === FIRST ? value : reducer(agg, value, key)),
    opts,
  );
}
