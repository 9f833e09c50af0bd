import type { OperatorFunction } from 'rxjs';
import { currentContext } from '../context.js';
import type { Serde, StreamRecord, TableRecord, Windowed } from '../types.js';
import { slidingAggregate } from '../windows/sliding-aggregate.js';
import { timeWindowAggregate } from '../windows/time-window-aggregate.js';
import type { SlidingWindows, TimeWindows } from '../windows/windows.js';

export interface WindowedAggregateOptions<A> {
  store?: string;
  /**
   * 'update' (default): emit the window's new aggregate after every record.
   * 'final': emit each window once, when it closes (stream time ≥ end + grace).
   */
  emit?: 'update' | 'final';
  valueSerde?: Serde<A>;
  inMemory?: boolean;
}

/**
 * Aggregates the records of each key per event-time window (tumbling, hopping or sliding).
 * Records whose windows have all closed (stream time ≥ end + grace) are dropped and counted in
 * `lateRecordsDropped`. The output key is `{ key, window: { start, end } }`. Closed windows leave
 * the store (retention = size + grace).
 *
 * @example
 * ```ts
 * clicks.pipe(
 *   windowedAggregate(tumblingWindows(60_000, { graceMs: 5_000 }), () => 0, (k, v, n) => n + 1, { emit: 'final' }),
 * );
 * ```
 */
export function windowedAggregate<K, V, A>(
  windows: TimeWindows | SlidingWindows,
  initializer: () => A,
  adder: (key: K, value: V, aggregate: A) => A,
  opts: WindowedAggregateOptions<A> = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, A>> {
  return (source) => {
    const ctx = currentContext('windowedAggregate');
    const settings = {
      store: opts.store ?? ctx.uniqueName('window-aggregate'),
      emit: opts.emit ?? 'update',
      valueSerde: opts.valueSerde,
      inMemory: opts.inMemory,
    };
    const op =
      windows.kind === 'sliding'
        ? slidingAggregate<K, V, A>(ctx, windows, initializer, adder, settings)
        : timeWindowAggregate<K, V, A>(ctx, windows, initializer, adder, settings);
    return source.pipe(op);
  };
}
