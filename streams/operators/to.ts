import { EMPTY, type OperatorFunction, tap } from 'rxjs';
import { currentContext } from '../context.js';
import { autoSerde } from '../serdes.js';
import type { Serde, StreamRecord } from '../types.js';

export interface ToOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** The partition of each record; undefined or -1 leaves it to the producer (murmur2 of the key). */
  partitioner?: (record: StreamRecord<K, V>) => number | undefined;
}

/**
 * The sink: writes every record to `topic` (or to the topic a function picks per record), with
 * the record's timestamp and headers. The runtime subscribes it after the build, so a job just
 * ends its pipelines with `to()`.
 *
 * @example
 * ```ts
 * counts.pipe(mapValues(String), to('word-counts'));
 * ```
 */
export function to<K, V>(
  topic: string | ((record: StreamRecord<K, V>) => string),
  opts: ToOptions<K, V> = {},
): OperatorFunction<StreamRecord<K, V>, never> {
  return (source) => {
    const ctx = currentContext('to');
    const keySerde = (opts.keySerde ?? autoSerde) as Serde<K>;
    const valueSerde = (opts.valueSerde ?? autoSerde) as Serde<V>;
    const pick = typeof topic === 'string' ? () => topic : topic;
    ctx.addSink(
      source.pipe(
        tap((r) => {
          const t = pick(r);
          const partition = opts.partitioner?.(r);
          ctx.sendFields(
            t,
            serialize(keySerde, r.key, t),
            serialize(valueSerde, r.value, t),
            r.headers,
            r.timestamp,
            partition !== undefined && partition >= 0 ? partition : undefined,
          );
        }),
      ),
    );
    return EMPTY;
  };
}

/** The serde's bytes, or its string when it has one (the producer writes it as UTF-8). */
function serialize<T>(serde: Serde<T>, value: T, topic: string): Buffer | string | null {
  if (serde.serializeToString) {
    const text = serde.serializeToString(value, topic);
    if (text !== undefined) return text;
  }
  return serde.serialize(value, topic);
}
