import { Observable, type OperatorFunction } from 'rxjs';
import { currentContext } from '../context.js';
import { jsonSerde } from '../serdes.js';
import type { Serde, StreamRecord, TableRecord } from '../types.js';
import { repartition } from './repartition.js';

export interface TableAggregateOptions<KR, A> {
  /** Names the repartition topic and (with `-store`) the store. */
  name?: string;
  store?: string;
  keySerde?: Serde<KR>;
  valueSerde?: Serde<A>;
}

/** A row moving in or out of a group, as it travels through the repartition topic. */
interface Delta<V> {
  add: V | null;
  sub: V | null;
}

/**
 * Re-groups a table by a new key and aggregates each group with an adder and a subtractor: when a
 * row changes, its old value is subtracted from its old group and its new value added to its new
 * group (through the repartition topic `<application.id>-<name>-repartition`).
 *
 * @example
 * ```ts
 * // users per city, kept right as users move
 * users.pipe(tableAggregate((id, user) => user.city, () => 0, (k, u, n) => n + 1, (k, u, n) => n - 1));
 * ```
 */
export function tableAggregate<K, V, KR, A>(
  groupKey: (key: K, value: V) => KR,
  initializer: () => A,
  adder: (key: KR, value: V, aggregate: A) => A,
  subtractor: (key: KR, value: V, aggregate: A) => A,
  opts: TableAggregateOptions<KR, A> = {},
): OperatorFunction<TableRecord<K, V>, TableRecord<KR, A>> {
  return (source) => {
    const ctx = currentContext('tableAggregate');
    const name = opts.name ?? ctx.uniqueName('table-aggregate');
    const deltas = new Observable<StreamRecord<KR, Delta<V>>>((sub) =>
      source.subscribe((u) => {
        const oldKey =
          u.oldValue === null || u.oldValue === undefined ? undefined : groupKey(u.key, u.oldValue);
        const newKey = u.value === null ? undefined : groupKey(u.key, u.value);
        const base = {
          timestamp: u.timestamp,
          headers: u.headers,
          topic: u.topic,
          partition: u.partition,
          offset: u.offset,
        };
        if (
          oldKey !== undefined &&
          newKey !== undefined &&
          JSON.stringify(oldKey) === JSON.stringify(newKey)
        ) {
          sub.next({ ...base, key: newKey, value: { add: u.value, sub: u.oldValue ?? null } });
          return;
        }
        if (oldKey !== undefined)
          sub.next({ ...base, key: oldKey, value: { add: null, sub: u.oldValue ?? null } });
        if (newKey !== undefined) sub.next({ ...base, key: newKey, value: { add: u.value, sub: null } });
      }),
    ).pipe(
      repartition<KR, Delta<V>>({
        name,
        keySerde: opts.keySerde ?? jsonSerde<KR>(),
        valueSerde: jsonSerde<Delta<V>>(),
      }),
    );
    const store = ctx.keyValueStore<KR, A>(opts.store ?? `${name}-store`, {
      keySerde: opts.keySerde ?? jsonSerde<KR>(),
      valueSerde: opts.valueSerde ?? jsonSerde<A>(),
    });
    return new Observable<TableRecord<KR, A>>((subscriber) =>
      deltas.subscribe({
        next(r) {
          const old = store.get(r.key);
          let agg = old === undefined ? initializer() : old;
          if (r.value.sub !== null) agg = subtractor(r.key, r.value.sub, agg);
          if (r.value.add !== null) agg = adder(r.key, r.value.add, agg);
          store.put(r.key, agg);
          subscriber.next({ ...r, value: agg, oldValue: old ?? null });
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
  };
}
