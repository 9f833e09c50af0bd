/** Consumer groups through the CLI: committed offsets carry over between runs; list, describe, reset. */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { trib } from './spawn.js';

describe('trib consume --group and trib groups', () => {
  it('continues where the last run committed, and shows the lag', async () => {
    const dir = tempDir('trib-cli-groups-');
    const d = ['--data-dir', dir];
    expect((await trib(['topics', 'create', 'jobs', '--partitions', '2', ...d])).code).toBe(0);
    const input = Array.from({ length: 10 }, (_, i) => `job-${i}`).join('\n');
    // Explicit partitions keep the expected order simple: 0..4 to partition 0, 5..9 to partition 1.
    expect(
      (
        await trib(['produce', 'jobs', '--partition', '0', '-q', ...d], {
          input: input.split('\n').slice(0, 5).join('\n'),
        })
      ).code,
    ).toBe(0);
    expect(
      (
        await trib(['produce', 'jobs', '--partition', '1', '-q', ...d], {
          input: input.split('\n').slice(5).join('\n'),
        })
      ).code,
    ).toBe(0);

    const first = await trib([
      'consume',
      'jobs',
      '--group',
      'workers',
      '--from-beginning',
      '--max-messages',
      '4',
      '--format',
      '%p:%v\\n',
      ...d,
    ]);
    expect(first.stderr).toBe('consumed 4 records\n');
    // --from-beginning applies only where the group has no committed offset yet.
    const second = await trib([
      'consume',
      'jobs',
      '--group',
      'workers',
      '--from-beginning',
      '--max-messages',
      '3',
      '--format',
      '%p:%v\\n',
      ...d,
    ]);
    expect(second.code).toBe(0);
    const seen = [...first.out.trim().split('\n'), ...second.out.trim().split('\n')];
    expect(new Set(seen).size).toBe(7); // no record twice

    const list = await trib(['groups', 'list', ...d]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^GROUP +STATE +TYPE\nworkers +Empty +consumer\n$/);

    const described = await trib(['groups', 'describe', 'workers', ...d]);
    expect(described.stderr).toBe('');
    expect(described.out).toMatch(/^Group: workers\tState: Empty\t/);
    expect(described.out).toContain("Consumer group 'workers' has no active members.");
    const rows = described.out.split('\n').filter((l) => l.startsWith('workers '));
    const lag = rows.reduce((sum, r) => sum + Number(r.split(/ +/)[5]), 0);
    expect(rows).toHaveLength(2);
    expect(lag).toBe(3);

    const dry = await trib(['groups', 'reset-offsets', 'workers', '--topic', 'jobs', '--to-earliest', ...d]);
    expect(dry.out).toMatch(/^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +NEW-OFFSET\n/);
    expect(dry.out).toMatch(/^workers +jobs +0 +\d+ +0$/m);
    expect(dry.stderr).toBe('dry run: nothing changed; add --execute to commit these offsets\n');
    const applied = await trib([
      'groups',
      'reset-offsets',
      'workers',
      '--topic',
      'jobs:1',
      '--to-earliest',
      '--execute',
      ...d,
    ]);
    expect(applied.stderr).toBe('reset 1 partition of group workers\n');
    const afterReset = await trib(['groups', 'describe', 'workers', ...d]);
    expect(afterReset.out).toMatch(/^workers +jobs +1 +0 +5 +5 /m);

    const deleted = await trib(['groups', 'delete', 'workers', ...d]);
    expect(deleted).toMatchObject({ code: 0, out: 'deleted group workers\n' });
    const gone = await trib(['groups', 'describe', 'workers', ...d]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(
      "trib groups describe: group 'workers' does not exist; see 'trib groups list'\n",
    );
  });
});
