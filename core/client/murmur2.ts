/**
 * MurmurHash2 exactly as the Java client computes it (`Utils.murmur2`): seed 0x9747b28c,
 * m 0x5bd1e995, r 24, little-endian 4-byte blocks, the tail folded in before the final mix.
 * The result is a signed 32-bit integer, so `murmur2(bytes)` equals Java's for every input.
 *
 * Keyed records land where the Java client and kafkajs put them:
 * `toPositive(murmur2(key)) % numPartitions` (Java's `BuiltInPartitioner.partitionForKey`).
 * Math.imul keeps every product in 32 bits; nothing is allocated.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Java's Utils.murmur2 of `data`: a signed int32. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const blocksEnd = length & ~3;

  for (let i = 0; i < blocksEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }

  const tail = length & 3;
  if (tail !== 0) {
    if (tail === 3) h ^= data[blocksEnd + 2]! << 16;
    if (tail >= 2) h ^= data[blocksEnd + 1]! << 8;
    h ^= data[blocksEnd]!;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's Utils.toPositive: clears the sign bit (not Math.abs, so MIN_VALUE maps to 0). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The Java client's partition for a non-null key. */
export function murmur2Partition(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}
