import { type OperatorFunction, map as rxMap } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * A new key for each record, the value unchanged. Aggregating by the new key needs the records
 * repartitioned: `groupBy(fn)` does both.
 *
 * @example
 * ```ts
 * orders.pipe(selectKey((key, order) => order.customerId));
 * ```
 */
export function selectKey<K, V, KR>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => KR,
): OperatorFunction<StreamRecord<K, V>, StreamRecord<KR, V>> {
  return rxMap((r) => ({ ...r, key: fn(r.key, r.value, r) }));
}
