/**
 * `trib topics describe [NAME...]`: kafka-topics.sh --describe's layout (tab-separated
 * `Key: value` fields, one line per topic then one per partition), with each partition's log
 * start and end offsets added.
 */
import type { Admin, ListOffsetsResult, TopicDescription } from '../client/types.js';
import { boolFlag, type LeafCommand } from './command.js';
import { withAdmin, withConnectionFlags } from './connection.js';
import { explainTopicError } from './errors.js';

export interface TopicDetails {
  description: TopicDescription;
  /** Config overrides set on the topic (not defaults). */
  configs: [string, string][];
  /** Log start and end offset per partition. */
  offsets: Map<number, { start: number; end: number }>;
}

/** The text kafka-topics.sh users expect, one topic. */
export function formatTopicDetails(t: TopicDetails): string {
  const d = t.description;
  const rf = d.partitions[0]?.replicas.length ?? 0;
  const configs = t.configs.map(([k, v]) => `${k}=${v}`).join(',');
  let text = `Topic: ${d.name}\tTopicId: ${d.topicId}\tPartitionCount: ${d.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${configs}\n`;
  for (const p of [...d.partitions].sort((a, b) => a.partition - b.partition)) {
    const o = t.offsets.get(p.partition);
    const fields = [
      `Topic: ${d.name}`,
      `Partition: ${p.partition}`,
      `Leader: ${p.leader < 0 ? 'none' : p.leader}`,
      `Replicas: ${p.replicas.join(',')}`,
      `Isr: ${p.isr.join(',')}`,
      ...(p.offlineReplicas.length > 0 ? [`Offline: ${p.offlineReplicas.join(',')}`] : []),
      `LogStartOffset: ${o ? o.start : '-'}`,
      `LogEndOffset: ${o ? o.end : '-'}`,
    ];
    text += `\t${fields.join('\t')}\n`;
  }
  return text;
}

async function details(admin: Admin, names: readonly string[]): Promise<TopicDetails[]> {
  const descriptions = await admin.describeTopics(names);
  const configs = await admin.describeConfigs(descriptions.map((d) => ({ type: 'topic', name: d.name })));
  const tps = descriptions.flatMap((d) =>
    d.partitions.map((p) => ({ topic: d.name, partition: p.partition })),
  );
  const [starts, ends] = await Promise.all([
    admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'earliest' as const }))),
    admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'latest' as const }))),
  ]);
  const find = (list: ListOffsetsResult[], topic: string, partition: number) =>
    list.find((r) => r.topic === topic && r.partition === partition)?.offset;
  return descriptions.map((description) => {
    const entries = configs.find((c) => c.resource.name === description.name)?.entries ?? [];
    const offsets = new Map<number, { start: number; end: number }>();
    for (const p of description.partitions) {
      const start = find(starts, description.name, p.partition);
      const end = find(ends, description.name, p.partition);
      if (start !== undefined && end !== undefined) offsets.set(p.partition, { start, end });
    }
    return {
      description,
      configs: entries
        .filter((e) => e.source === 'topic' && !e.isDefault)
        .map((e): [string, string] => [e.name, e.isSensitive ? '(sensitive)' : (e.value ?? '')]),
      offsets,
    };
  });
}

export const describeTopicsCommand: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'topics describe',
    summary:
      'Describe topics: partitions, replicas, config overrides and log offsets. For each partition: ' +
      'leader, replicas, in-sync replicas, log start and end offsets; with no NAME, every topic.',
    usage: 'trib topics describe [NAME...]',
    positionals: [0, Number.POSITIVE_INFINITY],
    flags: withConnectionFlags({
      'include-internal': { type: 'bool', help: 'with no NAME, describe internal topics too' },
    }),
  },
  async run(args, io) {
    return withAdmin('topics describe', args, io, async (admin) => {
      let names = args.positionals;
      if (names.length === 0) {
        names = (await admin.listTopics({ includeInternal: boolFlag(args, 'include-internal') })).sort();
        if (names.length === 0) {
          io.stderr.write('no topics yet; create one with: trib topics create NAME\n');
          return 0;
        }
      }
      let all: TopicDetails[];
      try {
        all = await details(admin, names);
      } catch (err) {
        throw names.length === 1 ? explainTopicError(err, names[0]!) : err;
      }
      const missing = names.filter((n) => !all.some((t) => t.description.name === n));
      if (missing.length > 0) throw explainTopicError({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }, missing[0]!);
      io.stdout.write(all.map(formatTopicDetails).join(''));
      return 0;
    });
  },
};
