/**
 * The partition of a serialized key under the default partitioner (the Java client's murmur2), to
 * tell which task, and so which instance, holds a key for interactive queries — the client's own
 * mapping, so streams and the producer always agree.
 */
import { murmur2, murmur2Partition } from '../../core/client/index.js';

export { murmur2 };

export function partitionOf(key: Uint8Array, partitions: number): number {
  return murmur2Partition(key, partitions);
}
