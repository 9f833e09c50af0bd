import { Observable, type OperatorFunction } from 'rxjs';
import { currentContext } from '../context.js';
import { jsonSerde } from '../serdes.js';
import type { StreamRecord, TableRecord, Windowed } from '../types.js';
import { ExpiryIndex } from '../windows/expiry-index.js';
import { MAX_OPEN_WINDOWS } from '../windows/time-window-aggregate.js';
import type { SessionWindows } from '../windows/windows.js';

export interface SessionAggregateOptions {
  store?: string;
  /** 'update' (default): new session and tombstones for merged ones per record; 'final': once, at close. */
  emit?: 'update' | 'final';
  inMemory?: boolean;
}

interface Session<A> {
  start: number;
  end: number;
  agg: A;
}

/** Sessions kept per key; the oldest are dropped beyond it (they are closed long before). */
const MAX_SESSIONS_PER_KEY = 1000;

/**
 * Aggregates each key's records per session: a session grows while records arrive less than
 * `gapMs` apart and is merged with its neighbours when a record bridges them (`merger`). A
 * session [start, end] closes when stream time passes end + gap + grace; a record that could only
 * extend closed sessions (end < stream time − grace) is late: dropped and counted. With
 * emit 'update', merged-away sessions are retracted with a null value, as Kafka does.
 *
 * @example
 * ```ts
 * clicks.pipe(
 *   sessionAggregate(sessionWindows(30 * 60_000), () => 0, (k, click, n) => n + 1, (a, b) => a + b),
 * );
 * ```
 */
export function sessionAggregate<K, V, A>(
  windows: SessionWindows,
  initializer: () => A,
  adder: (key: K, value: V, aggregate: A) => A,
  merger: (a: A, b: A, key: K) => A,
  opts: SessionAggregateOptions = {},
): OperatorFunction<StreamRecord<K, V>, TableRecord<Windowed<K>, A>> {
  return (source) => {
    const ctx = currentContext('sessionAggregate');
    const name = opts.store ?? ctx.uniqueName('session-aggregate');
    const store = ctx.keyValueStore<K, Session<A>[]>(name, {
      keySerde: jsonSerde<K>(),
      valueSerde: jsonSerde<Session<A>[]>(),
      ...(opts.inMemory !== undefined ? { inMemory: opts.inMemory } : {}),
    });
    const { gapMs, graceMs } = windows;
    const emitFinal = opts.emit === 'final';
    const index = new ExpiryIndex<[K, number, number]>(`session store ${name}`, MAX_OPEN_WINDOWS);
    const id = (k: K, s: { start: number; end: number }) => JSON.stringify([k, s.start, s.end]);
    ctx.onInit(async () => {
      for await (const [k, sessions] of store.all()) {
        for (const s of sessions) index.add(s.end + gapMs + graceMs + 1, id(k, s), [k, s.start, s.end]);
      }
    });
    return new Observable<TableRecord<Windowed<K>, A>>((subscriber) => {
      const emit = (key: K, s: { start: number; end: number }, value: A | null, timestamp: number) =>
        subscriber.next({
          key: { key, window: { start: s.start, end: s.end } },
          value,
          timestamp,
          headers: [],
          topic: '',
          partition: ctx.partition,
          offset: -1,
        });
      ctx.onStreamTime((now) => {
        for (const { item } of index.due(now)) {
          const [key, start, end] = item;
          const sessions = store.get(key);
          if (!sessions) continue;
          const i = sessions.findIndex((s) => s.start === start && s.end === end);
          if (i < 0) continue;
          const [closed] = sessions.splice(i, 1);
          if (sessions.length > 0) store.put(key, sessions);
          else store.delete(key);
          if (emitFinal) emit(key, closed!, closed!.agg, closed!.end);
        }
      });
      return source.subscribe({
        next(r) {
          if (r.key === null || r.key === undefined) return;
          const t = r.timestamp;
          const sessions = store.get(r.key) ?? [];
          const merged: Session<A>[] = [];
          const kept: Session<A>[] = [];
          for (const s of sessions) {
            if (s.end + gapMs >= t && s.start - gapMs <= t) merged.push(s);
            else kept.push(s);
          }
          const start = Math.min(t, ...merged.map((s) => s.start));
          const end = Math.max(t, ...merged.map((s) => s.end));
          if (end + graceMs < ctx.streamTime()) {
            ctx.metrics.lateRecordsDropped++;
            return;
          }
          let agg = initializer();
          for (const s of merged) agg = merger(agg, s.agg, r.key);
          agg = adder(r.key, r.value, agg);
          const session: Session<A> = { start, end, agg };
          for (const s of merged) index.remove(s.end + gapMs + graceMs + 1, id(r.key, s));
          index.add(end + gapMs + graceMs + 1, id(r.key, session), [r.key, start, end]);
          kept.push(session);
          kept.sort((a, b) => a.start - b.start);
          if (kept.length > MAX_SESSIONS_PER_KEY) kept.splice(0, kept.length - MAX_SESSIONS_PER_KEY);
          store.put(r.key, kept);
          if (!emitFinal) {
            for (const s of merged) emit(r.key, s, null, t);
            emit(r.key, session, agg, t);
          }
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
  };
}
