/**
 * Produce and fetch over the partition logs of this node: appends with acks, reads with Kafka's
 * long polling (`max.wait.ms` / `min.bytes`, `max.bytes` per partition and per request), offset
 * lookups. No per-record work on the produce path except for compacted topics, whose records must
 * carry keys.
 *
 * The high watermark: on a single node every appended record is immediately "replicated" to the
 * whole ISR (itself), so the high watermark follows the log end offset; acks=all additionally
 * waits for an fsync (group commit), which is what makes it durable on one machine.
 *
 * In a cluster (`replication` set) the partition's role decides: only its leader takes produce
 * and fetch requests (NOT_LEADER_OR_FOLLOWER otherwise, FENCED_LEADER_EPOCH /
 * UNKNOWN_LEADER_EPOCH for a stale or future currentLeaderEpoch); followers' fetches (replicaId
 * >= 0) move the high watermark, acks=all waits for it (replication/partition.ts). The
 * single-node path pays one null check per partition for this.
 */
import type { Clock, TimerHandle } from '../env/clock.js';
import { LogError, type RecordError } from '../log/errors.js';
import type { PartitionLog } from '../log/log.js';
import type { LogManager } from '../log/log-manager.js';
import { isLeasedReadBuffer, ReadBufferPool, releaseReadBuffer } from '../log/read-buffers.js';
import { ErrorCode } from '../protocol/errors.js';
import { ZERO_COPY_THRESHOLD } from '../protocol/writer.js';
import { batchSize, decodeBatch } from '../records/index.js';
import { errorAnswer } from './kafka-errors.js';
import { failProduceResult, startProduceResult } from './produce-result.js';
import { produceReplicated } from './replication/replicated-produce.js';
import type { ReplicationManager } from './replication/replication-manager.js';

export interface PartitionProduce {
  topic: string;
  partition: number;
  records: Buffer | null;
}

export interface PartitionProduceResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  /** The records that failed the batch, when the check was per record (Produce v8+ record_errors). */
  recordErrors?: readonly RecordError[];
}

export interface PartitionFetch {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch?: number;
}

export interface PartitionFetchResult {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** Whole record batches; null when there is nothing (or an error). */
  records: Buffer | null;
}

export interface FetchParams {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  /** -1 for consumers (read up to the high watermark), a broker id for followers (up to the log end). */
  replicaId: number;
  isolationLevel: number;
  /**
   * Read the records into leased buffers of `readBuffers` (core/log/read-buffers.ts): the caller
   * releases each result's `records` with releaseReadBuffer() once it has been written (the
   * broker connection does so in the socket write's callback). Without it, plain Buffers.
   */
  leaseBuffers?: boolean;
}

export interface OffsetLookup {
  errorCode: number;
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}

/** ListOffsets' special timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;

/** Upper bound on how long a fetch may wait, whatever the client asks. */
const MAX_FETCH_WAIT_MS = 30_000;

type Waiter = () => void;

export class ReplicaManager {
  private readonly waiters = new Map<PartitionLog, Set<Waiter>>();
  /** Reused memory for fetches (FetchParams.leaseBuffers). */
  readonly readBuffers = new ReadBufferPool();
  private closed = false;
  /** Set on a broker of a multi-node cluster; null on a single node. */
  replication: ReplicationManager | null = null;

  constructor(
    private readonly logs: LogManager,
    private readonly clock: Clock,
  ) {}

  private lookup(topic: string, partition: number): PartitionLog {
    return this.logs.getLog(topic, partition);
  }

  async produce(
    entries: readonly PartitionProduce[],
    opts: { acks: number; timeoutMs: number },
  ): Promise<PartitionProduceResult[]> {
    if (this.replication !== null) {
      return produceReplicated(this.replication, entries, opts, {
        leaderCheck: (topic, partition) => this.leaderCheck(topic, partition, -1),
        wake: (log) => this.wake(log),
        requireKeys,
      });
    }
    const { acks } = opts;
    const results: PartitionProduceResult[] = [];
    const toFlush = new Set<PartitionLog>();
    for (const e of entries) {
      const result = startProduceResult(e, acks);
      results.push(result);
      if (result.errorCode !== 0) continue;
      try {
        const log = this.lookup(e.topic, e.partition);
        if (!e.records || e.records.length === 0) {
          throw new LogError(
            'CORRUPT_MESSAGE',
            `produce to ${e.topic}-${e.partition} carried no record batch`,
          );
        }
        if (acks === -1 && log.config['min.insync.replicas'] > 1) {
          result.errorCode = ErrorCode.NOT_ENOUGH_REPLICAS;
          result.errorMessage =
            `${e.topic} requires min.insync.replicas=${log.config['min.insync.replicas']} ` +
            'but this single-node cluster has 1 in-sync replica';
          continue;
        }
        if (log.config['cleanup.policy'].includes('compact')) requireKeys(e.topic, e.records);
        const appended = log.append(e.records, { assignOffsets: true });
        result.baseOffset = appended.firstOffset;
        result.logAppendTime = appended.logAppendTime;
        result.logStartOffset = appended.logStartOffset;
        if (!appended.duplicate) {
          log.setHighWatermark(log.logEndOffset);
          this.wake(log);
        }
        if (acks === -1) toFlush.add(log);
      } catch (err) {
        failProduceResult(result, err);
      }
    }
    if (toFlush.size > 0) {
      await Promise.all(
        [...toFlush].map((log) =>
          log.flush().catch((err: unknown) => {
            for (const r of results) {
              if (r.topic === log.topic && r.partition === log.partition && r.errorCode === 0) {
                r.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
                r.errorMessage = `fsync failed: ${(err as Error).message}`;
              }
            }
          }),
        ),
      );
    }
    return results;
  }

  /** Reads what is there now; waits (long polling) until minBytes arrive or maxWaitMs passes. */
  async fetch(entries: readonly PartitionFetch[], params: FetchParams): Promise<PartitionFetchResult[]> {
    let results = this.readOnce(entries, params);
    const waitMs = Math.min(Math.max(0, params.maxWaitMs), MAX_FETCH_WAIT_MS);
    if (waitMs === 0 || this.closed || enough(results, params.minBytes)) return results;
    const logs: PartitionLog[] = [];
    for (const e of entries) {
      try {
        logs.push(this.lookup(e.topic, e.partition));
      } catch {
        // reported by readOnce
      }
    }
    const deadline = this.clock.monotonic() + waitMs;
    while (!this.closed) {
      const remaining = deadline - this.clock.monotonic();
      if (remaining <= 0) break;
      const woken = await this.waitForData(logs, remaining);
      releaseRecords(results);
      results = this.readOnce(entries, params);
      if (!woken || enough(results, params.minBytes)) break;
    }
    return results;
  }

  private readOnce(entries: readonly PartitionFetch[], params: FetchParams): PartitionFetchResult[] {
    let budget = Math.max(0, params.maxBytes);
    let first = true;
    const buffers = params.leaseBuffers === true ? this.readBuffers : undefined;
    const out: PartitionFetchResult[] = [];
    for (const e of entries) {
      const r: PartitionFetchResult = {
        topic: e.topic,
        partition: e.partition,
        errorCode: 0,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        records: null,
      };
      out.push(r);
      try {
        if (this.replication !== null) {
          r.errorCode = this.checkLeader(this.replication, e, params.replicaId);
          if (r.errorCode !== 0) continue;
        }
        const log = this.lookup(e.topic, e.partition);
        r.highWatermark = log.highWatermark;
        r.lastStableOffset = log.highWatermark; // no open transactions: the LSO is the high watermark
        r.logStartOffset = log.logStartOffset;
        const maxOffset = params.replicaId >= 0 ? log.logEndOffset : log.highWatermark;
        if (e.fetchOffset === maxOffset && e.fetchOffset >= log.logStartOffset) continue;
        const maxBytes = Math.min(Math.max(0, e.partitionMaxBytes), budget);
        if (maxBytes === 0 && !first) continue;
        const read = log.read(e.fetchOffset, maxBytes, { maxOffset, minOneBatch: first, buffers });
        if (read.sizeBytes > 0) {
          r.records =
            read.records.length === 1 ? read.records[0]! : concatReleasing(read.records, read.sizeBytes);
          // Bytes this small are copied into the response by the encoder, which would lose the lease.
          if (r.records.length < ZERO_COPY_THRESHOLD && isLeasedReadBuffer(r.records)) {
            const leased = r.records;
            r.records = Buffer.from(leased);
            releaseReadBuffer(leased);
          }
          budget = Math.max(0, budget - read.sizeBytes);
          first = false;
        }
      } catch (err) {
        r.errorCode = errorAnswer(err).errorCode;
      }
    }
    return out;
  }

  private waitForData(logs: readonly PartitionLog[], timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = (woken: boolean): void => {
        timer?.cancel();
        for (const log of logs) this.waiters.get(log)?.delete(waiter);
        resolve(woken);
      };
      const waiter: Waiter = () => done(true);
      for (const log of logs) {
        let set = this.waiters.get(log);
        if (!set) {
          set = new Set();
          this.waiters.set(log, set);
        }
        set.add(waiter);
      }
      timer = this.clock.setTimeout(() => done(false), timeoutMs);
    });
  }

  /** Tells fetches waiting on this log that data arrived (or the high watermark moved). */
  wake(log: PartitionLog): void {
    const set = this.waiters.get(log);
    if (!set || set.size === 0) return;
    this.waiters.delete(log);
    for (const w of set) w();
  }

  listOffset(
    topic: string,
    partition: number,
    timestamp: number,
    isolationLevel: number,
    currentLeaderEpoch = -1,
  ): OffsetLookup {
    try {
      if (this.replication !== null) {
        const code = this.leaderCheck(topic, partition, currentLeaderEpoch);
        if (code !== 0) return { errorCode: code, timestamp: -1, offset: -1, leaderEpoch: -1 };
      }
      const log = this.lookup(topic, partition);
      const epoch = log.latestEpoch;
      if (timestamp === EARLIEST_TIMESTAMP) {
        return { errorCode: 0, timestamp: -1, offset: log.logStartOffset, leaderEpoch: epoch };
      }
      if (timestamp === LATEST_TIMESTAMP) {
        // read_committed and read_uncommitted agree while there are no transactions
        void isolationLevel;
        return { errorCode: 0, timestamp: -1, offset: log.highWatermark, leaderEpoch: epoch };
      }
      if (timestamp === MAX_TIMESTAMP) {
        const found = maxTimestampOffset(log);
        return { errorCode: 0, ...found, leaderEpoch: epoch };
      }
      const found = log.offsetForTimestamp(timestamp);
      if (!found || found.offset >= log.highWatermark) {
        return { errorCode: 0, timestamp: -1, offset: -1, leaderEpoch: epoch };
      }
      return { errorCode: 0, timestamp: found.timestamp, offset: found.offset, leaderEpoch: epoch };
    } catch (err) {
      return { errorCode: errorAnswer(err).errorCode, timestamp: -1, offset: -1, leaderEpoch: -1 };
    }
  }

  /**
   * In a cluster: 0 when this broker leads the partition at currentLeaderEpoch (-1: any),
   * else NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, or
   * UNKNOWN_TOPIC_OR_PARTITION. Always 0 on a single node.
   */
  leaderCheck(topic: string, partition: number, currentLeaderEpoch: number): number {
    const repl = this.replication;
    if (repl === null) return 0;
    const p = repl.partition(topic, partition);
    if (!p) {
      return this.logs.topic(topic) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    const epochError = p.checkEpoch(currentLeaderEpoch);
    if (epochError !== 0) return epochError;
    return p.role === 'leader' ? 0 : ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }

  private checkLeader(repl: ReplicationManager, e: PartitionFetch, replicaId: number): number {
    const code = this.leaderCheck(e.topic, e.partition, e.currentLeaderEpoch ?? -1);
    if (code === 0 && replicaId >= 0)
      repl.partition(e.topic, e.partition)!.updateFollower(replicaId, e.fetchOffset);
    return code;
  }

  close(): void {
    this.closed = true;
    for (const set of this.waiters.values()) for (const w of set) w();
    this.waiters.clear();
  }
}

/** Gives back the leased read buffers of results that will not be sent. */
export function releaseRecords(results: readonly PartitionFetchResult[]): void {
  for (const r of results) if (r.records !== null) releaseReadBuffer(r.records);
}

/** One Buffer of the parts (a read that spanned segments); leased parts go back at once. */
function concatReleasing(parts: readonly Buffer[], size: number): Buffer {
  const all = Buffer.concat(parts, size);
  for (const part of parts) releaseReadBuffer(part);
  return all;
}

function enough(results: readonly PartitionFetchResult[], minBytes: number): boolean {
  let bytes = 0;
  for (const r of results) {
    if (r.errorCode !== 0) return true;
    if (r.records) bytes += r.records.length;
  }
  return bytes >= Math.max(1, minBytes);
}

/** Kafka refuses records without a key on compacted topics: the cleaner could never remove them. */
export function requireKeys(topic: string, records: Buffer): void {
  for (let pos = 0; pos + 61 <= records.length; ) {
    const size = batchSize(records, pos);
    const batch = decodeBatch(records, pos);
    if (!batch.isControl) {
      for (const r of batch.records) {
        if (r.key === null) {
          throw new LogError(
            'INVALID_RECORD',
            `topic ${topic} is compacted (cleanup.policy=compact): every record needs a key, ` +
              `but the record at offset delta ${r.offset - batch.baseOffset} has none`,
          );
        }
      }
    }
    pos += size;
  }
}

function maxTimestampOffset(log: PartitionLog): { timestamp: number; offset: number } {
  let best = { timestamp: -1, offset: -1 };
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const read = log.read(offset, 1 << 20, { maxOffset: log.highWatermark, minOneBatch: true });
    if (read.sizeBytes === 0) break;
    for (const chunk of read.records) {
      for (let pos = 0; pos + 61 <= chunk.length; ) {
        const batch = decodeBatch(chunk, pos);
        for (const r of batch.records)
          if (r.timestamp > best.timestamp) best = { timestamp: r.timestamp, offset: r.offset };
        offset = batch.baseOffset + batch.lastOffsetDelta + 1;
        pos += batchSize(chunk, pos);
      }
    }
  }
  return best;
}
