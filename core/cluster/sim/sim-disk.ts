/**
 * A simulated disk per node, implementing core/env/fs.ts. Writes land in the file's current
 * contents at once and are remembered as pending operations; sync() makes the operations issued
 * before it durable after a simulated latency. crash() keeps, per file and independently of
 * other files, either a random prefix or a random subset of the pending operations — writes
 * possibly torn (only a random prefix of their bytes lands) — and drops the rest, then throws
 * away every handle of the crashed process.
 *
 * Simplifications, said plainly: directory operations (create, rename, unlink) are durable at
 * once; writeFileAtomic is atomic and durable; fsynced data is never lost or corrupted (no
 * latent sector errors or misdirected writes).
 */
import * as path from 'node:path';
import type { Clock } from '../../env/clock.js';
import type { FileHandle, FileSystem } from '../../env/fs.js';
import type { Random } from '../../env/random.js';

type OpInput =
  | { readonly kind: 'write'; readonly position: number; readonly data: Uint8Array }
  | { readonly kind: 'truncate'; readonly length: number };
type Op = OpInput & { readonly seq: number };

class Bytes {
  buf = new Uint8Array(64);
  size = 0;

  write(data: Uint8Array, position: number): void {
    const end = position + data.length;
    if (end > this.buf.length) {
      let cap = this.buf.length;
      while (cap < end) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.size));
      this.buf = next;
    }
    if (position > this.size) this.buf.fill(0, this.size, position);
    this.buf.set(data, position);
    if (end > this.size) this.size = end;
  }

  truncate(length: number): void {
    if (length < this.size) this.buf.fill(0, length, this.size);
    else if (length > this.size) this.write(new Uint8Array(length - this.size), this.size);
    this.size = length;
  }

  apply(op: Op): void {
    if (op.kind === 'write') this.write(op.data, op.position);
    else this.truncate(op.length);
  }

  copy(): Bytes {
    const b = new Bytes();
    b.buf = this.buf.slice(0, Math.max(64, this.size));
    b.size = this.size;
    return b;
  }

  contents(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.size));
  }
}

class SimFile {
  current = new Bytes();
  durable = new Bytes();
  pending: Op[] = [];
  private seq = 0;

  record(op: OpInput): void {
    const full: Op = { ...op, seq: ++this.seq };
    this.current.apply(full);
    this.pending.push(full);
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Operations up to seq reached the platter. */
  persist(seq: number): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.seq <= seq) this.durable.apply(this.pending[n++]!);
    this.pending.splice(0, n);
  }

  /**
   * Power loss. Half the time a prefix of the pending operations reached the disk (the next one
   * possibly torn); otherwise an arbitrary subset did, in any combination (the disk reordered
   * unsynced writes), each kept write possibly torn.
   */
  crash(random: Random, tornWriteProbability: number): { kept: number; lost: number; torn: number } {
    const total = this.pending.length;
    let kept = 0;
    let torn = 0;
    const tear = (op: Op): void => {
      if (op.kind !== 'write' || op.data.length < 2) return;
      this.durable.write(op.data.subarray(0, 1 + random.int(op.data.length - 1)), op.position);
      torn++;
    };
    if (random.next() < 0.5) {
      kept = random.int(total + 1);
      for (let i = 0; i < kept; i++) this.durable.apply(this.pending[i]!);
      const next = this.pending[kept];
      if (next !== undefined && random.next() < tornWriteProbability) tear(next);
    } else {
      for (const op of this.pending) {
        if (random.next() < 0.5) continue;
        if (op.kind === 'write' && random.next() < tornWriteProbability / 2) tear(op);
        else {
          this.durable.apply(op);
          kept++;
        }
      }
    }
    this.pending = [];
    this.current = this.durable.copy();
    return { kept, lost: total - kept, torn };
  }
}

export interface SimDiskOptions {
  /** Chance that the first lost write of a file leaves a torn prefix behind. */
  tornWriteProbability: number;
  minSyncMs: number;
  maxSyncMs: number;
  /** Chance that one fsync stalls for up to stallMaxMs. */
  stallProbability: number;
  stallMaxMs: number;
}

export const DEFAULT_SIM_DISK: SimDiskOptions = {
  tornWriteProbability: 0.5,
  minSyncMs: 0.2,
  maxSyncMs: 3,
  stallProbability: 0.01,
  stallMaxMs: 200,
};

export class SimDisk {
  private readonly files = new Map<string, SimFile>();
  private readonly dirs = new Set<string>(['/']);
  private generation = 0;
  /** Counters, for reports. */
  syncs = 0;
  lostWrites = 0;
  tornWrites = 0;

  constructor(
    private readonly random: Random,
    public options: SimDiskOptions = DEFAULT_SIM_DISK,
  ) {}

  private crashTrigger: { opsLeft: number; fire: () => void } | null = null;

  /**
   * Calls fire right after the afterOps-th write or truncation from now — the simulator crashes
   * the node there, while that write is still unsynced: the worst moment.
   */
  armCrash(afterOps: number, fire: () => void): void {
    this.crashTrigger = { opsLeft: afterOps, fire };
  }

  /** @internal */
  noteOp(): void {
    const t = this.crashTrigger;
    if (t === null || --t.opsLeft > 0) return;
    this.crashTrigger = null;
    t.fire();
  }

  /** Writes and truncations not yet fsynced, over all files. */
  get unsyncedOps(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.pending.length;
    return n;
  }

  /** The file system as seen by one incarnation of the node; its timers run on clock. */
  mount(clock: Clock): FileSystem {
    return new SimFileSystem(this, this.generation, clock);
  }

  /** Power loss: unsynced writes are lost or torn; every open handle dies. */
  crash(): string {
    this.generation++;
    this.crashTrigger = null;
    let lost = 0;
    let torn = 0;
    for (const f of this.files.values()) {
      if (f.pending.length === 0) continue;
      const r = f.crash(this.random, this.options.tornWriteProbability);
      lost += r.lost;
      torn += r.torn;
    }
    this.lostWrites += lost;
    this.tornWrites += torn;
    return `lost ${lost} unsynced ops, ${torn} torn`;
  }

  /**
   * The process dies (SIGKILL), the machine stays up: every open handle dies and fsyncs in flight
   * never complete, but the page cache survives, so nothing written is lost (a later crash() may
   * still lose what stays unsynced).
   */
  kill(): void {
    this.generation++;
    this.crashTrigger = null;
  }

  /** @internal */
  checkGeneration(gen: number): void {
    if (gen !== this.generation) throw new Error('simulated process is dead: its file handles are gone');
  }

  /** @internal */
  isCurrent(gen: number): boolean {
    return gen === this.generation;
  }

  /** @internal */
  file(p: string): SimFile | undefined {
    return this.files.get(p);
  }

  /** @internal */
  create(p: string): SimFile {
    let f = this.files.get(p);
    if (!f) {
      f = new SimFile();
      this.files.set(p, f);
    }
    return f;
  }

  /** @internal */
  replace(p: string, data: Uint8Array): void {
    const f = new SimFile();
    f.current.write(data, 0);
    f.durable.write(data, 0);
    this.files.set(p, f);
  }

  /** @internal */
  move(from: string, to: string): void {
    const f = this.files.get(from);
    if (!f) throw enoent(from);
    this.files.delete(from);
    this.files.set(to, f);
  }

  /** @internal */
  remove(p: string): boolean {
    return this.files.delete(p);
  }

  /** @internal */
  paths(): IterableIterator<string> {
    return this.files.keys();
  }

  /** @internal */
  dirPaths(): IterableIterator<string> {
    return this.dirs.values();
  }

  /** @internal */
  mkdir(p: string): void {
    let d = p;
    while (d !== '/' && d !== '.' && !this.dirs.has(d)) {
      this.dirs.add(d);
      d = path.posix.dirname(d);
    }
  }

  /** @internal */
  hasDir(p: string): boolean {
    return this.dirs.has(p);
  }

  /** @internal */
  removeTree(p: string): void {
    for (const f of [...this.files.keys()]) if (f === p || f.startsWith(`${p}/`)) this.files.delete(f);
    for (const d of [...this.dirs]) if (d === p || d.startsWith(`${p}/`)) this.dirs.delete(d);
  }

  /** @internal how long one fsync takes */
  syncLatencyMs(): number {
    const o = this.options;
    this.syncs++;
    if (this.random.next() < o.stallProbability) return o.maxSyncMs + this.random.next() * o.stallMaxMs;
    return o.minSyncMs + this.random.next() * (o.maxSyncMs - o.minSyncMs);
  }
}

function enoent(p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${p}'`), { code: 'ENOENT' });
}

function norm(p: string): string {
  return path.posix.resolve('/', p);
}

class SimFileHandle implements FileHandle {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly f: SimFile,
    private readonly fs: SimFileSystem,
    private readonly readOnly: boolean,
  ) {}

  private check(): void {
    this.fs.check();
    if (this.closed) throw new Error(`file handle for ${this.path} is closed`);
  }

  write(buf: Uint8Array, offset: number, length: number, position: number): number {
    this.check();
    if (this.readOnly) throw new Error(`EBADF: ${this.path} is open read-only`);
    // A copy: Buffer#slice is a view, and callers may reuse or patch their buffer after the write
    // returns (the page cache has the bytes by then; a view would change what fsync persists).
    this.f.record({ kind: 'write', position, data: new Uint8Array(buf.subarray(offset, offset + length)) });
    this.fs.noteOp();
    return length;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    this.check();
    const cur = this.f.current;
    const n = Math.max(0, Math.min(length, cur.size - position));
    buf.set(cur.buf.subarray(position, position + n), offset);
    return n;
  }

  size(): number {
    this.check();
    return this.f.current.size;
  }

  truncate(length: number): void {
    this.check();
    this.f.record({ kind: 'truncate', length });
    this.fs.noteOp();
  }

  sync(): Promise<void> {
    this.check();
    return this.fs.sync(this.f);
  }

  close(): void {
    this.closed = true;
  }
}

class SimFileSystem implements FileSystem {
  constructor(
    private readonly disk: SimDisk,
    private readonly generation: number,
    private readonly clock: Clock,
  ) {}

  check(): void {
    this.disk.checkGeneration(this.generation);
  }

  noteOp(): void {
    this.disk.noteOp();
  }

  sync(f: SimFile): Promise<void> {
    const seq = f.lastSeq;
    return new Promise((resolve) => {
      this.clock.setTimeout(() => {
        if (!this.disk.isCurrent(this.generation)) return; // the process died: never resolves
        f.persist(seq);
        resolve();
      }, this.disk.syncLatencyMs());
    });
  }

  open(file: string, opts: { create?: boolean; readOnly?: boolean } = {}): FileHandle {
    this.check();
    const p = norm(file);
    let f = this.disk.file(p);
    if (!f) {
      if (!opts.create || opts.readOnly) throw enoent(p);
      if (!this.disk.hasDir(path.posix.dirname(p))) throw enoent(path.posix.dirname(p));
      f = this.disk.create(p);
    }
    return new SimFileHandle(p, f, this, opts.readOnly === true);
  }

  exists(file: string): boolean {
    this.check();
    const p = norm(file);
    return this.disk.file(p) !== undefined || this.disk.hasDir(p);
  }

  mkdirp(dir: string): void {
    this.check();
    this.disk.mkdir(norm(dir));
  }

  readdir(dir: string): string[] {
    this.check();
    const d = norm(dir);
    const names = new Set<string>();
    for (const p of this.disk.paths()) if (path.posix.dirname(p) === d) names.add(path.posix.basename(p));
    for (const p of this.disk.dirPaths())
      if (p !== d && path.posix.dirname(p) === d) names.add(path.posix.basename(p));
    return [...names].sort();
  }

  isDirectory(file: string): boolean {
    this.check();
    return this.disk.hasDir(norm(file));
  }

  rename(from: string, to: string): void {
    this.check();
    this.disk.move(norm(from), norm(to));
  }

  unlink(file: string): void {
    this.check();
    if (!this.disk.remove(norm(file))) throw enoent(norm(file));
  }

  rmrf(file: string): void {
    this.check();
    this.disk.removeTree(norm(file));
  }

  readFile(file: string): Buffer {
    this.check();
    const f = this.disk.file(norm(file));
    if (!f) throw enoent(norm(file));
    return f.current.contents();
  }

  writeFileAtomic(file: string, data: Uint8Array): void {
    this.check();
    this.disk.replace(norm(file), data);
  }

  syncDir(_dir: string): void {
    this.check();
  }
}
