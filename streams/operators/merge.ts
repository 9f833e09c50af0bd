import { mergeWith, type Observable, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from '../types.js';

/**
 * The records of this stream and of `others`, interleaved as they arrive.
 *
 * @example
 * ```ts
 * webClicks.pipe(merge(appClicks));
 * ```
 */
export function merge<K, V>(
  ...others: Observable<StreamRecord<K, V>>[]
): OperatorFunction<StreamRecord<K, V>, StreamRecord<K, V>> {
  return mergeWith(...others);
}
