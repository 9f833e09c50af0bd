import { describe, expect, it } from 'vitest';
import { DirectFrameReader, FrameSplitter, FramingError } from '../../../core/broker/framing.js';
import { prng } from '../../helpers/prng.js';

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

/** Feeds `stream` to a reader the way a socket with `onread` does: reads of at most `readSize()` bytes into nextBuffer(). */
function feed(reader: DirectFrameReader, stream: Buffer, readSize: () => number): Buffer[] {
  const targets: Buffer[] = [];
  for (let pos = 0; pos < stream.length; ) {
    const target = reader.nextBuffer();
    expect(target.length).toBeGreaterThan(0);
    const n = Math.min(target.length, readSize(), stream.length - pos);
    stream.copy(target, 0, pos, pos + n);
    targets.push(target);
    reader.received(n);
    pos += n;
  }
  return targets;
}

describe('DirectFrameReader', () => {
  it('delivers frames of every size intact across arbitrary read boundaries (seeded)', () => {
    const rand = prng(7);
    for (let round = 0; round < 30; round++) {
      const bodies: Buffer[] = [];
      for (let i = 0; i < 25; i++) {
        const size = rand() < 0.3 ? Math.floor(rand() * 200_000) : Math.floor(rand() * 3000);
        const b = Buffer.alloc(size);
        for (let j = 0; j < size; j += 97) b[j] = Math.floor(rand() * 256);
        bodies.push(b);
      }
      const out: Buffer[] = [];
      const reader = new DirectFrameReader(1 << 20, (f) => out.push(f));
      feed(reader, Buffer.concat(bodies.map(frame)), () => 1 + Math.floor(rand() * 70_000));
      expect(out.length).toBe(bodies.length);
      for (let i = 0; i < bodies.length; i++) expect(out[i]!.equals(bodies[i]!)).toBe(true);
    }
  });

  it('reads the rest of a large frame straight into the frame, and frames keep their bytes after later reads', () => {
    const big = Buffer.alloc(300_000, 1);
    const small = Buffer.from('small');
    const out: Buffer[] = [];
    const reader = new DirectFrameReader(1 << 20, (f) => out.push(f));
    const targets = feed(
      reader,
      Buffer.concat([frame(small), frame(big), frame(small), frame(small)]),
      () => 65_536,
    );
    expect(out.map((f) => f.length)).toEqual([5, 300_000, 5, 5]);
    expect(out[1]!.equals(big)).toBe(true);
    // After the first read (staging), the big frame's remaining reads went into the frame itself.
    expect(targets.filter((t) => t.buffer === out[1]!.buffer).length).toBeGreaterThan(3);
    expect(out[0]!.toString()).toBe('small');
    expect(out[3]!.toString()).toBe('small');
  });

  it('delivers frames fed one byte at a time', () => {
    const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(20_000, 3), Buffer.from('hello')];
    const out: Buffer[] = [];
    const reader = new DirectFrameReader(100_000, (f) => out.push(f));
    feed(reader, Buffer.concat(bodies.map(frame)), () => 1);
    expect(out).toEqual(bodies);
  });

  it('rejects an oversized or negative prefix as soon as it arrives', () => {
    const reader = new DirectFrameReader(1000, () => {});
    const target = reader.nextBuffer();
    target.writeInt32BE(1001, 0);
    expect(() => reader.received(4)).toThrow(FramingError);
    const negative = new DirectFrameReader(1000, () => {});
    negative.nextBuffer().writeInt32BE(-5, 0);
    expect(() => negative.received(4)).toThrow(/negative/);
  });

  it('ignores reads after stop()', () => {
    const out: Buffer[] = [];
    const reader = new DirectFrameReader(1000, (f) => out.push(f));
    reader.stop();
    feed(reader, frame(Buffer.from('late')), () => 100);
    expect(out).toEqual([]);
  });
});
