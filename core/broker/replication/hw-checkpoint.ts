/**
 * The high-watermark checkpoint of a cluster broker (Kafka's `replication-offset-checkpoint`):
 * per partition this broker holds a replica of, the high watermark it last knew, in the data
 * directory, in the same text format as the log's other offset checkpoints (core/log/checkpoints.ts)
 * and written the same way (temp file, fsync, rename), so a crash leaves the old or the new file.
 *
 * Why: the high watermark lives in memory. Without a checkpoint a restarted broker would start
 * either from the log end (then, once it leads, consumers could read records that were never
 * committed — a follower's log often runs ahead of the high watermark) or from 0 (then nothing is
 * readable until the followers have caught up again). The replication manager writes the
 * checkpoint every `intervalMs` and on close, and starts every partition it loads from the
 * checkpointed value, clamped to the recovered log: never above what was committed when it was
 * written. A partition without an entry starts at its log start offset (as Kafka does).
 *
 * Concurrency: single-threaded; writes are synchronous.
 */
import * as path from 'node:path';
import type { FileSystem } from '../../env/fs.js';
import {
  type OffsetCheckpoint,
  readOffsetCheckpoint,
  tpKey,
  writeOffsetCheckpoint,
} from '../../log/checkpoints.js';

export const HW_CHECKPOINT_FILE = 'replication-offset-checkpoint';
/** Kafka's replica.high.watermark.checkpoint.interval.ms default. */
export const DEFAULT_HW_CHECKPOINT_INTERVAL_MS = 5000;

export class HighWatermarkCheckpoint {
  readonly file: string;
  /** What was read at start, kept for partitions the broker has not loaded yet. */
  private readonly stored: OffsetCheckpoint;

  constructor(
    private readonly fs: FileSystem,
    dataDir: string,
    warn: (msg: string) => void = () => {},
  ) {
    this.file = path.join(dataDir, HW_CHECKPOINT_FILE);
    let stored: OffsetCheckpoint;
    try {
      stored = readOffsetCheckpoint(fs, this.file);
    } catch (err) {
      // Safe fallback: without an entry a partition starts at its log start offset.
      warn(`ignoring ${this.file}: ${(err as Error).message}`);
      stored = new Map();
    }
    this.stored = stored;
  }

  /** The checkpointed high watermark of a partition, undefined when there is none. */
  get(topic: string, partition: number): number | undefined {
    return this.stored.get(tpKey(topic, partition))?.offset;
  }

  /**
   * Writes the high watermarks given, plus the entries read at start for partitions not given
   * for which keep() is true (replicas not loaded yet); entries of other partitions are dropped.
   */
  write(
    current: Iterable<{ topic: string; partition: number; offset: number }>,
    keep: (topic: string, partition: number) => boolean,
  ): void {
    const out: OffsetCheckpoint = new Map();
    for (const e of this.stored.values())
      if (keep(e.topic, e.partition)) out.set(tpKey(e.topic, e.partition), e);
    for (const e of current) {
      const entry = { topic: e.topic, partition: e.partition, offset: Math.max(0, e.offset) };
      out.set(tpKey(e.topic, e.partition), entry);
      this.stored.set(tpKey(e.topic, e.partition), entry);
    }
    for (const k of [...this.stored.keys()]) if (!out.has(k)) this.stored.delete(k);
    writeOffsetCheckpoint(this.fs, this.file, out.values());
  }
}
