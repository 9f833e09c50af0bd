/**
 * Compression codecs of record batch v2 (attributes bits 0–2). Only the records section of a
 * batch is compressed. Wire formats:
 *
 *   gzip    RFC 1952 gzip member(s), node:zlib.
 *   snappy  Java client: xerial snappy-java stream framing —
 *             82 'S' 'N' 'A' 'P' 'P' 'Y' 00 | int32 BE version = 1 | int32 BE compatible = 1 |
 *             blocks of (int32 BE compressed length | raw snappy block of ≤ 32 KiB input).
 *           librdkafka and kafkajs-snappy: one raw snappy block. Both decode (the magic tells
 *           them apart); we encode xerial framing, as the Java client does.
 *   lz4     LZ4 frame format: magic 04 22 4D 18 | FLG | BD | [content size u64 LE] | HC |
 *           blocks of (u32 LE size, high bit = stored uncompressed | data | [u32 checksum]) |
 *           u32 0 end mark | [u32 content checksum]. We write what Kafka's
 *           KafkaLZ4BlockOutputStream writes: FLG 0x60 (v1, independent blocks, no checksums),
 *           BD 0x40 (64 KiB blocks). The frame is parsed here and each block goes through
 *           lz4-napi's block codec, ~3x faster than its frame codec; frames with linked
 *           blocks or a dictionary fall back to the native frame decoder.
 *   zstd    zstd frame(s) (magic 28 B5 2F FD); the content size is optional (zstd-jni streams
 *           omit it), so decoding falls back to streaming.
 *
 * Native codecs load on first use: a binary that fails to load breaks only its own codec.
 * Decompression output is capped (DEFAULT_MAX_DECOMPRESSED_BYTES) against decompression bombs.
 */
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import type * as Lz4 from 'lz4-napi';
import type * as Snappy from 'snappy';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { CodecUnavailableError, CorruptRecordError } from './errors.js';
import { readUnsignedVarint } from './varint.js';

/** Codec ids as stored in the low three bits of the batch attributes. */
export const Compression = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

/** Kafka's `compression.type` names, indexed by codec id. 'producer' is a topic setting, not a codec. */
export const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionName = (typeof COMPRESSION_NAMES)[number];

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

export function isCompression(codec: number): codec is Compression {
  return codec === 0 || codec === 1 || codec === 2 || codec === 3 || codec === 4;
}

/** Codec id for a `compression.type` name (case-insensitive). Throws RangeError otherwise. */
export function compressionFromName(name: string): Compression {
  const codec = (COMPRESSION_NAMES as readonly string[]).indexOf(name.toLowerCase());
  if (codec < 0) {
    const hint = name === 'producer' ? " ('producer' means: keep the producer's codec)" : '';
    throw new RangeError(
      `unknown compression type '${name}'${hint}; use one of ${COMPRESSION_NAMES.join(', ')}`,
    );
  }
  return codec as Compression;
}

export function compressionName(codec: number): CompressionName {
  if (!isCompression(codec)) throw unsupported(codec);
  return COMPRESSION_NAMES[codec];
}

function unsupported(codec: number): CorruptRecordError {
  return new CorruptRecordError('UNSUPPORTED_COMPRESSION_TYPE', `unknown compression codec id ${codec}`);
}

// ---- native modules, loaded on first use ----------------------------------------------

const require = createRequire(import.meta.url);
let snappyMod: typeof Snappy | undefined;
let lz4Mod: typeof Lz4 | undefined;
let zstdMod: typeof ZstdBinding | undefined;

function load<T>(name: string, codec: string): T {
  try {
    return require(name) as T;
  } catch (cause) {
    throw new CodecUnavailableError(codec, { cause });
  }
}

const snappy = (): typeof Snappy => (snappyMod ??= load<typeof Snappy>('snappy', 'snappy'));
const lz4 = (): typeof Lz4 => (lz4Mod ??= load<typeof Lz4>('lz4-napi', 'lz4'));
const zstd = (): typeof ZstdBinding => (zstdMod ??= load<typeof ZstdBinding>('zstd-napi/binding.js', 'zstd'));

// ---- public API ---------------------------------------------------------------------

/**
 * Compresses `data` with `codec`. `level` applies to gzip (1–9, default 6) and zstd
 * (default 3); snappy and lz4 have no level here.
 */
export function compress(codec: number, data: Buffer, level?: number): Buffer {
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return gzipSync(data, level === undefined ? undefined : { level });
    case Compression.Snappy:
      return snappyXerialCompress(data);
    case Compression.Lz4:
      return lz4FrameCompress(data);
    case Compression.Zstd:
      return zstdCompress(data, level ?? 3);
    default:
      throw unsupported(codec);
  }
}

/**
 * compress(), `headroom` bytes into the Buffer it returns (room for what goes before the
 * compressed bytes, such as a batch header, without copying them once more).
 */
export function compressWithHeadroom(
  codec: number,
  data: Buffer,
  level: number | undefined,
  headroom: number,
): Buffer {
  if (codec === Compression.Lz4) return lz4FrameCompress(data, headroom);
  const compressed = compress(codec, data, level);
  const buf = Buffer.allocUnsafe(headroom + compressed.length);
  buf.set(compressed, headroom);
  return buf;
}

/**
 * compressWithHeadroom() off the main thread, on libuv's threadpool, for the codecs that can
 * (lz4); null for the others. `data` must stay unchanged until the promise settles.
 */
export function compressAsync(codec: number, data: Buffer, headroom: number): Promise<Buffer> | null {
  if (codec === Compression.Lz4) return lz4FrameCompressAsync(data, headroom);
  return null;
}

/**
 * Decompresses `data`. Throws CorruptRecordError for malformed input ('CORRUPT_MESSAGE'),
 * for output above `maxBytes` ('MESSAGE_TOO_LARGE') and for unknown codecs.
 */
export function decompress(codec: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  let out: Buffer;
  try {
    switch (codec) {
      case Compression.None:
        out = data;
        break;
      case Compression.Gzip:
        out = gunzip(data, maxBytes);
        break;
      case Compression.Snappy:
        out = snappyDecompress(data, maxBytes);
        break;
      case Compression.Lz4:
        out = lz4FrameDecompress(data, maxBytes);
        break;
      case Compression.Zstd:
        out = zstdDecompress(data, maxBytes);
        break;
      default:
        throw unsupported(codec);
    }
  } catch (err) {
    if (err instanceof CorruptRecordError || err instanceof CodecUnavailableError) throw err;
    const name = COMPRESSION_NAMES[codec] ?? String(codec);
    if (err instanceof RangeError && (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(name, maxBytes);
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new CorruptRecordError('CORRUPT_MESSAGE', `${name} data does not decompress: ${reason}`, {
      cause: err,
    });
  }
  if (out.length > maxBytes) throw tooLarge(COMPRESSION_NAMES[codec] ?? String(codec), maxBytes);
  return out;
}

function corrupt(message: string): CorruptRecordError {
  return new CorruptRecordError('CORRUPT_MESSAGE', message);
}

function tooLarge(name: string, maxBytes: number): CorruptRecordError {
  return new CorruptRecordError(
    'MESSAGE_TOO_LARGE',
    `${name} data decompresses to more than ${maxBytes} bytes; raise the decompression limit if this is expected`,
  );
}

// ---- gzip -----------------------------------------------------------------------------

function gunzip(data: Buffer, maxBytes: number): Buffer {
  // zlib returns an empty buffer for empty input; a gzip member is at least 18 bytes.
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b)
    throw corrupt('gzip data lacks a gzip header');
  return gunzipSync(data, { maxOutputLength: maxBytes });
}

// ---- snappy ---------------------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's SnappyOutputStream default block size. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

const SNAPPY_MAX_RATIO = 24;

/** The snappy package's default external-buffer output is several times slower than a copy. */
const COPY_OUTPUT = { copyOutputData: true };

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

function snappyXerialCompress(data: Buffer): Buffer {
  const { compressSync } = snappy();
  const blocks: Buffer[] = [];
  let size = XERIAL_HEADER_SIZE;
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    const block = compressSync(data.subarray(pos, pos + XERIAL_BLOCK_SIZE), COPY_OUTPUT);
    blocks.push(block);
    size += 4 + block.length;
  }
  const out = Buffer.allocUnsafe(size);
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(XERIAL_VERSION, 8);
  out.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  let pos = XERIAL_HEADER_SIZE;
  for (const block of blocks) {
    out.writeInt32BE(block.length, pos);
    out.set(block, pos + 4);
    pos += 4 + block.length;
  }
  return out;
}

/** One raw snappy block; its varint preamble states the uncompressed length. */
function snappyRaw(block: Buffer, maxBytes: number): Buffer {
  if (block.length === 0) throw corrupt('empty snappy block');
  let declared: number;
  try {
    declared = readUnsignedVarint(block, { pos: 0 });
  } catch {
    throw corrupt('snappy block has a malformed length preamble');
  }
  if (declared > maxBytes) throw tooLarge('snappy', maxBytes);
  // Snappy expands at most ~21x (a 3-byte copy yields 64 bytes): refuse to allocate for lies.
  if (declared > block.length * SNAPPY_MAX_RATIO + 64) {
    throw corrupt(`snappy block of ${block.length} bytes claims ${declared} uncompressed bytes`);
  }
  return snappy().uncompressSync(block, { asBuffer: true, copyOutputData: true }) as Buffer;
}

function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  if (!isXerial(data)) return snappyRaw(data, maxBytes);
  const parts: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw corrupt(`xerial snappy block header truncated at byte ${pos}`);
    const n = data.readInt32BE(pos);
    pos += 4;
    if (n < 0 || pos + n > data.length) {
      throw corrupt(
        `xerial snappy block of ${n} bytes at byte ${pos - 4} overruns the ${data.length}-byte input`,
      );
    }
    const part = snappyRaw(data.subarray(pos, pos + n), maxBytes - total);
    total += part.length;
    parts.push(part);
    pos += n;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

// ---- lz4 ------------------------------------------------------------------------------

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZE = 64 * 1024;
/** Magic, FLG 0x60, BD 0x40, HC = (xxh32(FLG BD) >> 8) & 0xff. */
const LZ4_FRAME_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
const LZ4_STORED = 0x80000000;

function lz4FrameCompress(data: Buffer, headroom = 0): Buffer {
  const { compressSync } = lz4();
  const blocks: Buffer[] = [];
  for (let pos = 0; pos < data.length; pos += LZ4_BLOCK_SIZE)
    blocks.push(compressSync(data.subarray(pos, pos + LZ4_BLOCK_SIZE)));
  return lz4Frame(data, blocks, headroom);
}

/** lz4FrameCompress with the blocks compressed on libuv's threadpool, all at once. */
async function lz4FrameCompressAsync(data: Buffer, headroom: number): Promise<Buffer> {
  const { compress } = lz4();
  const jobs: Promise<Buffer>[] = [];
  for (let pos = 0; pos < data.length; pos += LZ4_BLOCK_SIZE)
    jobs.push(compress(data.subarray(pos, pos + LZ4_BLOCK_SIZE)));
  return lz4Frame(data, await Promise.all(jobs), headroom);
}

/**
 * The frame of `data` from its blocks as lz4-napi compressed them (each prefixed with its raw
 * size, u32 LE: that slot becomes the frame's block size), `headroom` bytes into a new Buffer. A
 * block that did not shrink is stored as it is.
 */
function lz4Frame(data: Buffer, blocks: readonly Buffer[], headroom: number): Buffer {
  let size = headroom + LZ4_FRAME_HEADER.length + 4;
  for (let i = 0; i < blocks.length; i++) {
    const raw = Math.min(LZ4_BLOCK_SIZE, data.length - i * LZ4_BLOCK_SIZE);
    const block = blocks[i]!;
    size += block.length - 4 < raw ? block.length : 4 + raw;
  }
  const out = Buffer.allocUnsafe(size);
  LZ4_FRAME_HEADER.copy(out, headroom);
  let pos = headroom + LZ4_FRAME_HEADER.length;
  for (let i = 0; i < blocks.length; i++) {
    const start = i * LZ4_BLOCK_SIZE;
    const raw = Math.min(LZ4_BLOCK_SIZE, data.length - start);
    const block = blocks[i]!;
    const compressedLength = block.length - 4;
    if (compressedLength < raw) {
      out.set(block, pos);
      out.writeUInt32LE(compressedLength, pos);
      pos += block.length;
    } else {
      out.writeUInt32LE((LZ4_STORED | raw) >>> 0, pos);
      data.copy(out, pos + 4, start, start + raw);
      pos += 4 + raw;
    }
  }
  out.writeUInt32LE(0, pos); // end mark
  return out;
}

function lz4FrameDecompress(data: Buffer, maxBytes: number): Buffer {
  if (data.length < 7 || data.readUInt32LE(0) !== LZ4_MAGIC)
    throw corrupt('lz4 data lacks the LZ4 frame magic');
  const flg = data[4]!;
  const bd = data[5]!;
  if (flg >> 6 !== 1) throw corrupt(`lz4 frame has version ${flg >> 6}, expected 1`);
  const blockSizeId = (bd >> 4) & 7;
  if (blockSizeId < 4) throw corrupt(`lz4 frame has an invalid block size id ${blockSizeId}`);
  const linkedBlocks = (flg & 0x20) === 0;
  const dictionary = (flg & 0x01) !== 0;
  if (linkedBlocks || dictionary) return lz4().decompressFrameSync(data);
  const maxBlock = 1 << (2 * blockSizeId + 8);
  const blockChecksum = (flg & 0x10) !== 0 ? 4 : 0;
  const { uncompressSync } = lz4();
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 7 + ((flg & 0x08) !== 0 ? 8 : 0); // magic, FLG, BD, [content size], HC
  for (;;) {
    if (pos + 4 > data.length) throw corrupt(`lz4 frame truncated at byte ${pos}`);
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const length = word & 0x7fffffff;
    if (length > maxBlock || pos + length + blockChecksum > data.length) {
      throw corrupt(
        `lz4 block of ${length} bytes at byte ${pos - 4} overruns the frame or its ${maxBlock}-byte limit`,
      );
    }
    let part: Buffer;
    if (word >= LZ4_STORED) {
      part = data.subarray(pos, pos + length);
    } else {
      // The block codec wants the output size first; an upper bound will do. LZ4 expands at
      // most ~255x (each extra match-length byte adds 255 bytes).
      const input = Buffer.allocUnsafe(4 + length);
      input.writeUInt32LE(Math.min(maxBlock, length * 256 + 64), 0);
      data.copy(input, 4, pos, pos + length);
      part = uncompressSync(input) as Buffer;
    }
    total += part.length;
    if (total > maxBytes) throw tooLarge('lz4', maxBytes);
    parts.push(part);
    pos += length + blockChecksum;
  }
  // A content checksum may follow; the batch CRC already covers these bytes.
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

// ---- zstd -----------------------------------------------------------------------------

let cctx: ZstdBinding.CCtx | undefined;
let dctx: ZstdBinding.DCtx | undefined;

function zstdCompress(data: Buffer, level: number): Buffer {
  const z = zstd();
  cctx ??= new z.CCtx();
  const dst = Buffer.allocUnsafe(z.compressBound(data.length));
  const n = cctx.compress(dst, data, level);
  return Buffer.from(dst.subarray(0, n));
}

function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  const z = zstd();
  dctx ??= new z.DCtx();
  dctx.reset(z.ResetDirective.sessionOnly);
  // Fast path: one frame that states its content size.
  const size = z.getFrameContentSize(data);
  if (size !== null && z.findFrameCompressedSize(data) === data.length) {
    if (size > maxBytes) throw tooLarge('zstd', maxBytes);
    const out = Buffer.allocUnsafe(size);
    const n = dctx.decompress(out, data);
    if (n !== size) throw corrupt(`zstd frame states ${size} bytes but holds ${n}`);
    return out;
  }
  return zstdStream(dctx, data, maxBytes);
}

/** Streaming decode for frames without a content size (zstd-jni) or several frames. */
function zstdStream(ctx: ZstdBinding.DCtx, data: Buffer, maxBytes: number): Buffer {
  let out = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(64 * 1024, data.length * 4)));
  let written = 0;
  let read = 0;
  let pending = 1; // what the current frame still owes; 0 once a frame is complete and flushed
  while (read < data.length || pending !== 0) {
    if (written === out.length) {
      if (out.length >= maxBytes) throw tooLarge('zstd', maxBytes);
      const grown = Buffer.allocUnsafe(Math.min(maxBytes, out.length * 2));
      out.copy(grown, 0, 0, written);
      out = grown;
    }
    const [hint, produced, consumed] = ctx.decompressStream(out.subarray(written), data.subarray(read));
    written += produced;
    read += consumed;
    pending = hint;
    if (produced === 0 && consumed === 0) {
      throw corrupt(read < data.length ? 'zstd stream makes no progress' : 'zstd frame is truncated');
    }
  }
  return out.subarray(0, written);
}
