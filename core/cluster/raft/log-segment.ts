/**
 * One file of the Raft log: `<20-digit base index>.raftlog`, entries base, base+1, ... back to back.
 *
 *   record: bodyBytes u32 | crc32c(body) u32 | body
 *   body:   index u64 | term u64 | prevTerm u64 | type u8 | data (bodyBytes - 25 bytes)
 *
 * prevTerm, the term of the entry before, chains the records (across files too): a crash can
 * keep a later write (say, in the next segment, or past an overwritten region) while losing an
 * earlier truncation or overwrite, and the chain exposes such a mix of old and new entries —
 * which a per-record checksum alone would accept, breaking Raft's log matching property.
 *
 * Appends write at the end (durable after the next group-commit fsync); truncation cuts the
 * file. Recovery reads records until the first that is short, fails its checksum, is not the
 * next index, or does not chain to the entry before, and truncates there.
 */
import * as path from 'node:path';
import type { FileHandle, FileSystem } from '../../env/fs.js';
import { crc32c } from '../../records/crc32c.js';
import { ByteReader, ByteWriter } from './bytes.js';
import type { Durability } from './durability.js';
import type { EntryType, LogEntry } from './types.js';

export const SEGMENT_SUFFIX = '.raftlog';
const RECORD_HEADER_BYTES = 8;
const BODY_FIXED_BYTES = 25;

export function segmentFileName(baseIndex: number): string {
  return `${String(baseIndex).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

export function parseSegmentFileName(name: string): number | null {
  if (!name.endsWith(SEGMENT_SUFFIX)) return null;
  const digits = name.slice(0, -SEGMENT_SUFFIX.length);
  if (!/^\d{20}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

/** Bytes an entry takes in a segment. */
export function entryRecordBytes(e: LogEntry): number {
  return RECORD_HEADER_BYTES + BODY_FIXED_BYTES + e.data.length;
}

export class LogSegment {
  /** File position of each entry, by index - baseIndex. */
  private readonly positions: number[] = [];
  private _sizeBytes = 0;

  private constructor(
    readonly baseIndex: number,
    private readonly fs: FileSystem,
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly durability: Durability,
  ) {}

  get sizeBytes(): number {
    return this._sizeBytes;
  }

  get entryCount(): number {
    return this.positions.length;
  }

  /** baseIndex - 1 when empty. */
  get lastIndex(): number {
    return this.baseIndex + this.positions.length - 1;
  }

  static create(fs: FileSystem, dir: string, baseIndex: number, durability: Durability): LogSegment {
    const file = path.join(dir, segmentFileName(baseIndex));
    const handle = fs.open(file, { create: true });
    handle.truncate(0);
    fs.syncDir(dir);
    return new LogSegment(baseIndex, fs, file, handle, durability);
  }

  /**
   * Opens an existing segment and reads its valid prefix; a torn tail is cut off.
   * prevTerm: the term of entry baseIndex - 1 when known (null: compacted away, not checked).
   */
  static recover(
    fs: FileSystem,
    dir: string,
    baseIndex: number,
    prevTerm: number | null,
    maxEntryBytes: number,
    durability: Durability,
  ): { segment: LogSegment; entries: LogEntry[]; torn: boolean } {
    const file = path.join(dir, segmentFileName(baseIndex));
    const handle = fs.open(file);
    const seg = new LogSegment(baseIndex, fs, file, handle, durability);
    const size = handle.size();
    const buf = new Uint8Array(size);
    handle.read(buf, 0, size, 0);
    const entries: LogEntry[] = [];
    let pos = 0;
    let expectedPrevTerm = prevTerm;
    while (pos + RECORD_HEADER_BYTES <= size) {
      const r = new ByteReader(buf, pos, size);
      const bodyBytes = r.u32();
      const crc = r.u32();
      if (bodyBytes < BODY_FIXED_BYTES || bodyBytes > maxEntryBytes + BODY_FIXED_BYTES) break;
      const bodyAt = pos + RECORD_HEADER_BYTES;
      if (bodyAt + bodyBytes > size) break;
      if (crc32c(buf, bodyAt, bodyAt + bodyBytes) !== crc) break;
      const index = r.u64();
      const term = r.u64();
      const recordPrevTerm = r.u64();
      const type = r.u8() as EntryType;
      if (index !== baseIndex + entries.length || term < 1 || recordPrevTerm > term) break;
      if (expectedPrevTerm !== null && recordPrevTerm !== expectedPrevTerm) break;
      expectedPrevTerm = term;
      const data = buf.slice(r.offset, bodyAt + bodyBytes);
      entries.push({ index, term, type, data });
      seg.positions.push(pos);
      pos = bodyAt + bodyBytes;
    }
    seg._sizeBytes = pos;
    const torn = pos !== size;
    if (torn) {
      handle.truncate(pos);
      durability.dirtied(handle);
    }
    return { segment: seg, entries, torn };
  }

  /** Appends entries; prevTerm is the term of the entry before the first of them. */
  append(entries: readonly LogEntry[], prevTerm: number): void {
    const w = new ByteWriter(256);
    let prev = prevTerm;
    for (const e of entries) {
      if (e.index !== this.lastIndex + 1) {
        throw new RangeError(`segment ${this.baseIndex}: appending ${e.index} after ${this.lastIndex}`);
      }
      const at = w.length;
      w.u32(BODY_FIXED_BYTES + e.data.length)
        .u32(0)
        .u64(e.index)
        .u64(e.term)
        .u64(prev)
        .u8(e.type)
        .raw(e.data);
      prev = e.term;
      const view = w.view();
      w.patchU32(at + 4, crc32c(view, at + RECORD_HEADER_BYTES, view.length));
      this.positions.push(this._sizeBytes + at);
    }
    const bytes = w.view();
    this.handle.write(bytes, 0, bytes.length, this._sizeBytes);
    this._sizeBytes += bytes.length;
    this.durability.dirtied(this.handle);
  }

  /** Removes entries from index on (index within [baseIndex, lastIndex + 1]). */
  truncateFrom(index: number): void {
    const k = index - this.baseIndex;
    if (k < 0 || k > this.positions.length)
      throw new RangeError(`segment ${this.baseIndex}: bad truncation ${index}`);
    if (k === this.positions.length) return;
    this._sizeBytes = this.positions[k]!;
    this.positions.length = k;
    this.handle.truncate(this._sizeBytes);
    this.durability.dirtied(this.handle);
  }

  close(): void {
    this.durability.forget(this.handle);
    this.handle.close();
  }

  delete(dir: string): void {
    this.close();
    this.fs.unlink(this.file);
    this.fs.syncDir(dir);
  }
}
