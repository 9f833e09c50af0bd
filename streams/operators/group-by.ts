import { identity, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from '../types.js';
import { type RepartitionOptions, repartition } from './repartition.js';
import { selectKey } from './select-key.js';

/**
 * Groups by the record's key as it is (no repartition): what `count`, `reduce` and `aggregate`
 * then use. Kept for readers who know Kafka Streams; the aggregations group by key anyway.
 *
 * @example
 * ```ts
 * clicks.pipe(groupByKey(), count());
 * ```
 */
export function groupByKey<K, V>(): MonoTypeOperatorFunction<StreamRecord<K, V>> {
  return identity;
}

/**
 * Groups by a new key: selects it and repartitions through `<application.id>-<name>-repartition`
 * so that all records of a key meet in one task.
 *
 * @example
 * ```ts
 * lines.pipe(flatMapValues(words), groupBy((key, word) => word, { name: 'words' }), count());
 * ```
 */
export function groupBy<K, V, KR>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => KR,
  opts: RepartitionOptions<KR, V> = {},
): OperatorFunction<StreamRecord<K, V>, StreamRecord<KR, V>> {
  return (source) => source.pipe(selectKey(fn), repartition(opts));
}
