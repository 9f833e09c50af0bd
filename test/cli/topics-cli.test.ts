/** `trib topics …` end to end, against an embedded data dir. */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { trib } from './spawn.js';

describe('trib topics', () => {
  it('creates, lists, describes, alters, grows and deletes topics', async () => {
    const dir = tempDir('trib-cli-topics-');
    const d = ['--data-dir', dir];

    const created = await trib([
      'topics',
      'create',
      'orders',
      '--partitions',
      '3',
      '--config',
      'retention.ms=3600000',
      ...d,
    ]);
    expect(created.stderr).toBe('');
    expect(created).toMatchObject({ code: 0, out: 'created topic orders\n' });
    expect((await trib(['topics', 'create', 'audit', ...d])).code).toBe(0);

    const again = await trib(['topics', 'create', 'orders', ...d]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      "trib topics create: topic 'orders' already exists (add --if-not-exists to ignore that)\n",
    );
    expect((await trib(['topics', 'create', 'orders', '--if-not-exists', ...d])).code).toBe(0);

    const list = await trib(['topics', 'list', ...d]);
    expect(list).toMatchObject({ code: 0, out: 'audit\norders\n' });

    const alter = await trib([
      'topics',
      'alter',
      'orders',
      '--config',
      'cleanup.policy=compact',
      '--delete-config',
      'retention.ms',
      ...d,
    ]);
    expect(alter.stderr).toBe('');
    expect(alter.out).toBe('updated topic orders: cleanup.policy=compact, deleted retention.ms\n');

    const grow = await trib(['topics', 'add-partitions', 'orders', '--partitions', '4', ...d]);
    expect(grow).toMatchObject({ code: 0, out: 'topic orders now has 4 partitions\n' });

    const describeOut = await trib(['topics', 'describe', 'orders', ...d]);
    expect(describeOut.stderr).toBe('');
    const lines = describeOut.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^Topic: orders\tTopicId: \S+\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: cleanup.policy=compact$/,
    );
    expect(lines.slice(1)).toEqual(
      [0, 1, 2, 3].map((p) =>
        expect.stringMatching(
          new RegExp(
            `^\\tTopic: orders\\tPartition: ${p}\\tLeader: \\d+\\tReplicas: \\d+\\tIsr: \\d+\\tLogStartOffset: 0\\tLogEndOffset: 0$`,
          ),
        ),
      ),
    );

    const all = await trib(['topics', 'describe', ...d]);
    expect(all.out.match(/^Topic: /gm)).toHaveLength(2);

    const deleted = await trib(['topics', 'delete', 'audit', 'orders', ...d]);
    expect(deleted).toMatchObject({ code: 0, out: 'deleted topic audit\ndeleted topic orders\n' });
    expect((await trib(['topics', 'list', ...d])).out).toBe('');

    const missing = await trib(['topics', 'describe', 'orders', ...d]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "trib topics describe: topic 'orders' does not exist; see 'trib topics list'\n",
    );
  });
});
