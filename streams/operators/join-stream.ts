import { Observable, type OperatorFunction } from 'rxjs';
import { currentContext } from '../context.js';
import { StreamsError } from '../errors.js';
import { jsonSerde } from '../serdes.js';
import type { Serde, StreamRecord } from '../types.js';
import { ExpiryIndex } from '../windows/expiry-index.js';
import { MAX_OPEN_WINDOWS } from '../windows/time-window-aggregate.js';

export interface JoinWindows {
  /** A right record joins a left record at t when its time is in [t − beforeMs, t + afterMs]. */
  beforeMs: number;
  afterMs: number;
  graceMs?: number;
}

export interface StreamJoinOptions<VL, VR> {
  /** 'inner' (default), 'left' or 'outer'. */
  kind?: 'inner' | 'left' | 'outer';
  /** Prefix of the two buffer stores (`<name>-left`, `<name>-right`). */
  name?: string;
  leftSerde?: Serde<VL>;
  rightSerde?: Serde<VR>;
}

/** Buffered records per key and side; beyond it the oldest are dropped. */
const MAX_BUFFERED_PER_KEY = 10_000;

/** A buffered record: [timestamp, value, matched]. */
type Buffered<V> = [number, V, boolean];

/** Windows of ±`ms` around each record (Kafka's JoinWindows.ofTimeDifference). */
export function joinWindows(ms: number, opts: { graceMs?: number } = {}): JoinWindows {
  if (!Number.isInteger(ms) || ms < 0) throw new StreamsError('INVALID_JOB', 'joinWindows: ms must be ≥ 0');
  return { beforeMs: ms, afterMs: ms, ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}) };
}

/**
 * Stream–stream windowed join: records of this stream and of `other` with the same key whose
 * timestamps are within the join window are joined. Both sides are buffered in stores for
 * window + grace. 'left' and 'outer' emit a record joined with null only once its window has
 * closed without a match (no spurious early results, as Kafka ≥ 3.1). The output timestamp is the
 * later of the two. Both streams must be co-partitioned.
 *
 * @example
 * ```ts
 * payments.pipe(joinStream(logins, (payment, login) => ({ payment, login }), joinWindows(60_000)));
 * ```
 */
export function joinStream<K, VL, VR, R>(
  other: Observable<StreamRecord<K, VR>>,
  joiner: (left: VL | null, right: VR | null, key: K) => R,
  windows: JoinWindows,
  opts: StreamJoinOptions<VL, VR> = {},
): OperatorFunction<StreamRecord<K, VL>, StreamRecord<K, R>> {
  return (source) => {
    const ctx = currentContext('joinStream');
    const kind = opts.kind ?? 'inner';
    const name = opts.name ?? ctx.uniqueName('join');
    const grace = windows.graceMs ?? 0;
    const { beforeMs, afterMs } = windows;
    const leftStore = ctx.keyValueStore<K, Buffered<VL>[]>(`${name}-left`, {
      keySerde: jsonSerde<K>(),
      valueSerde: jsonSerde<Buffered<VL>[]>(),
    });
    const rightStore = ctx.keyValueStore<K, Buffered<VR>[]>(`${name}-right`, {
      keySerde: jsonSerde<K>(),
      valueSerde: jsonSerde<Buffered<VR>[]>(),
    });
    // Unmatched records waiting for their window to close (left/outer joins only).
    const pending = new ExpiryIndex<[side: 'L' | 'R', key: K, ts: number]>(`join ${name}`, MAX_OPEN_WINDOWS);
    const id = (side: string, k: K, ts: number) => JSON.stringify([side, k, ts]);
    const leftClose = (ts: number) => ts + afterMs + grace + 1;
    const rightClose = (ts: number) => ts + beforeMs + grace + 1;
    const retentionMs = beforeMs + afterMs + grace;
    ctx.onInit(async () => {
      if (kind === 'inner') return;
      for await (const [k, list] of leftStore.all())
        for (const [ts, , m] of list) if (!m) pending.add(leftClose(ts), id('L', k, ts), ['L', k, ts]);
      if (kind === 'outer') {
        for await (const [k, list] of rightStore.all())
          for (const [ts, , m] of list) if (!m) pending.add(rightClose(ts), id('R', k, ts), ['R', k, ts]);
      }
    });
    return new Observable<StreamRecord<K, R>>((subscriber) => {
      const out = (
        key: K,
        value: R,
        timestamp: number,
        r: { headers: StreamRecord<K, unknown>['headers']; topic: string; offset: number },
      ) =>
        subscriber.next({
          key,
          value,
          timestamp,
          headers: r.headers,
          topic: r.topic,
          partition: ctx.partition,
          offset: r.offset,
        });
      const prune = <V>(list: Buffered<V>[]): Buffered<V>[] => {
        const horizon = ctx.streamTime() - retentionMs;
        return list.filter(([ts]) => ts >= horizon);
      };
      ctx.onStreamTime((now) => {
        for (const { item } of pending.due(now)) {
          const [side, key, ts] = item;
          if (side === 'L') {
            const e = leftStore.get(key)?.find((b) => b[0] === ts && !b[2]);
            if (e) out(key, joiner(e[1], null, key), ts, { headers: [], topic: '', offset: -1 });
          } else {
            const e = rightStore.get(key)?.find((b) => b[0] === ts && !b[2]);
            if (e) out(key, joiner(null, e[1], key), ts, { headers: [], topic: '', offset: -1 });
          }
        }
      });
      const onLeft = (r: StreamRecord<K, VL>) => {
        if (r.key === null || r.key === undefined) return;
        const t = r.timestamp;
        if (t + Math.max(afterMs, beforeMs) + grace < ctx.streamTime()) {
          ctx.metrics.lateRecordsDropped++;
          return;
        }
        const rights = prune(rightStore.get(r.key) ?? []);
        let matched = false;
        let rightsChanged = false;
        for (const b of rights) {
          if (b[0] < t - beforeMs || b[0] > t + afterMs) continue;
          matched = true;
          if (!b[2]) {
            b[2] = true;
            rightsChanged = true;
            pending.remove(rightClose(b[0]), id('R', r.key, b[0]));
          }
          out(r.key, joiner(r.value, b[1], r.key), Math.max(t, b[0]), r);
        }
        if (rightsChanged) rightStore.put(r.key, rights);
        const lefts = prune(leftStore.get(r.key) ?? []);
        lefts.push([t, r.value, matched]);
        if (lefts.length > MAX_BUFFERED_PER_KEY) lefts.splice(0, lefts.length - MAX_BUFFERED_PER_KEY);
        leftStore.put(r.key, lefts);
        if (!matched && kind !== 'inner') pending.add(leftClose(t), id('L', r.key, t), ['L', r.key, t]);
      };
      const onRight = (r: StreamRecord<K, VR>) => {
        if (r.key === null || r.key === undefined) return;
        const t = r.timestamp;
        if (t + Math.max(afterMs, beforeMs) + grace < ctx.streamTime()) {
          ctx.metrics.lateRecordsDropped++;
          return;
        }
        const lefts = prune(leftStore.get(r.key) ?? []);
        let matched = false;
        let leftsChanged = false;
        for (const b of lefts) {
          // a left record at tl joins rights in [tl − before, tl + after]
          if (t < b[0] - beforeMs || t > b[0] + afterMs) continue;
          matched = true;
          if (!b[2]) {
            b[2] = true;
            leftsChanged = true;
            pending.remove(leftClose(b[0]), id('L', r.key, b[0]));
          }
          out(r.key, joiner(b[1], r.value, r.key), Math.max(t, b[0]), r);
        }
        if (leftsChanged) leftStore.put(r.key, lefts);
        const rights = prune(rightStore.get(r.key) ?? []);
        rights.push([t, r.value, matched]);
        if (rights.length > MAX_BUFFERED_PER_KEY) rights.splice(0, rights.length - MAX_BUFFERED_PER_KEY);
        rightStore.put(r.key, rights);
        if (!matched && kind === 'outer') pending.add(rightClose(t), id('R', r.key, t), ['R', r.key, t]);
      };
      const a = source.subscribe({ next: onLeft, error: (e: unknown) => subscriber.error(e) });
      const b = other.subscribe({ next: onRight, error: (e: unknown) => subscriber.error(e) });
      return () => {
        a.unsubscribe();
        b.unsubscribe();
      };
    });
  };
}
