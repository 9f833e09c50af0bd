import { filter, map, type Observable, share } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * Branches: each record goes to the first branch whose predicate holds; the last branch (the
 * "default") gets the records no predicate took. Returns predicates.length + 1 streams.
 *
 * @example
 * ```ts
 * const [large, small] = split(orders, (key, order) => order.total > 1000);
 * ```
 */
export function split<K, V>(
  source: Observable<StreamRecord<K, V>>,
  ...predicates: ((key: K, value: V, record: StreamRecord<K, V>) => boolean)[]
): Observable<StreamRecord<K, V>>[] {
  const tagged = source.pipe(
    map((r) => {
      let i = 0;
      while (i < predicates.length && !predicates[i]!(r.key, r.value, r)) i++;
      return [i, r] as const;
    }),
    share(),
  );
  return Array.from({ length: predicates.length + 1 }, (_, branch) =>
    tagged.pipe(
      filter(([i]) => i === branch),
      map(([, r]) => r),
    ),
  );
}
