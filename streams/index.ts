/**
 * Tributary Streams: stateful stream processing with RxJS operators, LevelDB state stores backed
 * by changelog topics, and workers that share partitions. See docs/streams.md.
 */

export { type AvroSchemaSource, type AvroSerdeOptions, avroSerde } from './avro.js';
export type { GlobalTable, StreamsBuilder, Table, TableOptions } from './builder.js';
export type { PunctuationType, SourceOptions, StoreOptions, TaskContext, TaskMetrics } from './context.js';
export { currentContext } from './context.js';
export { StreamsError, type StreamsErrorCode } from './errors.js';
export { defineJob, type JobConfig, type JobDefinition } from './job.js';
export {
  type ForeignKeyJoinOptions,
  joinForeignKey,
  joinTables,
  type TableJoinOptions,
} from './joins/join-tables.js';
export { type AggregateOptions, aggregate } from './operators/aggregate.js';
export { count } from './operators/count.js';
export { filter, filterNot } from './operators/filter.js';
export { filterTable } from './operators/filter-table.js';
export { flatMap } from './operators/flat-map.js';
export { flatMapValues } from './operators/flat-map-values.js';
export { forEach } from './operators/for-each.js';
export { groupBy, groupByKey } from './operators/group-by.js';
export { joinGlobal } from './operators/join-global.js';
export {
  type JoinWindows,
  joinStream,
  joinWindows,
  type StreamJoinOptions,
} from './operators/join-stream.js';
export { joinTable, type KeyLookup, leftJoinTable } from './operators/join-table.js';
export { map } from './operators/map.js';
export { mapTableValues } from './operators/map-table-values.js';
export { mapValues } from './operators/map-values.js';
export { merge } from './operators/merge.js';
export { peek } from './operators/peek.js';
export { punctuate } from './operators/punctuate.js';
export { reduce } from './operators/reduce.js';
export { type RepartitionOptions, repartition, through } from './operators/repartition.js';
export { selectKey } from './operators/select-key.js';
export { type SessionAggregateOptions, sessionAggregate } from './operators/session-aggregate.js';
export { sessionCount } from './operators/session-count.js';
export { split } from './operators/split.js';
export { type TableAggregateOptions, tableAggregate } from './operators/table-aggregate.js';
export { type ToOptions, to } from './operators/to.js';
export { type WindowedAggregateOptions, windowedAggregate } from './operators/windowed-aggregate.js';
export { windowedCount } from './operators/windowed-count.js';
export { windowedReduce } from './operators/windowed-reduce.js';
export { type JobHandle, runJob } from './runtime/run-job.js';
export type { JobMetrics, RunJobOptions, RuntimeEvent } from './runtime/runtime.js';
export { autoSerde, bytesSerde, jsonSerde, numberSerde, Serdes, stringSerde } from './serdes.js';
export type { KeyValueStore } from './state/kv-store.js';
export { fieldTime, recordTime, wallClockTime } from './timestamps.js';
export type {
  RecordHeader,
  Serde,
  StreamRecord,
  TableRecord,
  TimestampExtractor,
  TimeWindow,
  Windowed,
} from './types.js';
export {
  type GraceOptions,
  hoppingWindows,
  type SessionWindows,
  type SlidingWindows,
  sessionWindows,
  slidingWindows,
  type TimeWindows,
  tumblingWindows,
  windowsFor,
} from './windows/windows.js';
