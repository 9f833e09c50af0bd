/** `trib start` (npm start): the quick-start pipeline runs end to end and shows every stage. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trib } from './spawn.js';

describe('trib start', () => {
  it('generates page views, counts them per page in a streams job and writes the counts to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trib-start-test-'));
    try {
      const r = await trib(['start', '--seconds', '4', '--rate', '2000', '--data-dir', dir], {
        timeoutMs: 60_000,
      });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.out).not.toContain('\u001b[');
      expect(r.out).toMatch(/datagen ─▶ pageviews ─▶ streams/);
      const ticks = r.out.split('\n').filter((l) => /^ +\d+ s │/.test(l));
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      const generated = Number(/generated +([\d,]+) page views/.exec(r.out)?.[1]?.replace(/,/g, ''));
      expect(generated).toBeGreaterThan(1000);
      const lines = readFileSync(join(dir, 'pageview-counts.txt'), 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(100);
      // Each line is "<page>\t<views so far>"; a page's count only grows.
      const last = new Map<string, number>();
      for (const line of lines) {
        const m = /^(Page_\d+)\t(\d+)$/.exec(line);
        expect(m, line).not.toBeNull();
        const n = Number(m![2]);
        expect(n).toBeGreaterThan(last.get(m![1]!) ?? 0);
        last.set(m![1]!, n);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
