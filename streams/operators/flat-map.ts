import type { OperatorFunction } from 'rxjs';
import { Observable } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * Zero or more records (new keys and values) for each record, synchronously and in order.
 *
 * @example
 * ```ts
 * lines.pipe(flatMap((key, line) => line.split(' ').map((w) => ({ key: w, value: 1 }))));
 * ```
 */
export function flatMap<K, V, KR, VR>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => Iterable<{ key: KR; value: VR }>,
): OperatorFunction<StreamRecord<K, V>, StreamRecord<KR, VR>> {
  return (source) =>
    new Observable<StreamRecord<KR, VR>>((subscriber) =>
      source.subscribe({
        next(r) {
          for (const kv of fn(r.key, r.value, r)) subscriber.next({ ...r, key: kv.key, value: kv.value });
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
}
