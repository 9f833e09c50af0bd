import { type OperatorFunction, map as rxMap } from 'rxjs';
import type { TableRecord } from '../types.js';

/**
 * Maps a table's values (new and old); deletions (null) stay deletions.
 *
 * @example
 * ```ts
 * users.pipe(mapTableValues((user) => user.email));
 * ```
 */
export function mapTableValues<K, V, VR>(
  fn: (value: V, key: K) => VR,
): OperatorFunction<TableRecord<K, V>, TableRecord<K, VR>> {
  return rxMap((u) => {
    const out: TableRecord<K, VR> = {
      key: u.key,
      value: u.value === null ? null : fn(u.value, u.key),
      timestamp: u.timestamp,
      headers: u.headers,
      topic: u.topic,
      partition: u.partition,
      offset: u.offset,
    };
    if (u.oldValue !== undefined) out.oldValue = u.oldValue === null ? null : fn(u.oldValue, u.key);
    return out;
  });
}
