/**
 * One Kafka partition's files (Confluent's TopicPartitionWriter).
 *
 * Records of a Kafka partition go into one "batch" of open files, one per encoded partition. A
 * batch ends — all its files are uploaded, then it is forgotten — when it holds `flush.size`
 * records, when a record's time is `rotate.interval.ms` past the batch's first (that record
 * starts the next batch), when Avro meets a new schema, or at a `rotate.schedule.interval.ms`
 * wall-clock boundary. Each file is named after the offset of its first record.
 *
 * Uploads are pipelined: a finished batch goes up in the background while the next one fills, at
 * most MAX_INFLIGHT_BATCHES per partition; `settle()` (before every offset commit) waits for them.
 *
 * Exactly-once into the bucket: the offset committed for the partition is the first offset of the
 * open batch (or, with none open, the offset after the last record), so after a crash the task
 * reads again from the start of the batch. Every rule but the wall-clock schedule depends only on
 * the records, so the replay cuts the same batches and writes the same objects under the same
 * names: an object is overwritten with the same records, never duplicated.
 */
import { ConnectError, DataException, type SinkRecord } from '../../connect/sdk.js';
import type { S3SinkConfig } from './config.js';
import type { FileEncoder, RecordFormat } from './format.js';
import {
  bucketStart,
  type Partitioner,
  recordTime,
  type TimestampExtractor,
  timestampExtractor,
} from './partitioner.js';
import { type MemoryAccount, type ObjectStore, S3OutputFile } from './storage.js';

/** Finished batches of one partition uploading at once; the next waits for the oldest. */
const MAX_INFLIGHT_BATCHES = 2;
/** Encoded partitions whose last object size is kept as a hint for the next one. */
const MAX_SIZE_HINTS = 10_000;

interface InflightBatch {
  startOffset: number;
  done: Promise<void>;
}

interface OpenFile {
  file: S3OutputFile;
  encoder: FileEncoder;
  first: SinkRecord;
}

export interface WriterDeps {
  cfg: S3SinkConfig;
  store: ObjectStore;
  format: RecordFormat;
  partitioner: Partitioner;
  memory: MemoryAccount;
  nowMs: () => number;
}

export class TopicPartitionWriter {
  private readonly files = new Map<string, OpenFile>();
  private readonly rotationTime: TimestampExtractor;
  /** Offset of the first record of the open batch, or null when none is open. */
  private batchStart: number | null = null;
  private recordCount = 0;
  private baseTimestamp = 0;
  private currentEncoded: string | null = null;
  private nextScheduledRotationMs = Number.POSITIVE_INFINITY;
  /** Offset after the last record written (or skipped). */
  private nextOffset: number | null = null;
  private inflight: InflightBatch[] = [];
  /** Size of the last object of each encoded partition: what the next one likely reaches. */
  private readonly lastSizes = new Map<string, number>();
  private failure: Error | null = null;
  /** Objects uploaded so far (for tests and metrics). */
  committedFiles = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly deps: WriterDeps,
  ) {
    const { cfg, nowMs } = deps;
    this.rotationTime = cfg.partitioner === 'time' ? timestampExtractor(cfg, nowMs) : recordTime;
  }

  /** Adds a record to the open batch; returns a promise only when it has to wait for S3. */
  write(record: SinkRecord): Promise<void> | undefined {
    const { cfg } = this.deps;
    // Redelivered (e.g. after a failed offset commit and a rebalance): already uploaded or in the open batch.
    if (this.nextOffset !== null && record.kafkaOffset < this.nextOffset) return undefined;
    if (record.value === null || record.value === undefined) {
      if (cfg.onNull === 'fail') {
        throw new DataException(
          `record ${record.topic}-${record.kafkaPartition}@${record.kafkaOffset} has a null value (set behavior.on.null.values=ignore or write to accept tombstones)`,
        );
      }
      if (cfg.onNull === 'ignore') {
        this.nextOffset = record.kafkaOffset + 1;
        return undefined;
      }
    }
    const encoded = this.deps.partitioner.encodePartition(record);
    if (this.recordCount > 0 && this.mustRotateBefore(record, encoded)) {
      return this.commit().then(() => this.append(record, encoded));
    }
    return this.append(record, encoded);
  }

  /** Whether `record` starts a new batch: wall-clock schedule, record time, a new time bucket, a new schema. */
  private mustRotateBefore(record: SinkRecord, encoded: string): boolean {
    const { cfg } = this.deps;
    if (
      this.nextScheduledRotationMs !== Number.POSITIVE_INFINITY &&
      this.deps.nowMs() >= this.nextScheduledRotationMs
    )
      return true;
    if (cfg.rotateIntervalMs > 0) {
      if (this.rotationTime(record) - this.baseTimestamp >= cfg.rotateIntervalMs) return true;
      if (cfg.partitioner === 'time' && encoded !== this.currentEncoded) return true;
    }
    const open = this.files.get(encoded);
    return open !== undefined && this.deps.format.needsNewFile?.(open.first, record) === true;
  }

  private append(record: SinkRecord, encoded: string): Promise<void> | undefined {
    const { cfg } = this.deps;
    if (this.recordCount === 0) {
      this.batchStart = record.kafkaOffset;
      if (cfg.rotateIntervalMs > 0) this.baseTimestamp = this.rotationTime(record);
      if (cfg.rotateScheduleIntervalMs > 0) {
        this.nextScheduledRotationMs =
          bucketStart(this.deps.nowMs(), cfg.rotateScheduleIntervalMs, cfg.timezone) +
          cfg.rotateScheduleIntervalMs;
      }
    }
    let open = this.files.get(encoded);
    if (!open) {
      const key = this.objectKey(encoded, record.kafkaOffset);
      open = {
        file: new S3OutputFile(
          this.deps.store,
          key,
          cfg.partSizeBytes,
          this.deps.memory,
          this.lastSizes.get(encoded) ?? 0,
          // flush.size bounds one file's records, and likely fills it, when a batch is one file.
          cfg.partitioner === 'default' ? cfg.flushSize : 0,
        ),
        encoder: this.deps.format.open(key, record),
        first: record,
      };
      this.files.set(encoded, open);
    }
    this.currentEncoded = encoded;
    const lines = open.encoder.lines;
    const uploading = lines ? open.file.writeEncoded(lines, record) : this.writeBytes(open, record);
    this.recordCount++;
    this.nextOffset = record.kafkaOffset + 1;
    if (this.recordCount >= cfg.flushSize)
      return uploading ? uploading.then(() => this.commit()) : this.commit();
    return uploading;
  }

  private writeBytes(open: OpenFile, record: SinkRecord): Promise<void> | undefined {
    const bytes = open.encoder.write(record);
    if (bytes === null) return undefined;
    return typeof bytes === 'string' ? open.file.writeLine(bytes) : open.file.write(bytes);
  }

  /** `<topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start offset>.<ext>` */
  objectKey(encoded: string, startOffset: number): string {
    const { cfg, format } = this.deps;
    const d = cfg.directoryDelim;
    const name = [this.topic, this.partition, String(startOffset).padStart(cfg.offsetPadWidth, '0')].join(
      cfg.fileDelim,
    );
    const dir = cfg.topicsDir === '' ? '' : `${cfg.topicsDir}${d}`;
    return `${dir}${this.topic}${d}${encoded}${d}${name}${format.extension}`;
  }

  /** Commits the open files if the wall-clock schedule says so. */
  async checkSchedule(): Promise<void> {
    if (this.recordCount > 0 && this.deps.nowMs() >= this.nextScheduledRotationMs) await this.commit();
  }

  /**
   * Ends the open batch: its files start uploading (in the background) and a new batch can begin.
   * Resolves once at most MAX_INFLIGHT_BATCHES batches are uploading.
   */
  async commit(): Promise<void> {
    this.throwIfFailed();
    if (this.files.size === 0 || this.batchStart === null) {
      this.resetBatch();
      return;
    }
    const open = [...this.files.values()];
    const startOffset = this.batchStart;
    if (this.lastSizes.size > MAX_SIZE_HINTS) this.lastSizes.clear();
    for (const [encoded, f] of this.files) this.lastSizes.set(encoded, f.file.size);
    this.files.clear();
    this.resetBatch();
    const batch: InflightBatch = {
      startOffset,
      done: Promise.all(
        open.map(async (f) => {
          const tail = f.encoder.finish();
          if (tail) {
            const waiting = f.file.write(tail);
            if (waiting) await waiting;
          }
          await f.file.commit();
        }),
      ).then(
        () => {
          this.committedFiles += open.length;
          this.inflight = this.inflight.filter((b) => b !== batch);
        },
        (err: unknown) => {
          this.failure ??= err instanceof Error ? err : new Error(String(err));
        },
      ),
    };
    this.inflight.push(batch);
    while (this.inflight.length > MAX_INFLIGHT_BATCHES && this.failure === null) await this.inflight[0]!.done;
    this.throwIfFailed();
  }

  /** Waits for every batch uploading now; throws the first upload failure. */
  async settle(): Promise<void> {
    while (this.inflight.length > 0 && this.failure === null) await this.inflight[0]!.done;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private resetBatch(): void {
    this.batchStart = null;
    this.recordCount = 0;
    this.currentEncoded = null;
    this.nextScheduledRotationMs = Number.POSITIVE_INFINITY;
  }

  /** The offset that is safe to commit: nothing before it is still waiting for an upload. */
  safeOffset(current: number): number {
    let safe = current;
    if (this.batchStart !== null) safe = Math.min(safe, this.batchStart);
    for (const b of this.inflight) safe = Math.min(safe, b.startOffset);
    return safe;
  }

  /** Open files with a buffer big enough to go up as a part, largest first. */
  drainable(): S3OutputFile[] {
    return [...this.files.values()].map((f) => f.file).filter((f) => f.canUploadPart);
  }

  bufferedFiles(): S3OutputFile[] {
    return [...this.files.values()].map((f) => f.file);
  }

  /** Drops the open batch (close or stop): its records will be read again. */
  async abort(): Promise<void> {
    const open = [...this.files.values()];
    this.files.clear();
    if (this.batchStart !== null) this.nextOffset = this.batchStart;
    this.resetBatch();
    await Promise.all(open.map((f) => f.file.abort()));
  }
}

/** Uploads parts of the largest buffers until the task is within `s3.buffer.memory.bytes`. */
export async function relieveMemory(
  all: Iterable<TopicPartitionWriter>,
  memory: MemoryAccount,
): Promise<void> {
  if (!memory.over) return;
  const writers = [...all];
  const candidates = writers.flatMap((w) => w.drainable()).sort((a, b) => b.bufferedBytes - a.bufferedBytes);
  for (const f of candidates) {
    if (!memory.over) return;
    await f.uploadBuffered();
  }
  if (memory.over) await Promise.all(writers.map((w) => w.settle()));
  if (memory.over) {
    const files = writers.reduce((n, w) => n + w.bufferedFiles().length, 0);
    throw new ConnectError(
      'CONNECT',
      `the S3 sink buffers ${memory.usedBytes} bytes in ${files} open files, over s3.buffer.memory.bytes=${memory.limitBytes}, and none holds a full 5 MiB part to upload early: raise s3.buffer.memory.bytes, or lower flush.size or rotate.interval.ms, or run more tasks (tasks.max)`,
    );
  }
}
