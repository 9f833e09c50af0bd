/**
 * The durable vote: current term and the candidate voted for in it (Raft's persistent state
 * besides the log). Both change together and must be on disk before the node answers anyone.
 *
 * File `quorum-state`: two 32-byte slots. Writes go to the slot that does not hold the last
 * fsynced state (repeatedly, until an fsync covers the latest write; then the roles swap), so a
 * torn or reordered write can never damage the durable state — even when the disk reorders
 * unsynced writes.
 *   slot: crc32c u32 (of the next 28 bytes) | version u32 (=1) | seq u64 | term u64 | votedFor i32 (-1: none) | pad u32
 * On open the valid slot with the highest seq wins; no valid slot means a fresh node (term 0).
 */
import * as path from 'node:path';
import type { FileHandle, FileSystem } from '../../env/fs.js';
import { crc32c } from '../../records/crc32c.js';
import { ByteReader, ByteWriter } from './bytes.js';
import type { Durability } from './durability.js';
import type { NodeId } from './types.js';

const SLOT_BYTES = 32;
const VERSION = 1;
export const HARD_STATE_FILE = 'quorum-state';

export class HardState {
  private seq = 0;
  /** The slot holding the newest fsynced state: never written until the other one is durable. */
  private durableSlot = 0;
  private _term = 0;
  private _votedFor: NodeId | null = null;

  private constructor(
    private readonly handle: FileHandle,
    private readonly durability: Durability,
  ) {}

  static open(fs: FileSystem, dir: string, durability: Durability): HardState {
    const file = path.join(dir, HARD_STATE_FILE);
    const existed = fs.exists(file);
    const handle = fs.open(file, { create: true });
    if (!existed) fs.syncDir(dir);
    const hs = new HardState(handle, durability);
    const buf = new Uint8Array(SLOT_BYTES * 2);
    const n = handle.read(buf, 0, buf.length, 0);
    for (let slot = 0; slot < 2; slot++) {
      const at = slot * SLOT_BYTES;
      if (n < at + SLOT_BYTES) continue;
      const r = new ByteReader(buf, at, at + SLOT_BYTES);
      const crc = r.u32();
      if (crc !== crc32c(buf, at + 4, at + SLOT_BYTES)) continue;
      if (r.u32() !== VERSION) continue;
      const seq = r.u64();
      const term = r.u64();
      const voted = r.i32();
      if (seq >= hs.seq) {
        hs.seq = seq;
        hs.durableSlot = slot;
        hs._term = term;
        hs._votedFor = voted < 0 ? null : voted;
      }
    }
    return hs;
  }

  get term(): number {
    return this._term;
  }

  get votedFor(): NodeId | null {
    return this._votedFor;
  }

  /** Writes the new state now; it is durable after the next Durability barrier. */
  set(term: number, votedFor: NodeId | null): void {
    if (term === this._term && votedFor === this._votedFor) return;
    if (term < this._term) throw new RangeError(`term going backwards: ${this._term} -> ${term}`);
    this.seq++;
    this._term = term;
    this._votedFor = votedFor;
    const seq = this.seq;
    const slot = 1 - this.durableSlot;
    const w = new ByteWriter(SLOT_BYTES);
    w.u32(0)
      .u32(VERSION)
      .u64(seq)
      .u64(term)
      .i32(votedFor ?? -1)
      .u32(0);
    const bytes = w.view();
    w.patchU32(0, crc32c(bytes, 4, SLOT_BYTES));
    this.handle.write(bytes, 0, SLOT_BYTES, slot * SLOT_BYTES);
    this.durability.dirtied(this.handle);
    this.durability.after(() => {
      if (this.seq === seq) this.durableSlot = slot; // the slot's latest write is on disk
    });
  }

  close(): void {
    this.durability.forget(this.handle);
    this.handle.close();
  }
}
