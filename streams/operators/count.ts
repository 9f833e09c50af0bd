import type { OperatorFunction } from 'rxjs';
import { numberSerde } from '../serdes.js';
import type { StreamRecord, TableRecord } from '../types.js';
import { type AggregateOptions, aggregate } from './aggregate.js';

/**
 * Counts the records of each key (in a state store) and emits the running count per record.
 *
 * @example
 * ```ts
 * words.pipe(groupBy((k, word) => word), count({ store: 'counts' }), mapValues(String), to('word-counts'));
 * ```
 */
export function count<K, V>(
  opts: AggregateOptions<K, number> = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<K, number>> {
  return aggregate<K, V, number>(
    () => 0,
    (_k, _v, n) => n + 1,
    { valueSerde: numberSerde, ...opts },
  );
}
