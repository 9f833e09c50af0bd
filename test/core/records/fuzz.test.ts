/**
 * Seeded fuzzing of the decoders: whatever the bytes, they return a result or an error
 * value, or throw CorruptRecordError. A failure prints the seed; FUZZ_SEED=<n> replays it.
 */
import { describe, expect, it } from 'vitest';
import {
  Compression,
  CorruptRecordError,
  decodeBatch,
  decodeBatches,
  encodeBatch,
  forEachRecord,
  type RecordInput,
  scanBatches,
  updateBatchCrc,
  validateBatch,
  validateRecords,
} from '../../../core/records/index.js';
import { mulberry32, randomBytes } from './helpers.js';

const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20240601);

/** Runs every decoding entry point on `buf`; rethrows anything but CorruptRecordError. */
function exercise(buf: Buffer, seed: number): void {
  const guard = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof CorruptRecordError)) {
        throw new Error(`seed ${seed}: ${e instanceof Error ? e.stack : String(e)}`);
      }
      expect(typeof e.code).toBe('string');
    }
  };
  guard(() => validateBatch(buf));
  guard(() => validateRecords(buf, 0, buf.length, { verifyCrc: false }));
  guard(() => decodeBatch(buf, 0, { verifyCrc: false }));
  guard(() => forEachRecord(buf, 0, () => {}, { verifyCrc: false }));
  guard(() => decodeBatches(buf, 0, buf.length, { verifyCrc: false }));
  guard(() => scanBatches(buf, 0, buf.length, undefined, false));
}

function sampleRecords(rand: () => number): RecordInput[] {
  return Array.from({ length: 1 + Math.floor(rand() * 20) }, (_, i) => ({
    key: rand() < 0.3 ? null : randomBytes(rand, Math.floor(rand() * 20)),
    value: rand() < 0.1 ? null : randomBytes(rand, Math.floor(rand() * 100)),
    headers: rand() < 0.3 ? [{ key: `h${i}`, value: rand() < 0.5 ? null : randomBytes(rand, 5) }] : [],
    timestamp: 1_700_000_000_000 + Math.floor(rand() * 1e6) - 5e5,
  }));
}

describe('decoder fuzzing', () => {
  it('survives random bytes', () => {
    for (let i = 0; i < 3000; i++) {
      const seed = BASE_SEED + i;
      const rand = mulberry32(seed);
      exercise(randomBytes(rand, Math.floor(rand() * 300)), seed);
    }
  });

  it('survives random records behind a well-formed header, for every codec', () => {
    for (let i = 0; i < 3000; i++) {
      const seed = BASE_SEED + 100_000 + i;
      const rand = mulberry32(seed);
      const buf = randomBytes(rand, 61 + Math.floor(rand() * 400));
      buf.writeInt32BE(buf.length - 12, 8);
      buf[16] = 2;
      buf[21] = 0;
      buf[22] = i % 5;
      buf.writeInt32BE(Math.floor(rand() * 50), 57);
      buf.writeInt32BE(100, 23);
      updateBatchCrc(buf, 0);
      exercise(buf, seed);
    }
  });

  it.each([Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd])(
    'survives mutated codec %i batches with a fixed-up CRC',
    (codec) => {
      for (let i = 0; i < 600; i++) {
        const seed = BASE_SEED + 200_000 + codec * 10_000 + i;
        const rand = mulberry32(seed);
        const buf = encodeBatch(sampleRecords(rand), { compression: codec });
        const mutations = 1 + Math.floor(rand() * 4);
        for (let m = 0; m < mutations; m++) {
          const at = 61 + Math.floor(rand() * (buf.length - 61));
          buf[at] = rand() < 0.5 ? buf[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
        }
        if (rand() < 0.2) buf.writeInt32BE(Math.floor(rand() * 40), 57);
        updateBatchCrc(buf, 0);
        exercise(buf, seed);
      }
    },
  );

  it('survives concatenations with random cuts', () => {
    for (let i = 0; i < 500; i++) {
      const seed = BASE_SEED + 300_000 + i;
      const rand = mulberry32(seed);
      const parts = Array.from({ length: 3 }, () =>
        encodeBatch(sampleRecords(rand), { compression: Math.floor(rand() * 5) }),
      );
      const all = Buffer.concat(parts);
      const cut = all.subarray(0, Math.floor(rand() * all.length));
      exercise(cut, seed);
      const result = scanBatches(cut);
      expect(result.error === null || result.error.code === 'TRUNCATED').toBe(true);
    }
  });
});
