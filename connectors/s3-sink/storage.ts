/**
 * Objects in S3 (or any S3-compatible store) through `@aws-sdk/client-s3`.
 *
 * An {@link S3OutputFile} is one object being written: bytes are buffered until `s3.part.size`,
 * then a multipart upload starts and each full part goes up; `commit()` sends the rest (as a
 * single PUT when the object never reached a part's size) and completes the upload. The object
 * appears in the bucket only then, whole — a crash before leaves no object behind (only an
 * incomplete multipart upload, which S3 lifecycle rules clean up). Every buffered byte is counted
 * in a {@link MemoryAccount} shared by the task's open files.
 *
 * Bodies are sent as Buffers with checksums only when required: some S3-compatible servers
 * mis-store `aws-chunked` streaming uploads.
 */

import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ConnectError, RetriableException } from '../../connect/sdk.js';
import { MIN_PART_SIZE_BYTES, type S3SinkConfig } from './config.js';

/** The subset of S3 the sink uses; tests wrap it to inject failures. */
export interface ObjectStore {
  putObject(key: string, body: Buffer): Promise<void>;
  createMultipartUpload(key: string): Promise<string>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string>;
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  close(): void;
}

export function s3ClientConfig(
  cfg: Pick<S3SinkConfig, 'region' | 'storeUrl' | 'pathStyle' | 'credentials'> & {
    requestTimeoutMs?: number;
  },
): S3ClientConfig {
  return {
    region: cfg.region,
    forcePathStyle: cfg.pathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: 10_000,
      requestTimeout: cfg.requestTimeoutMs ?? 120_000,
      throwOnRequestTimeout: true,
    },
    ...(cfg.storeUrl ? { endpoint: cfg.storeUrl } : {}),
    ...(cfg.credentials ? { credentials: cfg.credentials } : {}),
  };
}

/** Network trouble and S3's throttling/5xx answers are worth a retry; the rest fail the task. */
function wrapError(what: string, key: string, err: unknown): Error {
  const e = err as {
    name?: string;
    $metadata?: { httpStatusCode?: number };
    message?: string;
    code?: string;
  };
  const status = e?.$metadata?.httpStatusCode;
  const message = `S3 ${what} of ${key} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
  if (
    status === undefined ||
    status >= 500 ||
    status === 429 ||
    e?.name === 'SlowDown' ||
    e?.name === 'RequestTimeout'
  ) {
    return new RetriableException(message, { cause: err });
  }
  return new ConnectError(
    'CONNECT',
    `${message} (check s3.bucket.name, s3.region, store.url and the credentials)`,
    { cause: err },
  );
}

type S3Sdk = typeof import('@aws-sdk/client-s3');
let sdkModule: Promise<S3Sdk> | undefined;

/**
 * The AWS SDK, imported on first use: it takes ~0.1 s of CPU to load, which every Connect worker
 * would otherwise pay at start (the runtime loads every bundled connector) whether or not it runs
 * an S3 sink.
 */
function loadSdk(): Promise<S3Sdk> {
  sdkModule ??= import('@aws-sdk/client-s3');
  return sdkModule;
}

export class S3ObjectStore implements ObjectStore {
  private readonly ready: Promise<{ sdk: S3Sdk; client: S3Client }>;
  private client: S3Client | null = null;
  private closed = false;
  private readonly bucket: string;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(cfg: S3SinkConfig) {
    const config = s3ClientConfig(cfg);
    this.ready = loadSdk().then((sdk) => {
      const client = new sdk.S3Client(config);
      this.client = client;
      if (this.closed) client.destroy();
      return { sdk, client };
    });
    // a failure to load is reported by the first request that needs the SDK
    this.ready.catch(() => undefined);
    this.bucket = cfg.bucket;
    this.retries = cfg.partRetries;
    this.backoffMs = cfg.retryBackoffMs;
  }

  /** Runs `op`, retrying retriable failures `s3.part.retries` times with exponential backoff. */
  private async retrying<T>(what: string, key: string, op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        const wrapped = wrapError(what, key, err);
        if (!(wrapped instanceof RetriableException) || attempt >= this.retries) {
          throw wrapped instanceof RetriableException
            ? new ConnectError(
                'CONNECT',
                `${wrapped.message} (gave up after ${attempt + 1} attempts; s3.part.retries=${this.retries})`,
                { cause: err },
              )
            : wrapped;
        }
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** attempt));
      }
    }
  }

  async putObject(key: string, body: Buffer): Promise<void> {
    const { sdk, client } = await this.ready;
    await this.retrying('PUT', key, () =>
      client.send(
        new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }),
      ),
    );
  }

  async createMultipartUpload(key: string): Promise<string> {
    const { sdk, client } = await this.ready;
    const out = await this.retrying('CreateMultipartUpload', key, () =>
      client.send(new sdk.CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key })),
    );
    if (!out.UploadId)
      throw new ConnectError('CONNECT', `S3 CreateMultipartUpload of ${key} answered without an UploadId`);
    return out.UploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const { sdk, client } = await this.ready;
    const out = await this.retrying(`UploadPart ${partNumber}`, key, () =>
      client.send(
        new sdk.UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
      ),
    );
    if (!out.ETag)
      throw new ConnectError('CONNECT', `S3 UploadPart ${partNumber} of ${key} answered without an ETag`);
    return out.ETag;
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    const { sdk, client } = await this.ready;
    await this.retrying('CompleteMultipartUpload', key, () =>
      client.send(
        new sdk.CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      ),
    );
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      const { sdk, client } = await this.ready;
      await client.send(
        new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
    } catch {
      // best effort: lifecycle rules clean up what is left
    }
  }

  close(): void {
    this.closed = true;
    this.client?.destroy();
  }
}

/** Buffers kept for reuse (not counted as used) are at most this many bytes, or an eighth of the limit. */
const POOL_MAX_BYTES = 32 * 1024 * 1024;
/**
 * Buffers from 64 KiB are made in sizes of powers of two up to 1 MiB, then whole MiBs, so they fit
 * the next request of a similar size; smaller ones as asked.
 */
const SIZE_CLASS_MIN_BYTES = 64 * 1024;
const SIZE_CLASS_STEP_BYTES = 1024 * 1024;

/** The size a new buffer of at least `size` bytes is made with: at most twice `size`. */
function sizeClass(size: number): number {
  if (size <= SIZE_CLASS_MIN_BYTES) return size;
  if (size >= SIZE_CLASS_STEP_BYTES) return Math.ceil(size / SIZE_CLASS_STEP_BYTES) * SIZE_CLASS_STEP_BYTES;
  let c = SIZE_CLASS_MIN_BYTES;
  while (c < size) c *= 2;
  return c;
}

/**
 * Bytes buffered by all open files of a task, and a small pool of buffers whose uploads finished,
 * reused for the next files: the sink then allocates almost nothing in a steady state. New memory
 * is dear (every page is faulted in and zeroed by the kernel, and large buffers push V8 into
 * collections), so a buffer is made a little larger than asked (see sizeClass) to fit the next
 * file of a similar size, and a full pool drops its oldest buffers for the one given back.
 */
export class MemoryAccount {
  usedBytes = 0;
  peakBytes = 0;
  /** Oldest first. */
  private free: Buffer[] = [];
  private freeBytes = 0;
  private readonly poolMaxBytes: number;
  /** Buffers made because none in the pool fit (for tests and metrics). */
  misses = 0;

  constructor(readonly limitBytes: number) {
    this.poolMaxBytes = Math.min(POOL_MAX_BYTES, Math.floor(limitBytes / 8));
  }

  add(n: number): void {
    this.usedBytes += n;
    if (this.usedBytes > this.peakBytes) this.peakBytes = this.usedBytes;
  }

  get over(): boolean {
    return this.usedBytes > this.limitBytes;
  }

  /** A buffer of at least `size` bytes (at most twice that), from the pool when one fits. */
  allocate(size: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const b = this.free[i]!;
      if (b.length >= size && b.length <= 2 * size) {
        this.free.splice(i, 1);
        this.freeBytes -= b.length;
        return b;
      }
    }
    this.misses++;
    return size < SIZE_CLASS_MIN_BYTES ? Buffer.allocUnsafe(size) : Buffer.allocUnsafeSlow(sizeClass(size));
  }

  /** Gives back a buffer from allocate() that nothing refers to any more. */
  recycle(b: Buffer): void {
    if (b.length > this.poolMaxBytes) return;
    let drop = 0;
    while (this.freeBytes + b.length > this.poolMaxBytes) this.freeBytes -= this.free[drop++]!.length;
    if (drop > 0) this.free = this.free.slice(drop);
    this.free.push(b);
    this.freeBytes += b.length;
  }
}

/** An item's line of text, written straight into a buffer (FileEncoder.lines in format.ts). */
export interface LineEncoder<T> {
  /**
   * Writes the item's line, newline included, into `buf` from `pos`, before `end`: the position
   * after it, or a negative number when it does not fit (the bytes past `pos` then mean nothing).
   */
  encodeInto(item: T, buf: Buffer, pos: number, end: number): number;
  /** The same line as a string, without the newline (for a line larger than a buffer). */
  line(item: T): string;
}

/**
 * Lines of text are encoded (UTF-8) straight into buffers: no intermediate strings or Buffers per
 * record. The buffer being filled is counted whole in the memory account; it is as large as the
 * object is expected to be (the size of the partition's previous object, or, for a first object
 * told how many lines to expect, that many at the size of those of its first buffer), else this size.
 */
const TEXT_CHUNK_BYTES = 64 * 1024;

export class S3OutputFile {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The buffer text is being encoded into, and how much of it is used. */
  private textChunk: Buffer | null = null;
  private textCap = 0;
  private textPos = 0;
  /** Buffers from the pool behind `chunks`, given back once their bytes are copied or uploaded. */
  private pooled: Buffer[] = [];
  private sizeHint: number;
  /** Lines written so far. */
  private lines = 0;
  private uploadId: string | null = null;
  private readonly parts: { partNumber: number; etag: string }[] = [];
  /** Bytes of the object so far (uploaded parts and buffer). */
  size = 0;

  constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private readonly partSizeBytes: number,
    private readonly memory: MemoryAccount,
    /** Bytes this object is expected to reach (0: unknown). */
    sizeHint = 0,
    /** Lines this object is expected to reach at most (flush.size; 0: unknown). */
    private readonly expectedLines = 0,
  ) {
    this.sizeHint = sizeHint;
  }

  get bufferedBytes(): number {
    return this.buffered + this.textPos;
  }

  /** Appends bytes; returns a promise only when a full part goes up. */
  write(data: Buffer): Promise<void> | undefined {
    this.flushText();
    return this.append(data);
  }

  /** Appends `text` in UTF-8 and a newline; returns a promise only when a full part goes up. */
  writeLine(text: string): Promise<void> | undefined {
    // At most 3 bytes per UTF-16 unit: encode into the current chunk when that surely fits.
    const most = text.length * 3 + 1;
    if (this.textChunk !== null && this.textPos + most > this.textCap) {
      // Near the end of the chunk: the exact size decides.
      if (this.textPos + Buffer.byteLength(text, 'utf8') + 1 > this.textCap) this.flushText();
    }
    if (this.textChunk === null) {
      const cap = this.textChunkSize();
      if (most > cap) {
        this.lines++;
        return this.append(Buffer.from(`${text}\n`, 'utf8'));
      }
      this.openTextChunk(cap);
    }
    const chunk = this.textChunk!;
    const n = chunk.write(text, this.textPos, 'utf8');
    chunk[this.textPos + n] = 0x0a;
    return this.addedLine(n + 1);
  }

  /**
   * Appends the line `encoder` writes for `item` straight into the buffer (when it fits in no
   * buffer, as writeLine does). Returns a promise only when a full part goes up.
   */
  writeEncoded<T>(encoder: LineEncoder<T>, item: T): Promise<void> | undefined {
    if (this.textChunk === null) this.openTextChunk(this.textChunkSize());
    let at = encoder.encodeInto(item, this.textChunk!, this.textPos, this.textCap);
    if (at < 0 && this.textPos > 0) {
      // Past the end of this buffer: into a fresh one.
      this.flushText();
      this.openTextChunk(this.textChunkSize());
      at = encoder.encodeInto(item, this.textChunk!, this.textPos, this.textCap);
    }
    if (at < 0) return this.writeLine(encoder.line(item)); // larger than a buffer
    return this.addedLine(at - this.textPos);
  }

  private addedLine(bytes: number): Promise<void> | undefined {
    this.textPos += bytes;
    this.size += bytes;
    this.lines++;
    return this.buffered + this.textPos >= this.partSizeBytes ? this.uploadBuffered() : undefined;
  }

  /** The size of the next buffer for text: the rest of the object expected, else TEXT_CHUNK_BYTES. */
  private textChunkSize(): number {
    if (this.sizeHint === 0 && this.lines > 0 && this.expectedLines > this.lines) {
      // The lines so far say how large the rest is likely to be.
      this.sizeHint = this.size + Math.ceil((this.size / this.lines) * (this.expectedLines - this.lines));
    }
    return Math.max(TEXT_CHUNK_BYTES, this.takeHint());
  }

  private openTextChunk(cap: number): void {
    this.textChunk = this.memory.allocate(cap);
    this.textCap = cap;
    this.memory.add(cap);
  }

  /** The expected size of the rest of the object, once, if the task has room for it. */
  private takeHint(): number {
    const rest = Math.min(this.sizeHint - this.size, this.partSizeBytes - this.buffered) + TEXT_CHUNK_BYTES;
    this.sizeHint = 0;
    if (rest <= TEXT_CHUNK_BYTES || this.memory.usedBytes + rest > this.memory.limitBytes / 2) return 0;
    return rest;
  }

  private append(data: Buffer): Promise<void> | undefined {
    if (data.length === 0) return undefined;
    this.chunks.push(data);
    this.buffered += data.length;
    this.size += data.length;
    this.memory.add(data.length);
    if (this.buffered >= this.partSizeBytes) return this.uploadBuffered();
    return undefined;
  }

  /** The text chunk joins the buffered chunks (only its used bytes stay counted). */
  private flushText(): void {
    const chunk = this.textChunk;
    if (chunk === null) return;
    this.textChunk = null;
    this.memory.add(this.textPos - this.textCap);
    if (this.textPos > 0) {
      this.chunks.push(chunk.subarray(0, this.textPos));
      this.buffered += this.textPos;
      this.pooled.push(chunk);
    } else {
      this.memory.recycle(chunk);
    }
    this.textPos = 0;
    this.textCap = 0;
  }

  /** Whether the buffer may go up as a part now (S3 refuses parts under 5 MiB but the last). */
  get canUploadPart(): boolean {
    return this.bufferedBytes >= MIN_PART_SIZE_BYTES;
  }

  /** Sends what is buffered as the next part of the multipart upload; its memory is released once S3 has it. */
  async uploadBuffered(): Promise<void> {
    this.flushText();
    if (this.buffered === 0) return;
    this.uploadId ??= await this.store.createMultipartUpload(this.key);
    const { body, pooled } = this.takeBuffer();
    const partNumber = this.parts.length + 1;
    try {
      const etag = await this.store.uploadPart(this.key, this.uploadId, partNumber, body);
      this.parts.push({ partNumber, etag });
      for (const b of pooled) this.memory.recycle(b);
    } finally {
      this.memory.add(-body.length);
    }
  }

  /**
   * The buffered bytes as one Buffer (still counted in the memory account until the caller releases
   * them), and the pool buffers it lives in, to give back once it is uploaded.
   */
  private takeBuffer(): { body: Buffer; pooled: Buffer[] } {
    let body: Buffer;
    let pooled: Buffer[];
    if (this.chunks.length === 1) {
      body = this.chunks[0]!;
      pooled = this.pooled;
    } else {
      const into = this.memory.allocate(this.buffered);
      let at = 0;
      for (const c of this.chunks) at += c.copy(into, at);
      body = into.subarray(0, this.buffered);
      for (const b of this.pooled) this.memory.recycle(b);
      pooled = [into];
    }
    this.chunks = [];
    this.pooled = [];
    this.buffered = 0;
    return { body, pooled };
  }

  /** Makes the object visible with everything written; resolves once S3 has it. */
  async commit(): Promise<void> {
    this.flushText();
    if (this.uploadId === null) {
      const { body, pooled } = this.takeBuffer();
      try {
        await this.store.putObject(this.key, body);
        for (const b of pooled) this.memory.recycle(b);
      } finally {
        this.memory.add(-body.length);
      }
      return;
    }
    await this.uploadBuffered();
    await this.store.completeMultipartUpload(this.key, this.uploadId, this.parts);
    this.uploadId = null;
  }

  /** Drops the object: the buffer is released and a started multipart upload aborted. */
  async abort(): Promise<void> {
    this.flushText();
    if (this.buffered > 0) {
      const { body, pooled } = this.takeBuffer();
      this.memory.add(-body.length);
      for (const b of pooled) this.memory.recycle(b);
    }
    if (this.uploadId !== null) {
      const id = this.uploadId;
      this.uploadId = null;
      await this.store.abortMultipartUpload(this.key, id);
    }
  }
}
