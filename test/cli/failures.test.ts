/** What a user sees when something is wrong: one clear line and the right exit code. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { startTrib, trib, until } from './spawn.js';

describe('trib failures', () => {
  it('usage errors exit 2 with one line', async () => {
    const bad = await trib(['consume', 'orders', '--max-mesages', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "trib consume: unknown flag --max-mesages (did you mean --max-messages?); see 'trib consume --help'\n",
    );
    const nowhere = await trib(['topics', 'list']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/^trib topics list: say where the log is: .*\n$/);
    const typo = await trib(['tpoics', 'list']);
    expect(typo).toMatchObject({
      code: 2,
      stderr: "trib: unknown command 'tpoics' (did you mean 'topics'?); see 'trib --help'\n",
    });
  });

  it('an unknown topic is named, exit 1', async () => {
    const dir = tempDir('trib-cli-fail-');
    const r = await trib(['consume', 'nosuch', '--data-dir', dir, '--timeout-ms', '100']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("trib consume: topic 'nosuch' does not exist; see 'trib topics list'\n");
  });

  it('honours TRIB_DATA_DIR', async () => {
    const dir = tempDir('trib-cli-env-');
    expect((await trib(['topics', 'create', 'viaenv'], { env: { TRIB_DATA_DIR: dir } })).code).toBe(0);
    expect((await trib(['topics', 'list', '--data-dir', dir])).out).toBe('viaenv\n');
  });

  it('a data dir in use by another trib names the dir and the pid; SIGTERM ends that one cleanly', async () => {
    const dir = tempDir('trib-cli-lock-');
    expect((await trib(['topics', 'create', 't', '--data-dir', dir])).code).toBe(0);
    const holder = startTrib(['consume', 't', '--group', 'g', '--data-dir', dir]);
    const lock = join(dir, '.lock');
    await until(
      () => existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(holder.child.pid),
      10_000,
      'the lock',
    );

    const blocked = await trib(['topics', 'list', '--data-dir', dir]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain(
      `trib topics list: data directory ${dir} is in use by process ${holder.child.pid}`,
    );
    expect(blocked.stderr.split('\n')).toHaveLength(2); // one line

    holder.child.kill('SIGTERM');
    const ended = await holder.result;
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.stderr).toBe('consumed 0 records\n');
    expect(existsSync(lock)).toBe(false);
  });
});
