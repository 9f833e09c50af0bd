/**
 * Snapshot files: `<20-digit index>.raftsnap`, written atomically (temp file, fsync, rename), so
 * a crash leaves either the old or the new one. The same bytes travel in InstallSnapshot chunks.
 *
 *   magic u32 ('RSNP') | version u8 (=1) | index u64 | term u64 | learner count u32 | learners i32...
 *   | data bytes (u32 length + bytes) | crc32c u32 of everything before it
 *
 * The learners are the non-voting members as of index (membership lives in the log, so it must
 * survive compaction). The newest valid file wins on open; older ones are deleted after a save.
 */
import * as path from 'node:path';
import type { FileSystem } from '../../env/fs.js';
import { crc32c } from '../../records/crc32c.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { RaftError } from './errors.js';
import type { NodeId } from './types.js';

const MAGIC = 0x52534e50;
const VERSION = 1;
const SUFFIX = '.raftsnap';

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly learners: readonly NodeId[];
}

export interface Snapshot extends SnapshotMeta {
  /** The state machine's bytes. */
  readonly data: Uint8Array;
  /** The whole file, as sent to followers. */
  readonly fileBytes: Uint8Array;
}

export function encodeSnapshot(meta: SnapshotMeta, data: Uint8Array): Snapshot {
  const w = new ByteWriter(64 + data.length);
  w.u32(MAGIC).u8(VERSION).u64(meta.index).u64(meta.term).u32(meta.learners.length);
  for (const l of meta.learners) w.i32(l);
  w.bytes(data);
  w.u32(crc32c(w.view()));
  const fileBytes = w.finish();
  return { index: meta.index, term: meta.term, learners: [...meta.learners], data, fileBytes };
}

/** Parses and verifies a snapshot file; throws RaftError(CORRUPT_STATE). */
export function decodeSnapshot(bytes: Uint8Array, maxBytes: number): Snapshot {
  try {
    if (bytes.length < 4 || bytes.length > maxBytes) throw new Error(`bad size ${bytes.length}`);
    const body = bytes.length - 4;
    const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(body);
    if (crc32c(bytes, 0, body) !== stored) throw new Error('checksum mismatch');
    const r = new ByteReader(bytes, 0, body);
    if (r.u32() !== MAGIC) throw new Error('bad magic');
    if (r.u8() !== VERSION) throw new Error('unknown version');
    const index = r.u64();
    const term = r.u64();
    const count = r.u32();
    if (count * 4 > r.remaining) throw new Error('bad learner count');
    const learners: NodeId[] = [];
    for (let i = 0; i < count; i++) learners.push(r.i32());
    const data = r.bytes(maxBytes);
    if (r.remaining !== 0) throw new Error('trailing bytes');
    return { index, term, learners, data, fileBytes: bytes };
  } catch (err) {
    throw new RaftError('CORRUPT_STATE', `invalid snapshot: ${(err as Error).message}`, { cause: err });
  }
}

function fileName(index: number): string {
  return `${String(index).padStart(20, '0')}${SUFFIX}`;
}

export class SnapshotStore {
  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  private indexes(): number[] {
    return this.fs
      .readdir(this.dir)
      .filter((n) => n.endsWith(SUFFIX) && /^\d{20}$/.test(n.slice(0, -SUFFIX.length)))
      .map((n) => Number(n.slice(0, -SUFFIX.length)))
      .sort((a, b) => b - a);
  }

  /** The newest snapshot that verifies, or null. */
  latest(): Snapshot | null {
    for (const index of this.indexes()) {
      try {
        const snap = decodeSnapshot(this.fs.readFile(path.join(this.dir, fileName(index))), this.maxBytes);
        if (snap.index === index) return snap;
      } catch {
        // a damaged file: fall back to an older one
      }
    }
    return null;
  }

  save(snap: Snapshot): void {
    this.fs.writeFileAtomic(path.join(this.dir, fileName(snap.index)), snap.fileBytes);
    for (const index of this.indexes()) {
      if (index < snap.index) this.fs.unlink(path.join(this.dir, fileName(index)));
    }
  }
}
