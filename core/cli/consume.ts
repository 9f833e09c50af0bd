/**
 * `trib consume TOPIC`: records to stdout in a kcat --format.
 *
 * Where reading starts:
 * - `--group G` without --partition/--offset: subscribes as a member of G; the committed offsets
 *   decide, else --from-beginning (earliest) or the end (latest, Kafka's default).
 * - `--partition N` and/or `--offset O|beginning|end|-N`: manual assignment of partition N (or of
 *   every partition); -N starts N records before the end (as kcat -o -N). Offsets still commit to
 *   G when --group is given.
 * - Neither: every partition, from the end (or the beginning with --from-beginning).
 *
 * Offsets committed to the group are those of records actually written to stdout (not of
 * everything fetched), so that `--max-messages` runs continue exactly where the last one stopped.
 * They are committed every COMMIT_INTERVAL_MS and on the way out: at --max-messages, after
 * --timeout-ms without records, on SIGINT/SIGTERM, and when stdout's reader goes away (EPIPE).
 */
import { performance } from 'node:perf_hooks';
import type {
  Consumer,
  KafkaClient,
  RebalanceListener,
  TopicPartition,
  TopicPartitionOffset,
} from '../client/types.js';
import { type ParsedArgs, UsageError } from './args.js';
import { boolFlag, type CliIO, intFlag, type LeafCommand, stringFlag } from './command.js';
import { resolveClientConfig, withClient, withConnectionFlags } from './connection.js';
import { CliError, errorCode } from './errors.js';
import {
  DEFAULT_FORMAT,
  FormatError,
  type FormatToken,
  parseFormat,
  renderRecord,
  unescapeBytes,
} from './format.js';
import { Output } from './output.js';
import { formatCount } from './text.js';

const NAME = 'consume';
const POLL_MS = 250;
const COMMIT_INTERVAL_MS = 5000;
const MAX_POLL_RECORDS = 2000;

/** Where to start reading a manually assigned partition. */
export type StartOffset =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: number }
  | { kind: 'fromEnd'; count: number };

export function parseStartOffset(text: string): StartOffset {
  if (text === 'beginning' || text === 'earliest') return { kind: 'beginning' };
  if (text === 'end' || text === 'latest') return { kind: 'end' };
  if (/^\d+$/.test(text)) return { kind: 'offset', offset: Number(text) };
  if (/^-\d+$/.test(text)) return { kind: 'fromEnd', count: Number(text.slice(1)) };
  throw new UsageError(
    `${NAME}: --offset must be beginning, end, an offset, or -N (N before the end); got '${text}'`,
  );
}

/** The partitions of `topic`, or a CliError saying it does not exist. */
export async function topicPartitions(client: KafkaClient, topic: string): Promise<number[]> {
  const admin = client.admin();
  try {
    const [description] = await admin.describeTopics([topic]);
    if (!description)
      throw Object.assign(new Error(`unknown topic ${topic}`), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    return description.partitions.map((p) => p.partition).sort((a, b) => a - b);
  } catch (err) {
    if (errorCode(err) === 'UNKNOWN_TOPIC_OR_PARTITION') {
      throw new CliError(`topic '${topic}' does not exist; see 'trib topics list'`, 1, { cause: err });
    }
    throw err;
  }
}

async function seekAll(consumer: Consumer, tps: TopicPartition[], start: StartOffset): Promise<void> {
  switch (start.kind) {
    case 'beginning':
      consumer.seekToBeginning(tps);
      return;
    case 'end':
      consumer.seekToEnd(tps);
      return;
    case 'offset':
      for (const tp of tps) consumer.seek(tp, start.offset);
      return;
    case 'fromEnd': {
      const [ends, begins] = await Promise.all([consumer.endOffsets(tps), consumer.beginningOffsets(tps)]);
      for (const tp of tps) {
        const end = ends.find((e) => e.partition === tp.partition)?.offset ?? 0;
        const begin = begins.find((b) => b.partition === tp.partition)?.offset ?? 0;
        consumer.seek(tp, Math.max(begin, end - start.count));
      }
      return;
    }
  }
}

interface ConsumeOptions {
  topic: string;
  group: string | undefined;
  fromBeginning: boolean;
  partition: number | undefined;
  start: StartOffset | undefined;
  maxMessages: number | undefined;
  timeoutMs: number | undefined;
  tokens: FormatToken[];
  nullText: Buffer;
  quiet: boolean;
}

function options(args: ParsedArgs): ConsumeOptions {
  const offset = stringFlag(args, 'offset');
  let tokens: FormatToken[];
  try {
    tokens = parseFormat(stringFlag(args, 'format')!);
  } catch (err) {
    if (err instanceof FormatError) throw new UsageError(`${NAME}: --format: ${err.message}`);
    throw err;
  }
  const start = offset === undefined ? undefined : parseStartOffset(offset);
  const fromBeginning = boolFlag(args, 'from-beginning');
  if (start && fromBeginning) throw new UsageError(`${NAME}: give --offset or --from-beginning, not both`);
  return {
    topic: args.positionals[0]!,
    group: stringFlag(args, 'group'),
    fromBeginning,
    partition: intFlag(args, 'partition'),
    start,
    maxMessages: intFlag(args, 'max-messages'),
    timeoutMs: intFlag(args, 'timeout-ms'),
    tokens,
    nullText: unescapeBytes(stringFlag(args, 'null') ?? ''),
    quiet: boolFlag(args, 'quiet'),
  };
}

async function startConsumer(
  client: KafkaClient,
  opts: ConsumeOptions,
  listener: RebalanceListener,
): Promise<Consumer> {
  const partitions = await topicPartitions(client, opts.topic);
  const consumer = client.consumer({
    'client.id': 'trib-consume',
    ...(opts.group !== undefined ? { 'group.id': opts.group } : {}),
    'auto.offset.reset': opts.fromBeginning ? 'earliest' : 'latest',
    'enable.auto.commit': false,
    'max.poll.records': MAX_POLL_RECORDS,
  });
  if (opts.group !== undefined && opts.partition === undefined && opts.start === undefined) {
    await consumer.subscribe([opts.topic], listener);
    return consumer;
  }
  if (opts.partition !== undefined && !partitions.includes(opts.partition)) {
    await consumer.close().catch(() => {});
    throw new CliError(
      `topic '${opts.topic}' has no partition ${opts.partition} (it has ${partitions.length})`,
    );
  }
  const tps = (opts.partition !== undefined ? [opts.partition] : partitions).map((partition) => ({
    topic: opts.topic,
    partition,
  }));
  consumer.assign(tps);
  // With a group and no --offset, the group's committed offsets (or auto.offset.reset) decide.
  const start: StartOffset | undefined =
    opts.start ?? (opts.group !== undefined ? undefined : { kind: opts.fromBeginning ? 'beginning' : 'end' });
  if (start) await seekAll(consumer, tps, start);
  return consumer;
}

async function run(args: ParsedArgs, io: CliIO): Promise<number | undefined> {
  const config = resolveClientConfig(NAME, args, io.env);
  const opts = options(args);
  const out = new Output(io.stdout);
  let stopping = false;
  const offSignal = io.onSignal(() => {
    stopping = true;
  });
  try {
    return await withClient(config, async (client) => {
      let consumer: Consumer | undefined;
      /** Next offset to commit, per partition: one past the last record written to stdout. */
      const toCommit = new Map<number, number>();
      let committedAt = performance.now();
      const commit = async () => {
        if (opts.group === undefined || toCommit.size === 0 || !consumer) return;
        const offsets: TopicPartitionOffset[] = [...toCommit].map(([partition, offset]) => ({
          topic: opts.topic,
          partition,
          offset,
        }));
        toCommit.clear();
        committedAt = performance.now();
        await consumer.commit(offsets);
      };
      let lastRecordAt = performance.now();
      consumer = await startConsumer(client, opts, {
        // --timeout-ms counts from the group's assignment too: joining a group can take a while.
        onPartitionsAssigned: () => {
          lastRecordAt = performance.now();
        },
        // Partitions moving to another member: what was printed from them is committed first.
        onPartitionsRevoked: () => commit(),
      });
      let count = 0;
      try {
        while (!stopping && out.open) {
          const remaining = opts.maxMessages === undefined ? MAX_POLL_RECORDS : opts.maxMessages - count;
          if (remaining <= 0) break;
          let waitMs = POLL_MS;
          if (opts.timeoutMs !== undefined) {
            const idle = performance.now() - lastRecordAt;
            if (idle >= opts.timeoutMs) break;
            waitMs = Math.max(1, Math.min(POLL_MS, Math.ceil(opts.timeoutMs - idle)));
          }
          const records = await consumer.poll({
            timeoutMs: waitMs,
            maxRecords: Math.min(remaining, MAX_POLL_RECORDS),
          });
          if (records.length > 0) {
            lastRecordAt = performance.now();
            const parts: Buffer[] = [];
            let size = 0;
            for (const record of records.slice(0, remaining)) {
              size += renderRecord(opts.tokens, record, opts.nullText, parts);
              toCommit.set(record.partition, record.offset + 1);
              count++;
            }
            await out.write(Buffer.concat(parts, size));
          }
          if (performance.now() - committedAt >= COMMIT_INTERVAL_MS) await commit();
        }
        if (out.error) throw new CliError(`cannot write to stdout: ${out.error.message}`);
        await commit();
      } finally {
        await consumer.close().catch(() => {});
      }
      if (!opts.quiet) io.stderr.write(`consumed ${formatCount(count)} record${count === 1 ? '' : 's'}\n`);
      return 0;
    });
  } finally {
    offSignal();
  }
}

export const consumeCommand: LeafCommand = {
  kind: 'command',
  spec: {
    name: NAME,
    summary:
      "Print a topic's records on stdout. Each record is written as --format says (default: the value " +
      'and a newline); a null key or value prints as --null (empty by default; kcat -Z prints NULL).',
    usage: "trib consume TOPIC [--group G] [--from-beginning] [--format '%k\\t%v\\n'] [--max-messages N]",
    positionals: [1, 1],
    flags: withConnectionFlags({
      group: { type: 'string', arg: 'G', help: 'consume as a member of group G and commit offsets to it' },
      'from-beginning': {
        type: 'bool',
        help: 'start at the earliest offset when there is no committed one (default: the end)',
      },
      partition: { type: 'int', arg: 'N', min: 0, help: 'read only partition N (manual assignment)' },
      offset: {
        type: 'string',
        arg: 'OFFSET',
        help: 'start at OFFSET: beginning, end, a number, or -N for N before the end',
      },
      'max-messages': { type: 'int', arg: 'N', min: 1, help: 'exit after N records' },
      'timeout-ms': {
        type: 'int',
        arg: 'MS',
        min: 1,
        help: 'exit once no record arrived for MS milliseconds',
      },
      format: {
        type: 'string',
        arg: 'FMT',
        default: DEFAULT_FORMAT,
        help: 'kcat format: %k key, %v value, %t topic, %p partition, %o offset, %T timestamp, %h headers, %K/%S lengths',
      },
      null: { type: 'string', arg: 'TEXT', help: 'text printed for a null key or value (default empty)' },
      quiet: { type: 'bool', alias: 'q', help: 'no summary on stderr' },
    }),
  },
  run,
};
