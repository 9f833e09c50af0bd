/**
 * Timestamp extractors: which time a record's windows and stream time go by.
 */
import type { TimestampExtractor } from './types.js';

/** The record's own timestamp (producer's create time or the broker's append time). The default. */
export const recordTime: TimestampExtractor = (r) => r.timestamp;

/** The wall clock when the record is processed (processing time). */
export const wallClockTime: TimestampExtractor = () => Date.now();

/**
 * A field of the (deserialized) value: milliseconds as a number, or an ISO-8601 string. Records
 * without a usable field fall back to the record timestamp.
 *
 * @example
 * ```ts
 * builder.stream('clicks', { valueSerde: jsonSerde<Click>(), timestampExtractor: fieldTime('at') });
 * ```
 */
export function fieldTime(field: string): TimestampExtractor {
  return (r) => {
    const v =
      typeof r.value === 'object' && r.value !== null
        ? (r.value as Record<string, unknown>)[field]
        : undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
    return r.timestamp;
  };
}
