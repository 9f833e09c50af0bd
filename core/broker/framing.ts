/**
 * Splits a TCP byte stream into Kafka frames: an int32 big-endian size, then `size` bytes
 * (a request or response header and body). FrameSplitter serves sockets that hand us the
 * chunks Node allocated (the broker's accepted sockets: `net.Server` has no `onread`);
 * DirectFrameReader (below) serves sockets that read into memory we choose (the network
 * client's, `net.connect({ onread })`). It lives here because the client may import the broker
 * layer, never the reverse.
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

/** Frames at least this large are read straight into their own buffer (no staging copy). */
const DIRECT_FRAME_BYTES = 16 * 1024;
const DEFAULT_STAGING_BYTES = 64 * 1024;

/**
 * The receiving side of frames for a socket that reads into memory we choose (`net.connect`'s
 * `onread: { buffer: () => reader.nextBuffer(), callback: (n) => reader.received(n) }`), so
 * that a large frame (a fetch response of a megabyte) is read by the kernel straight into a
 * Buffer of exactly its size: no 64 KiB buffer allocated per socket read, and no copy when the
 * frame is reassembled.
 *
 * Reads go into a reused staging buffer until a size prefix shows a frame of at least 16 KiB
 * that has not fully arrived: a Buffer of its size is allocated, what has arrived is copied
 * into it, and the next reads fill exactly its remainder (the kernel never reads past the
 * frame's end). Smaller frames are copied out of the staging buffer (every frame handed out
 * owns its memory; the staging buffer is overwritten by the next read).
 *
 * A size prefix is validated as soon as its 4 bytes arrive (FramingError, thrown by
 * `received()`); nothing is allocated for a hostile one.
 */
export class DirectFrameReader {
  private readonly staging: Buffer;
  /** Unconsumed bytes of `staging` are [start, end). */
  private start = 0;
  private end = 0;
  /** A large frame being filled, or null. */
  private frame: Buffer | null = null;
  private filled = 0;
  private stopped = false;

  /**
   * @param maxFrameBytes largest accepted size prefix (the frame without its 4-byte prefix).
   * @param onFrame called with every complete frame (without its prefix), in order.
   * @param allocate where a frame read straight into its own buffer (16 KiB or more) gets that
   *   buffer: e.g. a ReadBufferPool's take(), so that the frame's last holder can hand it back.
   */
  constructor(
    readonly maxFrameBytes: number,
    private readonly onFrame: (frame: Buffer) => void,
    stagingBytes = DEFAULT_STAGING_BYTES,
    private readonly allocate: (size: number) => Buffer = Buffer.allocUnsafe,
  ) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, 2^31-1], got ${maxFrameBytes}`);
    }
    if (!Number.isInteger(stagingBytes) || stagingBytes < 2 * DIRECT_FRAME_BYTES) {
      throw new RangeError(`stagingBytes must be an integer of at least ${2 * DIRECT_FRAME_BYTES}`);
    }
    this.staging = Buffer.allocUnsafe(stagingBytes);
  }

  /** Where the next read must put its bytes (never empty). */
  nextBuffer(): Buffer {
    if (this.frame !== null) return this.frame.subarray(this.filled);
    if (this.end === this.staging.length) this.compact();
    return this.staging.subarray(this.end);
  }

  /** `n` bytes were read into the start of the last nextBuffer(). Throws FramingError. */
  received(n: number): void {
    if (this.stopped || n <= 0) return;
    if (this.frame !== null) {
      this.filled += n;
      if (this.filled < this.frame.length) return;
      const frame = this.frame;
      this.frame = null;
      this.filled = 0;
      this.onFrame(frame);
      return;
    }
    this.end += n;
    this.split();
  }

  /** Drops everything; later reads are ignored (the connection is going away). */
  stop(): void {
    this.stopped = true;
    this.frame = null;
    this.start = this.end = 0;
  }

  private split(): void {
    const buf = this.staging;
    while (!this.stopped && this.end - this.start >= FRAME_SIZE_BYTES) {
      const size = buf.readInt32BE(this.start);
      if (size < 0) throw new FramingError('NEGATIVE_FRAME_SIZE', size, this.maxFrameBytes);
      if (size > this.maxFrameBytes) throw new FramingError('FRAME_TOO_LARGE', size, this.maxFrameBytes);
      const bodyStart = this.start + FRAME_SIZE_BYTES;
      const have = this.end - bodyStart;
      if (have >= size) {
        const frame = size >= DIRECT_FRAME_BYTES ? this.allocate(size) : Buffer.allocUnsafe(size);
        buf.copy(frame, 0, bodyStart, bodyStart + size);
        this.start = bodyStart + size;
        this.onFrame(frame);
        continue;
      }
      if (size >= DIRECT_FRAME_BYTES) {
        // Read the rest straight into the frame.
        const frame = this.allocate(size);
        buf.copy(frame, 0, bodyStart, this.end);
        this.frame = frame;
        this.filled = have;
        this.start = this.end = 0;
        return;
      }
      // A small frame still arriving: make room for all of it after what is there.
      if (this.start + FRAME_SIZE_BYTES + size > buf.length) this.compact();
      return;
    }
    if (this.start === this.end) this.start = this.end = 0;
  }

  private compact(): void {
    if (this.start === 0) return;
    this.staging.copy(this.staging, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }
}
