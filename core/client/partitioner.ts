/**
 * Partitioners: which partition a record without an explicit one goes to.
 *
 * | spec                 | keyed record                          | null key                 | matches                          |
 * |----------------------|---------------------------------------|--------------------------|----------------------------------|
 * | 'murmur2' (default)  | toPositive(murmur2(key)) % n          | uniform sticky           | Java ≥ 3.3, kafkajs (keyed), librdkafka `murmur2_random` |
 * | 'consistent_random'  | crc32(key) % n (unsigned)             | uniform sticky (also for an empty key) | librdkafka/kcat default |
 * | 'random'             | uniformly random per record           | uniform sticky           | librdkafka `random`              |
 * | a function           | its answer; -1 falls back to 'murmur2' |                         |                                  |
 *
 * "Uniform sticky" (KIP-480, refined by KIP-794 in Kafka 3.3): records without a key all go to
 * one partition until a batch's worth of bytes (batch.size) went there or its batch was
 * closed (full or sent); then a new partition is drawn at random, avoiding the previous one.
 * Big batches, and over time an even spread. librdkafka ≥ 1.6 does the same for null (and, with
 * consistent_random, empty) keys for `sticky.partitioning.linger.ms`.
 *
 * The producer owns one {@link StickyPartitionCache} and tells it what happened to batches; the
 * function from {@link createPartitioner} runs per record and allocates nothing on the built-in
 * paths (a custom partitioner gets a fresh context object).
 */
import { type Random, systemRandom } from '../env/random.js';
import { murmur2Partition } from './murmur2.js';
import type { Partitioner, PartitionerContext, ProducerConfig } from './types.js';

/** Picks a partition in [0, partitionCount) for one record. */
export type PartitionFn = (
  topic: string,
  key: Buffer | null,
  value: Buffer | null,
  partitionCount: number,
) => number;

export type PartitionerSpec = NonNullable<ProducerConfig['partitioner']>;

/** Kafka's default batch.size. */
export const DEFAULT_BATCH_SIZE_BYTES = 16384;

interface StickyState {
  partition: number;
  partitionCount: number;
  /** Bytes appended to `partition` since it became the sticky one. */
  producedBytes: number;
}

/**
 * The sticky partition of each topic for records without a key. Single-threaded by nature
 * (one producer's event loop); state is one small object per topic, mutated in place.
 *
 * Producer contract:
 * - `partition(topic, n)` for every null-key record (createPartitioner does this);
 * - `onAppend(topic, partition, bytes)` after appending any record to a partition: once
 *   batch.size bytes went to the sticky partition, the next record goes elsewhere (KIP-794);
 * - `onNewBatch(topic, prevPartition)` when the batch of `prevPartition` was closed (full, so
 *   the record needs a new batch, or drained for sending): switches away from it if it is
 *   still the sticky partition, and returns the partition to use now (KIP-480).
 */
export class StickyPartitionCache {
  readonly batchSizeBytes: number;
  private readonly random: Random;
  private readonly topics = new Map<string, StickyState>();

  constructor(options: { batchSizeBytes?: number; random?: Random } = {}) {
    const batchSizeBytes = options.batchSizeBytes ?? DEFAULT_BATCH_SIZE_BYTES;
    if (!Number.isInteger(batchSizeBytes) || batchSizeBytes < 1) {
      throw new RangeError(`batch.size must be a positive integer, got ${batchSizeBytes}`);
    }
    this.batchSizeBytes = batchSizeBytes;
    this.random = options.random ?? systemRandom;
  }

  /** The partition for a null-key record of `topic`. */
  partition(topic: string, partitionCount: number): number {
    const state = this.topics.get(topic);
    if (state === undefined) {
      const partition = this.draw(partitionCount, -1);
      this.topics.set(topic, { partition, partitionCount, producedBytes: 0 });
      return partition;
    }
    if (state.partitionCount !== partitionCount) {
      state.partitionCount = partitionCount;
      // More partitions: keep sticking. Fewer (a metadata glitch): the old one may not exist.
      if (state.partition >= partitionCount) this.switchFrom(state, -1);
    }
    return state.partition;
  }

  /** Counts bytes appended to `partition`; switches once batch.size bytes went to the sticky one. */
  onAppend(topic: string, partition: number, sizeBytes: number): void {
    const state = this.topics.get(topic);
    if (state === undefined || state.partition !== partition) return;
    state.producedBytes += sizeBytes;
    if (state.producedBytes >= this.batchSizeBytes) this.switchFrom(state, partition);
  }

  /**
   * The batch of `prevPartition` was closed. Switches away from it if it is still the sticky
   * partition (a second call for the same batch changes nothing) and returns the sticky one.
   */
  onNewBatch(topic: string, prevPartition: number): number {
    const state = this.topics.get(topic);
    if (state === undefined) return prevPartition;
    if (state.partition === prevPartition) this.switchFrom(state, prevPartition);
    return state.partition;
  }

  /** Current sticky partition of `topic`, or -1 before its first null-key record. */
  peek(topic: string): number {
    return this.topics.get(topic)?.partition ?? -1;
  }

  private switchFrom(state: StickyState, avoid: number): void {
    state.partition = this.draw(state.partitionCount, avoid);
    state.producedBytes = 0;
  }

  /** A uniformly random partition, never `avoid` when there is another one. */
  private draw(partitionCount: number, avoid: number): number {
    if (partitionCount <= 1) return 0;
    if (avoid < 0 || avoid >= partitionCount) return this.random.int(partitionCount);
    const r = this.random.int(partitionCount - 1);
    return r >= avoid ? r + 1 : r;
  }
}

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): librdkafka's rd_crc32, zlib's crc32.
// Keys are short, so a byte-at-a-time table beats a call into zlib (Node ≥ 20.15/22.2 only).
const CRC32_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  CRC32_TABLE[n] = c;
}

/** CRC-32 (IEEE) of `data`, unsigned. crc32("123456789") = 0xCBF43926. */
export function crc32(data: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = CRC32_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** librdkafka's `consistent` partition for a key: the unsigned CRC-32 modulo the count. */
export function crc32Partition(key: Uint8Array, numPartitions: number): number {
  return crc32(key) % numPartitions;
}

const SPECS: readonly string[] = ['murmur2', 'consistent_random', 'random'];

/**
 * The per-record partition function for a producer's `partitioner` setting (default 'murmur2').
 * Pass the producer's own `sticky` cache so that it can report batches closing; `random`
 * seeds the 'random' partitioner (and the default cache) for reproducible runs.
 */
export function createPartitioner(
  spec: ProducerConfig['partitioner'],
  options: { sticky?: StickyPartitionCache; random?: Random; batchSizeBytes?: number } = {},
): PartitionFn {
  const random = options.random ?? systemRandom;
  const sticky =
    options.sticky ?? new StickyPartitionCache({ random, batchSizeBytes: options.batchSizeBytes });

  const murmur2Fn: PartitionFn = (topic, key, _value, n) => {
    checkCount(topic, n);
    if (key === null) return sticky.partition(topic, n);
    // (one partition: any hash lands there, so none is computed — keys with schemas are large)
    return n === 1 ? 0 : murmur2Partition(key, n);
  };

  if (spec === undefined || spec === 'murmur2') return murmur2Fn;
  if (spec === 'consistent_random') {
    return (topic, key, _value, n) => {
      checkCount(topic, n);
      if (key === null || key.length === 0) return sticky.partition(topic, n);
      return n === 1 ? 0 : crc32Partition(key, n);
    };
  }
  if (spec === 'random') {
    return (topic, key, _value, n) => {
      checkCount(topic, n);
      return key === null ? sticky.partition(topic, n) : random.int(n);
    };
  }
  if (typeof spec === 'function') return custom(spec, murmur2Fn);
  throw new TypeError(
    `partitioner must be a function or one of ${SPECS.map((s) => `'${s}'`).join(', ')}; got ${String(spec)}`,
  );
}

function custom(fn: Partitioner, fallback: PartitionFn): PartitionFn {
  return (topic, key, value, partitionCount) => {
    checkCount(topic, partitionCount);
    const ctx: PartitionerContext = { topic, key, value, partitionCount };
    const p = fn(ctx);
    if (p === -1) return fallback(topic, key, value, partitionCount);
    if (!Number.isInteger(p) || p < 0 || p >= partitionCount) {
      throw new RangeError(
        `the partitioner returned ${String(p)} for topic '${topic}' with ${partitionCount} partitions: ` +
          `return an integer in [0, ${partitionCount}), or -1 for the default partitioner`,
      );
    }
    return p;
  };
}

function checkCount(topic: string, partitionCount: number): void {
  if (!(partitionCount >= 1)) {
    throw new RangeError(`topic '${topic}' has ${partitionCount} partitions: cannot pick one`);
  }
}
