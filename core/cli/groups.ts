/**
 * `trib groups list|describe|delete|reset-offsets`: consumer groups, as kafka-consumer-groups.sh
 * shows and manages them.
 */
import type { GroupDescription, GroupOffset } from '../client/types.js';
import type { CommandGroup, LeafCommand } from './command.js';
import { withAdmin, withConnectionFlags } from './connection.js';
import { CliError, explainGroupError } from './errors.js';
import { resetOffsetsCommand } from './groups-reset.js';
import { formatTable } from './text.js';

/** A group that does not exist comes back from DescribeGroups as Dead with no members. */
export function groupExists(d: GroupDescription | undefined): d is GroupDescription {
  return d !== undefined && !(d.state === 'Dead' && d.members.length === 0 && d.protocolType === '');
}

/** kafka-consumer-groups.sh --describe: one row per partition with an offset or an owner. */
export function formatGroupDescription(d: GroupDescription, offsets: readonly GroupOffset[]): string {
  const owner = new Map<string, GroupDescription['members'][number]>();
  for (const m of d.members) for (const tp of m.assignment) owner.set(`${tp.topic}\0${tp.partition}`, m);
  const rows = new Map<string, string[]>();
  for (const o of offsets) {
    const m = owner.get(`${o.topic}\0${o.partition}`);
    rows.set(`${o.topic}\0${o.partition}`, [
      d.groupId,
      o.topic,
      String(o.partition),
      o.offset < 0 ? '-' : String(o.offset),
      String(o.logEndOffset),
      o.offset < 0 ? '-' : String(o.lag),
      m?.memberId ?? '-',
      m?.clientHost ?? '-',
      m?.clientId ?? '-',
    ]);
  }
  // Partitions assigned but with nothing committed yet.
  for (const [key, m] of owner) {
    if (rows.has(key)) continue;
    const [topic, partition] = key.split('\0') as [string, string];
    rows.set(key, [d.groupId, topic, partition, '-', '-', '-', m.memberId, m.clientHost, m.clientId]);
  }
  const sorted = [...rows.values()].sort((a, b) => a[1]!.localeCompare(b[1]!) || Number(a[2]) - Number(b[2]));
  let text =
    `Group: ${d.groupId}\tState: ${d.state}\tProtocol: ${d.protocol || '-'}\t` +
    `Members: ${d.members.length}\tCoordinator: ${d.coordinator}\n`;
  if (d.members.length === 0) text += `Consumer group '${d.groupId}' has no active members.\n`;
  text += '\n';
  if (sorted.length === 0) return `${text}No committed offsets.\n`;
  const header = [
    'GROUP',
    'TOPIC',
    'PARTITION',
    'CURRENT-OFFSET',
    'LOG-END-OFFSET',
    'LAG',
    'CONSUMER-ID',
    'HOST',
    'CLIENT-ID',
  ];
  return text + formatTable(header, sorted);
}

const list: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'groups list',
    summary: 'List consumer groups with their state.',
    usage: 'trib groups list',
    flags: withConnectionFlags({}),
  },
  async run(args, io) {
    return withAdmin('groups list', args, io, async (admin) => {
      const groups = (await admin.listGroups()).sort((a, b) => a.groupId.localeCompare(b.groupId));
      if (groups.length === 0) {
        io.stderr.write('no consumer groups yet\n');
        return 0;
      }
      const rows = groups.map((g) => [g.groupId, g.state || '-', g.protocolType || '-']);
      io.stdout.write(formatTable(['GROUP', 'STATE', 'TYPE'], rows));
      return 0;
    });
  },
};

const describe: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'groups describe',
    summary:
      "Show a group's members, committed offsets and lag. Per partition: the committed offset, the log " +
      'end offset and the lag between them, as kafka-consumer-groups.sh --describe shows them.',
    usage: 'trib groups describe GROUP',
    positionals: [1, 1],
    flags: withConnectionFlags({}),
  },
  async run(args, io) {
    const group = args.positionals[0]!;
    return withAdmin('groups describe', args, io, async (admin) => {
      let description: GroupDescription | undefined;
      let offsets: GroupOffset[];
      try {
        [description] = await admin.describeGroups([group]);
        offsets = await admin.listGroupOffsets(group);
      } catch (err) {
        throw explainGroupError(err, group);
      }
      if (!groupExists(description) && offsets.length === 0) {
        throw new CliError(`group '${group}' does not exist; see 'trib groups list'`);
      }
      const d: GroupDescription = description ?? {
        groupId: group,
        state: 'Empty',
        protocolType: 'consumer',
        protocol: '',
        members: [],
        coordinator: -1,
      };
      io.stdout.write(formatGroupDescription(d, offsets));
      return 0;
    });
  },
};

const remove: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'groups delete',
    summary: 'Delete consumer groups and their committed offsets. A group must have no active members.',
    usage: 'trib groups delete GROUP...',
    positionals: [1, Number.POSITIVE_INFINITY],
    flags: withConnectionFlags({}),
  },
  async run(args, io) {
    return withAdmin('groups delete', args, io, async (admin) => {
      for (const group of args.positionals) {
        try {
          await admin.deleteGroups([group]);
        } catch (err) {
          throw explainGroupError(err, group);
        }
        io.stdout.write(`deleted group ${group}\n`);
      }
      return 0;
    });
  },
};

export const groupsCommand: CommandGroup = {
  kind: 'group',
  name: 'groups',
  summary: 'list, describe, delete consumer groups and reset their offsets',
  subcommands: [list, describe, remove, resetOffsetsCommand],
};
