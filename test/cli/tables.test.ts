/** Pure formatting of the admin commands' output, and the reset-offsets plan. */
import { describe, expect, it } from 'vitest';
import { formatSummary, formatTick } from '../../core/cli/demo.js';
import { formatGroupDescription } from '../../core/cli/groups.js';
import { parseTopicSelector, planReset } from '../../core/cli/groups-reset.js';
import { PLAIN, styleFor } from '../../core/cli/style.js';
import { formatBytes, formatCount, formatDuration, formatTable } from '../../core/cli/text.js';
import { formatTopicDetails } from '../../core/cli/topics-describe.js';

describe('text helpers', () => {
  it('aligns tables without trailing spaces', () => {
    expect(
      formatTable(
        ['A', 'LONGER'],
        [
          ['xyz', '1'],
          ['w', ''],
        ],
      ),
    ).toBe('A    LONGER\nxyz  1\nw\n');
  });
  it('formats counts, bytes and durations', () => {
    expect(formatCount(1234567.4)).toBe('1,234,567');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567)).toBe('1.23 MB');
    expect(formatBytes(45_600_000)).toBe('45.6 MB');
    expect(formatDuration(950)).toBe('950 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(125_000)).toBe('2m05s');
  });
});

describe('topics describe', () => {
  it("shows kafka-topics.sh's layout with log offsets", () => {
    const text = formatTopicDetails({
      description: {
        name: 'orders',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        internal: false,
        partitions: [
          { partition: 1, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0], offlineReplicas: [] },
          { partition: 0, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0], offlineReplicas: [] },
        ],
      },
      configs: [['retention.ms', '1000']],
      offsets: new Map([
        [0, { start: 0, end: 5 }],
        [1, { start: 2, end: 3 }],
      ]),
    });
    expect(text).toBe(
      'Topic: orders\tTopicId: AAAAAAAAAAAAAAAAAAAAAA\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=1000\n' +
        '\tTopic: orders\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 0\tLogEndOffset: 5\n' +
        '\tTopic: orders\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 2\tLogEndOffset: 3\n',
    );
  });
});

describe('groups describe', () => {
  it('one row per partition: committed offset, log end, lag and owner', () => {
    const text = formatGroupDescription(
      {
        groupId: 'g',
        state: 'Stable',
        protocolType: 'consumer',
        protocol: 'range',
        coordinator: 0,
        members: [
          {
            memberId: 'm-1',
            groupInstanceId: null,
            clientId: 'c',
            clientHost: '/127.0.0.1',
            assignment: [
              { topic: 't', partition: 0 },
              { topic: 't', partition: 1 },
            ],
          },
        ],
      },
      [{ topic: 't', partition: 0, offset: 3, logEndOffset: 10, lag: 7 }],
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('Group: g\tState: Stable\tProtocol: range\tMembers: 1\tCoordinator: 0');
    expect(lines[2]).toMatch(
      /^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID$/,
    );
    expect(lines[3]!.split(/ +/)).toEqual(['g', 't', '0', '3', '10', '7', 'm-1', '/127.0.0.1', 'c']);
    expect(lines[4]!.split(/ +/)).toEqual(['g', 't', '1', '-', '-', '-', 'm-1', '/127.0.0.1', 'c']);
  });

  it('says when a group has no members', () => {
    const text = formatGroupDescription(
      { groupId: 'g', state: 'Empty', protocolType: 'consumer', protocol: '', coordinator: 0, members: [] },
      [{ topic: 't', partition: 0, offset: 10, logEndOffset: 10, lag: 0 }],
    );
    expect(text).toContain("Consumer group 'g' has no active members.");
    expect(text).toMatch(/^g +t +0 +10 +10 +0 +- +- +-$/m);
  });
});

describe('groups reset-offsets', () => {
  const parts = [
    { topic: 't', partition: 0, current: 5, logStart: 2, logEnd: 10 },
    { topic: 't', partition: 1, current: undefined, logStart: 0, logEnd: 4 },
  ];
  const targets = (how: Parameters<typeof planReset>[1]) => planReset(parts, how).map((p) => p.target);

  it('computes targets clamped to the log', () => {
    expect(targets({ kind: 'earliest' })).toEqual([2, 0]);
    expect(targets({ kind: 'latest' })).toEqual([10, 4]);
    expect(targets({ kind: 'offset', offset: 7 })).toEqual([7, 4]);
    expect(targets({ kind: 'offset', offset: 0 })).toEqual([2, 0]);
    expect(targets({ kind: 'shift', by: -4 })).toEqual([2, 0]);
    expect(targets({ kind: 'shift', by: 2 })).toEqual([7, 2]);
  });

  it('parses TOPIC and TOPIC:P,P', () => {
    expect(parseTopicSelector('t')).toEqual({ topic: 't', partitions: undefined });
    expect(parseTopicSelector('t:0,2')).toEqual({ topic: 't', partitions: [0, 2] });
    expect(() => parseTopicSelector('t:a')).toThrow(/TOPIC:P1,P2/);
  });
});

describe('demo display', () => {
  const zero = { elapsedMs: 0, produced: 0, producedBytes: 0, consumed: 0, consumedBytes: 0, logBytes: 0 };
  const now = {
    elapsedMs: 1000,
    produced: 200_000,
    producedBytes: 20_000_000,
    consumed: 150_000,
    consumedBytes: 15_000_000,
    logBytes: 21_000_000,
  };

  it('one line a second, without ANSI codes when not a terminal', () => {
    const line = formatTick(1, zero, now, PLAIN);
    expect(line).toMatch(/^ +1 s │ +200,000 +20\.0 MB\/s │ +150,000 +15\.0 MB\/s │ +50,000 │ +21\.0 MB\n$/);
    expect(styleFor({ isTTY: false }, {})).toBe(PLAIN);
    expect(styleFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(PLAIN);
    expect(formatTick(1, zero, now, styleFor({ isTTY: true }, {}))).toContain('\u001b[');
  });

  it('sums up totals and averages', () => {
    const text = formatSummary({ ...now, elapsedMs: 2000 }, PLAIN);
    expect(text).toMatch(/produced +200,000 records +20\.0 MB +100,000 records\/s +10\.0 MB\/s/);
    expect(text).toMatch(/consumed +150,000 records/);
  });
});
