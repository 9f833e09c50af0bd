/**
 * Splits a TCP byte stream into Kafka frames: an int32 big-endian size, then `size` bytes
 * (a request or response header and body). Shared by the broker (requests) and the network
 * client (responses); it lives here because the client may import the broker layer, never
 * the reverse.
 *
 * Memory: received chunks are queued as they are, never merged. A frame that lies inside one
 * chunk is returned as a zero-copy `subarray` of it (the common case for small requests and
 * for whole produce requests read in one go); a frame spanning chunks is copied once into a
 * Buffer of exactly its size. A size prefix is validated as soon as its 4 bytes arrive, before
 * anything is allocated, so a hostile prefix (negative, or above the limit) costs nothing.
 *
 * Pull-based: `push()` only queues; `next()` returns one complete frame or null. A reader that
 * wants back-pressure simply stops calling `next()` (and pauses its socket); the frames already
 * received wait here.
 */

/** Why a stream cannot be split into frames; the connection must be closed. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
  readonly code: 'NEGATIVE_FRAME_SIZE' | 'FRAME_TOO_LARGE';
  /** The offending size prefix. */
  readonly sizeBytes: number;

  constructor(code: FramingError['code'], sizeBytes: number, maxFrameBytes: number) {
    super(
      code === 'NEGATIVE_FRAME_SIZE'
        ? `invalid frame size ${sizeBytes} (negative)`
        : `frame size ${sizeBytes} is larger than the maximum of ${maxFrameBytes} bytes`,
    );
    this.code = code;
    this.sizeBytes = sizeBytes;
  }
}

/** Bytes of the size prefix. */
export const FRAME_SIZE_BYTES = 4;

/** Compact the chunk queue once this many consumed slots sit in front of it. */
const COMPACT_AFTER = 64;

export class FrameSplitter {
  private chunks: Buffer[] = [];
  /** Index of the first unconsumed chunk in `chunks`. */
  private head = 0;
  /** Bytes of `chunks[head]` already consumed. */
  private headOffset = 0;
  /** Unconsumed bytes across all queued chunks. */
  private bufferedBytes = 0;
  /** Size of the frame being assembled (its prefix already consumed), or -1. */
  private pendingSize = -1;

  /** @param maxFrameBytes largest accepted size prefix (the frame without its 4-byte prefix). */
  constructor(readonly maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, 2^31-1], got ${maxFrameBytes}`);
    }
  }

  /** Bytes received but not yet returned as frames (prefixes included). */
  get buffered(): number {
    return this.bufferedBytes + (this.pendingSize >= 0 ? FRAME_SIZE_BYTES : 0);
  }

  /** Queues received bytes. Empty chunks are ignored. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /**
   * The next complete frame (without its size prefix), or null when more bytes are needed.
   * Throws FramingError on a negative or oversized prefix; the splitter is then unusable.
   */
  next(): Buffer | null {
    let size = this.pendingSize;
    if (size < 0) {
      if (this.bufferedBytes < FRAME_SIZE_BYTES) return null;
      size = this.readSize();
      if (size < 0) throw new FramingError('NEGATIVE_FRAME_SIZE', size, this.maxFrameBytes);
      if (size > this.maxFrameBytes) throw new FramingError('FRAME_TOO_LARGE', size, this.maxFrameBytes);
      this.pendingSize = size;
    }
    if (this.bufferedBytes < size) return null;
    this.pendingSize = -1;
    return this.take(size);
  }

  /** Drops everything queued (the connection is going away). */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.bufferedBytes = 0;
    this.pendingSize = -1;
  }

  /** Consumes the 4-byte prefix (possibly split across chunks). */
  private readSize(): number {
    const first = this.chunks[this.head]!;
    if (first.length - this.headOffset >= FRAME_SIZE_BYTES) {
      const v = first.readInt32BE(this.headOffset);
      this.advance(FRAME_SIZE_BYTES);
      return v;
    }
    let v = 0;
    for (let i = 0; i < FRAME_SIZE_BYTES; i++) {
      const chunk = this.chunks[this.head]!;
      v = (v << 8) | chunk[this.headOffset]!;
      this.advance(1);
    }
    return v | 0;
  }

  /** Consumes `n` bytes and returns them, zero-copy when they lie in one chunk. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[this.head]!;
    const start = this.headOffset;
    if (first.length - start >= n) {
      const frame = first.subarray(start, start + n);
      this.advance(n);
      return frame;
    }
    const frame = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const from = this.headOffset;
      const count = Math.min(chunk.length - from, n - filled);
      chunk.copy(frame, filled, from, from + count);
      filled += count;
      this.advance(count);
    }
    return frame;
  }

  /** Moves the read position `n` bytes forward (`n` never exceeds what is buffered). */
  private advance(n: number): void {
    this.bufferedBytes -= n;
    let offset = this.headOffset + n;
    let chunk = this.chunks[this.head];
    while (chunk !== undefined && offset >= chunk.length) {
      offset -= chunk.length;
      this.chunks[this.head] = EMPTY; // release the chunk for GC
      this.head++;
      chunk = this.chunks[this.head];
    }
    this.headOffset = offset;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
