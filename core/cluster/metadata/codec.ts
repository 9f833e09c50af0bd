/**
 * Binary encoding of metadata records (our own format, versioned; not KRaft's).
 *
 *   batch    = magic u8 (0x4d 'M') | version u8 (=1) | count u32 | record*
 *   record   = type u8 | fields (big-endian)
 *   string   = length u16 | utf-8 bytes          nullable: length 0xffff = null
 *   ids      = count u16 | int32*                 topicId = 16 bytes
 *   snapshot = magic u8 (0x53 'S') | version u8 (=1) | offset u64 | batch
 *
 * A snapshot is the image written out as the records that rebuild it (KRaft does the same).
 * Decoding validates every length and throws MetadataError(CORRUPT_RECORD); an unknown version
 * or record type throws UNSUPPORTED_VERSION (a newer build wrote it).
 */
import { ByteReader, ByteWriter } from '../raft/bytes.js';
import { MetadataError } from './errors.js';
import type { MetadataRecord, MetadataRecordType, PartitionChangeRecord } from './records.js';
import { topicIdToBytes, topicIdToString } from './uuid.js';

const BATCH_MAGIC = 0x4d;
const SNAPSHOT_MAGIC = 0x53;
export const METADATA_FORMAT_VERSION = 1;
/** Records in one batch, ids in one list, bytes in one string. */
export const MAX_RECORDS_PER_BATCH = 1_000_000;
const MAX_IDS = 0xffff;
const MAX_STRING_BYTES = 0xfffe;

const CODES: Readonly<Record<MetadataRecordType, number>> = {
  registerBroker: 1,
  fenceBroker: 2,
  unfenceBroker: 3,
  topic: 4,
  partition: 5,
  partitionChange: 6,
  config: 7,
  removeTopic: 8,
  producerIds: 9,
  clusterId: 10,
};

function str(w: ByteWriter, s: string | null): void {
  if (s === null) {
    w.u8(0xff).u8(0xff);
    return;
  }
  const b = Buffer.from(s, 'utf8');
  if (b.length > MAX_STRING_BYTES) throw new MetadataError('RECORD_TOO_LARGE', `a ${b.length}-byte string`);
  w.u8(b.length >>> 8)
    .u8(b.length & 0xff)
    .raw(b);
}

function ids(w: ByteWriter, list: readonly number[]): void {
  if (list.length > MAX_IDS) throw new MetadataError('RECORD_TOO_LARGE', `${list.length} broker ids`);
  w.u8(list.length >>> 8).u8(list.length & 0xff);
  for (const id of list) w.i32(id);
}

function writeRecord(w: ByteWriter, r: MetadataRecord): void {
  w.u8(CODES[r.type]);
  switch (r.type) {
    case 'registerBroker':
      w.i32(r.brokerId).u64(r.brokerEpoch);
      str(w, r.host);
      w.u32(r.port);
      str(w, r.rack);
      w.bool(r.controller);
      break;
    case 'fenceBroker':
    case 'unfenceBroker':
      w.i32(r.brokerId).u64(r.brokerEpoch);
      break;
    case 'topic':
      str(w, r.name);
      w.raw(topicIdToBytes(r.topicId));
      break;
    case 'partition':
      w.raw(topicIdToBytes(r.topicId)).i32(r.partition);
      ids(w, r.replicas);
      ids(w, r.isr);
      w.i32(r.leader).u32(r.leaderEpoch).u32(r.partitionEpoch);
      ids(w, r.addingReplicas);
      ids(w, r.removingReplicas);
      break;
    case 'partitionChange': {
      w.raw(topicIdToBytes(r.topicId)).i32(r.partition);
      const mask =
        (r.leader !== undefined ? 1 : 0) |
        (r.isr !== undefined ? 2 : 0) |
        (r.replicas !== undefined ? 4 : 0) |
        (r.addingReplicas !== undefined ? 8 : 0) |
        (r.removingReplicas !== undefined ? 16 : 0);
      w.u8(mask);
      if (r.leader !== undefined) w.i32(r.leader);
      if (r.isr !== undefined) ids(w, r.isr);
      if (r.replicas !== undefined) ids(w, r.replicas);
      if (r.addingReplicas !== undefined) ids(w, r.addingReplicas);
      if (r.removingReplicas !== undefined) ids(w, r.removingReplicas);
      break;
    }
    case 'config':
      w.u8(r.resourceType === 'topic' ? 0 : 1);
      str(w, r.resourceName);
      str(w, r.name);
      str(w, r.value);
      break;
    case 'removeTopic':
      w.raw(topicIdToBytes(r.topicId));
      break;
    case 'clusterId':
      str(w, r.clusterId);
      break;
    case 'producerIds':
      w.i32(r.brokerId).u64(r.brokerEpoch).u64(r.nextProducerId);
      break;
  }
}

class Reader {
  constructor(readonly r: ByteReader) {}
  u16(): number {
    return (this.r.u8() << 8) | this.r.u8();
  }
  str(): string | null {
    const n = this.u16();
    if (n === 0xffff) return null;
    if (n > this.r.remaining) throw new MetadataError('CORRUPT_RECORD', 'string past the end');
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.r.u8();
    return Buffer.from(b).toString('utf8');
  }
  reqStr(what: string): string {
    const s = this.str();
    if (s === null) throw new MetadataError('CORRUPT_RECORD', `${what} is null`);
    return s;
  }
  ids(): number[] {
    const n = this.u16();
    if (n * 4 > this.r.remaining) throw new MetadataError('CORRUPT_RECORD', 'id list past the end');
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.r.i32());
    return out;
  }
  topicId(): string {
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = this.r.u8();
    return topicIdToString(b);
  }
}

function readRecord(rd: Reader): MetadataRecord {
  const { r } = rd;
  const code = r.u8();
  switch (code) {
    case CODES.registerBroker:
      return {
        type: 'registerBroker',
        brokerId: r.i32(),
        brokerEpoch: r.u64(),
        host: rd.reqStr('host'),
        port: r.u32(),
        rack: rd.str(),
        controller: r.bool(),
      };
    case CODES.fenceBroker:
      return { type: 'fenceBroker', brokerId: r.i32(), brokerEpoch: r.u64() };
    case CODES.unfenceBroker:
      return { type: 'unfenceBroker', brokerId: r.i32(), brokerEpoch: r.u64() };
    case CODES.topic:
      return { type: 'topic', name: rd.reqStr('topic name'), topicId: rd.topicId() };
    case CODES.partition:
      return {
        type: 'partition',
        topicId: rd.topicId(),
        partition: r.i32(),
        replicas: rd.ids(),
        isr: rd.ids(),
        leader: r.i32(),
        leaderEpoch: r.u32(),
        partitionEpoch: r.u32(),
        addingReplicas: rd.ids(),
        removingReplicas: rd.ids(),
      };
    case CODES.partitionChange: {
      const topicId = rd.topicId();
      const partition = r.i32();
      const mask = r.u8();
      if (mask > 31) throw new MetadataError('CORRUPT_RECORD', `bad partition change mask ${mask}`);
      const c: { -readonly [K in keyof PartitionChangeRecord]: PartitionChangeRecord[K] } = {
        type: 'partitionChange',
        topicId,
        partition,
      };
      if (mask & 1) c.leader = r.i32();
      if (mask & 2) c.isr = rd.ids();
      if (mask & 4) c.replicas = rd.ids();
      if (mask & 8) c.addingReplicas = rd.ids();
      if (mask & 16) c.removingReplicas = rd.ids();
      return c;
    }
    case CODES.config: {
      const t = r.u8();
      if (t > 1) throw new MetadataError('CORRUPT_RECORD', `bad config resource type ${t}`);
      return {
        type: 'config',
        resourceType: t === 0 ? 'topic' : 'broker',
        resourceName: rd.reqStr('resource name'),
        name: rd.reqStr('config name'),
        value: rd.str(),
      };
    }
    case CODES.removeTopic:
      return { type: 'removeTopic', topicId: rd.topicId() };
    case CODES.producerIds:
      return { type: 'producerIds', brokerId: r.i32(), brokerEpoch: r.u64(), nextProducerId: r.u64() };
    case CODES.clusterId:
      return { type: 'clusterId', clusterId: rd.reqStr('cluster id') };
    default:
      throw new MetadataError('UNSUPPORTED_VERSION', `unknown metadata record type ${code}`);
  }
}

function writeBatch(w: ByteWriter, records: readonly MetadataRecord[]): void {
  if (records.length > MAX_RECORDS_PER_BATCH)
    throw new MetadataError('RECORD_TOO_LARGE', `${records.length} records in one batch`);
  w.u8(BATCH_MAGIC).u8(METADATA_FORMAT_VERSION).u32(records.length);
  for (const rec of records) writeRecord(w, rec);
}

function readBatch(r: ByteReader): MetadataRecord[] {
  const magic = r.u8();
  if (magic !== BATCH_MAGIC) throw new MetadataError('CORRUPT_RECORD', `bad batch magic ${magic}`);
  const version = r.u8();
  if (version !== METADATA_FORMAT_VERSION)
    throw new MetadataError('UNSUPPORTED_VERSION', `metadata batch version ${version}`);
  const count = r.u32();
  if (count > r.remaining) throw new MetadataError('CORRUPT_RECORD', `${count} records cannot fit`);
  const rd = new Reader(r);
  const out: MetadataRecord[] = [];
  for (let i = 0; i < count; i++) out.push(readRecord(rd));
  return out;
}

function decoding<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MetadataError) throw err;
    throw new MetadataError('CORRUPT_RECORD', `${what}: ${(err as Error).message}`, { cause: err });
  }
}

export function encodeRecords(records: readonly MetadataRecord[]): Uint8Array {
  const w = new ByteWriter(64 + records.length * 48);
  writeBatch(w, records);
  return w.finish();
}

export function decodeRecords(bytes: Uint8Array): MetadataRecord[] {
  return decoding('metadata batch', () => {
    const r = new ByteReader(bytes);
    const out = readBatch(r);
    if (r.remaining !== 0) throw new MetadataError('CORRUPT_RECORD', `${r.remaining} trailing bytes`);
    return out;
  });
}

/** Encoded size of one record (to split large changes into batches under a byte limit). */
export function recordBytes(record: MetadataRecord): number {
  const w = new ByteWriter(64);
  writeRecord(w, record);
  return w.length;
}

export function encodeSnapshot(offset: number, records: readonly MetadataRecord[]): Uint8Array {
  const w = new ByteWriter(64 + records.length * 48);
  w.u8(SNAPSHOT_MAGIC).u8(METADATA_FORMAT_VERSION).u64(offset);
  writeBatch(w, records);
  return w.finish();
}

export function decodeSnapshot(bytes: Uint8Array): { offset: number; records: MetadataRecord[] } {
  return decoding('metadata snapshot', () => {
    const r = new ByteReader(bytes);
    const magic = r.u8();
    if (magic !== SNAPSHOT_MAGIC) throw new MetadataError('CORRUPT_RECORD', `bad snapshot magic ${magic}`);
    const version = r.u8();
    if (version !== METADATA_FORMAT_VERSION)
      throw new MetadataError('UNSUPPORTED_VERSION', `metadata snapshot version ${version}`);
    const offset = r.u64();
    const records = readBatch(r);
    if (r.remaining !== 0) throw new MetadataError('CORRUPT_RECORD', `${r.remaining} trailing bytes`);
    return { offset, records };
  });
}
