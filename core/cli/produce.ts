/**
 * `trib produce TOPIC`: one record per line of stdin (or --input FILE).
 *
 * Input is streamed (never loaded whole): lines are read a chunk at a time and at most
 * MAX_CHUNKS_IN_FLIGHT chunks wait for acknowledgement, so reading pauses when the log is slower
 * than the input. Line rules are in lines.ts (CRLF tolerant, no record for a final newline,
 * empty lines are empty records unless --skip-empty).
 *
 * Keys, as kcat -K: with --key-separator SEP the key is what precedes the first SEP and the value
 * what follows; a line without SEP is a record with a null key and the whole line as value.
 * --null-empty (kcat -Z) turns an empty key or value into null, which makes tombstones.
 */
import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Acks, CompressionType, ProducerRecord, RecordHeader } from '../client/types.js';
import { type ParsedArgs, UsageError } from './args.js';
import { boolFlag, type CliIO, intFlag, type LeafCommand, listFlag, stringFlag } from './command.js';
import { resolveClientConfig, withClient, withConnectionFlags } from './connection.js';
import { CliError, errorCode } from './errors.js';
import { unescapeBytes } from './format.js';
import { LineTooLongError, readLines } from './lines.js';
import { formatCount, parseKeyValue, perSecond } from './text.js';
import { InFlightWindow } from './window.js';

const NAME = 'produce';
const MAX_CHUNKS_IN_FLIGHT = 16;

export interface LineToRecordOptions {
  keySeparator: Buffer | undefined;
  nullEmpty: boolean;
}

/** Key and value of one input line (see the file comment for the rules). */
export function lineToRecord(
  line: Buffer,
  opts: LineToRecordOptions,
): { key: Buffer | null; value: Buffer | null } {
  let key: Buffer | null = null;
  let value: Buffer | null = line;
  if (opts.keySeparator) {
    const at = line.indexOf(opts.keySeparator);
    if (at >= 0) {
      key = line.subarray(0, at);
      value = line.subarray(at + opts.keySeparator.length);
      if (opts.nullEmpty && key.length === 0) key = null;
    }
  }
  if (opts.nullEmpty && value.length === 0) value = null;
  return { key, value };
}

function parseAcks(text: string): Acks {
  return text === 'all' ? 'all' : text === '0' ? 0 : 1;
}

function parseHeaders(args: ParsedArgs): RecordHeader[] {
  return listFlag(args, 'header').map((h) => {
    const [key, value] = parseKeyValue(NAME, 'header', h);
    return { key, value: Buffer.from(value) };
  });
}

async function openInput(
  path: string | undefined,
  io: CliIO,
): Promise<{ input: Readable; close(): Promise<void> }> {
  if (path === undefined || path === '-') return { input: io.stdin, close: async () => {} };
  try {
    const handle = await open(path, 'r');
    return { input: handle.createReadStream({ highWaterMark: 256 * 1024 }), close: () => handle.close() };
  } catch (err) {
    throw new CliError(
      `cannot read --input ${path}: ${errorCode(err) === 'ENOENT' ? 'no such file' : String(err)}`,
    );
  }
}

function explainSendError(err: unknown, topic: string, partition: number | undefined): unknown {
  if (errorCode(err) === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new CliError(
      partition === undefined
        ? `topic '${topic}' does not exist; create it first: trib topics create ${topic}`
        : `topic '${topic}' does not exist or has no partition ${partition}; see: trib topics describe ${topic}`,
      1,
      { cause: err },
    );
  }
  return err;
}

async function run(args: ParsedArgs, io: CliIO): Promise<number | undefined> {
  const topic = args.positionals[0]!;
  const config = resolveClientConfig(NAME, args, io.env);
  const separator = stringFlag(args, 'key-separator');
  if (separator === '') throw new UsageError(`${NAME}: --key-separator cannot be empty`);
  const lineOpts: LineToRecordOptions = {
    keySeparator: separator === undefined ? undefined : unescapeBytes(separator),
    nullEmpty: boolFlag(args, 'null-empty'),
  };
  const headers = parseHeaders(args);
  const partition = intFlag(args, 'partition');
  const skipEmpty = boolFlag(args, 'skip-empty');
  const quiet = boolFlag(args, 'quiet');
  const maxLineBytes = intFlag(args, 'max-line-bytes')!;
  const lingerMs = intFlag(args, 'linger-ms');
  const batchSize = intFlag(args, 'batch-size');
  const inputPath = stringFlag(args, 'input');
  const source = await openInput(inputPath, io);
  if ((inputPath === undefined || inputPath === '-') && (io.stdin as { isTTY?: boolean }).isTTY && !quiet) {
    io.stderr.write('reading records from the terminal, one per line; Ctrl-D to finish\n');
  }

  let interrupted = false;
  const offSignal = io.onSignal(() => {
    interrupted = true;
    source.input.destroy();
  });
  try {
    return await withClient(config, async (client) => {
      const producer = client.producer({
        'client.id': 'trib-produce',
        acks: parseAcks(stringFlag(args, 'acks')!),
        'compression.type': stringFlag(args, 'compression') as CompressionType,
        ...(lingerMs !== undefined ? { 'linger.ms': lingerMs } : {}),
        ...(batchSize !== undefined ? { 'batch.size': batchSize } : {}),
      });
      const window = new InFlightWindow(MAX_CHUNKS_IN_FLIGHT);
      const started = performance.now();
      let count = 0;
      try {
        try {
          for await (const lines of readLines(source.input, maxLineBytes)) {
            const records: ProducerRecord[] = [];
            for (const line of lines) {
              if (skipEmpty && line.length === 0) continue;
              const { key, value } = lineToRecord(line, lineOpts);
              const record: ProducerRecord = { topic, key, value };
              if (partition !== undefined) record.partition = partition;
              if (headers.length > 0) record.headers = headers;
              records.push(record);
            }
            if (records.length === 0) continue;
            const sent = producer.sendBatch(records);
            // The first batch goes alone: it gets the producer its id and the topic's metadata, so
            // that the batches pipelined after it are appended without waiting, in input order.
            if (count === 0) await sent;
            count += records.length;
            await window.add(sent);
          }
        } catch (err) {
          if (!interrupted) throw err;
        }
        await window.drain();
        await producer.flush();
      } catch (err) {
        await window.settle();
        if (err instanceof LineTooLongError) {
          throw new CliError(`${err.message} (raise --max-line-bytes, or check that the input has lines)`);
        }
        throw explainSendError(err, topic, partition);
      } finally {
        await producer.close().catch(() => {});
      }
      const ms = performance.now() - started;
      if (!quiet) {
        io.stderr.write(
          `${interrupted ? 'interrupted: ' : ''}produced ${formatCount(count)} record${count === 1 ? '' : 's'} ` +
            `to ${topic} in ${Math.round(ms)} ms (${formatCount(perSecond(count, ms))} records/s)\n`,
        );
      }
      return interrupted ? 130 : 0;
    });
  } finally {
    offSignal();
    await source.close().catch(() => {});
  }
}

export const produceCommand: LeafCommand = {
  kind: 'command',
  spec: {
    name: NAME,
    summary:
      'Write lines of stdin (or a file) to a topic, one record each. With --key-separator, the key is what ' +
      'precedes the first separator; a line without it gets a null key (as with kcat -K). Empty lines are ' +
      'empty records unless --skip-empty; a final newline does not make one; CRLF reads as LF.',
    usage: 'trib produce TOPIC [--key-separator SEP] [--header k=v]... [--input FILE]',
    positionals: [1, 1],
    flags: withConnectionFlags({
      input: { type: 'string', arg: 'FILE', help: "read lines from FILE instead of stdin ('-' is stdin)" },
      'key-separator': {
        type: 'string',
        arg: 'SEP',
        help: 'split each line into key SEP value at the first SEP (escapes like \\t work)',
      },
      'null-empty': { type: 'bool', help: 'an empty key or value is sent as null (tombstones; kcat -Z)' },
      'skip-empty': { type: 'bool', help: 'skip empty lines instead of sending empty records (as kcat)' },
      header: { type: 'list', arg: 'KEY=VALUE', help: 'add a header to every record' },
      partition: {
        type: 'int',
        arg: 'N',
        min: 0,
        help: 'write every record to partition N (default: by key)',
      },
      acks: {
        type: 'string',
        arg: 'ACKS',
        choices: ['0', '1', 'all'],
        default: 'all',
        help: 'acknowledgement level',
      },
      compression: {
        type: 'string',
        arg: 'CODEC',
        choices: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
        default: 'none',
        help: 'batch compression',
      },
      'linger-ms': { type: 'int', arg: 'MS', min: 0, help: "producer's linger.ms" },
      'batch-size': { type: 'int', arg: 'BYTES', min: 1, help: "producer's batch.size" },
      'max-line-bytes': {
        type: 'int',
        arg: 'BYTES',
        min: 1,
        default: 1048576,
        help: 'longest line accepted',
      },
      quiet: { type: 'bool', alias: 'q', help: 'no summary on stderr' },
    }),
  },
  run,
};
