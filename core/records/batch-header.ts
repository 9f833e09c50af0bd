/**
 * Record batch v2 header: 61 bytes, big-endian, at the start of every batch.
 *
 *   0  baseOffset            int64   rewritten by the broker on append (not under the CRC)
 *   8  batchLength           int32   bytes after this field: whole batch = 12 + batchLength
 *  12  partitionLeaderEpoch  int32   rewritten by the broker (not under the CRC)
 *  16  magic                 int8    2
 *  17  crc                   uint32  CRC-32C of bytes 21 .. end of batch
 *  21  attributes            int16   bits 0-2 codec, 3 LogAppendTime, 4 transactional,
 *                                    5 control, 6 baseTimestamp is the delete horizon
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64   first record's timestamp; record deltas are relative to it
 *  35  maxTimestamp          int64
 *  43  producerId            int64
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordCount           int32
 *  61  records               (compressed as a whole when the codec is not none)
 *
 * Accessors read at (buf, pos) without checks: validate a batch before trusting its fields.
 * int64 fields are JS numbers (exact within ±2^53).
 */
import { crc32c } from './crc32c.js';

export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORDS_COUNT = 57;
export const RECORDS = 61;
export const HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
/** Smallest legal batchLength: the header after the length field, with no records. */
export const MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD;
export const CURRENT_MAGIC = 2;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_FLAG = 0x08;
export const TRANSACTIONAL_FLAG = 0x10;
export const CONTROL_FLAG = 0x20;
export const DELETE_HORIZON_FLAG = 0x40;

export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

/** All header fields of one batch, decoded. */
export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

const TWO_POW_32 = 4294967296;

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

/** Writes a safe integer as int64; throws RangeError outside ±2^63. */
export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_POW_32, pos + 4);
}

export const batchBaseOffset = (buf: Buffer, pos: number): number => readInt64(buf, pos + BASE_OFFSET);
export const batchLength = (buf: Buffer, pos: number): number => buf.readInt32BE(pos + BATCH_LENGTH);
/** Whole batch size in bytes: LOG_OVERHEAD + batchLength. */
export const batchSize = (buf: Buffer, pos: number): number =>
  LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH);
export const batchPartitionLeaderEpoch = (buf: Buffer, pos: number): number =>
  buf.readInt32BE(pos + PARTITION_LEADER_EPOCH);
export const batchMagic = (buf: Buffer, pos: number): number => buf.readInt8(pos + MAGIC);
export const batchCrc = (buf: Buffer, pos: number): number => buf.readUInt32BE(pos + CRC);
export const batchAttributes = (buf: Buffer, pos: number): number => buf.readInt16BE(pos + ATTRIBUTES);
export const batchCompression = (buf: Buffer, pos: number): number =>
  buf[pos + ATTRIBUTES + 1]! & COMPRESSION_MASK;
export const batchTimestampType = (buf: Buffer, pos: number): TimestampType =>
  buf[pos + ATTRIBUTES + 1]! & TIMESTAMP_TYPE_FLAG ? 1 : 0;
export const batchIsTransactional = (buf: Buffer, pos: number): boolean =>
  (buf[pos + ATTRIBUTES + 1]! & TRANSACTIONAL_FLAG) !== 0;
export const batchIsControl = (buf: Buffer, pos: number): boolean =>
  (buf[pos + ATTRIBUTES + 1]! & CONTROL_FLAG) !== 0;
export const batchHasDeleteHorizon = (buf: Buffer, pos: number): boolean =>
  (buf[pos + ATTRIBUTES + 1]! & DELETE_HORIZON_FLAG) !== 0;
export const batchLastOffsetDelta = (buf: Buffer, pos: number): number =>
  buf.readInt32BE(pos + LAST_OFFSET_DELTA);
export const batchLastOffset = (buf: Buffer, pos: number): number =>
  readInt64(buf, pos + BASE_OFFSET) + buf.readInt32BE(pos + LAST_OFFSET_DELTA);
export const batchBaseTimestamp = (buf: Buffer, pos: number): number => readInt64(buf, pos + BASE_TIMESTAMP);
export const batchMaxTimestamp = (buf: Buffer, pos: number): number => readInt64(buf, pos + MAX_TIMESTAMP);
export const batchProducerId = (buf: Buffer, pos: number): number => readInt64(buf, pos + PRODUCER_ID);
export const batchProducerEpoch = (buf: Buffer, pos: number): number => buf.readInt16BE(pos + PRODUCER_EPOCH);
export const batchBaseSequence = (buf: Buffer, pos: number): number => buf.readInt32BE(pos + BASE_SEQUENCE);
export const batchRecordCount = (buf: Buffer, pos: number): number => buf.readInt32BE(pos + RECORDS_COUNT);

/** Sets baseOffset (outside the CRC: no recomputation). */
export function setBatchBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + BASE_OFFSET, offset);
}

/** Sets partitionLeaderEpoch (outside the CRC: no recomputation). */
export function setBatchPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH);
}

/**
 * Stamps a LogAppendTime: sets the timestamp-type bit and maxTimestamp, then recomputes
 * the CRC, which covers both. Records then read their timestamp from maxTimestamp.
 */
export function setBatchMaxTimestampAndLogAppendTime(buf: Buffer, pos: number, timestamp: number): void {
  buf[pos + ATTRIBUTES + 1] = buf[pos + ATTRIBUTES + 1]! | TIMESTAMP_TYPE_FLAG;
  writeInt64(buf, pos + MAX_TIMESTAMP, timestamp);
  updateBatchCrc(buf, pos);
}

/**
 * Makes a batch CreateTime: clears the timestamp-type bit, sets maxTimestamp, then recomputes
 * the CRC. Records then read their own timestamps (baseTimestamp + delta).
 */
export function setBatchMaxTimestampAndCreateTime(buf: Buffer, pos: number, timestamp: number): void {
  buf[pos + ATTRIBUTES + 1] = buf[pos + ATTRIBUTES + 1]! & ~TIMESTAMP_TYPE_FLAG;
  writeInt64(buf, pos + MAX_TIMESTAMP, timestamp);
  updateBatchCrc(buf, pos);
}

/** Recomputes and stores the CRC of the batch at pos (its batchLength must be right). */
export function updateBatchCrc(buf: Buffer, pos: number): void {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH);
  buf.writeUInt32BE(crc32c(buf, pos + ATTRIBUTES, end), pos + CRC);
}

export function readBatchHeader(buf: Buffer, pos: number): BatchHeader {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES);
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET),
    batchLength: buf.readInt32BE(pos + BATCH_LENGTH),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH),
    magic: buf.readInt8(pos + MAGIC),
    crc: buf.readUInt32BE(pos + CRC),
    attributes,
    compression: attributes & COMPRESSION_MASK,
    timestampType: attributes & TIMESTAMP_TYPE_FLAG ? 1 : 0,
    isTransactional: (attributes & TRANSACTIONAL_FLAG) !== 0,
    isControl: (attributes & CONTROL_FLAG) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    producerId: readInt64(buf, pos + PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
    recordCount: buf.readInt32BE(pos + RECORDS_COUNT),
  };
}

/** Header fields an encoder chooses; the length and CRC follow from the bytes. */
export interface HeaderFields {
  baseOffset: number;
  partitionLeaderEpoch: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/**
 * Writes the header of a batch occupying buf[pos, end) whose records are already in
 * place from pos + RECORDS, then its CRC.
 */
export function writeBatchHeader(buf: Buffer, pos: number, end: number, h: HeaderFields): void {
  writeInt64(buf, pos + BASE_OFFSET, h.baseOffset);
  buf.writeInt32BE(end - pos - LOG_OVERHEAD, pos + BATCH_LENGTH);
  buf.writeInt32BE(h.partitionLeaderEpoch, pos + PARTITION_LEADER_EPOCH);
  buf[pos + MAGIC] = CURRENT_MAGIC;
  buf.writeInt16BE(h.attributes, pos + ATTRIBUTES);
  buf.writeInt32BE(h.lastOffsetDelta, pos + LAST_OFFSET_DELTA);
  writeInt64(buf, pos + BASE_TIMESTAMP, h.baseTimestamp);
  writeInt64(buf, pos + MAX_TIMESTAMP, h.maxTimestamp);
  writeInt64(buf, pos + PRODUCER_ID, h.producerId);
  buf.writeInt16BE(h.producerEpoch, pos + PRODUCER_EPOCH);
  buf.writeInt32BE(h.baseSequence, pos + BASE_SEQUENCE);
  buf.writeInt32BE(h.recordCount, pos + RECORDS_COUNT);
  buf.writeUInt32BE(crc32c(buf, pos + ATTRIBUTES, end), pos + CRC);
}
