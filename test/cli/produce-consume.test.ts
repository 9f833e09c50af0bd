/** `trib produce` and `trib consume` end to end: data in = data out, byte for byte. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { BIN, trib } from './spawn.js';

describe('trib produce / consume', () => {
  it('round-trips keys, values, headers, UTF-8 and empty lines from stdin', async () => {
    const dir = tempDir('trib-cli-pc-');
    const d = ['--data-dir', dir];
    expect((await trib(['topics', 'create', 'events', '--partitions', '1', ...d])).code).toBe(0);

    const input = 'k1\tv1\nk2\thé→llo 🌊\n\tempty key\nno separator here\nk5\t\nk6\tv\twith tab\n\n';
    const produced = await trib(
      ['produce', 'events', '--key-separator', '\\t', '--header', 'source=cli', '--header', 'n=1', ...d],
      { input },
    );
    expect(produced.stderr).toMatch(/^produced 7 records to events in \d+ ms \([\d,]+ records\/s\)\n$/);
    expect(produced.code).toBe(0);

    const consumed = await trib([
      'consume',
      'events',
      '--from-beginning',
      '--format',
      '%o|%K|%k|%v|%h\\n',
      '--timeout-ms',
      '1500',
      ...d,
    ]);
    expect(consumed.code).toBe(0);
    expect(consumed.out).toBe(
      [
        '0|2|k1|v1|source=cli,n=1',
        '1|2|k2|hé→llo 🌊|source=cli,n=1',
        '2|0||empty key|source=cli,n=1',
        '3|-1||no separator here|source=cli,n=1',
        '4|2|k5||source=cli,n=1',
        '5|2|k6|v\twith tab|source=cli,n=1',
        '6|-1|||source=cli,n=1',
        '',
      ].join('\n'),
    );
    expect(consumed.stderr).toBe('consumed 7 records\n');

    const nulls = await trib([
      'consume',
      'events',
      '--offset',
      '3',
      '--max-messages',
      '1',
      '--format',
      '%k=%v\\n',
      '--null',
      'NULL',
      '-q',
      ...d,
    ]);
    expect(nulls).toMatchObject({ code: 0, out: 'NULL=no separator here\n', stderr: '' });
  });

  it('reads --input files: CRLF, no record for the final newline, exact bytes back', async () => {
    const dir = tempDir('trib-cli-file-');
    const d = ['--data-dir', dir];
    const file = join(tempDir('trib-cli-input-'), 'input.txt');
    writeFileSync(file, 'alpha\r\nβeta\r\n\r\ngamma');
    expect((await trib(['topics', 'create', 'lines', '--partitions', '1', ...d])).code).toBe(0);
    const produced = await trib([
      'produce',
      'lines',
      '--input',
      file,
      '--compression',
      'gzip',
      '--acks',
      '1',
      ...d,
    ]);
    expect(produced.stderr).toMatch(/^produced 4 records to lines/);

    const skip = await trib(['produce', 'lines', '--skip-empty', '-q', ...d], { input: '\n\ndelta\n' });
    expect(skip).toMatchObject({ code: 0, stderr: '' });

    const consumed = await trib(['consume', 'lines', '--from-beginning', '--max-messages', '5', '-q', ...d]);
    expect(consumed.stdout).toEqual(Buffer.from('alpha\nβeta\n\ngamma\ndelta\n'));

    const missing = await trib(['produce', 'lines', '--input', join(dir, 'nope.txt'), ...d]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^trib produce: cannot read --input .*nope\.txt: no such file\n$/);
  });

  it('streams a large input, and ends cleanly when stdout is closed early (| head)', async () => {
    const dir = tempDir('trib-cli-big-');
    const d = ['--data-dir', dir];
    const count = 200_000;
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(`key-${i % 100}:value number ${i} ${'x'.repeat(40)}`);
    const input = `${lines.join('\n')}\n`;
    const produced = await trib(['produce', 'big', '--key-separator', ':', '--partition', '0', ...d], {
      input,
      timeoutMs: 60_000,
    });
    expect(produced.stderr).toMatch(new RegExp(`^produced ${count.toLocaleString('en-US')} records to big`));

    // head exits after 3 lines and closes the pipe: trib must notice (EPIPE) and exit 0, quietly.
    const piped = spawnSync(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-c',
        `"$NODE" "$BIN" consume big --from-beginning --data-dir "$DIR" -q | head -n 3; echo "trib exit \${PIPESTATUS[0]}" >&2`,
      ],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', NODE: process.execPath, BIN, DIR: dir },
        timeout: 30_000,
      },
    );
    expect(piped.stdout).toBe([0, 1, 2].map((i) => `value number ${i} ${'x'.repeat(40)}\n`).join(''));
    expect(piped.stderr).toBe('trib exit 0\n');
  });
});
