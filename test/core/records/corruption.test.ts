import { describe, expect, it } from 'vitest';
import {
  Compression,
  CorruptRecordError,
  decodeBatch,
  decompress,
  encodeBatch,
  type RecordInput,
  validateBatch,
  validateRecords,
} from '../../../core/records/index.js';
import { mulberry32, randomBytes } from './helpers.js';

const T = 1_700_000_000_000;
const RECORDS: RecordInput[] = Array.from({ length: 4 }, (_, i) => ({
  key: i === 1 ? null : Buffer.from(`key-${i}`),
  value: Buffer.from(`value-${i}-`.repeat(i + 1)),
  headers: i === 2 ? [{ key: 'trace', value: Buffer.from('abc') }] : [],
  timestamp: T + i,
}));

/** Not covered by the CRC: baseOffset (0-7) and partitionLeaderEpoch (12-15). */
const uncovered = (i: number): boolean => i < 8 || (i >= 12 && i < 16);

/** decodeBatch must return or throw CorruptRecordError: never anything else. */
function decodeSafely(buf: Buffer): void {
  try {
    decodeBatch(buf, 0, { verifyCrc: false });
    validateRecords(buf, 0, buf.length, { verifyCrc: false });
  } catch (e) {
    if (!(e instanceof CorruptRecordError)) throw e;
  }
}

function expectFlipsDetected(buf: Buffer, positions: Iterable<number>): void {
  for (const i of positions) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const copy = Buffer.from(buf);
      copy[i]! ^= mask;
      const error = validateBatch(copy);
      if (uncovered(i)) {
        expect(error, `byte ${i} ^ ${mask}`).toBeNull();
        continue;
      }
      expect(error, `byte ${i} ^ ${mask}`).not.toBeNull();
      if (i === 16) expect(error!.code).toBe('UNSUPPORTED_MAGIC');
      else if (i >= 8 && i < 12) expect(['TRUNCATED', 'CORRUPT_MESSAGE']).toContain(error!.code);
      else expect(error!.code).toBe('CORRUPT_MESSAGE');
      decodeSafely(copy);
    }
  }
}

describe('single-byte corruption', () => {
  it('is detected at every byte of a small uncompressed batch', () => {
    const buf = encodeBatch(RECORDS);
    expectFlipsDetected(
      buf,
      Array.from({ length: buf.length }, (_, i) => i),
    );
  });

  it.each([Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd])(
    'is detected at seeded-random bytes of a codec %i batch',
    (codec) => {
      const rand = mulberry32(1000 + codec);
      const records = Array.from({ length: 300 }, (_, i) => ({ value: randomBytes(rand, 20 + (i % 50)) }));
      const buf = encodeBatch(records, { compression: codec, now: T });
      const positions = Array.from({ length: 300 }, () => Math.floor(rand() * buf.length));
      expectFlipsDetected(buf, [...Array(61).keys(), ...positions]);
    },
  );

  it('reports the stored and computed CRC', () => {
    const buf = encodeBatch(RECORDS, { baseOffset: 77 });
    buf[40]! ^= 1;
    expect(validateBatch(buf)!.message).toMatch(
      /^CRC mismatch in batch at byte 0 \(baseOffset 77\): stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}$/,
    );
  });

  it('rejects impossible lengths, record counts and lastOffsetDelta', () => {
    const buf = encodeBatch(RECORDS);
    const withInt32 = (pos: number, value: number): Buffer => {
      const copy = Buffer.from(buf);
      copy.writeInt32BE(value, pos);
      return copy;
    };
    expect(validateBatch(withInt32(8, 48))?.code).toBe('CORRUPT_MESSAGE');
    expect(validateBatch(withInt32(8, -1))?.code).toBe('CORRUPT_MESSAGE');
    expect(validateBatch(withInt32(8, buf.length))?.code).toBe('TRUNCATED');
    // The checks after the CRC, with the CRC skipped:
    expect(validateBatch(withInt32(57, -1), 0, buf.length, false)?.code).toBe('INVALID_RECORD');
    expect(validateBatch(withInt32(57, 1000), 0, buf.length, false)?.code).toBe('INVALID_RECORD');
    expect(validateBatch(withInt32(23, -1), 0, buf.length, false)?.code).toBe('INVALID_RECORD');
    expect(validateBatch(withInt32(23, 1), 0, buf.length, false)?.code).toBe('INVALID_RECORD');
    const badCodec = Buffer.from(buf);
    badCodec[22] = 6;
    expect(validateBatch(badCodec, 0, badCodec.length, false)?.code).toBe('UNSUPPORTED_COMPRESSION_TYPE');
  });
});

describe('truncation', () => {
  it.each([Compression.None, Compression.Zstd])(
    'at every position of a codec %i batch is TRUNCATED',
    (codec) => {
      const buf = encodeBatch(RECORDS, { compression: codec });
      for (let n = 0; n < buf.length; n++) {
        expect(validateBatch(buf.subarray(0, n))?.code, `${n} bytes`).toBe('TRUNCATED');
        expect(validateBatch(buf, 0, n)?.code, `${n} bytes`).toBe('TRUNCATED');
        expect(() => decodeBatch(buf.subarray(0, n))).toThrow(CorruptRecordError);
      }
      expect(validateBatch(buf)).toBeNull();
      // An `end` past the buffer is clamped, not read.
      expect(validateBatch(buf.subarray(0, 30), 0, buf.length)?.code).toBe('TRUNCATED');
    },
  );
});

describe('decompressing garbage', () => {
  it.each([Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd])(
    'codec %i throws CorruptRecordError, never hangs or crashes',
    (codec) => {
      const rand = mulberry32(codec);
      const good = encodeBatch(RECORDS, { compression: codec }).subarray(61);
      for (let i = 0; i < 500; i++) {
        const garbage =
          i % 2 === 0
            ? randomBytes(rand, Math.floor(rand() * 2000))
            : Buffer.concat([good.subarray(0, Math.floor(rand() * good.length)), randomBytes(rand, 50)]);
        try {
          decompress(codec, garbage);
        } catch (e) {
          expect(e).toBeInstanceOf(CorruptRecordError);
        }
      }
    },
  );
});
