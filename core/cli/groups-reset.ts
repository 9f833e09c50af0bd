/**
 * `trib groups reset-offsets GROUP --topic T[:P,...] --to-earliest|--to-latest|--to-offset N|--shift-by N
 * [--execute]`, as kafka-consumer-groups.sh --reset-offsets: a dry run that prints the plan unless
 * --execute is given; targets are clamped to the partition's [log start, log end]; the group must
 * have no active members.
 */
import type { Admin, TopicPartition, TopicPartitionOffset } from '../client/types.js';
import { type ParsedArgs, UsageError } from './args.js';
import { boolFlag, intFlag, type LeafCommand, listFlag } from './command.js';
import { withAdmin, withConnectionFlags } from './connection.js';
import { CliError, explainGroupError, explainTopicError } from './errors.js';
import { formatTable } from './text.js';

const NAME = 'groups reset-offsets';

export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'shift'; by: number };

export interface PartitionOffsets extends TopicPartition {
  /** The group's committed offset, or undefined when it has none. */
  current: number | undefined;
  logStart: number;
  logEnd: number;
}

export interface PlannedReset extends TopicPartition {
  current: number | undefined;
  target: number;
}

/** The new offset of each partition; shifts from no committed offset start at the log start. */
export function planReset(partitions: readonly PartitionOffsets[], how: ResetTarget): PlannedReset[] {
  return partitions.map((p) => {
    let target: number;
    switch (how.kind) {
      case 'earliest':
        target = p.logStart;
        break;
      case 'latest':
        target = p.logEnd;
        break;
      case 'offset':
        target = how.offset;
        break;
      case 'shift':
        target = (p.current ?? p.logStart) + how.by;
        break;
    }
    target = Math.min(Math.max(target, p.logStart), p.logEnd);
    return { topic: p.topic, partition: p.partition, current: p.current, target };
  });
}

/** `orders` or `orders:0,2`. */
export function parseTopicSelector(text: string): { topic: string; partitions: number[] | undefined } {
  const colon = text.indexOf(':');
  if (colon < 0) return { topic: text, partitions: undefined };
  const topic = text.slice(0, colon);
  const list = text.slice(colon + 1).split(',');
  if (!topic || list.some((p) => !/^\d+$/.test(p))) {
    throw new UsageError(`${NAME}: --topic expects TOPIC or TOPIC:P1,P2,…; got '${text}'`);
  }
  return { topic, partitions: list.map(Number) };
}

function resetTarget(args: ParsedArgs): ResetTarget {
  const chosen: ResetTarget[] = [];
  if (boolFlag(args, 'to-earliest')) chosen.push({ kind: 'earliest' });
  if (boolFlag(args, 'to-latest')) chosen.push({ kind: 'latest' });
  const offset = intFlag(args, 'to-offset');
  if (offset !== undefined) chosen.push({ kind: 'offset', offset });
  const by = intFlag(args, 'shift-by');
  if (by !== undefined) chosen.push({ kind: 'shift', by });
  if (chosen.length !== 1) {
    throw new UsageError(
      `${NAME}: give exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N`,
    );
  }
  return chosen[0]!;
}

async function currentOffsets(admin: Admin, group: string, selectors: string[]): Promise<PartitionOffsets[]> {
  const tps: TopicPartition[] = [];
  for (const selector of selectors) {
    const { topic, partitions } = parseTopicSelector(selector);
    let all: number[];
    try {
      const [d] = await admin.describeTopics([topic]);
      all = d ? d.partitions.map((p) => p.partition) : [];
    } catch (err) {
      throw explainTopicError(err, topic);
    }
    if (all.length === 0) throw explainTopicError({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }, topic);
    const bad = partitions?.find((p) => !all.includes(p));
    if (bad !== undefined) throw new CliError(`topic '${topic}' has no partition ${bad}`);
    for (const partition of (partitions ?? all).sort((a, b) => a - b)) tps.push({ topic, partition });
  }
  const [committed, starts, ends] = await Promise.all([
    admin.listGroupOffsets(group),
    admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'earliest' as const }))),
    admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'latest' as const }))),
  ]);
  const same = (a: TopicPartition) => (b: TopicPartition) =>
    a.topic === b.topic && a.partition === b.partition;
  return tps.map((tp) => {
    const c = committed.find(same(tp));
    return {
      ...tp,
      current: c && c.offset >= 0 ? c.offset : undefined,
      logStart: starts.find(same(tp))?.offset ?? 0,
      logEnd: ends.find(same(tp))?.offset ?? 0,
    };
  });
}

export const resetOffsetsCommand: LeafCommand = {
  kind: 'command',
  spec: {
    name: NAME,
    summary:
      "Move a group's committed offsets. Prints the plan and changes nothing unless --execute is given; " +
      'the group must have no active members.',
    usage:
      'trib groups reset-offsets GROUP --topic T[:P,...] --to-earliest|--to-latest|--to-offset N [--execute]',
    positionals: [1, 1],
    flags: withConnectionFlags({
      topic: {
        type: 'list',
        arg: 'T[:P,...]',
        help: 'the topic (and optionally partitions) to reset',
      },
      'to-earliest': { type: 'bool', help: "to each partition's log start offset" },
      'to-latest': { type: 'bool', help: "to each partition's log end offset (skip everything)" },
      'to-offset': { type: 'int', arg: 'N', min: 0, help: 'to offset N (clamped to the log)' },
      'shift-by': { type: 'int', arg: 'N', help: 'move by N from the committed offset (negative: back)' },
      execute: { type: 'bool', help: 'apply the plan (default: dry run)' },
    }),
  },
  async run(args, io) {
    const group = args.positionals[0]!;
    const how = resetTarget(args);
    const selectors = listFlag(args, 'topic');
    if (selectors.length === 0) throw new UsageError(`${NAME}: --topic T is required`);
    for (const s of selectors) parseTopicSelector(s);
    const execute = boolFlag(args, 'execute');
    return withAdmin(NAME, args, io, async (admin) => {
      if (execute) {
        const [d] = await admin.describeGroups([group]);
        if (d && d.members.length > 0) {
          throw new CliError(
            `group '${group}' has ${d.members.length} active member${d.members.length === 1 ? '' : 's'} ` +
              `(state ${d.state}); stop its consumers, then reset`,
          );
        }
      }
      const plan = planReset(await currentOffsets(admin, group, selectors), how);
      const rows = plan.map((p) => [
        group,
        p.topic,
        String(p.partition),
        p.current === undefined ? '-' : String(p.current),
        String(p.target),
      ]);
      io.stdout.write(formatTable(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], rows));
      if (!execute) {
        io.stderr.write('dry run: nothing changed; add --execute to commit these offsets\n');
        return 0;
      }
      const offsets: TopicPartitionOffset[] = plan.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: p.target,
      }));
      try {
        await admin.alterGroupOffsets(group, offsets);
      } catch (err) {
        throw explainGroupError(err, group);
      }
      io.stderr.write(
        `reset ${offsets.length} partition${offsets.length === 1 ? '' : 's'} of group ${group}\n`,
      );
      return 0;
    });
  },
};
