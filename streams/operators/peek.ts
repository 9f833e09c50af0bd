import { type MonoTypeOperatorFunction, tap } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * Calls `fn` for each record and passes the record on unchanged (logging, metrics).
 *
 * @example
 * ```ts
 * orders.pipe(peek((key, value) => console.log(key, value)));
 * ```
 */
export function peek<K, V>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => void,
): MonoTypeOperatorFunction<StreamRecord<K, V>> {
  return tap((r) => fn(r.key, r.value, r));
}
