import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { murmur2, murmur2Partition, toPositive } from '../../../core/client/murmur2.js';
import {
  crc32,
  crc32Partition,
  createPartitioner,
  StickyPartitionCache,
} from '../../../core/client/partitioner.js';
import type { PartitionerContext } from '../../../core/client/types.js';
import { SeededRandom } from '../../../core/env/random.js';

const require = createRequire(import.meta.url);
type KafkajsMurmur2 = (key: Buffer | string) => number;
type KafkajsPartitioner = (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: { key?: Buffer | string | null; partition?: number | null };
}) => number;
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as KafkajsMurmur2;
const kafkajsDefaultPartitioner = (
  require('kafkajs/src/producer/partitioners/default/index.js') as () => KafkajsPartitioner
)();

function randomKey(rng: SeededRandom): Buffer {
  const key = Buffer.alloc(rng.int(65));
  rng.fill(key);
  return key;
}

describe('murmur2', () => {
  // KAFKA-COMPAT.md: the Java client's Utils.murmur2 (signed int32).
  it.each([
    ['kafka', 0xd067cf64 | 0],
    ['giberish123456789', 0x8f552b0c | 0],
    ['1234', 0x9fc97b14 | 0],
    ['', 0x106e08d9],
    ['0', 971027396],
    ['1', -1993445489],
    ['100:48069', 1009543857],
  ])('murmur2(%j) = %i', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it('agrees with kafkajs on 1000 seeded random keys of 0..64 bytes', () => {
    const rng = new SeededRandom(0x5eed);
    for (let i = 0; i < 1000; i++) {
      const key = randomKey(rng);
      expect(murmur2(key), key.toString('hex')).toBe(kafkajsMurmur2(key));
    }
  });

  it('puts keyed records where the kafkajs default partitioner does', () => {
    const rng = new SeededRandom(42);
    for (const n of [1, 2, 3, 7, 12, 100]) {
      const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }));
      for (let i = 0; i < 200; i++) {
        const key = randomKey(rng);
        expect(murmur2Partition(key, n)).toBe(
          kafkajsDefaultPartitioner({ topic: 't', partitionMetadata, message: { key } }),
        );
      }
    }
  });

  it('works on any Uint8Array view (offset into a larger buffer)', () => {
    const big = Buffer.from('xxkafkayy');
    expect(murmur2(big.subarray(2, 7))).toBe(murmur2(Buffer.from('kafka')));
  });

  it('toPositive clears the sign bit like Java (not Math.abs)', () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(12345)).toBe(12345);
  });
});

describe('crc32 (consistent_random)', () => {
  it('is CRC-32 IEEE: crc32("123456789") = 0xCBF43926', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('agrees with zlib.crc32 where the runtime has it (Node ≥ 20.15/22.2)', () => {
    const zcrc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
    if (typeof zcrc !== 'function') return;
    const rng = new SeededRandom(7);
    for (let i = 0; i < 500; i++) {
      const key = randomKey(rng);
      expect(crc32(key)).toBe(zcrc(key));
    }
  });

  it('partitions by the unsigned CRC modulo the count (librdkafka rd_crc32(key) % n)', () => {
    const key = Buffer.from('123456789');
    expect(crc32Partition(key, 7)).toBe(0xcbf43926 % 7);
    const fn = createPartitioner('consistent_random');
    expect(fn('t', key, null, 7)).toBe(0xcbf43926 % 7);
  });
});

describe('StickyPartitionCache', () => {
  it('sticks to one partition until batch.size bytes went there, then moves elsewhere', () => {
    const cache = new StickyPartitionCache({ batchSizeBytes: 100, random: new SeededRandom(1) });
    const first = cache.partition('t', 5);
    for (let i = 0; i < 9; i++) {
      expect(cache.partition('t', 5)).toBe(first);
      cache.onAppend('t', first, 10);
    }
    expect(cache.partition('t', 5)).toBe(first);
    cache.onAppend('t', first, 10); // 100 bytes: full
    const second = cache.partition('t', 5);
    expect(second).not.toBe(first);
    // Bytes appended to other partitions (keyed records) do not count.
    cache.onAppend('t', first, 1000);
    expect(cache.partition('t', 5)).toBe(second);
  });

  it('onNewBatch switches away once per closed batch, never to the same partition', () => {
    const cache = new StickyPartitionCache({ random: new SeededRandom(2) });
    for (let i = 0; i < 200; i++) {
      const prev = cache.partition('t', 3);
      const next = cache.onNewBatch('t', prev);
      expect(next).not.toBe(prev);
      expect(cache.partition('t', 3)).toBe(next);
      // A second notice for the same old batch changes nothing.
      expect(cache.onNewBatch('t', prev)).toBe(next);
    }
  });

  it('always answers 0 for a single partition, and keeps topics apart', () => {
    const cache = new StickyPartitionCache({ random: new SeededRandom(3) });
    expect(cache.partition('one', 1)).toBe(0);
    expect(cache.onNewBatch('one', 0)).toBe(0);
    const a = cache.partition('a', 1000);
    cache.partition('b', 1000);
    cache.onNewBatch('b', cache.peek('b'));
    expect(cache.partition('a', 1000)).toBe(a);
  });

  it('re-picks when the partition count drops below the sticky partition', () => {
    const cache = new StickyPartitionCache({ random: new SeededRandom(4) });
    let p = cache.partition('t', 100);
    while (p < 10) p = cache.onNewBatch('t', p);
    expect(cache.partition('t', 10)).toBeLessThan(10);
    const q = cache.partition('t', 10);
    expect(cache.partition('t', 20)).toBe(q); // growing keeps the sticky partition
  });

  it('spreads over all partitions evenly over time', () => {
    const cache = new StickyPartitionCache({ random: new SeededRandom(5) });
    const hits = new Array<number>(4).fill(0);
    for (let i = 0; i < 4000; i++) {
      const p = cache.partition('t', 4);
      hits[p]!++;
      cache.onNewBatch('t', p);
    }
    for (const h of hits) expect(h).toBeGreaterThan(850);
  });

  it('refuses a batch.size below 1', () => {
    expect(() => new StickyPartitionCache({ batchSizeBytes: 0 })).toThrow(RangeError);
  });
});

describe('createPartitioner', () => {
  it('murmur2 (default): keyed by murmur2, null keys sticky through the shared cache', () => {
    const sticky = new StickyPartitionCache({ random: new SeededRandom(6) });
    const fn = createPartitioner(undefined, { sticky });
    expect(fn('t', Buffer.from('kafka'), null, 10)).toBe(toPositive(0xd067cf64 | 0) % 10);
    expect(fn('t', Buffer.alloc(0), null, 10)).toBe(0x106e08d9 % 10); // empty key is hashed (Java)
    const p = fn('t', null, Buffer.from('v'), 10);
    expect(fn('t', null, null, 10)).toBe(p);
    const q = sticky.onNewBatch('t', p);
    expect(fn('t', null, null, 10)).toBe(q);
    expect(createPartitioner('murmur2', { sticky })('t', Buffer.from('1'), null, 1000)).toBe(
      toPositive(-1993445489) % 1000,
    );
  });

  it('consistent_random: empty keys count as no key (librdkafka)', () => {
    const sticky = new StickyPartitionCache({ random: new SeededRandom(8) });
    const fn = createPartitioner('consistent_random', { sticky });
    const p = fn('t', Buffer.alloc(0), null, 50);
    expect(sticky.peek('t')).toBe(p);
    expect(fn('t', null, null, 50)).toBe(p);
  });

  it('random: keyed records spread uniformly, seeded', () => {
    const fn = createPartitioner('random', { random: new SeededRandom(9) });
    const hits = new Array<number>(5).fill(0);
    for (let i = 0; i < 5000; i++) hits[fn('t', Buffer.from('same key'), null, 5)]!++;
    for (const h of hits) expect(h).toBeGreaterThan(850);
  });

  it('custom: gets the context; -1 falls back to the default; out of range is refused', () => {
    const seen: PartitionerContext[] = [];
    const fn = createPartitioner((ctx) => {
      seen.push(ctx);
      return ctx.key?.toString() === 'pick2' ? 2 : -1;
    });
    const value = Buffer.from('v');
    expect(fn('t', Buffer.from('pick2'), value, 4)).toBe(2);
    expect(seen[0]).toEqual({ topic: 't', key: Buffer.from('pick2'), value, partitionCount: 4 });
    expect(fn('t', Buffer.from('kafka'), null, 4)).toBe(murmur2Partition(Buffer.from('kafka'), 4));

    expect(() => createPartitioner(() => 4)('t', null, null, 4)).toThrow(/returned 4 for topic 't'/);
    expect(() => createPartitioner(() => 1.5)('t', null, null, 4)).toThrow(RangeError);
  });

  it('refuses unknown names and topics without partitions', () => {
    expect(() => createPartitioner('murmur2_random' as 'murmur2')).toThrow(/partitioner must be/);
    expect(() => createPartitioner('murmur2')('t', null, null, 0)).toThrow(/0 partitions/);
  });
});
