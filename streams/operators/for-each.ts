import { EMPTY, type OperatorFunction, tap } from 'rxjs';
import { currentContext } from '../context.js';
import type { StreamRecord } from '../types.js';

/**
 * A terminal operation: calls `fn` for each record. Like `to()`, the runtime subscribes it.
 *
 * @example
 * ```ts
 * alerts.pipe(forEach((key, alert) => notify(alert)));
 * ```
 */
export function forEach<K, V>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => void,
): OperatorFunction<StreamRecord<K, V>, never> {
  return (source) => {
    currentContext('forEach').addSink(source.pipe(tap((r) => fn(r.key, r.value, r))));
    return EMPTY;
  };
}
