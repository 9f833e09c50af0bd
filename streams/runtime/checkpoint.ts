/**
 * A task's checkpoint file, `<state.dir>/<application.id>/<partition>/checkpoint.json`: the commit
 * sequence and input offsets of the last commit whose store writes reached LevelDB, and per
 * persistent store the changelog offset to restore from. Written atomically (temp file +
 * rename) after each commit; a missing or unreadable file means "rebuild from the changelog".
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Checkpoint {
  version: 1;
  seq: number;
  /** Next input offset per source topic (this task's partition). */
  offsets: Record<string, number>;
  streamTimeMs?: number;
  applied?: Record<string, [number, number]>;
  /** Changelog offset to restore from, per persistent store. */
  changelog: Record<string, number>;
}

const FILE = 'checkpoint.json';

export function readCheckpoint(taskDir: string): Checkpoint | null {
  try {
    const c = JSON.parse(readFileSync(join(taskDir, FILE), 'utf8')) as Checkpoint;
    if (c.version !== 1 || !Number.isInteger(c.seq) || typeof c.changelog !== 'object') return null;
    return c;
  } catch {
    return null;
  }
}

export function writeCheckpoint(taskDir: string, c: Checkpoint): void {
  mkdirSync(taskDir, { recursive: true });
  const tmp = join(taskDir, `${FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(c));
  renameSync(tmp, join(taskDir, FILE));
}

export function deleteCheckpoint(taskDir: string): void {
  rmSync(join(taskDir, FILE), { force: true });
}
