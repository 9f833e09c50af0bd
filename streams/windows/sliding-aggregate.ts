/**
 * Sliding window aggregation: for each key the records of the last differenceMs + grace are kept
 * (one store entry per key, a time-ordered list); a record updates the window ending at its own
 * timestamp and every window ending at a later record within differenceMs, each recomputed from
 * the list. Windows cover [end − differenceMs, end], both ends included, and close when stream time
 * passes end + grace.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { TaskContext } from '../context.js';
import { jsonSerde } from '../serdes.js';
import type { StreamRecord, TableRecord, Windowed } from '../types.js';
import { ExpiryIndex } from './expiry-index.js';
import { MAX_OPEN_WINDOWS, type WindowedAggregateSettings } from './time-window-aggregate.js';
import type { SlidingWindows } from './windows.js';

/** Records kept per key; beyond it the oldest are dropped (bounded memory and store values). */
const MAX_RECORDS_PER_KEY = 10_000;

export function slidingAggregate<K, V, A>(
  ctx: TaskContext,
  spec: SlidingWindows,
  initializer: () => A,
  adder: (key: K, value: V, aggregate: A) => A,
  s: WindowedAggregateSettings<K, A>,
): OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, A>> {
  const store = ctx.keyValueStore<K, [number, V][]>(s.store, {
    keySerde: jsonSerde<K>(),
    valueSerde: jsonSerde<[number, V][]>(),
    ...(s.inMemory !== undefined ? { inMemory: s.inMemory } : {}),
  });
  const D = spec.differenceMs;
  const index = new ExpiryIndex<[K, number]>(`sliding window store ${s.store}`, MAX_OPEN_WINDOWS);
  const id = (k: K, end: number) => JSON.stringify([k, end]);
  const compute = (key: K, list: [number, V][], end: number): A => {
    let agg = initializer();
    for (const [t, v] of list) if (t >= end - D && t <= end) agg = adder(key, v, agg);
    return agg;
  };
  ctx.onInit(async () => {
    if (s.emit !== 'final') return;
    const now = ctx.streamTime();
    for await (const [k, list] of store.all()) {
      for (const [t] of list) if (t + spec.graceMs >= now) index.add(t + spec.graceMs + 1, id(k, t), [k, t]);
    }
  });
  return (source) =>
    new Observable<TableRecord<Windowed<K>, A>>((subscriber) => {
      const emit = (key: K, end: number, value: A, timestamp: number) =>
        subscriber.next({
          key: { key, window: { start: end - D, end } },
          value,
          timestamp,
          headers: [],
          topic: '',
          partition: ctx.partition,
          offset: -1,
        });
      if (s.emit === 'final') {
        ctx.onStreamTime((now) => {
          for (const { item } of index.due(now)) {
            const list = store.get(item[0]);
            if (list) emit(item[0], item[1], compute(item[0], list, item[1]), item[1]);
          }
        });
      }
      return source.subscribe({
        next(r) {
          if (r.key === null || r.key === undefined) return;
          const now = ctx.streamTime();
          const t = r.timestamp;
          if (t + D + spec.graceMs < now) {
            ctx.metrics.lateRecordsDropped++;
            return;
          }
          const horizon = now - D - spec.graceMs;
          const list = (store.get(r.key) ?? []).filter(([ts]) => ts > horizon);
          let i = list.length;
          while (i > 0 && list[i - 1]![0] > t) i--;
          list.splice(i, 0, [t, r.value]);
          if (list.length > MAX_RECORDS_PER_KEY) list.splice(0, list.length - MAX_RECORDS_PER_KEY);
          store.put(r.key, list);
          const ends = new Set<number>();
          for (const [ts] of list) if (ts >= t && ts <= t + D && ts + spec.graceMs >= now) ends.add(ts);
          for (const end of [...ends].sort((a, b) => a - b)) {
            if (s.emit === 'update') emit(r.key, end, compute(r.key, list, end), r.timestamp);
            else index.add(end + spec.graceMs + 1, id(r.key, end), [r.key, end]);
          }
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}
