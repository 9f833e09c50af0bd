/**
 * Where group state is persisted: the compacted topic `__consumer_offsets`.
 *
 * - {@link GroupStorage}: the injected append/read interface (the coordinator does not know the
 *   log). Two implementations: {@link MemoryGroupStorage} (tests, throwaway embedded use) and
 *   {@link logGroupStorage} (record batches v2 in partition logs).
 * - {@link partitionForGroup}: Kafka's group → partition mapping, so a group lands on the same
 *   `__consumer_offsets` partition as on a Kafka broker.
 * - Record builders for the four record kinds, and {@link loadPartition}, which replays a
 *   partition into the last state of every group and offset (tombstones applied).
 * - {@link OffsetsStore}: what the coordinator writes and loads (Kafka's GroupMetadataManager
 *   role): group records, offset commits, tombstones, and groups rebuilt from the log.
 *
 * Ordering contract: appends to one partition are applied in call order (the coordinator
 * relies on it: a later record for a key wins on reload, as it does under compaction).
 */

import type { Clock } from '../env/clock.js';
import {
  batchIsControl,
  batchLastOffset,
  batchSize,
  decodeBatches,
  encodeBatch,
  HEADER_SIZE,
  LOG_OVERHEAD,
} from '../records/index.js';
import { ClassicGroup, GroupMember, type OffsetAndMetadata } from './group.js';
import { ErrorCode, groupAppendError, offsetAppendError } from './group-errors.js';
import {
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from './group-metadata-codec.js';

export const OFFSETS_TOPIC = '__consumer_offsets';
/** Kafka's `offsets.topic.num.partitions` default. */
export const DEFAULT_OFFSETS_TOPIC_PARTITIONS = 50;

export interface StorageRecord {
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
  timestamp: number;
}

export interface StoredRecord {
  key: Buffer | null;
  value: Buffer | null;
  offset: number;
}

export interface GroupStorage {
  /** Number of `__consumer_offsets` partitions (`offsets.topic.num.partitions`). */
  partitionCount: number;
  /** Appends records to a __consumer_offsets partition; resolves when durable (acks=all). */
  append(partition: number, records: StorageRecord[]): Promise<void>;
  /** Every record of a partition from its start, for loading on startup. */
  readAll(partition: number): AsyncIterable<StoredRecord>;
}

// ---------------------------------------------------------------------------------------------
// group → partition

/** Java's String.hashCode (over UTF-16 code units, int32 overflow). */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** `Utils.abs(groupId.hashCode) % partitionCount`, with Kafka's abs(Integer.MIN_VALUE) = 0. */
export function partitionForGroup(groupId: string, partitionCount: number): number {
  const h = javaStringHashCode(groupId);
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitionCount;
}

// ---------------------------------------------------------------------------------------------
// records

export function offsetCommitRecord(
  groupId: string,
  topic: string,
  partition: number,
  offset: OffsetAndMetadata,
  timestamp: number,
): StorageRecord {
  return {
    key: encodeOffsetCommitKey({ group: groupId, topic, partition }),
    value: encodeOffsetCommitValue({
      offset: offset.committedOffset,
      leaderEpoch: offset.leaderEpoch,
      metadata: offset.metadata,
      commitTimestamp: offset.commitTimestampMs,
      expireTimestamp: offset.expireTimestampMs,
    }),
    timestamp,
  };
}

export function offsetTombstone(
  groupId: string,
  topic: string,
  partition: number,
  timestamp: number,
): StorageRecord {
  return { key: encodeOffsetCommitKey({ group: groupId, topic, partition }), value: null, timestamp };
}

export function groupMetadataRecord(
  groupId: string,
  value: GroupMetadataValue,
  timestamp: number,
): StorageRecord {
  return {
    key: encodeGroupMetadataKey({ group: groupId }),
    value: encodeGroupMetadataValue(value),
    timestamp,
  };
}

export function groupTombstone(groupId: string, timestamp: number): StorageRecord {
  return { key: encodeGroupMetadataKey({ group: groupId }), value: null, timestamp };
}

// ---------------------------------------------------------------------------------------------
// loading

/** The state of one partition after replaying it. */
export interface LoadedPartition {
  /** Groups whose last group record is not a tombstone. */
  groups: Map<string, GroupMetadataValue>;
  /** groupId → topic → partition → offset (tombstoned offsets removed). */
  offsets: Map<string, Map<string, Map<number, OffsetAndMetadata>>>;
  /** Groups whose last group record is a tombstone. */
  removedGroups: Set<string>;
  /** Records that could not be decoded or had an unknown key version (skipped, as Kafka does). */
  skipped: { offset: number; reason: string }[];
}

/** Replays a partition: later records for a key replace earlier ones, tombstones delete. */
export async function loadPartition(storage: GroupStorage, partition: number): Promise<LoadedPartition> {
  const out: LoadedPartition = {
    groups: new Map(),
    offsets: new Map(),
    removedGroups: new Set(),
    skipped: [],
  };
  for await (const rec of storage.readAll(partition)) {
    if (rec.key === null) {
      out.skipped.push({ offset: rec.offset, reason: 'null key' });
      continue;
    }
    try {
      applyRecord(out, rec.key, rec.value);
    } catch (err) {
      out.skipped.push({ offset: rec.offset, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

function applyRecord(out: LoadedPartition, keyBytes: Buffer, value: Buffer | null): void {
  const key = decodeCoordinatorKey(keyBytes);
  if (key.type === 'offsetCommit') {
    const { group, topic, partition } = key.key;
    let byTopic = out.offsets.get(group);
    if (value === null) {
      const parts = byTopic?.get(topic);
      parts?.delete(partition);
      if (parts?.size === 0) byTopic!.delete(topic);
      if (byTopic?.size === 0) out.offsets.delete(group);
      return;
    }
    const v = decodeOffsetCommitValue(value);
    if (!byTopic) {
      byTopic = new Map();
      out.offsets.set(group, byTopic);
    }
    let parts = byTopic.get(topic);
    if (!parts) {
      parts = new Map();
      byTopic.set(topic, parts);
    }
    parts.set(partition, {
      committedOffset: v.offset,
      leaderEpoch: v.leaderEpoch,
      metadata: v.metadata,
      commitTimestampMs: v.commitTimestamp,
      expireTimestampMs: v.expireTimestamp,
    });
  } else if (key.type === 'groupMetadata') {
    const group = key.key.group;
    if (value === null) {
      out.groups.delete(group);
      out.removedGroups.add(group);
    } else {
      out.groups.set(group, decodeGroupMetadataValue(value));
      out.removedGroups.delete(group);
    }
  } else {
    throw new Error(`unknown key version ${key.version}`);
  }
}

// ---------------------------------------------------------------------------------------------
// the coordinator's persistence

const EMPTY_BYTES = Buffer.alloc(0);

export interface OffsetsStoreLogger {
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

/** One partition's commit: its offset and, once stored (or refused), its error code. */
export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: OffsetAndMetadata;
  errorCode: number;
}

/**
 * Reads and writes group state in `__consumer_offsets` for the coordinator. Appends return the
 * Kafka error code a client should see (NONE when durable); nothing here throws on a failed
 * append.
 */
export class OffsetsStore {
  /** Orders offset commits: a later commit's completion always wins over an earlier one's. */
  private commitSeq = 0;

  constructor(
    readonly storage: GroupStorage,
    private readonly clock: Clock,
    private readonly log: OffsetsStoreLogger,
    private readonly offsetMetadataMaxBytes: number,
  ) {}

  get partitionCount(): number {
    return this.storage.partitionCount;
  }

  /** The `__consumer_offsets` partition of a group. */
  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.storage.partitionCount);
  }

  /**
   * Replays a partition into groups: those with a group record (Stable with their members, or
   * Empty) and those that only have offsets (Empty, e.g. simple consumers), offsets included.
   */
  async loadGroups(partition: number): Promise<ClassicGroup[]> {
    const loaded = await loadPartition(this.storage, partition);
    for (const s of loaded.skipped) {
      this.log.warn(`${OFFSETS_TOPIC}-${partition} offset ${s.offset}: record skipped (${s.reason})`);
    }
    const groups: ClassicGroup[] = [];
    for (const [groupId, value] of loaded.groups) {
      if (this.partitionFor(groupId) === partition) groups.push(groupFromRecord(groupId, value));
    }
    for (const groupId of loaded.offsets.keys()) {
      if (!loaded.groups.has(groupId) && this.partitionFor(groupId) === partition) {
        groups.push(new ClassicGroup(groupId, 'Empty', this.clock.now()));
      }
    }
    for (const group of groups) {
      for (const [topic, parts] of loaded.offsets.get(group.groupId) ?? []) {
        for (const [p, o] of parts) group.initializeOffset(topic, p, o);
      }
    }
    return groups;
  }

  /** Writes the group's metadata record with the given assignment. */
  async storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
    let record: StorageRecord;
    try {
      const protocol = group.protocolName;
      record = groupMetadataRecord(
        group.groupId,
        {
          protocolType: group.protocolType ?? '',
          generation: group.generationId,
          protocol,
          leader: group.leaderId,
          currentStateTimestamp: group.currentStateTimestampMs ?? -1,
          members: [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            rebalanceTimeout: m.rebalanceTimeoutMs,
            sessionTimeout: m.sessionTimeoutMs,
            subscription: protocol === null ? EMPTY_BYTES : m.metadata(protocol),
            assignment: assignment.get(m.memberId) ?? EMPTY_BYTES,
          })),
        },
        this.clock.now(),
      );
    } catch (err) {
      this.log.error(`group ${group.groupId}: cannot encode group metadata`, err);
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    }
    try {
      await this.storage.append(this.partitionFor(group.groupId), [record]);
      return ErrorCode.NONE;
    } catch (err) {
      return groupAppendError(err);
    }
  }

  /**
   * Writes commits in one append (atomic, as in Kafka) and puts them in the group's cache once
   * durable. Sets each entry's error code: OFFSET_METADATA_TOO_LARGE for metadata over
   * `offset.metadata.max.bytes`, the append's error if it failed.
   */
  async storeOffsets(group: ClassicGroup, entries: readonly OffsetCommitEntry[]): Promise<void> {
    const accepted: OffsetCommitEntry[] = [];
    for (const e of entries) {
      if (Buffer.byteLength(e.offset.metadata, 'utf8') > this.offsetMetadataMaxBytes) {
        e.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      } else {
        accepted.push(e);
      }
    }
    if (accepted.length === 0) return;
    const now = this.clock.now();
    const records = accepted.map((e) =>
      offsetCommitRecord(group.groupId, e.topic, e.partition, e.offset, now),
    );
    const seq = ++this.commitSeq;
    for (const e of accepted) group.prepareOffsetCommit(e.topic, e.partition);
    try {
      await this.storage.append(this.partitionFor(group.groupId), records);
    } catch (err) {
      const code = offsetAppendError(err);
      this.log.warn(`group ${group.groupId}: offset commit failed to append (error ${code})`);
      for (const e of accepted) {
        group.failPendingOffsetWrite(e.topic, e.partition);
        e.errorCode = code;
      }
      return;
    }
    if (group.is('Dead')) return;
    for (const e of accepted) group.onOffsetCommitAppend(e.topic, e.partition, e.offset, seq);
  }

  /** Tombstones for removed offsets and, with `groupToo`, for the group record. */
  async appendTombstones(
    groupId: string,
    removed: readonly { topic: string; partition: number }[],
    groupToo: boolean,
  ): Promise<number> {
    const now = this.clock.now();
    const tombstones = removed.map((r) => offsetTombstone(groupId, r.topic, r.partition, now));
    if (groupToo) tombstones.push(groupTombstone(groupId, now));
    if (tombstones.length === 0) return ErrorCode.NONE;
    try {
      await this.storage.append(this.partitionFor(groupId), tombstones);
      return ErrorCode.NONE;
    } catch (err) {
      const code = groupAppendError(err);
      this.log.warn(`group ${groupId}: tombstones failed to append (error ${code})`);
      return code;
    }
  }
}

/** A group as its last group record describes it: Stable with its members, or Empty. */
function groupFromRecord(groupId: string, v: GroupMetadataValue): ClassicGroup {
  const group = new ClassicGroup(
    groupId,
    v.members.length > 0 ? 'Stable' : 'Empty',
    v.currentStateTimestamp === -1 ? null : v.currentStateTimestamp,
  );
  group.generationId = v.generation;
  group.protocolType = v.protocolType === '' ? null : v.protocolType;
  group.protocolName = v.protocol;
  group.leaderId = v.leader;
  for (const m of v.members) {
    const member = new GroupMember({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeout,
      sessionTimeoutMs: m.sessionTimeout,
      protocolType: v.protocolType,
      supportedProtocols: [{ name: v.protocol ?? '', metadata: m.subscription }],
      assignment: m.assignment,
    });
    group.add(member, null);
  }
  return group;
}

// ---------------------------------------------------------------------------------------------
// implementations

/** Keeps records in memory, per partition, in append order. Nothing survives the process. */
export class MemoryGroupStorage implements GroupStorage {
  readonly partitionCount: number;
  private readonly partitions: StoredRecord[][];

  constructor(partitionCount = DEFAULT_OFFSETS_TOPIC_PARTITIONS) {
    if (!Number.isInteger(partitionCount) || partitionCount < 1) {
      throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
    }
    this.partitionCount = partitionCount;
    this.partitions = Array.from({ length: partitionCount }, () => []);
  }

  async append(partition: number, records: StorageRecord[]): Promise<void> {
    const log = this.log(partition);
    for (const r of records) log.push({ key: r.key, value: r.value, offset: log.length });
  }

  async *readAll(partition: number): AsyncIterable<StoredRecord> {
    // A snapshot: records appended while loading are not part of the load.
    yield* this.log(partition).slice();
  }

  /** The records of a partition (for tests and tools). */
  records(partition: number): readonly StoredRecord[] {
    return this.log(partition);
  }

  private log(partition: number): StoredRecord[] {
    const log = this.partitions[partition];
    if (!log) throw new RangeError(`no ${OFFSETS_TOPIC} partition ${partition} (of ${this.partitionCount})`);
    return log;
  }
}

/** The part of a partition log that {@link logGroupStorage} uses (PartitionLog satisfies it). */
export interface GroupLog {
  append(records: Buffer): unknown;
  /** Resolves when everything appended so far is durable. */
  flush(): Promise<void>;
  read(
    fetchOffset: number,
    maxBytes: number,
    opts?: { minOneBatch?: boolean; maxOffset?: number },
  ): { records: Buffer[]; logEndOffset: number };
  readonly logStartOffset?: number;
  /**
   * A replicated partition (a cluster): appends one record batch and resolves once the in-sync
   * replicas hold it (acks=all), or rejects with an error carrying Kafka's error code. Used
   * instead of append + flush when present.
   */
  appendReplicated?(records: Buffer): Promise<void>;
  /**
   * A replicated partition: where a load stops reading (the high watermark, once it covers
   * everything the log held when this broker became its leader), or null when the load must be
   * given up (this broker no longer leads the partition). Absent: the whole log is read.
   */
  loadEnd?(): Promise<number | null>;
}

/** A load given up because the partition's storage stopped being this broker's (leadership moved). */
export class LoadAbandoned extends Error {
  override readonly name = 'LoadAbandoned';
}

export interface LogGroupStorageOptions {
  /** `offsets.topic.num.partitions`; default 50. */
  partitionCount?: number;
  /** Bytes per read while loading (Kafka's `offsets.load.buffer.size`, default 5 MiB). */
  loadBufferBytes?: number;
}

/**
 * A GroupStorage over `__consumer_offsets` partition logs: each append is one uncompressed
 * record batch (so a multi-partition commit is atomic, as in Kafka), made durable by flush()
 * on a single node, or by `appendReplicated` (the in-sync replicas hold it) in a cluster. A
 * load reads the whole log, or up to `loadEnd()` when the log has it (a replicated partition:
 * only what the in-sync replicas hold).
 */
export function logGroupStorage(
  getLog: (partition: number) => GroupLog,
  options: LogGroupStorageOptions = {},
): GroupStorage {
  const partitionCount = options.partitionCount ?? DEFAULT_OFFSETS_TOPIC_PARTITIONS;
  const loadBufferBytes = options.loadBufferBytes ?? 5 * 1024 * 1024;
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  return {
    partitionCount,
    async append(partition, records) {
      if (records.length === 0) return;
      const log = getLog(partition);
      const now = records[records.length - 1]!.timestamp;
      const batch = encodeBatch(records, { now });
      if (log.appendReplicated) {
        await log.appendReplicated(batch);
        return;
      }
      log.append(batch);
      await log.flush();
    },
    async *readAll(partition) {
      const log = getLog(partition);
      let end: number | undefined;
      if (log.loadEnd) {
        const e = await log.loadEnd();
        if (e === null) throw new LoadAbandoned(`${OFFSETS_TOPIC}-${partition} is no longer led here`);
        end = e;
      }
      let offset = log.logStartOffset ?? 0;
      for (;;) {
        if (end !== undefined && offset >= end) return;
        const res = log.read(
          offset,
          loadBufferBytes,
          end === undefined ? { minOneBatch: true } : { minOneBatch: true, maxOffset: end },
        );
        if (offset >= res.logEndOffset || res.records.length === 0) return;
        let progressed = false;
        for (const chunk of res.records) {
          // A chunk may hold several batches; a partial trailing batch is re-read next time.
          for (let pos = 0; pos + LOG_OVERHEAD <= chunk.length; ) {
            if (pos + HEADER_SIZE > chunk.length || pos + batchSize(chunk, pos) > chunk.length) break;
            const size = batchSize(chunk, pos);
            const next = batchLastOffset(chunk, pos) + 1;
            if (next > offset && !batchIsControl(chunk, pos)) {
              for (const batch of decodeBatches(chunk, pos, pos + size)) {
                for (const r of batch.records) {
                  if (r.offset >= offset) yield { key: r.key, value: r.value, offset: r.offset };
                }
              }
            }
            if (next > offset) {
              offset = next;
              progressed = true;
            }
            pos += size;
          }
        }
        if (!progressed) return;
      }
    },
  };
}
