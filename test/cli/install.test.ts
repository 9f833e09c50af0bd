/** `npm install` leaves a working `trib` in node_modules/.bin (the README's promise). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './spawn.js';

describe('npm install', () => {
  it('leaves node_modules/.bin/trib, which runs', () => {
    const bin = join(ROOT, 'node_modules', '.bin', 'trib');
    expect(existsSync(bin)).toBe(true);
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toMatch(/^\d+\.\d+\.\d+/);
  });
});
