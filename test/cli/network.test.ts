/** The same commands over the Kafka protocol: `trib broker` serving a data dir, clients with --bootstrap. */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { startTrib, trib, until } from './spawn.js';

describe('trib with --bootstrap', () => {
  it('creates a topic, produces and consumes through a broker', async () => {
    const dir = tempDir('trib-cli-net-');
    const broker = startTrib(['broker', '--data-dir', dir, '--listen', '127.0.0.1:0'], { timeoutMs: 60_000 });
    let stderr = '';
    broker.child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      await until(() => /listening on \S+:\d+/.test(stderr), 15_000, 'the broker to listen');
      const bootstrap = /listening on (\S+:\d+)/.exec(stderr)![1]!;
      const env = { TRIB_BOOTSTRAP: bootstrap };

      expect((await trib(['topics', 'create', 'net', '--partitions', '2'], { env })).stderr).toBe('');
      const produced = await trib(['produce', 'net', '--key-separator', '=', '-q'], {
        env,
        input: 'a=1\nb=2\nc=3\n',
      });
      expect(produced).toMatchObject({ code: 0, stderr: '' });
      const consumed = await trib(
        [
          'consume',
          'net',
          '--from-beginning',
          '--group',
          'g',
          '--max-messages',
          '3',
          '--format',
          '%k=%v\\n',
          '-q',
        ],
        { env },
      );
      expect(consumed.stderr).toBe('');
      expect(consumed.out.split('\n').filter(Boolean).sort()).toEqual(['a=1', 'b=2', 'c=3']);
      const described = await trib(['groups', 'describe', 'g', '--bootstrap', bootstrap]);
      expect(described.out).toMatch(/^Group: g\t/);
      const rows = described.out.split('\n').filter((l) => l.startsWith('g '));
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.split(/ +/)[5]).toBe('0'); // no lag left
    } finally {
      broker.child.kill('SIGTERM');
      await broker.result;
    }
  });

  it('says so when nothing listens at the address', async () => {
    const r = await trib(['topics', 'list', '--bootstrap', '127.0.0.1:1'], { env: { TRIB_DEBUG: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^trib topics list: .*127\.0\.0\.1:1/);
  });
});
