import { type OperatorFunction, map as rxMap } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * A new value for each record; the key (and so the partitioning) is unchanged.
 *
 * @example
 * ```ts
 * words.pipe(mapValues((count) => String(count)));
 * ```
 */
export function mapValues<K, V, VR>(
  fn: (value: V, key: K, record: StreamRecord<K, V>) => VR,
): OperatorFunction<StreamRecord<K, V>, StreamRecord<K, VR>> {
  return rxMap((r) => ({
    key: r.key,
    value: fn(r.value, r.key, r),
    timestamp: r.timestamp,
    headers: r.headers,
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
  }));
}
