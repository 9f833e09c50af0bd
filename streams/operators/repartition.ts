import type { MonoTypeOperatorFunction } from 'rxjs';
import { currentContext } from '../context.js';
import { jsonSerde } from '../serdes.js';
import type { Serde, StreamRecord } from '../types.js';
import { to } from './to.js';

export interface RepartitionOptions<K, V> {
  /** The topic is `<application.id>-<name>-repartition`. */
  name?: string;
  /** Default JSON for both. */
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
}

/**
 * Writes the records to the internal topic `<application.id>-<name>-repartition` (partitioned by
 * their current key) and reads them back, so that each key is processed by the task that owns its
 * partition. `groupBy` uses it after changing the key.
 *
 * @example
 * ```ts
 * orders.pipe(selectKey((k, o) => o.customerId), repartition({ name: 'by-customer' }));
 * ```
 */
export function repartition<K, V>(
  opts: RepartitionOptions<K, V> = {},
): MonoTypeOperatorFunction<StreamRecord<K, V>> {
  return (source) => {
    const ctx = currentContext('repartition');
    const topic = ctx.repartitionTopic(opts.name ?? ctx.uniqueName('repartition'));
    const keySerde = opts.keySerde ?? jsonSerde<K>();
    const valueSerde = opts.valueSerde ?? jsonSerde<V>();
    source.pipe(to(topic, { keySerde, valueSerde }));
    return ctx.source<K, V>(topic, { keySerde, valueSerde });
  };
}

/** `through(topic)`: writes to a topic of your own and reads it back (it must be co-partitioned). */
export function through<K, V>(
  topic: string,
  opts: Omit<RepartitionOptions<K, V>, 'name'> = {},
): MonoTypeOperatorFunction<StreamRecord<K, V>> {
  return (source) => {
    const ctx = currentContext('through');
    const keySerde = opts.keySerde ?? jsonSerde<K>();
    const valueSerde = opts.valueSerde ?? jsonSerde<V>();
    source.pipe(to(topic, { keySerde, valueSerde }));
    return ctx.source<K, V>(topic, { keySerde, valueSerde });
  };
}
