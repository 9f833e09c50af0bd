/**
 * The "consumer" embedded protocol: the opaque bytes consumer group members put in JoinGroup
 * (protocol metadata: a subscription) and the leader hands out in SyncGroup (an assignment).
 * Written from the facts of apache/kafka's ConsumerProtocolSubscription.json and
 * ConsumerProtocolAssignment.json (validVersions 0-3, never flexible), all big-endian:
 *
 *   Subscription => version:int16 topics:[string] userData:nullable bytes
 *                   ownedPartitions:[topic:string partitions:[int32]]   (v1+)
 *                   generationId:int32 (v2+, default -1) rackId:nullable string (v3+)
 *   Assignment   => version:int16 assignedPartitions:[topic:string partitions:[int32]]
 *                   userData:nullable bytes                               (same in v0-v3)
 *
 * Arrays carry an int32 count, strings an int16 length (UTF-8), bytes an int32 length with -1
 * for null. Encoding follows the Java client: topics and owned partitions sorted, assigned
 * partitions grouped by topic in first-seen order, null userData as -1 (kafkajs writes an empty
 * buffer; both decode everywhere).
 *
 * Decoding is lenient where Kafka's rule and real clients ask for it:
 * - a newer version than ours is read as our newest: later versions only append fields, so we
 *   read what we know and ignore the rest (ConsumerProtocol.java does the same);
 * - bytes that end exactly where an optional (v1+) field would start mean that field's default;
 * - an empty assignment means "nothing assigned" (the coordinator sends empty bytes to members
 *   a leader left out, which kafkajs's leader does for members that got no partitions).
 * Anything else malformed throws a {@link ProtocolError}.
 */
import { ProtocolError } from '../protocol/errors.js';
import type { TopicPartition } from './types.js';

/** JoinGroup's protocolType for consumer groups. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';
/** The newest subscription/assignment version we read and write (Kafka 3.5+: rack ids). */
export const CONSUMER_PROTOCOL_MAX_VERSION = 3;

/** A member's subscription, decoded. */
export interface Subscription {
  /** Topic names (never patterns: clients resolve regexes before joining). */
  topics: string[];
  /** The assignor's opaque data, e.g. cooperative-sticky's generation. */
  userData: Buffer | null;
  /** Partitions the member owns now (v1+; COOPERATIVE rebalancing relies on them). */
  ownedPartitions: TopicPartition[];
  /** The generation those partitions were owned in; -1 when unknown (v0-1, or a new member). */
  generationId: number;
  /** The member's client.rack; null when unset (v0-2, or empty). */
  rackId: string | null;
}

export interface DecodedSubscription extends Subscription {
  /** The version on the wire (may exceed CONSUMER_PROTOCOL_MAX_VERSION). */
  version: number;
}

/** What the leader gives one member in SyncGroup. */
export interface Assignment {
  partitions: TopicPartition[];
  userData: Buffer | null;
}

export interface DecodedAssignment extends Assignment {
  version: number;
}

export interface SubscriptionInit {
  topics: readonly string[];
  userData?: Uint8Array | null;
  ownedPartitions?: readonly TopicPartition[];
  generationId?: number;
  rackId?: string | null;
}

export interface AssignmentInit {
  partitions: readonly TopicPartition[];
  userData?: Uint8Array | null;
}

/** Encodes a subscription as JoinGroup protocol metadata. Fields newer than `version` are left out. */
export function encodeSubscription(sub: SubscriptionInit, version = CONSUMER_PROTOCOL_MAX_VERSION): Buffer {
  checkWriteVersion(version, 'ConsumerProtocolSubscription');
  const w = new Writer();
  w.int16(version);
  const topics = [...sub.topics].sort(compareStrings);
  w.int32(topics.length);
  for (const t of topics) w.string(t, 'topics');
  w.bytes(sub.userData ?? null);
  if (version >= 1) {
    const owned = [...(sub.ownedPartitions ?? [])].sort(compareTopicPartitions);
    writeTopicPartitions(w, groupByTopic(owned), 'ownedPartitions');
  }
  if (version >= 2) w.int32(sub.generationId ?? -1);
  if (version >= 3) w.nullableString(sub.rackId ?? null, 'rackId');
  return w.finish();
}

/** Decodes JoinGroup protocol metadata of protocol type "consumer". */
export function decodeSubscription(data: Uint8Array): DecodedSubscription {
  const r = new Reader(data, 'ConsumerProtocolSubscription');
  const version = r.version();
  const v = Math.min(version, CONSUMER_PROTOCOL_MAX_VERSION);
  const topics = r.array('topics', () => r.string('topics'));
  const userData = r.bytes('userData');
  const sub: DecodedSubscription = {
    version,
    topics,
    userData,
    ownedPartitions: [],
    generationId: -1,
    rackId: null,
  };
  if (v >= 1 && !r.atEnd()) sub.ownedPartitions = readTopicPartitions(r, 'ownedPartitions');
  if (v >= 2 && !r.atEnd()) sub.generationId = r.int32('generationId');
  if (v >= 3 && !r.atEnd()) sub.rackId = r.nullableString('rackId') || null;
  return sub;
}

/** Encodes one member's assignment for SyncGroup. */
export function encodeAssignment(a: AssignmentInit, version = CONSUMER_PROTOCOL_MAX_VERSION): Buffer {
  checkWriteVersion(version, 'ConsumerProtocolAssignment');
  const w = new Writer();
  w.int16(version);
  writeTopicPartitions(w, groupByTopic(a.partitions), 'assignedPartitions');
  w.bytes(a.userData ?? null);
  return w.finish();
}

/** Decodes a SyncGroup assignment; empty bytes decode as an empty assignment. */
export function decodeAssignment(data: Uint8Array): DecodedAssignment {
  if (data.length === 0) return { version: 0, partitions: [], userData: null };
  const r = new Reader(data, 'ConsumerProtocolAssignment');
  const version = r.version();
  const partitions = readTopicPartitions(r, 'assignedPartitions');
  const userData = r.bytes('userData');
  return { version, partitions, userData };
}

/** Orders topic-partitions by topic (UTF-16 code units, as Java's String.compareTo), then partition. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

/** Java's String.compareTo order (not locale order). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupByTopic(partitions: readonly TopicPartition[]): Map<string, number[]> {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    const list = byTopic.get(tp.topic);
    if (list === undefined) byTopic.set(tp.topic, [tp.partition]);
    else list.push(tp.partition);
  }
  return byTopic;
}

function writeTopicPartitions(w: Writer, byTopic: Map<string, number[]>, field: string): void {
  w.int32(byTopic.size);
  for (const [topic, partitions] of byTopic) {
    w.string(topic, `${field}.topic`);
    w.int32(partitions.length);
    for (const p of partitions) w.int32(p);
  }
}

function readTopicPartitions(r: Reader, field: string): TopicPartition[] {
  const out: TopicPartition[] = [];
  r.array(field, () => {
    const topic = r.string(`${field}.topic`);
    r.array(`${field}.partitions`, () => {
      out.push({ topic, partition: r.int32(`${field}.partitions`) });
    });
  });
  return out;
}

function checkWriteVersion(version: number, what: string): void {
  if (!Number.isInteger(version) || version < 0 || version > CONSUMER_PROTOCOL_MAX_VERSION) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      `cannot write ${what} v${version}: versions 0-${CONSUMER_PROTOCOL_MAX_VERSION} exist`,
    );
  }
}

/** Grows a byte array; the codecs here are small and run once per rebalance. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }

  int32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }

  string(s: string, field: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) {
      throw new ProtocolError('INVALID_VALUE', `${field}: a string of ${len} bytes exceeds 32767`);
    }
    this.int16(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  nullableString(s: string | null, field: string): void {
    if (s === null) this.int16(-1);
    else this.string(s, field);
  }

  bytes(b: Uint8Array | null): void {
    if (b === null) {
      this.int32(-1);
      return;
    }
    this.int32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

class Reader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly context: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  atEnd(): boolean {
    return this.pos >= this.data.length;
  }

  private fail(code: 'TRUNCATED' | 'CORRUPT_MESSAGE', field: string, detail: string): never {
    const err = new ProtocolError(code, detail, { context: this.context });
    err.path.push(field);
    throw err.refresh();
  }

  private need(n: number, field: string): void {
    if (this.pos + n > this.data.length) {
      this.fail(
        'TRUNCATED',
        field,
        `needs ${n} bytes at offset ${this.pos}, ${this.data.length - this.pos} left`,
      );
    }
  }

  version(): number {
    const v = this.int16('version');
    if (v < 0) this.fail('CORRUPT_MESSAGE', 'version', `negative version ${v}`);
    return v;
  }

  int16(field: string): number {
    this.need(2, field);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  int32(field: string): number {
    this.need(4, field);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  string(field: string): string {
    const s = this.nullableString(field);
    if (s === null) this.fail('CORRUPT_MESSAGE', field, 'null for a non-nullable string');
    return s;
  }

  nullableString(field: string): string | null {
    const len = this.int16(field);
    if (len === -1) return null;
    if (len < 0) this.fail('CORRUPT_MESSAGE', field, `string length ${len}`);
    this.need(len, field);
    const s = Buffer.from(this.data.buffer, this.data.byteOffset + this.pos, len).toString('utf8');
    this.pos += len;
    return s;
  }

  /** Nullable bytes, as a view of the input (zero-copy, like the Java client). */
  bytes(field: string): Buffer | null {
    const len = this.int32(field);
    if (len === -1) return null;
    if (len < 0) this.fail('CORRUPT_MESSAGE', field, `bytes length ${len}`);
    this.need(len, field);
    const b = Buffer.from(this.data.buffer, this.data.byteOffset + this.pos, len);
    this.pos += len;
    return b;
  }

  /** A non-nullable array: calls `each` count times. */
  array<T>(field: string, each: () => T): T[] {
    const count = this.int32(field);
    if (count < 0)
      this.fail('CORRUPT_MESSAGE', field, `array count ${count} (null for a non-nullable array)`);
    // Every element takes at least 2 bytes: refuse counts the input cannot hold before allocating.
    if (count * 2 > this.data.length - this.pos) {
      this.fail('TRUNCATED', field, `${count} elements cannot fit in ${this.data.length - this.pos} bytes`);
    }
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(each());
    return out;
  }
}
