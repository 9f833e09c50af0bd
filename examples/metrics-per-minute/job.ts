/**
 * Per-minute metrics with final results: `metrics` records (key = host, JSON
 * `{ "name": "cpu", "value": 0.42 }`, event time = record timestamp) aggregated per host and name
 * in one-minute tumbling windows; each window is written once, when it closes (stream time past
 * its end + 10 s grace), to `metrics-per-minute` as `{ host, name, minute, count, sum, min, max, avg }`.
 * Records later than the grace are dropped and counted (see `trib run`'s progress line).
 */
import {
  defineJob,
  jsonSerde,
  map,
  selectKey,
  to,
  tumblingWindows,
  windowedAggregate,
} from '../../streams/index.js';

interface Metric {
  name: string;
  value: number;
}

interface Stats {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export default defineJob({
  applicationId: 'metrics-per-minute',
  build(builder) {
    builder.stream<string, Metric>('metrics', { valueSerde: jsonSerde<Metric>() }).pipe(
      // no repartition needed: all records of a host (so of host/name) are in the host's partition
      selectKey((host, m) => `${host}/${m.name}`),
      windowedAggregate(
        tumblingWindows(60_000, { graceMs: 10_000 }),
        (): Stats => ({ count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY }),
        (_k, m, s) => ({
          count: s.count + 1,
          sum: s.sum + m.value,
          min: Math.min(s.min, m.value),
          max: Math.max(s.max, m.value),
        }),
        { store: 'minute-stats', emit: 'final' },
      ),
      map((w, s) => {
        const [host, name] = w.key.split('/') as [string, string];
        const stats = s ?? { count: 0, sum: 0, min: 0, max: 0 };
        return {
          key: `${w.key}@${new Date(w.window.start).toISOString()}`,
          value: {
            host,
            name,
            minute: new Date(w.window.start).toISOString(),
            ...stats,
            avg: stats.sum / Math.max(1, stats.count),
          },
        };
      }),
      to('metrics-per-minute'),
    );
  },
});
