/**
 * Writing a command's data to stdout with back-pressure, ending quietly when the reader goes away.
 *
 * `write` resolves once the stream can take more (after 'drain' when its buffer is full), so a
 * consumer never queues more than one batch in memory. When the other end of a pipe closes
 * (`trib consume … | head`), writes fail with EPIPE: the output is then marked `closed` and
 * further writes are dropped, which lets the command stop, commit and exit 0 like other Unix tools.
 */
import type { Writable } from 'node:stream';
import { errorCode } from './errors.js';

export class Output {
  /** The reader went away (EPIPE): stop producing output. */
  closed = false;
  /** A write failed for another reason; the command should report it. */
  error: Error | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly stream: Writable) {
    stream.on('error', (err: Error) => {
      if (errorCode(err) === 'EPIPE' || errorCode(err) === 'ERR_STREAM_DESTROYED') this.closed = true;
      else this.error ??= err;
      this.wakeUp?.();
    });
  }

  /** Whether writing can go on. */
  get open(): boolean {
    return !this.closed && this.error === undefined && !this.stream.destroyed;
  }

  /** Writes `chunk`; resolves when the stream is ready for more, or has failed or closed. */
  async write(chunk: Buffer | string): Promise<void> {
    if (!this.open) return;
    if (this.stream.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.stream.once('drain', done);
      this.stream.once('close', done);
    });
  }
}
