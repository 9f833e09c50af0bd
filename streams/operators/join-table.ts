import { type OperatorFunction, filter as rxFilter, map as rxMap } from 'rxjs';
import type { StreamRecord } from '../types.js';

/** What a stream can be joined with by key: a table or a global table (anything with get()). */
export interface KeyLookup<K, V> {
  get(key: K): V | undefined;
}

/**
 * Stream–table join (inner): each record is joined with the table's current value for its key;
 * records whose key is not in the table are dropped. The table must be co-partitioned with the
 * stream (same partition count, same key serialization), or be a global table.
 *
 * @example
 * ```ts
 * const customers = builder.table('customers', { valueSerde: jsonSerde<Customer>() });
 * orders.pipe(joinTable(customers, (order, customer) => ({ ...order, customer })));
 * ```
 */
export function joinTable<K, V, VT, R>(
  table: KeyLookup<K, VT>,
  joiner: (value: V, tableValue: VT, key: K) => R,
): OperatorFunction<StreamRecord<K, V>, StreamRecord<K, R>> {
  return (source) =>
    source.pipe(
      rxMap((r) => [r, r.key === null || r.key === undefined ? undefined : table.get(r.key)] as const),
      rxFilter(([, t]) => t !== undefined && t !== null),
      rxMap(([r, t]) => ({ ...r, value: joiner(r.value, t as VT, r.key) })),
    );
}

/** Stream–table left join: like {@link joinTable}, with `null` when the table has no value. */
export function leftJoinTable<K, V, VT, R>(
  table: KeyLookup<K, VT>,
  joiner: (value: V, tableValue: VT | null, key: K) => R,
): OperatorFunction<StreamRecord<K, V>, StreamRecord<K, R>> {
  return rxMap((r) => {
    const t = r.key === null || r.key === undefined ? undefined : table.get(r.key);
    return { ...r, value: joiner(r.value, t ?? null, r.key) };
  });
}
