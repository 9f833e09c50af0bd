/**
 * The file system, injected. The log writes through this interface so that the simulation can
 * tear writes and lose what was not fsynced. Reads and writes are synchronous (page-cache speed,
 * no promise per call on the hot path); fsync is asynchronous so that it runs off the event loop
 * and many appends share one flush (group commit).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FileHandle {
  readonly path: string;
  /** Writes length bytes of buf from offset at file position position; returns bytes written. */
  write(buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Reads up to length bytes into buf at offset from file position position; returns bytes read. */
  read(buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Current size in bytes. */
  size(): number;
  truncate(length: number): void;
  /** fdatasync off the event loop. */
  sync(): Promise<void>;
  close(): void;
}

export interface FileSystem {
  /** Opens for read and write, creating the file when create is set. */
  open(file: string, opts?: { create?: boolean; readOnly?: boolean }): FileHandle;
  exists(file: string): boolean;
  mkdirp(dir: string): void;
  /** Entry names (not paths) of a directory; [] when it does not exist. */
  readdir(dir: string): string[];
  isDirectory(file: string): boolean;
  rename(from: string, to: string): void;
  unlink(file: string): void;
  /** Removes a file or directory tree; no error when it does not exist. */
  rmrf(file: string): void;
  readFile(file: string): Buffer;
  /** Writes to a temp file, fsyncs it, renames it over file and fsyncs the directory. */
  writeFileAtomic(file: string, data: Uint8Array): void;
  /** fsync a directory so that creates, renames and deletes in it are durable. */
  syncDir(dir: string): void;
}

class NodeFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private fd: number,
  ) {}

  write(buf: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      done += fs.writeSync(this.fd, buf, offset + done, length - done, position + done);
    }
    return done;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

class NodeFileSystem implements FileSystem {
  open(file: string, opts: { create?: boolean; readOnly?: boolean } = {}): FileHandle {
    const flags = opts.readOnly
      ? fs.constants.O_RDONLY
      : fs.constants.O_RDWR | (opts.create ? fs.constants.O_CREAT : 0);
    return new NodeFileHandle(file, fs.openSync(file, flags, 0o644));
  }
  exists(file: string): boolean {
    return fs.existsSync(file);
  }
  mkdirp(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
  }
  readdir(dir: string): string[] {
    try {
      return fs.readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
  isDirectory(file: string): boolean {
    try {
      return fs.statSync(file).isDirectory();
    } catch {
      return false;
    }
  }
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }
  unlink(file: string): void {
    fs.unlinkSync(file);
  }
  rmrf(file: string): void {
    fs.rmSync(file, { recursive: true, force: true });
  }
  readFile(file: string): Buffer {
    return fs.readFileSync(file);
  }
  writeFileAtomic(file: string, data: Uint8Array): void {
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      fs.writeFileSync(fd, data);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    this.syncDir(path.dirname(file));
  }
  syncDir(dir: string): void {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export const nodeFileSystem: FileSystem = new NodeFileSystem();
