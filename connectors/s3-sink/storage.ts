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
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
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

export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(cfg: S3SinkConfig) {
    this.client = new S3Client(s3ClientConfig(cfg));
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
    await this.retrying('PUT', key, () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }),
      ),
    );
  }

  async createMultipartUpload(key: string): Promise<string> {
    const out = await this.retrying('CreateMultipartUpload', key, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key })),
    );
    if (!out.UploadId)
      throw new ConnectError('CONNECT', `S3 CreateMultipartUpload of ${key} answered without an UploadId`);
    return out.UploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const out = await this.retrying(`UploadPart ${partNumber}`, key, () =>
      this.client.send(
        new UploadPartCommand({
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
    await this.retrying('CompleteMultipartUpload', key, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
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
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
    } catch {
      // best effort: lifecycle rules clean up what is left
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/** Bytes buffered by all open files of a task. */
export class MemoryAccount {
  usedBytes = 0;
  peakBytes = 0;
  constructor(readonly limitBytes: number) {}
  add(n: number): void {
    this.usedBytes += n;
    if (this.usedBytes > this.peakBytes) this.peakBytes = this.usedBytes;
  }
  get over(): boolean {
    return this.usedBytes > this.limitBytes;
  }
}

/** Text appended to a file is turned into bytes in pieces of about this many characters. */
const TEXT_CHUNK_CHARS = 64 * 1024;

export class S3OutputFile {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private text = '';
  private uploadId: string | null = null;
  private readonly parts: { partNumber: number; etag: string }[] = [];
  /** Bytes of the object so far (uploaded parts and buffer). */
  size = 0;

  constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private readonly partSizeBytes: number,
    private readonly memory: MemoryAccount,
  ) {}

  get bufferedBytes(): number {
    return this.buffered + this.text.length;
  }

  /** Appends bytes or UTF-8 text; returns a promise only when a full part goes up. */
  write(data: Buffer | string): Promise<void> | undefined {
    if (typeof data === 'string') {
      this.text += data;
      if (this.text.length < TEXT_CHUNK_CHARS) return undefined;
      data = this.takeText();
    }
    if (data.length === 0) return undefined;
    this.chunks.push(data);
    this.buffered += data.length;
    this.size += data.length;
    this.memory.add(data.length);
    if (this.buffered >= this.partSizeBytes) return this.uploadBuffered();
    return undefined;
  }

  private takeText(): Buffer {
    const b = Buffer.from(this.text, 'utf8');
    this.text = '';
    return b;
  }

  private flushText(): void {
    if (this.text.length === 0) return;
    const b = this.takeText();
    this.chunks.push(b);
    this.buffered += b.length;
    this.size += b.length;
    this.memory.add(b.length);
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
    const body = this.takeBuffer();
    const partNumber = this.parts.length + 1;
    try {
      const etag = await this.store.uploadPart(this.key, this.uploadId, partNumber, body);
      this.parts.push({ partNumber, etag });
    } finally {
      this.memory.add(-body.length);
    }
  }

  /** The buffered bytes, still counted in the memory account until the caller releases them. */
  private takeBuffer(): Buffer {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    return body;
  }

  /** Makes the object visible with everything written; resolves once S3 has it. */
  async commit(): Promise<void> {
    this.flushText();
    if (this.uploadId === null) {
      const body = this.takeBuffer();
      try {
        await this.store.putObject(this.key, body);
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
    this.text = '';
    if (this.buffered > 0) this.memory.add(-this.takeBuffer().length);
    if (this.uploadId !== null) {
      const id = this.uploadId;
      this.uploadId = null;
      await this.store.abortMultipartUpload(this.key, id);
    }
  }
}
