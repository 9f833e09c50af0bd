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

const SCRATCH_BYTES = 1024;
const scratch = Buffer.alloc(SCRATCH_BYTES);
const views: (Buffer | undefined)[] = [];

/** partitionOf the UTF-8 bytes of `key`, encoded into scratch memory (no Buffer per key). */
export function partitionOfText(key: string, partitions: number): number {
  if (key.length * 3 > SCRATCH_BYTES) return murmur2Partition(Buffer.from(key), partitions);
  let length = key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) {
      length = scratch.write(key, 0, 'utf8');
      break;
    }
    scratch[i] = c;
  }
  let view = views[length];
  if (!view) {
    view = scratch.subarray(0, length);
    views[length] = view;
  }
  return murmur2Partition(view, partitions);
}
