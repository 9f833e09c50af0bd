/**
 * Tumbling and hopping window aggregation: one store entry per (key, window start).
 * See operators/windowed-aggregate.ts for the contract.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { TaskContext } from '../context.js';
import { jsonSerde } from '../serdes.js';
import type { Serde, StreamRecord, TableRecord, Windowed } from '../types.js';
import { ExpiryIndex } from './expiry-index.js';
import { type TimeWindows, windowsFor } from './windows.js';

export const MAX_OPEN_WINDOWS = 1_000_000;

export interface WindowedAggregateSettings<K, A> {
  store: string;
  emit: 'update' | 'final';
  valueSerde: Serde<A> | undefined;
  inMemory: boolean | undefined;
  keySerde?: Serde<K>;
}

export function timeWindowAggregate<K, V, A>(
  ctx: TaskContext,
  spec: TimeWindows,
  initializer: () => A,
  adder: (key: K, value: V, aggregate: A) => A,
  s: WindowedAggregateSettings<K, A>,
): OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, A>> {
  const store = ctx.keyValueStore<[K, number], A>(s.store, {
    keySerde: jsonSerde<[K, number]>(),
    valueSerde: s.valueSerde ?? jsonSerde<A>(),
    ...(s.inMemory !== undefined ? { inMemory: s.inMemory } : {}),
  });
  const index = new ExpiryIndex<[K, number]>(`window store ${s.store}`, MAX_OPEN_WINDOWS);
  const id = (k: [K, number]) => JSON.stringify(k);
  ctx.onInit(async () => {
    for await (const [k] of store.all()) index.add(k[1] + spec.sizeMs + spec.graceMs, id(k), k);
  });
  return (source) =>
    new Observable<TableRecord<Windowed<K>, A>>((subscriber) => {
      const emit = (
        key: K,
        start: number,
        value: A,
        oldValue: A | null,
        r: Omit<StreamRecord<K, V>, 'key' | 'value'>,
      ) =>
        subscriber.next({
          key: { key, window: { start, end: start + spec.sizeMs } },
          value,
          oldValue,
          timestamp: r.timestamp,
          headers: r.headers,
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
        });
      ctx.onStreamTime((now) => {
        for (const { item } of index.due(now)) {
          const value = store.get(item);
          store.delete(item);
          if (s.emit === 'final' && value !== undefined) {
            emit(item[0], item[1], value, null, {
              timestamp: item[1] + spec.sizeMs - 1,
              headers: [],
              topic: '',
              partition: ctx.partition,
              offset: -1,
            });
          }
        }
      });
      return source.subscribe({
        next(r) {
          if (r.key === null || r.key === undefined) return;
          const now = ctx.streamTime();
          let accepted = false;
          for (const w of windowsFor(spec, r.timestamp)) {
            if (w.end + spec.graceMs <= now) continue;
            accepted = true;
            const k: [K, number] = [r.key, w.start];
            const old = store.get(k);
            const value = adder(r.key, r.value, old === undefined ? initializer() : old);
            store.put(k, value);
            if (old === undefined) index.add(w.end + spec.graceMs, id(k), k);
            if (s.emit === 'update') emit(r.key, w.start, value, old ?? null, r);
          }
          if (!accepted) ctx.metrics.lateRecordsDropped++;
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}
