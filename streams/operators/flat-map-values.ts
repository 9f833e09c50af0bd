import type { OperatorFunction } from 'rxjs';
import { Observable } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * Zero or more values for each record, each with the record's key.
 *
 * @example
 * ```ts
 * lines.pipe(flatMapValues((line) => line.toLowerCase().split(/[^\p{L}\p{N}]+/u)));
 * ```
 */
export function flatMapValues<K, V, VR>(
  fn: (value: V, key: K, record: StreamRecord<K, V>) => Iterable<VR>,
): OperatorFunction<StreamRecord<K, V>, StreamRecord<K, VR>> {
  return (source) =>
    new Observable<StreamRecord<K, VR>>((subscriber) =>
      source.subscribe({
        next(r) {
          for (const value of fn(r.value, r.key, r)) {
            subscriber.next({
              key: r.key,
              value,
              timestamp: r.timestamp,
              headers: r.headers,
              topic: r.topic,
              partition: r.partition,
              offset: r.offset,
            });
          }
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
}
