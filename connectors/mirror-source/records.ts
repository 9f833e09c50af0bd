/**
 * MM2's internal records, byte-compatible with Kafka's: Kafka's Struct encoding (big-endian
 * INT16/INT32/INT64, STRING = INT16 length + UTF-8).
 *
 * - OffsetSync (offset-syncs topic): key {topic, partition}, value {upstreamOffset, offset}.
 * - Checkpoint (`<alias>.checkpoints.internal`): key {group, topic, partition}, value
 *   {version INT16 = 0, upstreamOffset, offset, metadata}; `topic` is the remote topic.
 *
 * {@link OffsetSyncStore} translates a group's upstream offset to the target's as MM2 does: the
 * latest sync at or before it; exact when equal, one past the sync's downstream offset otherwise
 * (never ahead of what was mirrored).
 */
export interface OffsetSync {
  topic: string;
  partition: number;
  upstreamOffset: number;
  downstreamOffset: number;
}

export interface Checkpoint {
  group: string;
  topic: string;
  partition: number;
  upstreamOffset: number;
  downstreamOffset: number;
  metadata: string;
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(2 + b.length);
  out.writeInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

function i64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n), 0);
  return b;
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  str(): string {
    const n = this.buf.readInt16BE(this.at);
    const s = this.buf.toString('utf8', this.at + 2, this.at + 2 + n);
    this.at += 2 + n;
    return s;
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  i64(): number {
    const v = Number(this.buf.readBigInt64BE(this.at));
    this.at += 8;
    return v;
  }
}

export function encodeOffsetSync(s: OffsetSync): { key: Buffer; value: Buffer } {
  return {
    key: Buffer.concat([str(s.topic), i32(s.partition)]),
    value: Buffer.concat([i64(s.upstreamOffset), i64(s.downstreamOffset)]),
  };
}

export function decodeOffsetSync(key: Buffer, value: Buffer): OffsetSync {
  const k = new Reader(key);
  const v = new Reader(value);
  return { topic: k.str(), partition: k.i32(), upstreamOffset: v.i64(), downstreamOffset: v.i64() };
}

export function encodeCheckpoint(c: Checkpoint): { key: Buffer; value: Buffer } {
  return {
    key: Buffer.concat([str(c.group), str(c.topic), i32(c.partition)]),
    value: Buffer.concat([
      Buffer.from([0, 0]),
      i64(c.upstreamOffset),
      i64(c.downstreamOffset),
      str(c.metadata),
    ]),
  };
}

export function decodeCheckpoint(key: Buffer, value: Buffer): Checkpoint {
  const k = new Reader(key);
  const v = new Reader(value);
  const group = k.str();
  const topic = k.str();
  const partition = k.i32();
  v.i16();
  return { group, topic, partition, upstreamOffset: v.i64(), downstreamOffset: v.i64(), metadata: v.str() };
}

/** Offset syncs per upstream partition, the newest MAX_SYNCS_PER_PARTITION of them. */
const MAX_SYNCS_PER_PARTITION = 1024;

export class OffsetSyncStore {
  private readonly syncs = new Map<string, OffsetSync[]>();

  add(s: OffsetSync): void {
    const k = `${s.topic}\u0000${s.partition}`;
    let list = this.syncs.get(k);
    if (!list) {
      list = [];
      this.syncs.set(k, list);
    }
    // A sync going backwards (the target was truncated, or the mirror restarted): older syncs are void.
    while (list.length > 0 && list[list.length - 1]!.upstreamOffset >= s.upstreamOffset) list.pop();
    list.push(s);
    if (list.length > MAX_SYNCS_PER_PARTITION) list.splice(0, list.length - MAX_SYNCS_PER_PARTITION);
  }

  /** The target offset for a group at `upstreamOffset` of an upstream partition, or null if unknown. */
  translate(topic: string, partition: number, upstreamOffset: number): number | null {
    const list = this.syncs.get(`${topic}\u0000${partition}`);
    if (!list) return null;
    let lo = 0;
    let hi = list.length - 1;
    let found: OffsetSync | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.upstreamOffset <= upstreamOffset) {
        found = list[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (!found) return null;
    return found.upstreamOffset === upstreamOffset ? found.downstreamOffset : found.downstreamOffset + 1;
  }
}
