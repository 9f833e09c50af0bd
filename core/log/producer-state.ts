/**
 * ProducerStateManager: idempotent-producer bookkeeping of one partition (Kafka's
 * `ProducerStateManager`, simplified: no transactions).
 *
 * Per producer id: its epoch and the metadata of its last 5 batches (first and last sequence,
 * first and last offset, max timestamp), plus the last timestamp seen (for expiry). On the
 * leader path (PartitionLog.append with assignOffsets) each batch with a producer id >= 0 is
 * checked against it:
 *   - an epoch older than the producer's → INVALID_PRODUCER_EPOCH (a fenced, zombie producer);
 *   - same epoch and the same sequence range as one of the 5 cached batches → a duplicate (a
 *     retry): nothing is appended and the original offsets are returned;
 *   - same epoch, first sequence != last sequence + 1 (int32 wraps to 0) → OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - a newer epoch must start at sequence 0 → otherwise OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - an unknown producer id is accepted at any sequence. That is Kafka >= 2.5's behaviour
 *     (KIP-360): its state may have been removed by retention, DeleteRecords or expiry, and
 *     refusing it (UNKNOWN_PRODUCER_ID) would make the producer reset for no reason.
 * The follower path (assignOffsets false) records batches without checking them.
 *
 * Limits: at most MAX_PRODUCERS ids per partition (the least recently used is forgotten, which
 * only means its next batch is accepted at any sequence), and ids idle for longer than
 * `producer.id.expiration.ms` (Kafka's default, one day) are dropped at each snapshot.
 *
 * Snapshots (`<20-digit offset>.snapshot`, the state of all batches below that offset), taken
 * at each segment roll and at close so that reopening rescans only the batch headers after the
 * latest one. Big-endian:
 *
 *   version int16 (1) | crc uint32 (CRC-32C of what follows) | count int32 |
 *   count × { producerId int64 | epoch int16 | lastTimestamp int64 | batches int8 |
 *             batches × { firstSeq int32 | lastSeq int32 | firstOffset int64 | lastOffset int64 | maxTimestamp int64 } }
 *
 * Written without fsync: a torn or missing snapshot fails its CRC and the previous one (or a
 * full rescan) is used instead.
 *
 * Concurrency: none; one PartitionLog owns it.
 */
import * as path from 'node:path';
import type { FileSystem } from '../env/fs.js';
import { crc32c, readInt64, writeInt64 } from '../records/index.js';
import { LogError } from './errors.js';
import { parseSegmentFileName, producerSnapshotFileName } from './files.js';

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface ProducerStateEntry {
  producerId: number;
  epoch: number;
  lastTimestamp: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
}

/** What a batch contributes to producer state. */
export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export const NUM_BATCHES_TO_RETAIN = 5;
export const MAX_PRODUCERS = 100_000;
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 24 * 60 * 60 * 1000;
const SNAPSHOT_VERSION = 1;
const INT32_MAX = 0x7fffffff;
const ENTRY_FIXED_BYTES = 8 + 2 + 8 + 1;
const BATCH_BYTES = 4 + 4 + 8 + 8 + 8;

/** The sequence of the last record of a batch (Kafka's incrementSequence: wraps past Int32.MAX to 0). */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class ProducerStateManager {
  /** Map order is recency order: updated entries are moved to the end. */
  private producers = new Map<number, ProducerStateEntry>();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly maxProducers = MAX_PRODUCERS,
  ) {}

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  /**
   * Leader-path check of the idempotent batches of one append, in order (offsets not yet
   * assigned). Returns the cached metadata of the first batch that is a duplicate (the append
   * must then write nothing), or null. Throws LogError INVALID_PRODUCER_EPOCH or
   * OUT_OF_ORDER_SEQUENCE_NUMBER. Changes nothing.
   */
  checkAppend(batches: readonly ProducerBatch[]): BatchMetadata | null {
    const pending = new Map<number, { epoch: number; lastSeq: number }>();
    for (const b of batches) {
      const stored = this.producers.get(b.producerId);
      const lastSeq = lastSequence(b.baseSequence, b.lastOffsetDelta);
      if (!pending.has(b.producerId) && stored !== undefined && stored.epoch === b.producerEpoch) {
        const dup = stored.batches.find((m) => m.firstSeq === b.baseSequence && m.lastSeq === lastSeq);
        if (dup !== undefined) return dup;
      }
      const cur =
        pending.get(b.producerId) ??
        (stored === undefined
          ? undefined
          : { epoch: stored.epoch, lastSeq: stored.batches.at(-1)?.lastSeq ?? -1 });
      if (cur !== undefined) {
        if (b.producerEpoch < cur.epoch) {
          throw new LogError(
            'INVALID_PRODUCER_EPOCH',
            `producer ${b.producerId} has epoch ${b.producerEpoch}, older than the current epoch ${cur.epoch}: it was fenced by a newer instance`,
          );
        }
        if (b.producerEpoch > cur.epoch) {
          if (b.baseSequence !== 0) {
            throw new LogError(
              'OUT_OF_ORDER_SEQUENCE_NUMBER',
              `producer ${b.producerId} starts its new epoch ${b.producerEpoch} at sequence ${b.baseSequence}; a new epoch starts at 0`,
            );
          }
        } else if (cur.lastSeq >= 0 && !inSequence(cur.lastSeq, b.baseSequence)) {
          throw new LogError(
            'OUT_OF_ORDER_SEQUENCE_NUMBER',
            `out of order sequence for producer ${b.producerId} (epoch ${b.producerEpoch}): expected ${cur.lastSeq === INT32_MAX ? 0 : cur.lastSeq + 1}, got ${b.baseSequence}`,
          );
        }
      }
      pending.set(b.producerId, { epoch: b.producerEpoch, lastSeq });
    }
    return null;
  }

  /** Records an appended batch (leader or follower path, or a rescan on open). */
  update(b: ProducerBatch): void {
    if (b.producerId < 0) return;
    let e = this.producers.get(b.producerId);
    if (e !== undefined && b.producerEpoch < e.epoch) return;
    if (e === undefined || b.producerEpoch > e.epoch) {
      e = { producerId: b.producerId, epoch: b.producerEpoch, lastTimestamp: b.maxTimestamp, batches: [] };
    }
    this.producers.delete(b.producerId);
    this.producers.set(b.producerId, e);
    if (b.baseSequence >= 0) {
      e.batches.push({
        firstSeq: b.baseSequence,
        lastSeq: lastSequence(b.baseSequence, b.lastOffsetDelta),
        firstOffset: b.firstOffset,
        lastOffset: b.lastOffset,
        maxTimestamp: b.maxTimestamp,
      });
      if (e.batches.length > NUM_BATCHES_TO_RETAIN) e.batches.shift();
    }
    if (b.maxTimestamp > e.lastTimestamp) e.lastTimestamp = b.maxTimestamp;
    while (this.producers.size > this.maxProducers) {
      const oldest = this.producers.keys().next().value as number;
      this.producers.delete(oldest);
    }
  }

  /** Drops producers whose last batch is older than expirationMs. */
  removeExpired(nowMs: number, expirationMs = DEFAULT_PRODUCER_ID_EXPIRATION_MS): void {
    for (const [id, e] of this.producers) {
      if (nowMs - e.lastTimestamp > expirationMs) this.producers.delete(id);
    }
  }

  clear(): void {
    this.producers.clear();
  }

  // ---- snapshots ------------------------------------------------------------------------

  /** Writes `<offset>.snapshot` with the current state (which must cover exactly the batches below offset). */
  takeSnapshot(offset: number): void {
    let size = 2 + 4 + 4;
    for (const e of this.producers.values()) size += ENTRY_FIXED_BYTES + e.batches.length * BATCH_BYTES;
    const buf = Buffer.allocUnsafe(size);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(this.producers.size, 6);
    let p = 10;
    for (const e of this.producers.values()) {
      writeInt64(buf, p, e.producerId);
      buf.writeInt16BE(e.epoch, p + 8);
      writeInt64(buf, p + 10, e.lastTimestamp);
      buf.writeInt8(e.batches.length, p + 18);
      p += ENTRY_FIXED_BYTES;
      for (const m of e.batches) {
        buf.writeInt32BE(m.firstSeq, p);
        buf.writeInt32BE(m.lastSeq, p + 4);
        writeInt64(buf, p + 8, m.firstOffset);
        writeInt64(buf, p + 16, m.lastOffset);
        writeInt64(buf, p + 24, m.maxTimestamp);
        p += BATCH_BYTES;
      }
    }
    buf.writeUInt32BE(crc32c(buf, 6, size), 2);
    const file = this.fs.open(path.join(this.dir, producerSnapshotFileName(offset)), { create: true });
    try {
      file.truncate(0);
      file.write(buf, 0, size, 0);
    } finally {
      file.close();
    }
  }

  /** Offsets of the snapshot files in the directory, ascending. */
  snapshotOffsets(): number[] {
    const out: number[] = [];
    for (const name of this.fs.readdir(this.dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed !== null && parsed.kind === 'snapshot' && parsed.suffix === '') out.push(parsed.baseOffset);
    }
    return out.sort((a, b) => a - b);
  }

  /** Removes snapshots whose offset is outside [from, to]. */
  deleteSnapshotsOutside(from: number, to: number): void {
    for (const offset of this.snapshotOffsets()) {
      if (offset < from || offset > to) this.deleteSnapshot(offset);
    }
  }

  deleteSnapshot(offset: number): void {
    const file = path.join(this.dir, producerSnapshotFileName(offset));
    if (this.fs.exists(file)) this.fs.unlink(file);
  }

  /**
   * Replaces the state with the latest readable snapshot at or below maxOffset (deleting those
   * above it and unreadable ones). Returns its offset, or -1 when there is none (state empty).
   */
  loadLatestSnapshot(maxOffset: number): number {
    this.producers.clear();
    const offsets = this.snapshotOffsets();
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i]!;
      if (offset > maxOffset) {
        this.deleteSnapshot(offset);
        continue;
      }
      const state = this.readSnapshot(offset);
      if (state !== null) {
        this.producers = state;
        return offset;
      }
      this.deleteSnapshot(offset);
    }
    return -1;
  }

  private readSnapshot(offset: number): Map<number, ProducerStateEntry> | null {
    let buf: Buffer;
    try {
      buf = this.fs.readFile(path.join(this.dir, producerSnapshotFileName(offset)));
    } catch {
      return null;
    }
    if (buf.length < 10 || buf.readInt16BE(0) !== SNAPSHOT_VERSION) return null;
    if (buf.readUInt32BE(2) !== crc32c(buf, 6, buf.length)) return null;
    const count = buf.readInt32BE(6);
    if (count < 0 || count > this.maxProducers) return null;
    const out = new Map<number, ProducerStateEntry>();
    let p = 10;
    for (let i = 0; i < count; i++) {
      if (p + ENTRY_FIXED_BYTES > buf.length) return null;
      const producerId = readInt64(buf, p);
      const epoch = buf.readInt16BE(p + 8);
      const lastTimestamp = readInt64(buf, p + 10);
      const n = buf.readInt8(p + 18);
      p += ENTRY_FIXED_BYTES;
      if (n < 0 || n > NUM_BATCHES_TO_RETAIN || p + n * BATCH_BYTES > buf.length) return null;
      const batches: BatchMetadata[] = [];
      for (let j = 0; j < n; j++) {
        batches.push({
          firstSeq: buf.readInt32BE(p),
          lastSeq: buf.readInt32BE(p + 4),
          firstOffset: readInt64(buf, p + 8),
          lastOffset: readInt64(buf, p + 16),
          maxTimestamp: readInt64(buf, p + 24),
        });
        p += BATCH_BYTES;
      }
      out.set(producerId, { producerId, epoch, lastTimestamp, batches });
    }
    return p === buf.length ? out : null;
  }
}
