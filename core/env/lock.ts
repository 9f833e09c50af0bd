/**
 * Exclusive ownership of a data directory: a `.lock` file holding the owner's pid, created with
 * O_EXCL. A lock left by a process that no longer runs (kill -9) is taken over.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `data directory ${dir} is in use by process ${pid} (lock file ${path.join(dir, '.lock')}); ` +
        'stop that process, or point this one at another directory',
    );
  }
}

export interface DirLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dir: string): DirLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (Number.parseInt(fs.readFileSync(file, 'utf8'), 10) === process.pid) fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = Number.NaN;
      try {
        pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      } catch {
        // vanished between open and read: retry
      }
      if (Number.isFinite(pid) && pid !== process.pid && alive(pid)) throw new DataDirLockedError(dir, pid);
      if (pid === process.pid) throw new DataDirLockedError(dir, pid);
      try {
        fs.unlinkSync(file); // stale: its owner is gone
      } catch {
        // someone else took it over first
      }
    }
  }
  throw new Error(`could not lock data directory ${dir}: the lock file ${file} keeps changing`);
}
