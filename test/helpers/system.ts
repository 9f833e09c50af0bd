/**
 * System packages that interop tests need (kcat, librdkafka): found on PATH, or installed from
 * Debian's archive when we run as root (CI runs as root on a fresh machine), or a clear error.
 *
 * Installs run synchronously (tests call this from beforeAll, whose timeout must allow for a
 * download: INSTALL_TIMEOUT_MS) and at most once per package per process; `apt-get update` runs
 * at most once per process, and not at all when apt's lists already know the package. apt may
 * be busy (another process, or another vitest worker installing the same): apt waits for its
 * locks, and lock errors are retried with a back-off.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** How long a beforeAll that may install packages should allow. */
export const INSTALL_TIMEOUT_MS = 600_000;

const APT_ATTEMPTS = 20;
const APT_RETRY_MS = 3_000;
const APT_TIMEOUT_MS = 300_000;

let aptUpdated = false;
const installed = new Map<string, string>();

/** The absolute path of `binary` on PATH (or the usual sbin/bin folders), or undefined. */
export function which(binary: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const extra of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    const file = join(dir, binary);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether a Debian package is installed (dpkg says "install ok installed"). */
export function debianPackageInstalled(pkg: string): boolean {
  // dpkg-query's own format placeholder, not a template string.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query syntax
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const LOCK_PATTERN =
  /Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock|is another process using it/i;

/** Runs apt-get with the given arguments, retrying while another process holds apt's locks. */
function aptGet(args: readonly string[]): void {
  let last = '';
  for (let attempt = 1; attempt <= APT_ATTEMPTS; attempt++) {
    const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=60', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: APT_TIMEOUT_MS,
    });
    if (r.status === 0) return;
    last = `${r.error?.message ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (!LOCK_PATTERN.test(last)) break;
    sleepSync(APT_RETRY_MS);
  }
  throw new Error(`apt-get ${args.join(' ')} failed:\n${last.slice(-2000)}`);
}

/** Whether apt's package lists offer `pkg` (apt-cache policy shows a candidate version). */
function hasCandidate(pkg: string): boolean {
  const r = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout ?? '');
  return r.status === 0 && m !== null && m[1] !== '(none)';
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Makes sure the Debian package `pkg` is installed, judged by `binary` being on PATH (or, when
 * `binary` is omitted, by dpkg). Returns the binary's path (or '' when no binary was named).
 */
export function ensureDebianPackage(pkg: string, binary?: string): string {
  const cached = installed.get(pkg);
  if (cached !== undefined) return cached;
  const present = (): string | undefined => {
    if (binary) return which(binary);
    return debianPackageInstalled(pkg) ? '' : undefined;
  };
  let found = present();
  if (found === undefined) {
    if (!isRoot()) {
      throw new Error(
        `${binary ? `'${binary}' is not on PATH` : `the package '${pkg}' is not installed`}: ` +
          `install it with 'sudo apt-get install ${pkg}' (Debian/Ubuntu), or run the tests as root so they install it`,
      );
    }
    const update = (): void => {
      aptGet(['update']);
      aptUpdated = true;
    };
    // A machine whose package lists already know the package skips the (slow) update...
    if (!aptUpdated && !hasCandidate(pkg)) update();
    const install = (): void => aptGet(['install', '-y', '--no-install-recommends', pkg]);
    try {
      install();
    } catch (err) {
      // ...unless those lists were stale (the version they name is gone from the archive).
      if (aptUpdated) throw err;
      update();
      install();
    }
    found = present();
    if (found === undefined)
      throw new Error(`apt-get installed '${pkg}' but '${binary ?? pkg}' is still missing`);
  }
  installed.set(pkg, found);
  return found;
}

/** kcat (librdkafka's command-line client), installed when missing. Returns its path. */
export function ensureKcat(): string {
  return ensureDebianPackage('kcat', 'kcat');
}

/** The path of librdkafka's shared library (Debian's librdkafka1), installed when missing. */
export function ensureLibrdkafka(): string {
  ensureDebianPackage('librdkafka1');
  const out = execFileSync('dpkg-query', ['-L', 'librdkafka1'], { encoding: 'utf8' });
  const lib = out.split('\n').find((l) => /\/librdkafka\.so\.1$/.test(l));
  if (!lib) throw new Error('librdkafka1 is installed but librdkafka.so.1 was not found in it');
  return lib;
}
