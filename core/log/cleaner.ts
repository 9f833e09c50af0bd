/**
 * The log cleaner: compaction of `cleanup.policy=compact` (and `compact,delete`) logs, Kafka's
 * `LogCleaner` semantics. After cleaning, the log holds at least the latest record of every key;
 * every record keeps its original offset (holes are fine: consumers skip them).
 *
 * A clean of one log:
 * 1. The cleanable range [firstDirtyOffset, firstUncleanableOffset): from the cleaner checkpoint
 *    (what earlier cleans covered) up to the first offset that may not be cleaned: the active
 *    segment's base, the high watermark, and the first segment holding a record younger than
 *    min.compaction.lag.ms. Nothing is cleaned unless the dirty ratio (bytes of the dirty
 *    segments / bytes of the clean and dirty segments) exceeds min.cleanable.dirty.ratio, or a
 *    dirty record is older than max.compaction.lag.ms, or a tombstone's delete horizon passed.
 * 2. An offset map key → latest offset over the dirty range ({@link OffsetMap}, bounded by
 *    log.cleaner.dedupe.buffer.size: 24 bytes per key as in Kafka's SkimpyOffsetMap). When the
 *    map fills up, this pass ends at the offset reached and another pass continues from there.
 * 3. Every closed segment below the pass's end is rewritten, grouped so that neighbours merge
 *    up to segment.bytes, keeping a record only when it is the latest of its key (or has no
 *    key), and swapped in with PartitionLog.replaceSegments (crash safe: the new segment is
 *    written and fsynced as `.swap`, the old ones renamed `.deleted`, the swap renamed live;
 *    recovery completes an interrupted swap). The returned endOffset is the cleaned point the
 *    caller records (the log manager's cleaner-offset-checkpoint), so the next clean starts there.
 *
 * Batches in the rewritten segments:
 * - a batch that keeps all its records (and needs no delete horizon) is copied byte for byte;
 * - otherwise it is re-encoded with the same codec, base offset, lastOffsetDelta, producer id,
 *   epoch, base sequence, leader epoch and attributes; each kept record keeps its offset delta;
 * - tombstones (null values) follow KIP-534: the first clean that rewrites a batch holding a
 *   tombstone stamps it with a delete horizon (now + delete.retention.ms, stored in
 *   baseTimestamp with attributes bit 6, record timestamps unchanged); a clean after the horizon
 *   drops the tombstone. Consumers thus have delete.retention.ms after the first clean to see it;
 * - a batch of an idempotent producer that loses all its records is kept as an empty batch
 *   (header only, recordCount 0) when it is that producer's last batch in the cleaned range and
 *   younger than producer.id.expiration.ms, so the producer's last sequence and epoch survive
 *   (Kafka's BatchRetention.RETAIN_EMPTY; the log rebuilds producer state from batch headers);
 * - control batches are kept as they are; records of aborted transactions are not removed
 *   (no aborted-transaction index yet);
 * - records without a key are kept. Kafka refuses them on compacted topics at append time
 *   (INVALID_RECORD); that check belongs to the broker's produce path, not here.
 *
 * Re-encoding uses core/records' building blocks (writeRecord, writeBatchHeader, compress)
 * rather than encodeBatch, which numbers records 0..n-1 and cannot keep lastOffsetDelta nor set
 * a delete horizon.
 *
 * Memory: one segment is read whole (PartitionLog.readSegment) and one group's output is held
 * until its swap, so a clean needs about 2 × segment.bytes plus the offset map.
 * Concurrency: cleanLog is synchronous; nothing else touches the log while it runs.
 */
import { createHash } from 'node:crypto';
import {
  type BatchHeader,
  batchBaseOffset,
  batchIsControl,
  batchProducerId,
  batchSize,
  COMPRESSION_MASK,
  DELETE_HORIZON_FLAG,
  HEADER_SIZE,
  writeBatchHeader,
} from '../records/batch-header.js';
import { compress } from '../records/compression.js';
import { decodeBatch } from '../records/decode.js';
import { type DecodedRecord, recordBodySize, writeRecord } from '../records/record.js';
import { varintSize } from '../records/varint.js';
import type { PartitionLog, SegmentInfo } from './log.js';

export interface CleanOptions {
  /** Where the previous clean stopped (cleaner-offset-checkpoint); default the log start offset. */
  firstDirtyOffset?: number;
  /** Offset map memory (log.cleaner.dedupe.buffer.size), default 128 MiB; at least 64 KiB. */
  dedupeBufferBytes?: number;
  /** producer.id.expiration.ms, default 1 day: how long a producer's last empty batch is kept. */
  producerIdExpirationMs?: number;
  /** Clean even below min.cleanable.dirty.ratio (a tool, a tombstone whose horizon passed). */
  force?: boolean;
  /** Upper bound on the bytes of one group of segments merged into one (default segment.bytes). */
  maxGroupBytes?: number;
  /** Passes of one clean before it stops (the rest waits for the next clean); default 64. */
  maxPasses?: number;
}

export interface CleanableRange {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  /** Bytes of the segments below firstDirtyOffset. */
  cleanBytes: number;
  /** Bytes of the segments in [firstDirtyOffset, firstUncleanableOffset). */
  cleanableBytes: number;
  /** cleanableBytes / (cleanBytes + cleanableBytes); 0 when both are 0. */
  dirtyRatio: number;
  /** A dirty record is older than max.compaction.lag.ms. */
  needCompactionNow: boolean;
  /** Whether cleanLog would clean, and why (not). */
  shouldClean: boolean;
  reason: string;
}

export interface CleanStats extends CleanableRange {
  topic: string;
  partition: number;
  cleaned: boolean;
  /** The new first dirty offset, to record in cleaner-offset-checkpoint (firstDirtyOffset when not cleaned). */
  endOffset: number;
  /** Offset-map passes (more than one when the dirty keys did not fit in the map). */
  passes: number;
  /** Closed segments replaced (segments found already clean are not counted). */
  segmentsCleaned: number;
  /** Segments written in their place (groups of neighbours merge into one). */
  segmentsWritten: number;
  batchesRead: number;
  recordsRead: number;
  recordsRetained: number;
  tombstonesRemoved: number;
  bytesRead: number;
  bytesWritten: number;
  /** Earliest delete horizon of a batch still holding tombstones; -1 when none. */
  nextDeleteHorizonMs: number;
}

const DEFAULT_DEDUPE_BUFFER_BYTES = 128 * 1024 * 1024;
const MIN_DEDUPE_BUFFER_BYTES = 64 * 1024;
const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const DEFAULT_MAX_PASSES = 64;
/** Offsets relative to a segment's base must fit the index's int32. */
const MAX_SEGMENT_OFFSET_SPAN = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------

/**
 * key → latest offset, in a fixed budget of memory: an open-addressing table of 24-byte slots
 * (16 bytes of SHA-256 of the key, 8 bytes offset + 1, 0 meaning empty) that grows by doubling
 * up to the budget. As in Kafka, two keys whose 128-bit hashes collide count as one (odds
 * around 2^-64 for billions of keys). Full at 90 % of the budget's slots.
 */
export class OffsetMap {
  static readonly SLOT_BYTES = 24;
  private static readonly HASH_BYTES = 16;
  private static readonly LOAD_FACTOR = 0.9;
  private readonly maxSlots: number;
  readonly maxEntries: number;
  private slots: number;
  private table: Buffer;
  private entries = 0;
  private readonly hash = Buffer.alloc(32);

  constructor(memoryBytes: number) {
    this.maxSlots = Math.max(16, Math.floor(memoryBytes / OffsetMap.SLOT_BYTES));
    this.maxEntries = Math.floor(this.maxSlots * OffsetMap.LOAD_FACTOR);
    this.slots = Math.min(this.maxSlots, 4096);
    this.table = Buffer.alloc(this.slots * OffsetMap.SLOT_BYTES);
  }

  get size(): number {
    return this.entries;
  }

  /** Records offset for key; false (and nothing changed) when key is new and the map is full. */
  put(key: Uint8Array, offset: number): boolean {
    this.hashOf(key);
    let slot = this.find(this.table, this.slots);
    if (this.table.readDoubleLE(slot * OffsetMap.SLOT_BYTES + OffsetMap.HASH_BYTES) === 0) {
      if (this.entries >= this.maxEntries) return false;
      if (this.entries + 1 > this.slots * 0.75 && this.slots < this.maxSlots) {
        this.grow();
        slot = this.find(this.table, this.slots);
      }
      this.hash.copy(this.table, slot * OffsetMap.SLOT_BYTES, 0, OffsetMap.HASH_BYTES);
      this.entries++;
    }
    this.table.writeDoubleLE(offset + 1, slot * OffsetMap.SLOT_BYTES + OffsetMap.HASH_BYTES);
    return true;
  }

  /** The latest offset recorded for key, or -1. */
  get(key: Uint8Array): number {
    this.hashOf(key);
    const slot = this.find(this.table, this.slots);
    return this.table.readDoubleLE(slot * OffsetMap.SLOT_BYTES + OffsetMap.HASH_BYTES) - 1;
  }

  private hashOf(key: Uint8Array): void {
    createHash('sha256').update(key).digest().copy(this.hash, 0, 0, OffsetMap.HASH_BYTES);
  }

  /** The slot holding this.hash, or the empty slot where it would go. */
  private find(table: Buffer, slots: number): number {
    const h0 = this.hash.readUInt32LE(0);
    let slot = h0 % slots;
    const h1 = this.hash.readUInt32LE(4);
    const h2 = this.hash.readUInt32LE(8);
    const h3 = this.hash.readUInt32LE(12);
    for (;;) {
      const at = slot * OffsetMap.SLOT_BYTES;
      if (table.readDoubleLE(at + OffsetMap.HASH_BYTES) === 0) return slot;
      if (
        table.readUInt32LE(at) === h0 &&
        table.readUInt32LE(at + 4) === h1 &&
        table.readUInt32LE(at + 8) === h2 &&
        table.readUInt32LE(at + 12) === h3
      ) {
        return slot;
      }
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
  }

  private grow(): void {
    const slots = Math.min(this.maxSlots, this.slots * 2);
    const table = Buffer.alloc(slots * OffsetMap.SLOT_BYTES);
    for (let s = 0; s < this.slots; s++) {
      const at = s * OffsetMap.SLOT_BYTES;
      if (this.table.readDoubleLE(at + OffsetMap.HASH_BYTES) === 0) continue;
      this.table.copy(this.hash, 0, at, at + OffsetMap.HASH_BYTES);
      const to = this.find(table, slots) * OffsetMap.SLOT_BYTES;
      this.table.copy(table, to, at, at + OffsetMap.SLOT_BYTES);
    }
    this.table = table;
    this.slots = slots;
  }
}

// ---------------------------------------------------------------------------------------------

/** Which part of the log a clean would cover, and whether it is due. Reads at most one batch per dirty segment. */
export function cleanableRange(
  log: PartitionLog,
  nowMs: number,
  opts: { firstDirtyOffset?: number; force?: boolean } = {},
): CleanableRange {
  const config = log.config;
  const segments = log.segmentInfos();
  const active = segments.find((s) => s.active) ?? segments[segments.length - 1]!;
  const logStart = log.logStartOffset;
  let firstDirty = opts.firstDirtyOffset ?? logStart;
  // Below the log start (retention, DeleteRecords) or beyond the end (truncation): start over.
  if (firstDirty < logStart || firstDirty > log.logEndOffset) firstDirty = logStart;

  let firstUncleanable = Math.min(active.baseOffset, Math.max(log.highWatermark, logStart));
  const minLagMs = Math.max(config['min.compaction.lag.ms'], 0);
  const dirtyClosed = segments.filter(
    (s) => !s.active && s.nextOffset > firstDirty && s.baseOffset < firstUncleanable,
  );
  if (minLagMs > 0) {
    const young = dirtyClosed.find((s) => s.largestTimestamp > nowMs - minLagMs);
    if (young !== undefined)
      firstUncleanable = Math.min(firstUncleanable, Math.max(young.baseOffset, firstDirty));
  }
  if (firstUncleanable < firstDirty) firstUncleanable = firstDirty;

  let cleanBytes = 0;
  let cleanableBytes = 0;
  for (const s of segments) {
    if (s.active) continue;
    if (s.nextOffset <= firstDirty) cleanBytes += s.sizeBytes;
    else if (s.baseOffset < firstUncleanable) cleanableBytes += s.sizeBytes;
  }
  const total = cleanBytes + cleanableBytes;
  const dirtyRatio = total === 0 ? 0 : cleanableBytes / total;

  let needCompactionNow = false;
  const maxLagMs = config['max.compaction.lag.ms'];
  if (cleanableBytes > 0 && maxLagMs < nowMs) {
    const cleanUntil = nowMs - maxLagMs;
    for (const s of dirtyClosed) {
      if (s.baseOffset >= firstUncleanable) break;
      const first = firstBatchTimestamp(log, s);
      if (first >= 0 && first < cleanUntil) {
        needCompactionNow = true;
        break;
      }
    }
  }

  const minRatio = config['min.cleanable.dirty.ratio'];
  let shouldClean: boolean;
  let reason: string;
  if (!config['cleanup.policy'].includes('compact')) {
    shouldClean = false;
    reason = `cleanup.policy is ${config['cleanup.policy']}`;
  } else if (opts.force) {
    shouldClean = true;
    reason = 'forced';
  } else if (cleanableBytes === 0) {
    shouldClean = false;
    reason =
      'no cleanable segments (only the active segment, or records younger than min.compaction.lag.ms, are dirty)';
  } else if (needCompactionNow) {
    shouldClean = true;
    reason = 'a dirty record is older than max.compaction.lag.ms';
  } else if (dirtyRatio > minRatio) {
    shouldClean = true;
    reason = `dirty ratio ${dirtyRatio.toFixed(3)} > min.cleanable.dirty.ratio ${minRatio}`;
  } else {
    shouldClean = false;
    reason = `dirty ratio ${dirtyRatio.toFixed(3)} <= min.cleanable.dirty.ratio ${minRatio}`;
  }
  return {
    firstDirtyOffset: firstDirty,
    firstUncleanableOffset: firstUncleanable,
    cleanBytes,
    cleanableBytes,
    dirtyRatio,
    needCompactionNow,
    shouldClean,
    reason,
  };
}

function firstBatchTimestamp(log: PartitionLog, segment: SegmentInfo): number {
  const from = Math.max(segment.baseOffset, log.logStartOffset);
  if (from >= segment.nextOffset) return -1;
  const read = log.read(from, 1, { minOneBatch: true, maxOffset: segment.nextOffset });
  const first = read.records[0];
  if (first === undefined || first.length < HEADER_SIZE) return -1;
  return decodeBatch(first, 0).maxTimestamp;
}

/**
 * Compacts log (see the file comment). Returns what it did; `endOffset` is the new first dirty
 * offset for the cleaner checkpoint. Throws when a segment cannot be read or decoded (the log
 * is left as it was, or with some groups already swapped: both are consistent).
 */
export function cleanLog(log: PartitionLog, nowMs: number, opts: CleanOptions = {}): CleanStats {
  const range = cleanableRange(log, nowMs, opts);
  const stats: CleanStats = {
    ...range,
    topic: log.topic,
    partition: log.partition,
    cleaned: false,
    endOffset: range.firstDirtyOffset,
    passes: 0,
    segmentsCleaned: 0,
    segmentsWritten: 0,
    batchesRead: 0,
    recordsRead: 0,
    recordsRetained: 0,
    tombstonesRemoved: 0,
    bytesRead: 0,
    bytesWritten: 0,
    nextDeleteHorizonMs: -1,
  };
  if (!range.shouldClean) return stats;

  const dedupeBytes = Math.max(
    opts.dedupeBufferBytes ?? DEFAULT_DEDUPE_BUFFER_BYTES,
    MIN_DEDUPE_BUFFER_BYTES,
  );
  const maxPasses = opts.maxPasses ?? DEFAULT_MAX_PASSES;
  const upper = range.firstUncleanableOffset;
  let start = range.firstDirtyOffset;
  do {
    const map = new OffsetMap(dedupeBytes);
    const end = buildOffsetMap(log, map, start, upper);
    cleanSegments(log, map, end, nowMs, opts, stats);
    stats.passes++;
    start = end;
  } while (start < upper && stats.passes < maxPasses);
  stats.endOffset = start;
  stats.cleaned = true;
  return stats;
}

/**
 * Puts every keyed record of [start, upper) into map. Returns the offset it reached: upper, or
 * the first offset whose key did not fit.
 */
function buildOffsetMap(log: PartitionLog, map: OffsetMap, start: number, upper: number): number {
  for (const segment of log.segmentInfos()) {
    if (segment.active || segment.nextOffset <= start) continue;
    if (segment.baseOffset >= upper) break;
    const bytes = log.readSegment(segment.baseOffset);
    for (let pos = 0; pos < bytes.length; pos += batchSize(bytes, pos)) {
      if (batchIsControl(bytes, pos)) continue;
      const batch = decodeBatch(bytes, pos);
      if (batch.baseOffset + batch.lastOffsetDelta < start) continue;
      for (const record of batch.records) {
        if (record.offset < start) continue;
        if (record.offset >= upper) return upper;
        if (record.key === null) continue;
        if (!map.put(record.key, record.offset)) {
          if (record.offset === start) {
            throw new Error(
              `the offset map of ${map.maxEntries} keys cannot hold one key; raise log.cleaner.dedupe.buffer.size`,
            );
          }
          return record.offset;
        }
      }
    }
  }
  return upper;
}

/** Rewrites the closed segments below end, group by group. */
function cleanSegments(
  log: PartitionLog,
  map: OffsetMap,
  end: number,
  nowMs: number,
  opts: CleanOptions,
  stats: CleanStats,
): void {
  const config = log.config;
  const segments = log.segmentInfos().filter((s) => !s.active && s.baseOffset < end);
  let lastBatches: Map<number, number> | undefined;
  const ctx: FilterContext = {
    map,
    nowMs,
    deleteHorizonMs: nowMs + config['delete.retention.ms'],
    producerExpiryMs: nowMs - (opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS),
    // Read lazily: only a producer batch losing all its records needs it.
    lastBatchOfProducer: () => {
      lastBatches ??= lastProducerBatches(log, segments);
      return lastBatches;
    },
    stats,
  };
  const maxGroupBytes = Math.min(opts.maxGroupBytes ?? config['segment.bytes'], config['segment.bytes']);
  for (const group of groupSegments(segments, maxGroupBytes)) {
    const out: Buffer[] = [];
    let changed = group.length > 1;
    for (const segment of group) {
      const bytes = log.readSegment(segment.baseOffset);
      stats.bytesRead += bytes.length;
      for (let pos = 0; pos < bytes.length; ) {
        const size = batchSize(bytes, pos);
        const result = filterBatch(bytes, pos, size, ctx);
        if (result.changed) changed = true;
        if (result.batch !== null) out.push(result.batch);
        pos += size;
      }
    }
    if (!changed) continue;
    stats.segmentsCleaned += group.length;
    log.replaceSegments(
      group.map((s) => s.baseOffset),
      out,
    );
    stats.segmentsWritten++;
    for (const b of out) stats.bytesWritten += b.length;
  }
}

/**
 * Groups consecutive segments whose total size stays within maxBytes and whose offsets stay
 * within an int32 of the first one's base (Kafka's groupSegmentsBySize).
 */
function groupSegments(segments: SegmentInfo[], maxBytes: number): SegmentInfo[][] {
  const groups: SegmentInfo[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]!];
    let bytes = segments[i]!.sizeBytes;
    i++;
    while (
      i < segments.length &&
      bytes + segments[i]!.sizeBytes <= maxBytes &&
      segments[i]!.nextOffset - 1 - group[0]!.baseOffset <= MAX_SEGMENT_OFFSET_SPAN
    ) {
      bytes += segments[i]!.sizeBytes;
      group.push(segments[i]!);
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/**
 * producer id → base offset of its last batch in these segments (one more read of them; only the
 * headers are parsed). Later batches of the same producer in the uncleanable part are not seen,
 * so this errs on the side of keeping an empty batch.
 */
function lastProducerBatches(log: PartitionLog, segments: SegmentInfo[]): Map<number, number> {
  const last = new Map<number, number>();
  for (const segment of segments) {
    const bytes = log.readSegment(segment.baseOffset);
    for (let pos = 0; pos < bytes.length; pos += batchSize(bytes, pos)) {
      const producerId = batchProducerId(bytes, pos);
      if (producerId >= 0) last.set(producerId, batchBaseOffset(bytes, pos));
    }
  }
  return last;
}

interface FilterContext {
  map: OffsetMap;
  nowMs: number;
  /** The horizon stamped on batches that get their first tombstone-bearing clean now. */
  deleteHorizonMs: number;
  /** Producers whose last batch is older than this have expired. */
  producerExpiryMs: number;
  lastBatchOfProducer: () => Map<number, number>;
  stats: CleanStats;
}

/**
 * The batch at bytes[pos, pos + size) after compaction: the same bytes (a view) when nothing
 * changes, a new batch, or null when nothing of it stays.
 */
function filterBatch(
  bytes: Buffer,
  pos: number,
  size: number,
  ctx: FilterContext,
): { batch: Buffer | null; changed: boolean } {
  const { stats } = ctx;
  stats.batchesRead++;
  const original = bytes.subarray(pos, pos + size);
  if (batchIsControl(bytes, pos)) return { batch: original, changed: false };
  const batch = decodeBatch(bytes, pos);
  const hasHorizon = (batch.attributes & DELETE_HORIZON_FLAG) !== 0;
  const tombstonesExpire = hasHorizon && ctx.nowMs >= batch.baseTimestamp;
  const kept: DecodedRecord[] = [];
  let keptTombstone = false;
  for (const record of batch.records) {
    stats.recordsRead++;
    if (record.key !== null) {
      const latest = ctx.map.get(record.key);
      if (latest > record.offset) continue;
      if (record.value === null) {
        if (tombstonesExpire) {
          stats.tombstonesRemoved++;
          continue;
        }
        keptTombstone = true;
      }
    }
    kept.push(record);
  }
  stats.recordsRetained += kept.length;
  const stampHorizon = keptTombstone && !hasHorizon;
  if (keptTombstone) {
    const horizon = hasHorizon ? batch.baseTimestamp : ctx.deleteHorizonMs;
    if (stats.nextDeleteHorizonMs < 0 || horizon < stats.nextDeleteHorizonMs)
      stats.nextDeleteHorizonMs = horizon;
  }
  if (kept.length === batch.records.length && !stampHorizon) return { batch: original, changed: false };
  if (kept.length === 0) {
    const retainEmpty =
      batch.producerId >= 0 &&
      batch.maxTimestamp >= ctx.producerExpiryMs &&
      ctx.lastBatchOfProducer().get(batch.producerId) === batch.baseOffset;
    return { batch: retainEmpty ? encodeRetained(batch, kept, null) : null, changed: true };
  }
  return { batch: encodeRetained(batch, kept, stampHorizon ? ctx.deleteHorizonMs : null), changed: true };
}

/**
 * Re-encodes a batch with a subset of its records, keeping every header field that matters
 * (base offset, lastOffsetDelta, producer fields, leader epoch, codec, flags) and each record's
 * offset and timestamp. newHorizonMs stamps a delete horizon (KIP-534).
 */
export function encodeRetained(
  batch: BatchHeader,
  records: DecodedRecord[],
  newHorizonMs: number | null,
): Buffer {
  const logAppendTime = batch.timestampType === 1;
  // An empty batch has no records section to compress (Kafka's writeEmptyHeader: codec none).
  let attributes = records.length === 0 ? batch.attributes & ~COMPRESSION_MASK : batch.attributes;
  let baseTimestamp: number;
  if (newHorizonMs !== null) {
    attributes |= DELETE_HORIZON_FLAG;
    baseTimestamp = newHorizonMs;
  } else if ((attributes & DELETE_HORIZON_FLAG) !== 0 || logAppendTime || records.length === 0) {
    baseTimestamp = batch.baseTimestamp;
  } else {
    baseTimestamp = records[0]!.timestamp;
  }
  let maxTimestamp = logAppendTime || records.length === 0 ? batch.maxTimestamp : -1;
  if (!logAppendTime) for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;

  const bodySizes = new Array<number>(records.length);
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const body = recordBodySize(r, r.timestamp - baseTimestamp, r.offset - batch.baseOffset);
    bodySizes[i] = body;
    total += varintSize(body) + body;
  }
  const raw = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    pos = writeRecord(raw, pos, r, r.timestamp - baseTimestamp, r.offset - batch.baseOffset, bodySizes[i]!);
  }
  const body = batch.compression === 0 || records.length === 0 ? raw : compress(batch.compression, raw);
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  body.copy(out, HEADER_SIZE);
  writeBatchHeader(out, 0, out.length, {
    baseOffset: batch.baseOffset,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    attributes,
    lastOffsetDelta: batch.lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    recordCount: records.length,
  });
  return out;
}
