/**
 * The record formats of `__consumer_offsets`, byte-compatible with Kafka's
 * (group-coordinator/src/main/resources/common/message/{OffsetCommit,GroupMetadata}{Key,Value}.json).
 *
 * Every key and value starts with an int16 version; the fields follow in Kafka's classic
 * encoding (int16-length strings, -1 for null; int32-length bytes; int32-count arrays), or,
 * for the flexible versions (values v4+), compact strings/bytes/arrays and tagged fields.
 *
 * Key versions say what the record is:
 *   0, 1 → OffsetCommitKey   { group, topic, partition }
 *   2    → GroupMetadataKey  { group }
 *   other → unknown (Kafka ignores them when loading; so do we)
 * A null value is a tombstone (offset deleted/expired, group deleted).
 *
 * We write what Kafka 2.3+ writes: OffsetCommitKey v1, OffsetCommitValue v3 (v1 when the
 * commit carries an explicit expire timestamp, OffsetCommit v2–v4 `retentionTimeMs`),
 * GroupMetadataKey v2, GroupMetadataValue v3. All versions 0–4 of the values are read.
 */
import { ProtocolError } from '../protocol/errors.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** The value version that carries `expireTimestamp`. */
export const OFFSET_COMMIT_VALUE_EXPIRE_VERSION = 1;
export const GROUP_METADATA_VALUE_VERSION = 3;
const MAX_VALUE_VERSION = 4;
const FIRST_FLEXIBLE_VALUE_VERSION = 4;

export interface OffsetCommitKey {
  group: string;
  topic: string;
  partition: number;
}

export interface OffsetCommitValue {
  offset: number;
  /** -1 when unknown (versions before 3 do not carry it). */
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Only version 1 carries it; -1 otherwise. */
  expireTimestamp: number;
}

export interface GroupMetadataKey {
  group: string;
}

export interface GroupMetadataMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  /** -1 when unknown (versions before 2). */
  currentStateTimestamp: number;
  members: GroupMetadataMember[];
}

export type CoordinatorKey =
  | { type: 'offsetCommit'; version: number; key: OffsetCommitKey }
  | { type: 'groupMetadata'; version: number; key: GroupMetadataKey }
  | { type: 'unknown'; version: number };

// ---------------------------------------------------------------------------------------------
// keys

export function encodeOffsetCommitKey(key: OffsetCommitKey, version = OFFSET_COMMIT_KEY_VERSION): Buffer {
  if (version !== 0 && version !== 1) throw invalid(`OffsetCommitKey version ${version}`);
  return encode(64, (w) => w.int16(version).string(key.group).string(key.topic).int32(key.partition));
}

export function encodeGroupMetadataKey(key: GroupMetadataKey): Buffer {
  return encode(64, (w) => w.int16(GROUP_METADATA_KEY_VERSION).string(key.group));
}

/** Decodes a record key. Throws ProtocolError on malformed bytes. */
export function decodeCoordinatorKey(buf: Buffer): CoordinatorKey {
  const r = new Reader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) {
    return {
      type: 'offsetCommit',
      version,
      key: { group: r.string(), topic: r.string(), partition: r.int32() },
    };
  }
  if (version === GROUP_METADATA_KEY_VERSION)
    return { type: 'groupMetadata', version, key: { group: r.string() } };
  return { type: 'unknown', version };
}

// ---------------------------------------------------------------------------------------------
// OffsetCommitValue

/** Version 3 unless the value has an expire timestamp (then version 1, the only one carrying it). */
export function encodeOffsetCommitValue(value: OffsetCommitValue, version?: number): Buffer {
  const v =
    version ??
    (value.expireTimestamp >= 0 ? OFFSET_COMMIT_VALUE_EXPIRE_VERSION : OFFSET_COMMIT_VALUE_VERSION);
  checkValueVersion('OffsetCommitValue', v);
  const flexible = v >= FIRST_FLEXIBLE_VALUE_VERSION;
  return encode(64, (w) => {
    w.int16(v).int64(value.offset);
    if (v >= 3) w.int32(value.leaderEpoch);
    writeString(w, value.metadata, flexible);
    w.int64(value.commitTimestamp);
    if (v === 1) w.int64(value.expireTimestamp);
    if (flexible) w.taggedFields();
  });
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new Reader(buf);
  const v = r.int16();
  checkValueVersion('OffsetCommitValue', v, true);
  const flexible = v >= FIRST_FLEXIBLE_VALUE_VERSION;
  const offset = r.int64();
  const leaderEpoch = v >= 3 ? r.int32() : -1;
  const metadata = flexible ? r.compactString() : r.string();
  const commitTimestamp = r.int64();
  const expireTimestamp = v === 1 ? r.int64() : -1;
  if (flexible) r.taggedFields();
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

// ---------------------------------------------------------------------------------------------
// GroupMetadataValue

export function encodeGroupMetadataValue(
  value: GroupMetadataValue,
  version = GROUP_METADATA_VALUE_VERSION,
): Buffer {
  checkValueVersion('GroupMetadataValue', version);
  const flexible = version >= FIRST_FLEXIBLE_VALUE_VERSION;
  return encode(256, (w) => writeGroupMetadataValue(w, value, version, flexible));
}

function writeGroupMetadataValue(
  w: Writer,
  value: GroupMetadataValue,
  version: number,
  flexible: boolean,
): void {
  w.int16(version);
  writeString(w, value.protocolType, flexible);
  w.int32(value.generation);
  writeNullableString(w, value.protocol, flexible);
  writeNullableString(w, value.leader, flexible);
  if (version >= 2) w.int64(value.currentStateTimestamp);
  if (flexible) w.compactArrayLength(value.members.length);
  else w.arrayLength(value.members.length);
  for (const m of value.members) {
    writeString(w, m.memberId, flexible);
    if (version >= 3) writeNullableString(w, m.groupInstanceId, flexible);
    writeString(w, m.clientId, flexible);
    writeString(w, m.clientHost, flexible);
    if (version >= 1) w.int32(m.rebalanceTimeout);
    w.int32(m.sessionTimeout);
    if (flexible) w.compactBytes(m.subscription).compactBytes(m.assignment).taggedFields();
    else w.bytes(m.subscription).bytes(m.assignment);
  }
  if (flexible) w.taggedFields();
}

/** Decodes a group value. Byte fields are copied, so the result does not pin the input buffer. */
export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new Reader(buf);
  const v = r.int16();
  checkValueVersion('GroupMetadataValue', v, true);
  const flexible = v >= FIRST_FLEXIBLE_VALUE_VERSION;
  const protocolType = flexible ? r.compactString() : r.string();
  const generation = r.int32();
  const protocol = flexible ? r.compactNullableString() : r.nullableString();
  const leader = flexible ? r.compactNullableString() : r.nullableString();
  const currentStateTimestamp = v >= 2 ? r.int64() : -1;
  // A member takes at least 14 bytes: 3 empty strings, session timeout, 2 empty byte arrays.
  const count = flexible ? r.compactArrayLength(6) : r.arrayLength(14);
  const members: GroupMetadataMember[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = flexible ? r.compactString() : r.string();
    const groupInstanceId = v >= 3 ? (flexible ? r.compactNullableString() : r.nullableString()) : null;
    const clientId = flexible ? r.compactString() : r.string();
    const clientHost = flexible ? r.compactString() : r.string();
    const rebalanceTimeout = v >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscription = Buffer.from(flexible ? r.compactBytes() : r.bytes());
    const assignment = Buffer.from(flexible ? r.compactBytes() : r.bytes());
    if (flexible) r.taggedFields();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      // Version 0 has no rebalance timeout: Kafka reads the session timeout in its place.
      rebalanceTimeout: v >= 1 ? rebalanceTimeout : sessionTimeout,
      sessionTimeout,
      subscription,
      assignment,
    });
  }
  if (flexible) r.taggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

// ---------------------------------------------------------------------------------------------

function writeString(w: Writer, s: string, flexible: boolean): void {
  if (flexible) w.compactString(s);
  else w.string(s);
}

function writeNullableString(w: Writer, s: string | null, flexible: boolean): void {
  if (flexible) w.compactNullableString(s);
  else w.nullableString(s);
}

function checkValueVersion(what: string, version: number, decoding = false): void {
  if (!Number.isInteger(version) || version < 0 || version > MAX_VALUE_VERSION) {
    if (decoding)
      throw new ProtocolError(
        'UNSUPPORTED_VERSION',
        `${what} version ${version} is not 0-${MAX_VALUE_VERSION}`,
      );
    throw invalid(`${what} version ${version}`);
  }
}

function invalid(what: string): ProtocolError {
  return new ProtocolError('INVALID_VALUE', `${what} is not supported`);
}

/**
 * Runs an encoder and returns its bytes as a Buffer of their own: records are kept in memory
 * (by the in-memory storage, by pending appends), so they must not pin a shared slab.
 */
function encode(initialSize: number, write: (w: Writer) => void): Buffer {
  const w = new Writer(initialSize);
  try {
    write(w);
  } catch (err) {
    w.abandon();
    throw err;
  }
  return Buffer.from(w.toBuffer());
}
