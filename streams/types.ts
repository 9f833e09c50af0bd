/**
 * The shapes that flow through a streams job: records, table updates, windows, serdes.
 *
 * A stream is an RxJS `Observable<StreamRecord<K, V>>`; every stateless operator keeps that shape,
 * so any RxJS operator that does (filter, take, tap, bufferCount + mergeMap…) composes with ours.
 */
import type { RecordHeader } from '../core/client/types.js';

export type { RecordHeader } from '../core/client/types.js';

/** One record of a stream: its key and value deserialized, where it came from, its event time. */
export interface StreamRecord<K, V> {
  key: K;
  value: V;
  /** Event time in milliseconds since the epoch (from the timestamp extractor). */
  timestamp: number;
  headers: RecordHeader[];
  /** Where the record was read; derived records keep their source's coordinates. */
  topic: string;
  partition: number;
  offset: number;
}

/** A change to a table: the key's new value (null: deleted) and, when known, the previous one. */
export interface TableRecord<K, V> extends StreamRecord<K, V | null> {
  oldValue?: V | null;
}

/** A half-open time interval [start, end) in milliseconds. */
export interface TimeWindow {
  start: number;
  end: number;
}

/** A key of a windowed aggregation: the grouping key and its window. */
export interface Windowed<K> {
  key: K;
  window: TimeWindow;
}

/** Turns values into bytes and back. `null` stays `null` (a tombstone). */
export interface Serde<T> {
  readonly name: string;
  serialize(value: T, topic: string): Buffer | null;
  deserialize(data: Buffer | null, topic: string): T;
  /**
   * Optional: for a value whose bytes are the UTF-8 of a string, that string (`undefined`: call
   * `serialize`). Sinks then hand the string to the producer, which writes its bytes straight into
   * the batch — the same bytes, without a Buffer per record.
   */
  serializeToString?(value: T, topic: string): string | null | undefined;
}

/** Picks a record's event time from what was read: record time, a field, or the wall clock. */
export type TimestampExtractor = (
  record: { key: unknown; value: unknown; timestamp: number; topic: string; partition: number },
  previousTimestamp: number,
) => number;
