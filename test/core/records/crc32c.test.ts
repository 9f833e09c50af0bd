import { describe, expect, it } from 'vitest';
import { crc32c, crc32cBackend, crc32cJs } from '../../../core/records/index.js';
import { mulberry32, randomBytes } from './helpers.js';

describe('crc32c', () => {
  it('uses the native module on this machine', () => {
    expect(crc32cBackend).toBe('native');
  });

  it.each([
    ['', 0x00000000],
    ['a', 0xc1d04330],
    ['123456789', 0xe3069283],
    ['The quick brown fox jumps over the lazy dog', 0x22620404],
    ['\u0000', 1383945041], // kafkajs crc32C spec
  ])('crc32c(%j) = %d', (input, expected) => {
    const buf = Buffer.from(input);
    expect(crc32c(buf)).toBe(expected);
    expect(crc32cJs(buf)).toBe(expected);
  });

  it('matches RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(crc32c(ascending)).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(ascending).reverse())).toBe(0x113fdb5c);
  });

  it('native and JS agree on every length and alignment, for ranges too', () => {
    const rand = mulberry32(1);
    const data = randomBytes(rand, 5000);
    for (const length of [0, 1, 7, 8, 9, 61, 255, 256, 257, 1000, 4096, 4999]) {
      for (const start of [0, 1, 3]) {
        const end = Math.min(data.length, start + length);
        const expected = crc32cJs(data, start, end);
        expect(crc32c(data, start, end)).toBe(expected);
        expect(crc32c(data.subarray(start, end))).toBe(expected);
      }
    }
  });

  it('returns an unsigned value', () => {
    const rand = mulberry32(2);
    for (let i = 0; i < 200; i++) {
      const v = crc32c(randomBytes(rand, 300));
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(2 ** 32);
    }
  });
});
