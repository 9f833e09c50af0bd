/**
 * The streaming replication sub-protocol and the `pgoutput` logical decoding plugin's messages
 * (protocol version 1), decoded here rather than by a library.
 *
 * Inside START_REPLICATION's CopyBoth stream the server sends CopyData messages of two kinds
 * (PostgreSQL docs, "Streaming Replication Protocol"):
 *
 *   'w' XLogData          int64 dataStart, int64 walEnd, int64 sendTime, then one pgoutput message
 *   'k' Primary keepalive int64 walEnd, int64 sendTime, int8 replyRequested
 *
 * and we answer with 'r' Standby status updates (int64 written, flushed, applied LSNs, int64
 * clock, int8 replyRequested). The flushed LSN is what the slot's `confirmed_flush_lsn` becomes:
 * WAL before it may be recycled, so it is only ever advanced to data the log acknowledged.
 *
 * pgoutput messages ("Logical Replication Message Formats"): Begin 'B', Commit 'C', Origin 'O',
 * Relation 'R', Type 'Y', Insert 'I', Update 'U', Delete 'D', Truncate 'T', Message 'M'. Tuple data
 * is text (protocol 1): each column is null 'n', unchanged TOAST 'u', or text 't' (int32 length,
 * bytes). Timestamps are microseconds since 2000-01-01 UTC; LSNs are unsigned 64-bit, kept here as
 * JavaScript numbers (exact up to 2^53 bytes of WAL, about 9 PB).
 */

/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
export const PG_EPOCH_OFFSET_US = 946_684_800_000_000;

export type Lsn = number;

export function formatLsn(lsn: Lsn): string {
  const hi = Math.floor(lsn / 2 ** 32);
  const lo = lsn % 2 ** 32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: ${text}`);
  return Number.parseInt(m[1]!, 16) * 2 ** 32 + Number.parseInt(m[2]!, 16);
}

export interface RelationColumn {
  /** 1 when the column is part of the replica identity (the key). */
  flags: number;
  name: string;
  typeOid: number;
  typeMod: number;
}

export type TupleValue = { kind: 'null' } | { kind: 'unchanged' } | { kind: 'text'; text: string };

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: Lsn; commitTimeUs: number; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTimeUs: number }
  | { tag: 'origin'; commitLsn: Lsn; name: string }
  | {
      tag: 'relation';
      oid: number;
      namespace: string;
      name: string;
      /** 'd' default, 'n' nothing, 'f' full, 'i' index */
      replicaIdentity: string;
      columns: RelationColumn[];
    }
  | { tag: 'type'; oid: number; namespace: string; name: string }
  | { tag: 'insert'; relationOid: number; newTuple: TupleValue[] }
  | {
      tag: 'update';
      relationOid: number;
      /** 'K': the old key (replica identity changed), 'O': the whole old row (REPLICA IDENTITY FULL). */
      oldKind: 'K' | 'O' | null;
      oldTuple: TupleValue[] | null;
      newTuple: TupleValue[];
    }
  | { tag: 'delete'; relationOid: number; oldKind: 'K' | 'O'; oldTuple: TupleValue[] }
  | { tag: 'truncate'; cascade: boolean; restartIdentity: boolean; relationOids: number[] }
  | { tag: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer };

export type ReplicationMessage =
  | { kind: 'xlogdata'; dataStart: Lsn; walEnd: Lsn; sendTimeUs: number; message: PgOutputMessage }
  | { kind: 'keepalive'; walEnd: Lsn; sendTimeUs: number; replyRequested: boolean };

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** A cursor over one message: bytes [pos, end) of `buf`. */
class Reader {
  /** Where the message starts (positions in errors are relative to it). */
  private readonly start: number;
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {
    this.start = pos;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  /** An unsigned 64-bit value (an LSN) as a number. */
  u64(): number {
    const hi = this.u32();
    const lo = this.u32();
    return hi * 2 ** 32 + lo;
  }
  /** A signed 64-bit value (a timestamp in µs) as a number (rounded as Number(bigint) rounds beyond 2^53). */
  i64(): number {
    this.need(8);
    const v = this.buf.readInt32BE(this.pos) * 2 ** 32 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0 || end >= this.end) throw new ProtocolError('unterminated string in a pgoutput message');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** `n` bytes of UTF-8 text. */
  text(n: number): string {
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(
        `truncated message: need ${n} bytes at ${this.pos - this.start} of ${this.end - this.start}`,
      );
    }
  }
}

/** Shared: tuple values are read, never changed. */
const NULL_VALUE: TupleValue = Object.freeze({ kind: 'null' });
const UNCHANGED_VALUE: TupleValue = Object.freeze({ kind: 'unchanged' });

function readTuple(r: Reader): TupleValue[] {
  const n = r.i16();
  const out: TupleValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    switch (kind) {
      case 0x6e: // 'n'
        out[i] = NULL_VALUE;
        break;
      case 0x75: // 'u'
        out[i] = UNCHANGED_VALUE;
        break;
      case 0x74: {
        // 't'
        out[i] = { kind: 'text', text: r.text(r.i32()) };
        break;
      }
      case 0x62: // 'b' (binary, protocol 2+ with binary 'true'; we never ask for it)
        throw new ProtocolError('binary tuple data is not supported (binary option must be off)');
      default:
        throw new ProtocolError(`unknown tuple column kind 0x${kind.toString(16)}`);
    }
  }
  return out;
}

/** Decodes one pgoutput message (the payload of an XLogData). */
export function decodePgOutput(buf: Buffer): PgOutputMessage {
  return readPgOutput(new Reader(buf, 0, buf.length));
}

function readPgOutput(r: Reader): PgOutputMessage {
  const tag = String.fromCharCode(r.u8());
  switch (tag) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTimeUs: r.i64(), xid: r.u32() };
    case 'C':
      return { tag: 'commit', flags: r.u8(), commitLsn: r.u64(), endLsn: r.u64(), commitTimeUs: r.i64() };
    case 'O':
      return { tag: 'origin', commitLsn: r.u64(), name: r.cstring() };
    case 'R': {
      const oid = r.u32();
      const namespace = r.cstring();
      const name = r.cstring();
      const replicaIdentity = String.fromCharCode(r.u8());
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        columns.push({ flags: r.u8(), name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() });
      }
      return {
        tag: 'relation',
        oid,
        namespace: namespace === '' ? 'pg_catalog' : namespace,
        name,
        replicaIdentity,
        columns,
      };
    }
    case 'Y':
      return { tag: 'type', oid: r.u32(), namespace: r.cstring(), name: r.cstring() };
    case 'I': {
      const relationOid = r.u32();
      const n = String.fromCharCode(r.u8());
      if (n !== 'N') throw new ProtocolError(`insert: expected 'N', got '${n}'`);
      return { tag: 'insert', relationOid, newTuple: readTuple(r) };
    }
    case 'U': {
      const relationOid = r.u32();
      let kind = String.fromCharCode(r.u8());
      let oldKind: 'K' | 'O' | null = null;
      let oldTuple: TupleValue[] | null = null;
      if (kind === 'K' || kind === 'O') {
        oldKind = kind;
        oldTuple = readTuple(r);
        kind = String.fromCharCode(r.u8());
      }
      if (kind !== 'N') throw new ProtocolError(`update: expected 'N', got '${kind}'`);
      return { tag: 'update', relationOid, oldKind, oldTuple, newTuple: readTuple(r) };
    }
    case 'D': {
      const relationOid = r.u32();
      const kind = String.fromCharCode(r.u8());
      if (kind !== 'K' && kind !== 'O') throw new ProtocolError(`delete: expected 'K' or 'O', got '${kind}'`);
      return { tag: 'delete', relationOid, oldKind: kind, oldTuple: readTuple(r) };
    }
    case 'T': {
      const n = r.i32();
      const options = r.u8();
      const relationOids: number[] = [];
      for (let i = 0; i < n; i++) relationOids.push(r.u32());
      return {
        tag: 'truncate',
        cascade: (options & 1) !== 0,
        restartIdentity: (options & 2) !== 0,
        relationOids,
      };
    }
    case 'M': {
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstring();
      const len = r.i32();
      return {
        tag: 'message',
        transactional: (flags & 1) !== 0,
        lsn,
        prefix,
        content: Buffer.from(r.bytes(len)),
      };
    }
    default:
      throw new ProtocolError(`unknown pgoutput message '${tag}' (0x${tag.charCodeAt(0).toString(16)})`);
  }
}

/** Decodes one CopyData payload of the replication stream: bytes [start, end) of `buf`. */
export function decodeReplicationMessage(buf: Buffer, start = 0, end = buf.length): ReplicationMessage {
  const r = new Reader(buf, start, end);
  const kind = String.fromCharCode(r.u8());
  if (kind === 'w') {
    const dataStart = r.u64();
    const walEnd = r.u64();
    const sendTimeUs = r.i64();
    return { kind: 'xlogdata', dataStart, walEnd, sendTimeUs, message: readPgOutput(r) };
  }
  if (kind === 'k')
    return { kind: 'keepalive', walEnd: r.u64(), sendTimeUs: r.i64(), replyRequested: r.u8() === 1 };
  throw new ProtocolError(`unknown replication message '${kind}'`);
}

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  buf.writeUInt32BE(value % 2 ** 32, at + 4);
}

/** A Standby status update ('r'): written, flushed and applied LSNs (we report the same flushed one for all). */
export function encodeStandbyStatus(lsn: Lsn, nowMs: number, replyRequested = false): Buffer {
  const buf = Buffer.alloc(34);
  buf.write('r', 0, 'latin1');
  writeU64(buf, lsn, 1);
  writeU64(buf, lsn, 9);
  writeU64(buf, lsn, 17);
  buf.writeBigInt64BE(BigInt(Math.round(nowMs * 1000 - PG_EPOCH_OFFSET_US)), 25);
  buf[33] = replyRequested ? 1 : 0;
  return buf;
}

/** Microseconds since the PostgreSQL epoch → milliseconds since the Unix epoch. */
export function pgTimeToMs(us: number): number {
  return Math.floor((us + PG_EPOCH_OFFSET_US) / 1000);
}
