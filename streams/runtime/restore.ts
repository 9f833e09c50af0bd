/**
 * Opening a task's stores: LevelDB from the local state directory when its checkpoint is good
 * (wiped and rebuilt otherwise), then the changelog from the checkpoint's offset to its end,
 * applying only complete commits (see markers.ts). Returns the marker of the last complete commit
 * — where the task's input resumes — or null when the stores have never committed.
 */
import { join } from 'node:path';
import type { Consumer } from '../../core/client/types.js';
import { type BackendWrite, LevelBackend, MemoryBackend, type StoreBackend } from '../state/backend.js';
import { readCheckpoint } from './checkpoint.js';
import { decodeMarker, MARKER_HEADER, type Marker } from './markers.js';
import type { Task, TaskStore } from './task.js';

const APPLY_CHUNK = 10_000;
const POLL_MS = 200;
const MAX_IDLE_POLLS = 50;

export interface RestoreOptions {
  consumer: Consumer;
  taskDir: string;
  changelogTopic(store: string): string;
  onProgress?(store: string, restored: number, total: number): void;
  log(line: string): void;
}

interface Replay {
  name: string;
  ts: TaskStore;
  fresh: boolean;
  prevMarker: Marker | null;
  lastMarker: Marker | null;
  lastSegment: BackendWrite[];
  tail: BackendWrite[];
}

async function openBackend(
  dir: string,
  wipe: boolean,
  log: (l: string) => void,
): Promise<[StoreBackend, boolean]> {
  try {
    return [await LevelBackend.open(dir, wipe), wipe];
  } catch (err) {
    log(
      `state in ${dir} is unreadable (${err instanceof Error ? err.message : String(err)}); rebuilding it from the changelog`,
    );
    return [await LevelBackend.open(dir, true), true];
  }
}

export async function restoreTask(task: Task, opts: RestoreOptions): Promise<Marker | null> {
  if (task.stores.size === 0) return null;
  const cp = readCheckpoint(opts.taskDir);
  const replays: Replay[] = [];
  for (const [name, ts] of task.stores) {
    const topic = opts.changelogTopic(name);
    const tp = { topic, partition: task.partition };
    let start = 0;
    if (ts.inMemory) {
      ts.store.backend = new MemoryBackend();
    } else {
      const fromCheckpoint = cp?.changelog[name];
      const [backend, wiped] = await openBackend(
        join(opts.taskDir, name),
        fromCheckpoint === undefined,
        opts.log,
      );
      ts.store.backend = backend;
      start = wiped || fromCheckpoint === undefined ? 0 : fromCheckpoint;
    }
    ts.store.reset();
    opts.consumer.assign([tp]);
    const [end] = await opts.consumer.endOffsets([tp]);
    const endOffset = end?.offset ?? 0;
    if (start > endOffset) {
      opts.log(`store ${name} of task ${task.taskId} is ahead of its changelog; rebuilding it`);
      await ts.store.backend.close();
      ts.store.backend = await LevelBackend.open(join(opts.taskDir, name), true);
      start = 0;
    }
    const initial: Marker | null =
      start > 0 && cp
        ? {
            seq: cp.seq,
            offsets: cp.offsets,
            ...(cp.streamTimeMs !== undefined ? { streamTimeMs: cp.streamTimeMs } : {}),
          }
        : null;
    const r: Replay = {
      name,
      ts,
      fresh: endOffset === 0,
      prevMarker: null,
      lastMarker: initial,
      lastSegment: [],
      tail: [],
    };
    replays.push(r);
    if (start >= endOffset) continue;
    opts.consumer.seek(tp, start);
    let committed: BackendWrite[] = [];
    let position = start;
    let idle = 0;
    while (position < endOffset && idle < MAX_IDLE_POLLS) {
      const records = await opts.consumer.poll({ timeoutMs: POLL_MS });
      if (records.length === 0) idle++;
      for (const rec of records) {
        position = rec.offset + 1;
        if (rec.offset >= endOffset) break;
        if (rec.headers.some((h) => h.key === MARKER_HEADER)) {
          const m = decodeMarker(rec.value);
          if (!m) continue;
          committed.push(...r.lastSegment);
          r.lastSegment = r.tail;
          r.tail = [];
          r.prevMarker = r.lastMarker;
          r.lastMarker = m;
          if (committed.length >= APPLY_CHUNK) {
            await ts.store.backend.write(committed);
            committed = [];
          }
        } else if (rec.key) {
          r.tail.push({ key: rec.key, value: rec.value });
        }
      }
      opts.onProgress?.(name, position - start, endOffset - start);
    }
    await ts.store.backend.write(committed);
  }
  opts.consumer.assign([]); // nothing more to fetch until the next restore
  // A commit counts when every store that has a changelog holds its marker.
  const seqs = replays.filter((r) => !r.fresh).map((r) => r.lastMarker?.seq ?? -1);
  const common = seqs.length === 0 ? -1 : Math.min(...seqs);
  let marker: Marker | null = null;
  for (const r of replays) {
    let aborted: BackendWrite[];
    if ((r.lastMarker?.seq ?? -1) <= common) {
      await r.ts.store.backend!.write(r.lastSegment);
      aborted = r.tail;
      if (r.lastMarker && r.lastMarker.seq === common) marker = r.lastMarker;
    } else {
      aborted = [...r.lastSegment, ...r.tail];
      if (r.prevMarker && r.prevMarker.seq === common) marker ??= r.prevMarker;
    }
    const keys = new Map<string, Buffer>();
    for (const w of aborted) keys.set(w.key.toString('latin1'), w.key);
    for (const k of keys.values()) r.ts.store.touch(k);
    if (keys.size > 0)
      opts.log(`task ${task.taskId}: store ${r.name} drops ${keys.size} uncommitted changes`);
  }
  task.commitSeq = Math.max(0, common);
  for (const [k, v] of Object.entries(marker?.applied ?? {})) task.applied.set(k, [v[0], v[1]]);
  return marker;
}
