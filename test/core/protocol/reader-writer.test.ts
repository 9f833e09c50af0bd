import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../core/protocol/errors.js';
import { Reader, ZERO_UUID } from '../../../core/protocol/reader.js';
import { Writer, ZERO_COPY_THRESHOLD } from '../../../core/protocol/writer.js';

function bytes(write: (w: Writer) => void): Buffer {
  const w = new Writer();
  write(w);
  return w.toBuffer();
}

function expectProtocolError(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe(code);
    if (message) expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a ProtocolError');
}

describe('fixed-width integers', () => {
  it('round-trip at their limits, big-endian', () => {
    const buf = bytes((w) =>
      w.int8(-128).int8(127).int16(-32768).int16(32767).int32(-2147483648).int32(2147483647).uint16(65535),
    );
    expect(buf.toString('hex')).toBe('807f80007fff800000007fffffffffff');
    const r = new Reader(buf);
    expect([r.int8(), r.int8(), r.int16(), r.int16(), r.int32(), r.int32(), r.uint16()]).toEqual([
      -128, 127, -32768, 32767, -2147483648, 2147483647, 65535,
    ]);
    expect(r.remaining).toBe(0);
  });

  it('uint32 and float64', () => {
    const r = new Reader(bytes((w) => w.uint32(4_000_000_000).float64(-1.25)));
    expect(r.uint32()).toBe(4_000_000_000);
    expect(r.float64()).toBe(-1.25);
  });

  it('int64 without BigInt for safe integers, matching writeBigInt64BE', () => {
    for (const v of [
      0,
      1,
      -1,
      2 ** 32,
      -(2 ** 32),
      2 ** 32 + 1,
      1509285569484,
      -1509285569484,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
    ]) {
      const buf = bytes((w) => w.int64(v));
      const ref = Buffer.alloc(8);
      ref.writeBigInt64BE(BigInt(v));
      expect(buf.equals(ref)).toBe(true);
      expect(new Reader(buf).int64()).toBe(v);
    }
  });

  it('int64 beyond 2^53 is correctly rounded on read and clamped on write', () => {
    const max = Buffer.from('7fffffffffffffff', 'hex');
    expect(new Reader(max).int64()).toBe(2 ** 63);
    expect(bytes((w) => w.int64(2 ** 63)).equals(max)).toBe(true);
    expect(bytes((w) => w.int64(-(2 ** 64))).toString('hex')).toBe('8000000000000000');
  });
});

describe('varints', () => {
  it('unsigned varints as in Kafka ByteUtils', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16383, 'ff7f'],
      [16384, '808001'],
      [4294967295, 'ffffffff0f'],
    ];
    for (const [v, hex] of cases) {
      expect(bytes((w) => w.uvarint(v)).toString('hex')).toBe(hex);
      expect(new Reader(Buffer.from(hex, 'hex')).uvarint()).toBe(v);
    }
  });

  it('zigzag varints and varlongs', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-2, '03'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
    ];
    for (const [v, hex] of cases) {
      expect(bytes((w) => w.varint(v)).toString('hex')).toBe(hex);
      expect(new Reader(Buffer.from(hex, 'hex')).varint()).toBe(v);
      expect(bytes((w) => w.varlong(v)).toString('hex')).toBe(hex);
      expect(new Reader(Buffer.from(hex, 'hex')).varlong()).toBe(v);
    }
    for (const v of [2147483647, -2147483648]) expect(new Reader(bytes((w) => w.varint(v))).varint()).toBe(v);
    for (const v of [2 ** 40, -(2 ** 40), 1509928155660, 2 ** 53 - 1, -(2 ** 53)]) {
      expect(new Reader(bytes((w) => w.varlong(v))).varlong()).toBe(v);
    }
  });

  it('overlong and truncated varints are ProtocolErrors', () => {
    expectProtocolError(
      () => new Reader(Buffer.from('ffffffffff01', 'hex')).uvarint(),
      'CORRUPT_MESSAGE',
      /longer than 5/,
    );
    expectProtocolError(() => new Reader(Buffer.from('ffff', 'hex')).uvarint(), 'TRUNCATED');
    expectProtocolError(() => new Reader(Buffer.alloc(11, 0xff)).varlong(), 'CORRUPT_MESSAGE');
  });
});

describe('uuids', () => {
  it('are 22-character base64url strings; all zero is ZERO_UUID', () => {
    expect(new Reader(Buffer.alloc(16)).uuid()).toBe(ZERO_UUID);
    const raw = Buffer.from('f7ee4b6a5d8f4c1bb0a0c44e0e0d3e11', 'hex');
    const s = new Reader(raw).uuid();
    expect(s).toHaveLength(22);
    expect(bytes((w) => w.uuid(s)).equals(raw)).toBe(true);
    expectProtocolError(() => bytes((w) => w.uuid('nope')), 'INVALID_VALUE');
  });
});

describe('strings and bytes', () => {
  it('classic and compact strings, nullable or not', () => {
    const buf = bytes((w) =>
      w.string('héllo').nullableString(null).compactString('').compactNullableString(null).compactString('ü'),
    );
    expect(buf.toString('hex')).toBe(
      `0006${Buffer.from('héllo').toString('hex')}ffff0100 03c3bc`.replace(/ /g, ''),
    );
    const r = new Reader(buf);
    expect([
      r.string(),
      r.nullableString(),
      r.compactString(),
      r.compactNullableString(),
      r.compactString(),
    ]).toEqual(['héllo', null, '', null, 'ü']);
  });

  it('long compact strings get multi-byte lengths', () => {
    const s = 'x'.repeat(300);
    const buf = bytes((w) => w.compactString(s));
    expect(buf.subarray(0, 2).toString('hex')).toBe('ad02');
    expect(new Reader(buf).compactString()).toBe(s);
  });

  it('rejects strings over 32767 bytes', () => {
    expectProtocolError(() => bytes((w) => w.string('x'.repeat(40000))), 'INVALID_VALUE');
  });

  it('reads bytes as zero-copy views', () => {
    const buf = bytes((w) =>
      w
        .bytes(Buffer.from([1, 2, 3]))
        .nullableBytes(null)
        .compactBytes(Buffer.from([9])),
    );
    const r = new Reader(buf);
    const b = r.bytes();
    expect([...b]).toEqual([1, 2, 3]);
    expect(b.buffer).toBe(buf.buffer);
    expect(r.nullableBytes()).toBeNull();
    expect([...r.compactBytes()]).toEqual([9]);
  });

  it('null where not nullable, and negative lengths, are CORRUPT_MESSAGE', () => {
    expectProtocolError(() => new Reader(Buffer.from('ffff', 'hex')).string(), 'CORRUPT_MESSAGE');
    expectProtocolError(() => new Reader(Buffer.from('fffe', 'hex')).nullableString(), 'CORRUPT_MESSAGE');
    expectProtocolError(() => new Reader(Buffer.from('fffffff9', 'hex')).nullableBytes(), 'CORRUPT_MESSAGE');
    expectProtocolError(() => new Reader(Buffer.from('00', 'hex')).compactString(), 'CORRUPT_MESSAGE');
    expectProtocolError(
      () => new Reader(Buffer.from('fffffffe', 'hex')).nullableArray((r) => r.int8()),
      'CORRUPT_MESSAGE',
    );
  });

  it('lengths beyond the input are TRUNCATED before anything is allocated', () => {
    expectProtocolError(
      () => new Reader(Buffer.from('7fff00', 'hex')).string(),
      'TRUNCATED',
      /length 32767 exceeds remaining 1 bytes/,
    );
    expectProtocolError(() => new Reader(Buffer.from('7fffffff', 'hex')).bytes(), 'TRUNCATED');
    expectProtocolError(
      () => new Reader(Buffer.from('7fffffff00', 'hex')).array((r) => r.int32(), 4),
      'TRUNCATED',
      /length 2147483647 \(at least 4 bytes each\) exceeds remaining 1 bytes/,
    );
  });
});

describe('arrays and tagged fields', () => {
  it('classic and compact arrays, nullable', () => {
    const buf = bytes((w) =>
      w
        .array([1, 2], (w2, v) => w2.int16(v))
        .nullableArray(null, (w2, v: number) => w2.int8(v))
        .compactArray([7], (w2, v) => w2.int8(v))
        .compactNullableArray(null, (w2, v: number) => w2.int8(v)),
    );
    expect(buf.toString('hex')).toBe('0000000200010002ffffffff020700');
    const r = new Reader(buf);
    expect(r.array((x) => x.int16())).toEqual([1, 2]);
    expect(r.nullableArray((x) => x.int8())).toBeNull();
    expect(r.compactArray((x) => x.int8())).toEqual([7]);
    expect(r.compactNullableArray((x) => x.int8())).toBeNull();
  });

  it('tagged fields: known ones handed over, unknown ones skipped and kept raw', () => {
    const buf = bytes((w) =>
      w.taggedFields([
        { tag: 5, data: Buffer.from([0xaa, 0xbb]) },
        { tag: 1, data: Buffer.from([0x00, 0x2a]) },
      ]),
    );
    expect(buf.toString('hex')).toBe('020102002a0502aabb');
    const seen: number[] = [];
    const unknown = new Reader(buf).taggedFields((tag, r) => {
      if (tag !== 1) return false;
      seen.push(r.int16());
      return true;
    });
    expect(seen).toEqual([42]);
    expect(unknown).toEqual([{ tag: 5, data: Buffer.from([0xaa, 0xbb]) }]);
    expectProtocolError(
      () => new Reader(Buffer.from('0205000100', 'hex')).taggedFields(),
      'CORRUPT_MESSAGE',
      /ascend/,
    );
    expectProtocolError(() => new Reader(Buffer.from('010109aa', 'hex')).taggedFields(), 'TRUNCATED');
  });
});

describe('Writer memory strategy', () => {
  it('grows in new segments without copying, and toBuffer copies once', () => {
    const w = new Writer(64);
    for (let i = 0; i < 100_000; i++) w.int32(i);
    expect(w.length).toBe(400_000);
    const buf = w.toBuffer();
    expect(buf.length).toBe(400_000);
    const r = new Reader(buf);
    for (let i = 0; i < 100_000; i++) if (r.int32() !== i) throw new Error(`at ${i}`);
  });

  it('appends large buffers as their own chunks (zero-copy) and copies small ones', () => {
    const big = Buffer.alloc(ZERO_COPY_THRESHOLD * 4, 7);
    const small = Buffer.from([1, 2, 3]);
    const w = new Writer();
    w.int32(big.length).raw(big).raw(small).int8(9);
    const chunks = w.toChunks();
    expect(chunks).toContain(big);
    expect(chunks.some((c) => c === small)).toBe(false);
    expect(Buffer.concat(chunks).length).toBe(4 + big.length + 3 + 1);
  });

  it('patches reserved size prefixes across segments', () => {
    const w = new Writer(16);
    const res = w.reserveInt32();
    w.raw(Buffer.alloc(100_000, 1)).string('end');
    w.patchInt32(res, w.length - 4);
    const buf = w.toBuffer();
    expect(buf.readInt32BE(0)).toBe(buf.length - 4);
    expect(res.position).toBe(0);
  });

  it('writers sharing the slab never overwrite each other', () => {
    const a = new Writer();
    const b = new Writer();
    a.string('first');
    b.string('second');
    const outA = a.toBuffer();
    const outB = b.toBuffer();
    const c = new Writer();
    c.string('third');
    const outC = c.toBuffer();
    expect(new Reader(outA).string()).toBe('first');
    expect(new Reader(outB).string()).toBe('second');
    expect(new Reader(outC).string()).toBe('third');
  });

  it('refuses writes after finishing', () => {
    const w = new Writer();
    w.int8(1).toChunks();
    expectProtocolError(() => w.int32(1), 'INVALID_VALUE');
  });
});
