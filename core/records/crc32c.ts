/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of record batch v2.
 * Uses @node-rs/crc32 (SSE4.2 / ARMv8 CRC instructions) when its prebuilt binary loads and
 * the range is long enough to pay for the native call; otherwise slicing-by-8 in JS.
 * Result: unsigned 32-bit. crc32c("123456789") = 0xE3069283.
 */
import { createRequire } from 'node:module';

type NativeCrc = (input: Uint8Array, initialState?: number) => number;

function loadNative(): NativeCrc | null {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc };
    const fn = mod.crc32c;
    // Refuse a binary that loads but computes something else.
    if (typeof fn !== 'function' || fn(Buffer.from('123456789')) !== 0xe3069283) return null;
    return fn;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Which implementation crc32c uses for long ranges. */
export const crc32cBackend: 'native' | 'js' = native ? 'native' : 'js';

/** Below this many bytes the JS loop beats the cost of crossing into native code. */
const NATIVE_MIN_BYTES = 256;

const POLY = 0x82f63b78;
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let k = 1; k < 8; k++) {
    const prev = T[(k - 1) * 256 + n]!;
    T[k * 256 + n] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/** Pure-JS CRC-32C (slicing-by-8) of buf[start, end). */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end > buf.length) end = buf.length;
  let crc = -1;
  let i = start;
  const end8 = end - 8;
  while (i <= end8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      T[0x700 + (a & 0xff)]! ^
      T[0x600 + ((a >>> 8) & 0xff)]! ^
      T[0x500 + ((a >>> 16) & 0xff)]! ^
      T[0x400 + (a >>> 24)]! ^
      T[0x300 + buf[i + 4]!]! ^
      T[0x200 + buf[i + 5]!]! ^
      T[0x100 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = T[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** CRC-32C of buf[start, end), unsigned. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end > buf.length) end = buf.length;
  if (native === null || end - start < NATIVE_MIN_BYTES) return crc32cJs(buf, start, end);
  return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
}
