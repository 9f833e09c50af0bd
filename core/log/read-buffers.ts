/**
 * Reused memory for log reads that end in a socket write (the broker's fetch path).
 *
 * A fetch reads up to ~1 MB of batch bytes from a segment file and hands them to the socket
 * without copying them again. Reading into a fresh Buffer each time costs an allocation, a page
 * fault per 4 KiB page the kernel then fills (the allocator returns big blocks to the kernel
 * when they are freed) and garbage-collector work for the external memory; reading into a
 * buffer that was used before costs only the copy from the page cache.
 *
 * Leases: `take()` hands out a buffer, which is leased until `releaseReadBuffer()` is called
 * with it (or with any slice of it): only then may it be handed out again. Whoever holds the
 * bytes last releases them — the broker connection does so from the socket write's callback,
 * when the kernel has copied them. A lease that is never released is simply garbage collected
 * (the pool keeps no strong reference to leased buffers), so forgetting one costs reuse, never
 * correctness; releasing one that is still in use would hand its bytes to the next reader, so a
 * release happens only where the bytes are known to be no longer referenced. A second release
 * of the same lease is ignored.
 *
 * The network client leases its large receive buffers (fetch responses) from a pool of its own
 * the same way: the consumer releases a response's buffer once its records are handed out and no
 * pollBatch() batch holds them (core/client/consumer-batch.ts FetchLease).
 *
 * Sizes: buffers come in classes from 4 KiB to 16 MiB: powers of two, or `stepsPerDoubling`
 * steps between two powers (4: 16, 20, 24, 28, 32 KiB, … — at most a fifth of a buffer unused);
 * smaller requests get a plain Buffer (Node's own small-buffer pool serves them), larger ones an
 * unpooled buffer. At most `maxIdleBytes` wait in the pool.
 */

/** Smallest pooled class; smaller reads are not worth a lease. */
export const MIN_POOLED_BYTES = 4 * 1024;
/** Largest pooled class. */
export const MAX_POOLED_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_IDLE_BYTES = 64 * 1024 * 1024;

/** The pool each leased ArrayBuffer belongs to (weak: a dropped lease is collected). */
const leases = new WeakMap<ArrayBuffer, ReadBufferPool>();

export class ReadBufferPool {
  /** Idle buffers by class size. */
  private readonly idle = new Map<number, Buffer[]>();
  private idleBytes = 0;
  /** Buffers allocated by take() (for tests and diagnostics). */
  allocated = 0;
  /** take() calls served from the pool. */
  reused = 0;

  constructor(
    readonly maxIdleBytes = DEFAULT_MAX_IDLE_BYTES,
    private readonly stepsPerDoubling = 1,
  ) {
    if (!Number.isInteger(stepsPerDoubling) || stepsPerDoubling < 1 || stepsPerDoubling > 64) {
      throw new RangeError(`stepsPerDoubling must be an integer in [1, 64], got ${stepsPerDoubling}`);
    }
  }

  /**
   * A buffer of exactly `length` bytes (a view of a possibly larger pooled buffer), leased when
   * `length >= MIN_POOLED_BYTES` and not above MAX_POOLED_BYTES. Its contents are undefined.
   */
  take(length: number): Buffer {
    if (length < MIN_POOLED_BYTES || length > MAX_POOLED_BYTES) return Buffer.allocUnsafe(length);
    const size = classSize(length, this.stepsPerDoubling);
    const free = this.idle.get(size);
    let buf = free?.pop();
    if (buf !== undefined) {
      this.idleBytes -= size;
      this.reused++;
    } else {
      buf = Buffer.allocUnsafeSlow(size);
      this.allocated++;
    }
    leases.set(buf.buffer as ArrayBuffer, this);
    return buf.length === length ? buf : buf.subarray(0, length);
  }

  /** Bytes waiting in the pool. */
  get idleSize(): number {
    return this.idleBytes;
  }

  /** @internal called by releaseReadBuffer with a lease of this pool. */
  giveBack(ab: ArrayBuffer): void {
    const size = ab.byteLength;
    if (this.idleBytes + size > this.maxIdleBytes) return;
    let free = this.idle.get(size);
    if (free === undefined) {
      free = [];
      this.idle.set(size, free);
    }
    free.push(Buffer.from(ab));
    this.idleBytes += size;
  }
}

/** True when `buf` is (a slice of) a buffer leased from a ReadBufferPool and not yet released. */
export function isLeasedReadBuffer(buf: Uint8Array): boolean {
  return leases.has(buf.buffer as ArrayBuffer);
}

/**
 * Ends the lease of the pooled buffer `buf` (or a slice of it) belongs to; the caller promises
 * that nothing references its bytes any more. Returns false, and does nothing, for a buffer that
 * is not leased (never pooled, or already released).
 */
export function releaseReadBuffer(buf: Uint8Array): boolean {
  const ab = buf.buffer as ArrayBuffer;
  const pool = leases.get(ab);
  if (pool === undefined) return false;
  leases.delete(ab);
  pool.giveBack(ab);
  return true;
}

/** The smallest class of at least `length` bytes (MIN_POOLED_BYTES <= length <= MAX_POOLED_BYTES). */
function classSize(length: number, steps: number): number {
  let size = MIN_POOLED_BYTES;
  while (size * 2 < length) size *= 2;
  if (size >= length) return size;
  // size < length <= 2 * size: the next step up
  const step = size / steps;
  return size + Math.ceil((length - size) / step) * step;
}
