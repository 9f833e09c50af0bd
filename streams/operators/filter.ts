import { type MonoTypeOperatorFunction, filter as rxFilter } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * Keeps the records for which `predicate` is true (`filterNot`: false).
 *
 * @example
 * ```ts
 * clicks.pipe(filter((key, value) => value.page !== '/health'));
 * ```
 */
export function filter<K, V>(
  predicate: (key: K, value: V, record: StreamRecord<K, V>) => boolean,
): MonoTypeOperatorFunction<StreamRecord<K, V>> {
  return rxFilter((r) => predicate(r.key, r.value, r));
}

/** Keeps the records for which `predicate` is false. */
export function filterNot<K, V>(
  predicate: (key: K, value: V, record: StreamRecord<K, V>) => boolean,
): MonoTypeOperatorFunction<StreamRecord<K, V>> {
  return rxFilter((r) => !predicate(r.key, r.value, r));
}
