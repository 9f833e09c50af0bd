/**
 * Offset checkpoint files, in Kafka's text format (`OffsetCheckpointFile` / `CheckpointFile`):
 *
 * ```
 * 0                      <- format version
 * 3                      <- number of entries
 * orders 0 1200          <- topic, partition, offset; separated by one space
 * orders 1 980
 * __consumer_offsets 7 0
 * ```
 *
 * The data directory holds three of them, each rewritten whole (write to a temp file, fsync,
 * rename, fsync the directory — `FileSystem.writeFileAtomic`), so a crash leaves either the old
 * or the new file, never a torn one:
 * - `recovery-point-offset-checkpoint`: per partition, the offset below which everything was
 *   fsynced; recovery after an unclean shutdown starts there.
 * - `log-start-offset-checkpoint`: per partition, the log start offset (DeleteRecords, retention).
 * - `cleaner-offset-checkpoint`: per compacted partition, the first dirty offset (the cleaner
 *   has compacted everything below it), so cleaning is incremental.
 *
 * Topic names never contain a space (see topic-name.ts), so the format needs no escaping.
 * Concurrency: none; the log manager is the only writer and reads them once at open.
 */
import type { FileSystem } from '../env/fs.js';

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

/** The only format version Kafka (and we) write. */
export const CHECKPOINT_FORMAT_VERSION = 0;
/** A checkpoint with more entries than this is refused as corrupt (a limit on everything). */
export const MAX_CHECKPOINT_ENTRIES = 1_000_000;
/** Files larger than this are refused as corrupt before being parsed. */
export const MAX_CHECKPOINT_FILE_BYTES = 128 * 1024 * 1024;

/** "topic partition" → offset. Use {@link tpKey} to build keys. */
export type OffsetCheckpoint = Map<string, { topic: string; partition: number; offset: number }>;

export function tpKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class CheckpointFormatError extends Error {
  readonly code = 'CORRUPT_CHECKPOINT';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`checkpoint file ${file} is malformed: ${reason}`);
  }
}

export function formatOffsetCheckpoint(
  entries: Iterable<{ topic: string; partition: number; offset: number }>,
): string {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  return `${CHECKPOINT_FORMAT_VERSION}\n${lines.length}\n${lines.length > 0 ? `${lines.join('\n')}\n` : ''}`;
}

/** Parses the text of a checkpoint file; throws {@link CheckpointFormatError} saying what is wrong. */
export function parseOffsetCheckpoint(text: string, file = '<checkpoint>'): OffsetCheckpoint {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new CheckpointFormatError(file, 'expected a version line and a count line');
  const version = parseNonNegativeInt(lines[0]!);
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointFormatError(file, `unsupported version ${JSON.stringify(lines[0])}`);
  }
  const count = parseNonNegativeInt(lines[1]!);
  if (count === undefined || count > MAX_CHECKPOINT_ENTRIES) {
    throw new CheckpointFormatError(file, `bad entry count ${JSON.stringify(lines[1])}`);
  }
  if (lines.length - 2 !== count) {
    throw new CheckpointFormatError(file, `expected ${count} entries, found ${lines.length - 2}`);
  }
  const out: OffsetCheckpoint = new Map();
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i]!.split(' ');
    const partition = parts.length === 3 ? parseNonNegativeInt(parts[1]!) : undefined;
    const offset = parts.length === 3 ? parseNonNegativeInt(parts[2]!) : undefined;
    if (parts.length !== 3 || parts[0] === '' || partition === undefined || offset === undefined) {
      throw new CheckpointFormatError(
        file,
        `line ${i + 1} is not "topic partition offset": ${JSON.stringify(lines[i])}`,
      );
    }
    const topic = parts[0]!;
    out.set(tpKey(topic, partition), { topic, partition, offset });
  }
  return out;
}

/** Reads a checkpoint; an absent file is an empty checkpoint. */
export function readOffsetCheckpoint(fs: FileSystem, file: string): OffsetCheckpoint {
  if (!fs.exists(file)) return new Map();
  const buf = fs.readFile(file);
  if (buf.length > MAX_CHECKPOINT_FILE_BYTES) {
    throw new CheckpointFormatError(file, `${buf.length} bytes is more than ${MAX_CHECKPOINT_FILE_BYTES}`);
  }
  return parseOffsetCheckpoint(buf.toString('utf8'), file);
}

/** Writes a checkpoint atomically (temp file, fsync, rename, fsync of the directory). */
export function writeOffsetCheckpoint(
  fs: FileSystem,
  file: string,
  entries: Iterable<{ topic: string; partition: number; offset: number }>,
): void {
  const list = [...entries];
  if (list.length > MAX_CHECKPOINT_ENTRIES) {
    throw new Error(`refusing to write ${list.length} checkpoint entries (limit ${MAX_CHECKPOINT_ENTRIES})`);
  }
  for (const e of list) {
    if (!Number.isSafeInteger(e.offset) || e.offset < 0 || e.topic.includes(' ') || e.topic.includes('\n')) {
      throw new Error(`invalid checkpoint entry ${JSON.stringify(e)}`);
    }
  }
  fs.writeFileAtomic(file, Buffer.from(formatOffsetCheckpoint(list), 'utf8'));
}

function parseNonNegativeInt(s: string): number | undefined {
  if (!/^\d{1,16}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}
