import { type MonoTypeOperatorFunction, pipe, filter as rxFilter, map as rxMap } from 'rxjs';
import type { TableRecord } from '../types.js';

/**
 * Filters a table: rows failing `predicate` become deletions (null), so downstream tables drop
 * them; updates that were and stay filtered out are not forwarded.
 *
 * @example
 * ```ts
 * users.pipe(filterTable((user) => user.active));
 * ```
 */
export function filterTable<K, V>(
  predicate: (value: V, key: K) => boolean,
): MonoTypeOperatorFunction<TableRecord<K, V>> {
  const keep = (v: V | null | undefined, k: K): V | null =>
    v === null || v === undefined || !predicate(v, k) ? null : v;
  return pipe(
    rxMap((u) => {
      const out: TableRecord<K, V> = { ...u, value: keep(u.value, u.key) };
      if (u.oldValue !== undefined) out.oldValue = keep(u.oldValue, u.key);
      return out;
    }),
    rxFilter(
      (u) =>
        !(u.value === null && (u.oldValue === null || u.oldValue === undefined) && u.oldValue !== undefined),
    ),
  );
}
