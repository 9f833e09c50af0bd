import { describe, expect, it } from 'vitest';
import { FrameSplitter, FramingError } from '../../../core/broker/framing.js';
import { prng } from './helpers.js';

function frame(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

function drain(s: FrameSplitter): Buffer[] {
  const out: Buffer[] = [];
  for (let f = s.next(); f !== null; f = s.next()) out.push(f);
  return out;
}

describe('FrameSplitter', () => {
  it('returns a frame inside one chunk zero-copy', () => {
    const s = new FrameSplitter(1000);
    const chunk = frame(Buffer.from('hello'));
    s.push(chunk);
    const [f] = drain(s);
    expect(f!.toString()).toBe('hello');
    expect(f!.buffer).toBe(chunk.buffer);
    expect(s.buffered).toBe(0);
  });

  it('splits frames fed one byte at a time', () => {
    const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(300, 7)];
    const stream = Buffer.concat(bodies.map(frame));
    const s = new FrameSplitter(1000);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      s.push(stream.subarray(i, i + 1));
      out.push(...drain(s));
    }
    expect(out).toEqual(bodies);
    expect(s.buffered).toBe(0);
  });

  it('splits frames across arbitrary chunk boundaries (seeded)', () => {
    const rand = prng(42);
    for (let round = 0; round < 50; round++) {
      const bodies: Buffer[] = [];
      for (let i = 0; i < 20; i++) {
        const b = Buffer.alloc(Math.floor(rand() * 200));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
        bodies.push(b);
      }
      const stream = Buffer.concat(bodies.map(frame));
      const s = new FrameSplitter(1000);
      const out: Buffer[] = [];
      for (let pos = 0; pos < stream.length; ) {
        const n = 1 + Math.floor(rand() * 300);
        s.push(stream.subarray(pos, pos + n));
        pos += n;
        if (rand() < 0.7) out.push(...drain(s));
      }
      out.push(...drain(s));
      expect(out).toEqual(bodies);
    }
  });

  it('rejects an oversized prefix as soon as it arrives, without waiting for the body', () => {
    const s = new FrameSplitter(100);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(101);
    s.push(prefix);
    const err = (() => {
      try {
        s.next();
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(FramingError);
    expect((err as FramingError).code).toBe('FRAME_TOO_LARGE');
    expect((err as FramingError).sizeBytes).toBe(101);
  });

  it('rejects a negative prefix split across chunks', () => {
    const s = new FrameSplitter(100);
    s.push(Buffer.from([0xff, 0xff]));
    expect(s.next()).toBeNull();
    s.push(Buffer.from([0xff, 0xfe]));
    expect(() => s.next()).toThrowError(/negative/);
  });

  it('accepts a frame of exactly the maximum size', () => {
    const s = new FrameSplitter(10);
    s.push(frame(Buffer.alloc(10, 1)).subarray(0, 7));
    expect(s.next()).toBeNull();
    s.push(frame(Buffer.alloc(10, 1)).subarray(7));
    expect(s.next()).toEqual(Buffer.alloc(10, 1));
  });

  it('keeps frames queued until asked (pull-based back-pressure)', () => {
    const s = new FrameSplitter(100);
    s.push(Buffer.concat([frame(Buffer.from('x')), frame(Buffer.from('y'))]));
    expect(s.next()!.toString()).toBe('x');
    expect(s.buffered).toBe(5);
    s.push(frame(Buffer.from('z')));
    expect(drain(s).map(String)).toEqual(['y', 'z']);
  });

  it('handles many small chunks without unbounded queue growth', () => {
    const s = new FrameSplitter(1 << 20);
    const body = Buffer.alloc(100_000, 3);
    const stream = frame(body);
    for (let i = 0; i < stream.length; i += 10) s.push(stream.subarray(i, i + 10));
    expect(s.next()).toEqual(body);
  });
});
