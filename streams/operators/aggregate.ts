import { Observable, type OperatorFunction } from 'rxjs';
import { currentContext, type StoreOptions } from '../context.js';
import { jsonSerde } from '../serdes.js';
import type { StreamRecord, TableRecord } from '../types.js';

export interface AggregateOptions<K, A> extends StoreOptions<K, A> {
  /** The store (and its changelog `<application.id>-<store>-changelog`); default a generated name. */
  store?: string;
}

/**
 * Aggregates the records of each key into a value kept in a state store, and emits the new
 * aggregate (with the previous one as `oldValue`) after every record: a table's changelog stream.
 * Records with a null key are dropped (as in Kafka Streams).
 *
 * @example
 * ```ts
 * orders.pipe(aggregate(() => 0, (key, order, total) => total + order.amount, { store: 'totals' }));
 * ```
 */
export function aggregate<K, V, A>(
  initializer: () => A,
  adder: (key: K, value: V, aggregate: A) => A,
  opts: AggregateOptions<K, A> = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<K, A>> {
  return (source) => {
    const ctx = currentContext('aggregate');
    const store = ctx.keyValueStore<K, A>(opts.store ?? ctx.uniqueName('aggregate'), {
      keySerde: opts.keySerde ?? jsonSerde<K>(),
      valueSerde: opts.valueSerde ?? jsonSerde<A>(),
      ...(opts.inMemory !== undefined ? { inMemory: opts.inMemory } : {}),
    });
    return new Observable<TableRecord<K, A>>((subscriber) =>
      source.subscribe({
        next(r) {
          if (r.key === null || r.key === undefined) return;
          const old = store.get(r.key);
          const value = adder(r.key, r.value, old === undefined ? initializer() : old);
          store.put(r.key, value);
          subscriber.next({
            key: r.key,
            value,
            oldValue: old ?? null,
            timestamp: r.timestamp,
            headers: r.headers,
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
          });
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
  };
}
