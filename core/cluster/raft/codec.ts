/**
 * Binary encoding of Raft messages for a stream transport (TCP). This is Tributary's own format,
 * not KRaft's wire protocol (controllers only talk to controllers and brokers of the same build).
 *
 * Frame:  length u32 (bytes after this field) | version u8 (=1) | type u8 | fields...
 * Fields are big-endian; indexes and terms are 8 bytes; node ids int32; byte strings are a u32
 * length then the bytes. An entry is index u64 | term u64 | type u8 | data bytes.
 * Decoding validates every length against the configured limit and throws
 * RaftError(CORRUPT_MESSAGE) on anything malformed.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { RaftError } from './errors.js';
import type { RaftMessage } from './messages.js';
import { EntryType, type LogEntry } from './types.js';

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 4;

const TYPE_CODES = {
  vote: 1,
  voteResponse: 2,
  append: 3,
  appendResponse: 4,
  snapshot: 5,
  snapshotResponse: 6,
  learnerJoin: 7,
} as const;

const MAX_ENTRY_TYPE = EntryType.removeLearner;

export function encodeMessage(msg: RaftMessage): Buffer {
  const w = new ByteWriter(msg.type === 'append' || msg.type === 'snapshot' ? 1024 : 64);
  w.u32(0).u8(FRAME_VERSION).u8(TYPE_CODES[msg.type]).i32(msg.from).u64(msg.term);
  switch (msg.type) {
    case 'vote':
      w.bool(msg.preVote).u64(msg.lastLogIndex).u64(msg.lastLogTerm);
      break;
    case 'voteResponse':
      w.bool(msg.preVote).bool(msg.granted);
      break;
    case 'append':
      w.u64(msg.prevLogIndex).u64(msg.prevLogTerm).u64(msg.leaderCommit).u64(msg.seq).u32(msg.entries.length);
      for (const e of msg.entries) w.u64(e.index).u64(e.term).u8(e.type).bytes(e.data);
      break;
    case 'appendResponse':
      w.bool(msg.success).u64(msg.matchIndex).u64(msg.rejectedIndex).u64(msg.conflictIndex);
      w.u64(msg.conflictTerm).u64(msg.seq);
      break;
    case 'snapshot':
      w.u64(msg.snapshotIndex).u64(msg.snapshotTerm).u64(msg.totalBytes).u64(msg.offsetBytes).u64(msg.seq);
      w.bytes(msg.chunk);
      break;
    case 'snapshotResponse':
      w.u64(msg.snapshotIndex).u64(msg.nextOffsetBytes).bool(msg.done).u64(msg.seq);
      break;
    case 'learnerJoin':
      break;
  }
  w.patchU32(0, w.length - FRAME_HEADER_BYTES);
  return w.finish();
}

/** Decodes one whole frame (length prefix included). */
export function decodeMessage(frame: Uint8Array, maxMessageBytes: number): RaftMessage {
  if (frame.length < FRAME_HEADER_BYTES)
    throw new RaftError('CORRUPT_MESSAGE', 'frame shorter than its header');
  const r = new ByteReader(frame);
  const length = r.u32();
  if (length !== frame.length - FRAME_HEADER_BYTES) {
    throw new RaftError(
      'CORRUPT_MESSAGE',
      `frame length ${length} does not match ${frame.length - FRAME_HEADER_BYTES}`,
    );
  }
  if (length > maxMessageBytes)
    throw new RaftError('CORRUPT_MESSAGE', `frame of ${length} bytes exceeds the limit`);
  const version = r.u8();
  if (version !== FRAME_VERSION) throw new RaftError('CORRUPT_MESSAGE', `unknown frame version ${version}`);
  const code = r.u8();
  const from = r.i32();
  const term = r.u64();
  const msg = decodeBody(r, code, from, term, maxMessageBytes);
  if (r.remaining !== 0)
    throw new RaftError('CORRUPT_MESSAGE', `${r.remaining} trailing bytes in a ${msg.type} frame`);
  return msg;
}

function decodeBody(r: ByteReader, code: number, from: number, term: number, maxBytes: number): RaftMessage {
  switch (code) {
    case TYPE_CODES.vote:
      return { type: 'vote', from, term, preVote: r.bool(), lastLogIndex: r.u64(), lastLogTerm: r.u64() };
    case TYPE_CODES.voteResponse:
      return { type: 'voteResponse', from, term, preVote: r.bool(), granted: r.bool() };
    case TYPE_CODES.append: {
      const prevLogIndex = r.u64();
      const prevLogTerm = r.u64();
      const leaderCommit = r.u64();
      const seq = r.u64();
      const count = r.u32();
      // each entry takes at least 21 bytes: a cheap bound before allocating
      if (count * 21 > r.remaining)
        throw new RaftError('CORRUPT_MESSAGE', `${count} entries cannot fit the frame`);
      const entries: LogEntry[] = [];
      for (let i = 0; i < count; i++) {
        const index = r.u64();
        const entryTerm = r.u64();
        const type = r.u8();
        if (type > MAX_ENTRY_TYPE) throw new RaftError('CORRUPT_MESSAGE', `unknown entry type ${type}`);
        if (index !== prevLogIndex + 1 + i)
          throw new RaftError('CORRUPT_MESSAGE', 'entries are not contiguous');
        entries.push({ index, term: entryTerm, type: type as EntryType, data: r.bytes(maxBytes) });
      }
      return { type: 'append', from, term, prevLogIndex, prevLogTerm, entries, leaderCommit, seq };
    }
    case TYPE_CODES.appendResponse:
      return {
        type: 'appendResponse',
        from,
        term,
        success: r.bool(),
        matchIndex: r.u64(),
        rejectedIndex: r.u64(),
        conflictIndex: r.u64(),
        conflictTerm: r.u64(),
        seq: r.u64(),
      };
    case TYPE_CODES.snapshot: {
      const snapshotIndex = r.u64();
      const snapshotTerm = r.u64();
      const totalBytes = r.u64();
      const offsetBytes = r.u64();
      const seq = r.u64();
      const chunk = r.bytes(maxBytes);
      if (offsetBytes + chunk.length > totalBytes)
        throw new RaftError('CORRUPT_MESSAGE', 'snapshot chunk past its end');
      return {
        type: 'snapshot',
        from,
        term,
        snapshotIndex,
        snapshotTerm,
        totalBytes,
        offsetBytes,
        chunk,
        seq,
      };
    }
    case TYPE_CODES.snapshotResponse:
      return {
        type: 'snapshotResponse',
        from,
        term,
        snapshotIndex: r.u64(),
        nextOffsetBytes: r.u64(),
        done: r.bool(),
        seq: r.u64(),
      };
    case TYPE_CODES.learnerJoin:
      return { type: 'learnerJoin', from, term };
    default:
      throw new RaftError('CORRUPT_MESSAGE', `unknown message type ${code}`);
  }
}

/**
 * Splits a byte stream into frames: push() what the socket delivered, get whole messages back.
 * A frame announcing more than maxMessageBytes is an error (the connection should be closed).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageBytes: number) {}

  push(data: Uint8Array): RaftMessage[] {
    this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.buffered += data.length;
    const out: RaftMessage[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const head = this.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.maxMessageBytes) {
        throw new RaftError('CORRUPT_MESSAGE', `frame of ${length} bytes exceeds ${this.maxMessageBytes}`);
      }
      const total = FRAME_HEADER_BYTES + length;
      if (this.buffered < total) break;
      const frame = this.take(total);
      out.push(decodeMessage(frame, this.maxMessageBytes));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return frame;
  }
}
