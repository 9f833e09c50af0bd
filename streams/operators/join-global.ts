import { type OperatorFunction, filter as rxFilter, map as rxMap } from 'rxjs';
import type { GlobalTable } from '../builder.js';
import type { StreamRecord } from '../types.js';

/**
 * Stream–global-table join: the lookup key is computed from each record (no co-partitioning
 * needed: every instance holds the whole global table). Inner by default; `{ left: true }` keeps
 * records without a match (joined with null).
 *
 * @example
 * ```ts
 * const products = builder.globalTable('products', { valueSerde: jsonSerde<Product>() });
 * orders.pipe(joinGlobal(products, (key, order) => order.productId, (order, product) => ({ ...order, product })));
 * ```
 */
export function joinGlobal<K, V, GK, GV, R>(
  table: GlobalTable<GK, GV>,
  keySelector: (key: K, value: V) => GK,
  joiner: (value: V, globalValue: GV | null, key: K) => R,
  opts: { left?: boolean } = {},
): OperatorFunction<StreamRecord<K, V>, StreamRecord<K, R>> {
  return (source) =>
    source.pipe(
      rxMap((r) => [r, table.get(keySelector(r.key, r.value))] as const),
      rxFilter(([, g]) => opts.left === true || (g !== undefined && g !== null)),
      rxMap(([r, g]) => ({ ...r, value: joiner(r.value, g ?? null, r.key) })),
    );
}
