/**
 * Commit markers: how a task's state and its input offsets stay exact across crashes without
 * transactions.
 *
 * At each commit a task writes its stores' dirty entries to their changelogs, then one marker per
 * store `{ seq, offsets }` (the commit's sequence number and the task's input offsets). A commit
 * counts only when every store's changelog holds its marker: on restore, records after the last
 * marker (or after a marker another store lacks) belong to a commit that never finished; they are
 * not applied and their keys are re-written with the restored value at the next commit, so that a
 * later restore that replays them is corrected too. Input resumes from the offsets of the last
 * complete commit, so state and input never disagree: no update lost, none counted twice.
 *
 * Marker keys alternate between two values (by seq parity) so that log compaction keeps the last
 * two markers. Transactions (exactly-once) would replace this file, not the runtime.
 */
export const MARKER_HEADER = 'trib.commit';

export interface Marker {
  seq: number;
  offsets: Record<string, number>;
  /** The task's stream time at the commit (windows close by it after a restart too). */
  streamTimeMs?: number;
  /** Last repartitioned record applied per origin (see Task.applied). */
  applied?: Record<string, [number, number]>;
}

export function markerKey(seq: number): Buffer {
  return Buffer.from(`\u0000trib.commit.${seq % 2}`);
}

export function encodeMarker(m: Marker): Buffer {
  return Buffer.from(JSON.stringify(m));
}

export function decodeMarker(b: Buffer | null): Marker | null {
  if (!b) return null;
  try {
    const m = JSON.parse(b.toString('utf8')) as Marker;
    return Number.isInteger(m.seq) && typeof m.offsets === 'object' ? m : null;
  } catch {
    return null;
  }
}
