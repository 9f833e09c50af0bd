import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  COMPRESSION_NAMES,
  Compression,
  CorruptRecordError,
  compress,
  compressAsync,
  compressionFromName,
  compressionName,
  compressWithHeadroom,
  decompress,
} from '../../../core/records/index.js';
import { mulberry32, randomBytes, sameBytes, xxh32 } from './helpers.js';

const require = createRequire(import.meta.url);
const snappy = require('snappy') as typeof import('snappy');
const lz4 = require('lz4-napi') as typeof import('lz4-napi');
const zstd = require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');

const rand = mulberry32(42);
/** Compressible text of `n` bytes. */
function text(n: number): Buffer {
  const words = ['kafka', 'tributary', 'offset', 'record', 'batch', 'leader', 'epoch', '{"k":', '}', '\n'];
  let s = '';
  while (s.length < n) s += `${words[Math.floor(rand() * words.length)]}${Math.floor(rand() * 100)} `;
  return Buffer.from(s.slice(0, n));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CorruptRecordError);
    return (e as CorruptRecordError).code;
  }
  throw new Error('expected a CorruptRecordError');
}

const SAMPLES: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([7])],
  ['text 1 KiB', text(1024)],
  ['text 200 KiB (several blocks)', text(200 * 1024)],
  ['random 100 KiB (incompressible)', randomBytes(rand, 100 * 1024)],
  ['zeros 1 MiB', Buffer.alloc(1024 * 1024)],
];

describe('codec names', () => {
  it('maps compression.type names to codec ids and back', () => {
    expect(COMPRESSION_NAMES.map(compressionFromName)).toEqual([0, 1, 2, 3, 4]);
    expect(compressionFromName('ZSTD')).toBe(Compression.Zstd);
    expect([0, 1, 2, 3, 4].map(compressionName)).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
  });

  it("rejects 'producer' (a topic setting, not a codec) and unknown names", () => {
    expect(() => compressionFromName('producer')).toThrow(/keep the producer's codec/);
    expect(() => compressionFromName('brotli')).toThrow(RangeError);
    expect(codeOf(() => compressionName(5))).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    expect(codeOf(() => decompress(7, Buffer.from([1])))).toBe('UNSUPPORTED_COMPRESSION_TYPE');
  });
});

describe.each([Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd])(
  'codec %i',
  (codec) => {
    it.each(SAMPLES)('round-trips %s', (_name, data) => {
      expect(sameBytes(decompress(codec, compress(codec, data)), data)).toBe(true);
    });

    it('throws CorruptRecordError for garbage, truncation and empty input', () => {
      const data = compress(codec, text(100 * 1024));
      expect(codeOf(() => decompress(codec, Buffer.alloc(0)))).toBe('CORRUPT_MESSAGE');
      expect(codeOf(() => decompress(codec, Buffer.from('definitely not compressed data')))).toBe(
        'CORRUPT_MESSAGE',
      );
      expect(codeOf(() => decompress(codec, data.subarray(0, data.length >> 1)))).toBe('CORRUPT_MESSAGE');
      for (let i = 0; i < 50; i++) {
        const garbage = randomBytes(rand, 1 + Math.floor(rand() * 300));
        try {
          decompress(codec, garbage);
        } catch (e) {
          expect(e).toBeInstanceOf(CorruptRecordError);
        }
      }
    });

    it('refuses output above the limit', () => {
      const data = compress(codec, Buffer.alloc(200_000, 1));
      expect(codeOf(() => decompress(codec, data, 100_000))).toBe('MESSAGE_TOO_LARGE');
      expect(decompress(codec, data, 200_000).length).toBe(200_000);
    });
  },
);

describe('gzip', () => {
  it('decodes concatenated gzip members', () => {
    const twice = Buffer.concat([gzipSync(Buffer.from('hello ')), gzipSync(Buffer.from('world'))]);
    expect(decompress(Compression.Gzip, twice).toString()).toBe('hello world');
  });
});

describe('snappy', () => {
  const XERIAL_HEADER = Buffer.from('82534e415050590000000001' + '00000001', 'hex');

  /** xerial snappy-java framing with the given block split (as SnappyOutputStream writes). */
  function xerial(data: Buffer, blockSize: number): Buffer {
    const parts: Buffer[] = [XERIAL_HEADER];
    for (let p = 0; p < data.length; p += blockSize) {
      const block = snappy.compressSync(data.subarray(p, p + blockSize));
      const length = Buffer.alloc(4);
      length.writeInt32BE(block.length);
      parts.push(length, block);
    }
    return Buffer.concat(parts);
  }

  it('writes xerial framing like the Java client: magic, version 1, compatible 1, 32 KiB blocks', () => {
    const data = text(100 * 1024);
    const out = compress(Compression.Snappy, data);
    expect(out.subarray(0, 16)).toEqual(XERIAL_HEADER);
    const blocks: number[] = [];
    for (let p = 16; p < out.length; ) {
      const n = out.readInt32BE(p);
      blocks.push((snappy.uncompressSync(out.subarray(p + 4, p + 4 + n)) as Buffer).length);
      p += 4 + n;
    }
    expect(blocks).toEqual([32768, 32768, 32768, 4096]);
  });

  it('decodes raw snappy (librdkafka, kafkajs-snappy)', () => {
    const data = text(50_000);
    expect(sameBytes(decompress(Compression.Snappy, snappy.compressSync(data)), data)).toBe(true);
  });

  it('decodes xerial framing with any block split, and a header with no blocks', () => {
    const data = text(70_000);
    for (const blockSize of [1000, 32 * 1024, 65536, 100_000]) {
      expect(sameBytes(decompress(Compression.Snappy, xerial(data, blockSize)), data)).toBe(true);
    }
    expect(decompress(Compression.Snappy, XERIAL_HEADER).length).toBe(0);
  });

  it('rejects xerial blocks that overrun the input or claim impossible sizes', () => {
    const framed = xerial(text(10_000), 4096);
    expect(codeOf(() => decompress(Compression.Snappy, framed.subarray(0, framed.length - 1)))).toBe(
      'CORRUPT_MESSAGE',
    );
    expect(
      codeOf(() => decompress(Compression.Snappy, Buffer.concat([XERIAL_HEADER, Buffer.from([0, 0])]))),
    ).toBe('CORRUPT_MESSAGE');
    // A 5-byte raw block declaring 200 MB of output: rejected before allocating it.
    expect(codeOf(() => decompress(Compression.Snappy, Buffer.from([0x80, 0x80, 0xe8, 0x5f, 0x00])))).toBe(
      'CORRUPT_MESSAGE',
    );
  });
});

describe('lz4 frames', () => {
  /** LZ4 frame: header (with HC) from FLG/BD/content size, then blocks and end mark. */
  function frame(
    data: Buffer,
    opts: { flg: number; bd: number; blockSize: number; storeEvery?: number; contentChecksum?: boolean },
  ): Buffer {
    const descriptor = [opts.flg, opts.bd];
    if (opts.flg & 0x08) {
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(BigInt(data.length));
      descriptor.push(...size);
    }
    const hc = (xxh32(Buffer.from(descriptor)) >>> 8) & 0xff;
    const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18, ...descriptor, hc])];
    let i = 0;
    for (let p = 0; p < data.length; p += opts.blockSize, i++) {
      const raw = data.subarray(p, p + opts.blockSize);
      const stored = opts.storeEvery !== undefined && i % opts.storeEvery === 0;
      const block = stored ? raw : lz4.compressSync(raw).subarray(4);
      const size = Buffer.alloc(4);
      size.writeUInt32LE((block.length | (stored ? 0x80000000 : 0)) >>> 0);
      parts.push(size, block);
      if (opts.flg & 0x10) {
        const sum = Buffer.alloc(4);
        sum.writeUInt32LE(xxh32(block));
        parts.push(sum);
      }
    }
    parts.push(Buffer.alloc(4));
    if (opts.contentChecksum) {
      const sum = Buffer.alloc(4);
      sum.writeUInt32LE(xxh32(data));
      parts.push(sum);
    }
    return Buffer.concat(parts);
  }

  it('writes what KafkaLZ4BlockOutputStream writes: FLG 0x60, BD 0x40 (64 KiB), valid HC', () => {
    const out = compress(Compression.Lz4, text(200 * 1024));
    expect(out.readUInt32LE(0)).toBe(0x184d2204);
    expect(out[4]).toBe(0x60); // version 01, independent blocks, no checksums, no content size
    expect(out[5]).toBe(0x40); // 64 KiB maximum block
    expect(out[6]).toBe((xxh32(out.subarray(4, 6)) >>> 8) & 0xff);
    expect(out.readUInt32LE(out.length - 4)).toBe(0); // end mark
  });

  it('compresses off the main thread to the same bytes, behind the headroom asked for', async () => {
    for (const [, data] of [
      ...SAMPLES,
      ['mixed', Buffer.concat([text(70_000), randomBytes(rand, 70_000)])] as const,
    ]) {
      const sync = compress(Compression.Lz4, data);
      expect(sameBytes(compressWithHeadroom(Compression.Lz4, data, undefined, 0), sync)).toBe(true);
      const behind = compressWithHeadroom(Compression.Lz4, data, undefined, 61);
      expect(sameBytes(behind.subarray(61), sync)).toBe(true);
      const async = await compressAsync(Compression.Lz4, data, 61)!;
      expect(sameBytes(async.subarray(61), sync)).toBe(true);
    }
    for (const codec of [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Zstd])
      expect(compressAsync(codec, text(100), 0)).toBeNull();
  });

  it('stores incompressible blocks uncompressed', () => {
    const data = randomBytes(rand, 70_000);
    const out = compress(Compression.Lz4, data);
    expect(out.readUInt32LE(7)).toBe((0x80000000 | 65536) >>> 0);
    expect(sameBytes(decompress(Compression.Lz4, out), data)).toBe(true);
  });

  it('is readable by a reference LZ4 frame decoder (lz4_flex)', () => {
    for (const data of [text(1000), text(300_000), randomBytes(rand, 70_000), Buffer.alloc(0)]) {
      expect(sameBytes(lz4.decompressFrameSync(compress(Compression.Lz4, data)), data)).toBe(true);
    }
  });

  it('decodes frames from a reference encoder (lz4_flex, 256 KiB blocks)', () => {
    const data = text(600_000);
    const framed = lz4.compressFrameSync(data);
    expect(framed[5]).not.toBe(0x40);
    expect(sameBytes(decompress(Compression.Lz4, framed), data)).toBe(true);
  });

  it('decodes Java-style frames (64 KiB independent blocks, some stored)', () => {
    const data = text(300_000);
    expect(
      sameBytes(
        decompress(Compression.Lz4, frame(data, { flg: 0x60, bd: 0x40, blockSize: 65536, storeEvery: 2 })),
        data,
      ),
    ).toBe(true);
  });

  it('decodes frames with content size, block and content checksums, 4 MiB blocks', () => {
    const data = text(150_000);
    const framed = frame(data, { flg: 0x7c, bd: 0x70, blockSize: 100_000, contentChecksum: true });
    expect(sameBytes(lz4.decompressFrameSync(framed), data)).toBe(true); // the frame is well-formed
    expect(sameBytes(decompress(Compression.Lz4, framed), data)).toBe(true);
  });

  it('decodes linked-block frames through the native frame decoder', () => {
    const data = text(150_000);
    expect(
      sameBytes(decompress(Compression.Lz4, frame(data, { flg: 0x40, bd: 0x40, blockSize: 65536 })), data),
    ).toBe(true);
  });

  it('rejects bad versions, block sizes and overrunning blocks', () => {
    const good = frame(text(1000), { flg: 0x60, bd: 0x40, blockSize: 65536 });
    const badVersion = Buffer.from(good);
    badVersion[4] = 0xa0;
    expect(codeOf(() => decompress(Compression.Lz4, badVersion))).toBe('CORRUPT_MESSAGE');
    const badBlockSize = Buffer.from(good);
    badBlockSize[5] = 0x30;
    expect(codeOf(() => decompress(Compression.Lz4, badBlockSize))).toBe('CORRUPT_MESSAGE');
    const overrun = Buffer.from(good);
    overrun.writeUInt32LE(60_000, 7);
    expect(codeOf(() => decompress(Compression.Lz4, overrun))).toBe('CORRUPT_MESSAGE');
  });
});

describe('zstd', () => {
  /** A frame without content size, as zstd-jni's streaming output writes. */
  function streamedFrame(data: Buffer): Buffer {
    const cctx = new zstd.CCtx();
    const out = Buffer.alloc(zstd.compressBound(data.length) + 64);
    let written = 0;
    let read = 0;
    while (read < data.length) {
      const [, produced, consumed] = cctx.compressStream2(
        out.subarray(written),
        data.subarray(read, read + 1000),
        zstd.EndDirective.continue,
      );
      written += produced;
      read += consumed;
    }
    for (;;) {
      const [remaining, produced] = cctx.compressStream2(
        out.subarray(written),
        Buffer.alloc(0),
        zstd.EndDirective.end,
      );
      written += produced;
      if (remaining === 0) break;
    }
    return out.subarray(0, written);
  }

  it('decodes frames without a content size', () => {
    const data = text(300_000);
    const framed = streamedFrame(data);
    expect(zstd.getFrameContentSize(framed)).toBeNull();
    expect(sameBytes(decompress(Compression.Zstd, framed), data)).toBe(true);
  });

  it('decodes concatenated frames', () => {
    const a = text(1000);
    const b = text(2000);
    const both = Buffer.concat([compress(Compression.Zstd, a), streamedFrame(b)]);
    expect(sameBytes(decompress(Compression.Zstd, both), Buffer.concat([a, b]))).toBe(true);
  });

  it('rejects truncated frames without a content size', () => {
    const framed = streamedFrame(text(50_000));
    expect(codeOf(() => decompress(Compression.Zstd, framed.subarray(0, framed.length - 3)))).toBe(
      'CORRUPT_MESSAGE',
    );
  });

  it('writes frames with the content size (level 3 by default)', () => {
    const data = text(10_000);
    expect(zstd.getFrameContentSize(compress(Compression.Zstd, data))).toBe(10_000);
    expect(compress(Compression.Zstd, data, 19).length).toBeLessThanOrEqual(
      compress(Compression.Zstd, data).length,
    );
  });
});
