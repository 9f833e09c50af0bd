/**
 * Splitting a byte stream into lines for `trib produce`, without ever holding more than one
 * chunk and one partial line in memory.
 *
 * - Lines end at '\n'; one '\r' before it is dropped (CRLF input reads like LF input).
 * - A final newline does not start another line: "a\nb\n" and "a\nb" are both two lines.
 * - Empty lines are lines (a record with an empty value); the caller may skip them.
 * - Bytes pass through unchanged (no decoding), so UTF-8 split across chunks stays intact.
 * - A line longer than `maxLineBytes` is an error naming its line number.
 */
import type { Readable } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;

export class LineTooLongError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly maxLineBytes: number,
  ) {
    super(`line ${lineNumber} is longer than ${maxLineBytes} bytes`);
  }
}

function stripCR(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

/** Incremental splitter: push chunks, get complete lines; end() returns the unterminated tail. */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Lines returned so far. */
  lines = 0;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl < 0) break;
      let line = chunk.subarray(start, nl);
      if (this.partialBytes > 0) {
        this.partial.push(line);
        line = Buffer.concat(this.partial, this.partialBytes + line.length);
        this.partial = [];
        this.partialBytes = 0;
      }
      line = stripCR(line);
      this.check(line.length);
      out.push(line);
      this.lines++;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partial.push(rest);
      this.partialBytes += rest.length;
      // '+ 1' leaves room for a CR that the next chunk's LF will turn into a line end.
      if (this.partialBytes > this.maxLineBytes + 1) this.check(this.partialBytes);
    }
    return out;
  }

  /** The last line when the input did not end with a newline, else undefined. */
  end(): Buffer | undefined {
    if (this.partialBytes === 0) return undefined;
    const line = stripCR(Buffer.concat(this.partial, this.partialBytes));
    this.partial = [];
    this.partialBytes = 0;
    this.check(line.length);
    this.lines++;
    return line;
  }

  private check(length: number): void {
    if (length > this.maxLineBytes) throw new LineTooLongError(this.lines + 1, this.maxLineBytes);
  }
}

/**
 * Lines of a stream, a chunk's worth at a time. The stream is read only as fast as the consumer
 * of this generator asks (async iteration pauses it in between): back-pressure for free.
 */
export async function* readLines(input: Readable, maxLineBytes: number): AsyncGenerator<Buffer[]> {
  const splitter = new LineSplitter(maxLineBytes);
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    const lines = splitter.push(buf);
    if (lines.length > 0) yield lines;
  }
  const last = splitter.end();
  if (last !== undefined) yield [last];
}
