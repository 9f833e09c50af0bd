/** `trib demo`, `--help` and `--version` as a user runs them, and docs/cli.md kept in step with the specs. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateReference } from '../../core/cli/help.js';
import { ROOT, trib } from './spawn.js';

describe('trib demo', () => {
  it('runs for --seconds, prints a line a second and a summary, no ANSI codes into a pipe', async () => {
    const r = await trib(['demo', '--seconds', '4', '--record-bytes', '50'], { timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('\u001b[');
    expect(r.out).toMatch(/data dir +\S+ \(temporary\)/);
    const ticks = r.out.split('\n').filter((l) => /^ +\d+ s │/.test(l));
    expect(ticks.length).toBeGreaterThanOrEqual(1);
    const produced = Number(/produced +([\d,]+) records/.exec(r.out)?.[1]?.replace(/,/g, ''));
    const consumed = Number(/consumed +([\d,]+) records/.exec(r.out)?.[1]?.replace(/,/g, ''));
    expect(produced).toBeGreaterThan(0);
    expect(consumed).toBe(produced);
    const dir = /data dir +(\S+)/.exec(r.out)![1]!;
    expect(existsSync(dir)).toBe(false); // the temporary data dir is removed
  });
});

describe('trib --help / --version', () => {
  it('work from the built package', async () => {
    const help = await trib(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^trib \d+\.\d+\.\d+/);
    const version = await trib(['--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.out).toBe(`${pkg.version}\n`);
  });

  it('docs/cli.md carries the reference generated from the command specs', async () => {
    const generated = await trib(['--help-markdown']);
    const doc = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
    // When this fails after a command's flags changed: node bin/trib.js --help-markdown docs/cli.md
    expect(doc, 'docs/cli.md is out of date: run node bin/trib.js --help-markdown docs/cli.md').toBe(
      updateReference(doc, generated.out),
    );
  });
});
