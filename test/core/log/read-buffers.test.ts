/**
 * Log reads into reused memory (core/log/read-buffers.ts): the same bytes as a plain read, a
 * leased buffer is never handed out again before it is released, and released memory is reused.
 */
import { describe, expect, it } from 'vitest';
import {
  isLeasedReadBuffer,
  MIN_POOLED_BYTES,
  ReadBufferPool,
  releaseReadBuffer,
} from '../../../core/log/read-buffers.js';
import { batch, openLog } from './helpers.js';

describe('ReadBufferPool', () => {
  it('hands out a buffer again only after it was released', () => {
    const pool = new ReadBufferPool();
    const a = pool.take(100_000);
    const b = pool.take(100_000);
    expect(a.length).toBe(100_000);
    expect(a.buffer).not.toBe(b.buffer);
    expect(isLeasedReadBuffer(a.subarray(10, 20))).toBe(true);
    expect(releaseReadBuffer(a.subarray(10, 20))).toBe(true);
    expect(isLeasedReadBuffer(a)).toBe(false);
    expect(releaseReadBuffer(a)).toBe(false); // a second release is ignored
    const c = pool.take(90_000);
    expect(c.buffer).toBe(a.buffer);
    const d = pool.take(90_000);
    expect(d.buffer).not.toBe(a.buffer); // not handed out twice
    expect(pool.reused).toBe(1);
    expect(pool.allocated).toBe(3);
  });

  it('sizes buffers in powers of two, or in steps between them (at most a fifth unused)', () => {
    const size = (pool: ReadBufferPool, n: number) => pool.take(n).buffer.byteLength;
    const halves = new ReadBufferPool(undefined, 1);
    expect([20_000, 32_768, 32_769, 1_048_600].map((n) => size(halves, n))).toEqual([
      32_768, 32_768, 65_536, 2_097_152,
    ]);
    const quarters = new ReadBufferPool(undefined, 4);
    expect([4_096, 16_384, 16_385, 20_480, 20_481, 32_768, 1_048_600].map((n) => size(quarters, n))).toEqual([
      4_096, 16_384, 20_480, 20_480, 24_576, 32_768, 1_310_720,
    ]);
    for (let n = MIN_POOLED_BYTES; n < 5_000_000; n = Math.ceil(n * 1.07)) {
      const got = size(quarters, n);
      expect(got).toBeGreaterThanOrEqual(n);
      expect(got - n).toBeLessThanOrEqual(got / 5);
    }
    expect(() => new ReadBufferPool(undefined, 0)).toThrow(RangeError);
  });

  it('does not lease small or huge buffers, and keeps at most maxIdleBytes', () => {
    const pool = new ReadBufferPool(256 * 1024);
    const small = pool.take(MIN_POOLED_BYTES - 1);
    expect(small.length).toBe(MIN_POOLED_BYTES - 1);
    expect(isLeasedReadBuffer(small)).toBe(false);
    expect(releaseReadBuffer(small)).toBe(false);
    const leased = [pool.take(200_000), pool.take(200_000)];
    for (const buf of leased) releaseReadBuffer(buf);
    expect(pool.idleSize).toBe(256 * 1024); // one 256 KiB buffer kept, the other dropped
  });
});

describe('PartitionLog.read with buffers', () => {
  it('returns the same bytes as a plain read and reuses the memory once released', () => {
    const log = openLog({ 'segment.bytes': 300_000 });
    for (let i = 0; i < 40; i++)
      log.append(batch(20, { tag: `b${i}`, valueBytes: 1000 }), { assignOffsets: true });
    expect(log.numberOfSegments).toBeGreaterThan(1);
    const pool = new ReadBufferPool();
    for (let offset = 0; offset < log.logEndOffset; offset += 53) {
      const plain = log.read(offset, 100_000, { minOneBatch: true });
      const pooled = log.read(offset, 100_000, { minOneBatch: true, buffers: pool });
      expect(Buffer.concat(pooled.records).equals(Buffer.concat(plain.records))).toBe(true);
      for (const r of pooled.records) {
        expect(isLeasedReadBuffer(r)).toBe(true);
        releaseReadBuffer(r);
      }
    }
    // One buffer per size class serves all reads; the windows a read looked through went back too.
    expect(pool.allocated).toBeLessThanOrEqual(4);
    expect(pool.reused).toBeGreaterThan(8);
  });

  it('keeps the bytes of an unreleased read while later reads take other memory', () => {
    const log = openLog();
    for (let i = 0; i < 20; i++)
      log.append(batch(20, { tag: `b${i}`, valueBytes: 1000 }), { assignOffsets: true });
    const pool = new ReadBufferPool();
    const held = log.read(0, 50_000, { buffers: pool });
    const copy = Buffer.concat(held.records);
    for (let offset = 100; offset < log.logEndOffset; offset += 20) {
      const r = log.read(offset, 50_000, { buffers: pool });
      for (const b of r.records) releaseReadBuffer(b);
    }
    expect(Buffer.concat(held.records).equals(copy)).toBe(true);
  });

  it('gives its windows back when the read finds nothing to return', () => {
    const log = openLog();
    log.append(batch(20, { valueBytes: 1000 }), { assignOffsets: true });
    const pool = new ReadBufferPool();
    const r = log.read(0, 100_000, { maxOffset: 5, buffers: pool }); // the batch ends beyond maxOffset
    expect(r.sizeBytes).toBe(0);
    expect(pool.idleSize).toBeGreaterThan(0);
  });
});
