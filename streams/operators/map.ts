import { type OperatorFunction, map as rxMap } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * A new key and value for each record (timestamp, headers and source coordinates are kept).
 * Changing the key of a stream that is then aggregated needs a repartition: use `groupBy`.
 *
 * @example
 * ```ts
 * builder.stream<string, string>('orders').pipe(
 *   map((key, value) => ({ key: value.toUpperCase(), value: key })),
 * );
 * ```
 */
export function map<K, V, KR, VR>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => { key: KR; value: VR },
): OperatorFunction<StreamRecord<K, V>, StreamRecord<KR, VR>> {
  return rxMap((r) => {
    const kv = fn(r.key, r.value, r);
    return { ...r, key: kv.key, value: kv.value };
  });
}
