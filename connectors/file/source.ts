/**
 * FileStreamSource, as Kafka's `org.apache.kafka.connect.file.FileStreamSourceConnector`: every
 * complete line of `file` (one ending in \n or \r\n) becomes one record with a null key and a
 * string value (schema STRING) on `topic`. The source offset is `{"position": <byte offset after
 * the line>}` under the source partition `{"filename": <file>}`, so a restarted task continues after
 * the last line whose record Kafka acknowledged. One task; `batch.size` lines per poll at most.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import {
  ConfigDef,
  ConfigException,
  type Props,
  Schemas,
  type SourceConnector,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
  Validators,
} from '../../connect/sdk.js';

export const VERSION = '1.0.0';
const READ_CHUNK_BYTES = 1 << 20;
const IDLE_WAIT_MS = 100;
const STDIN_BUFFER_BYTES = 8 << 20;

export function fileSourceConfigDef(): ConfigDef {
  return new ConfigDef()
    .define({
      name: 'file',
      type: 'string',
      default: null,
      importance: 'high',
      documentation: 'Source filename. If not specified, the standard input will be used',
    })
    .define({
      name: 'topic',
      type: 'list',
      default: undefined,
      importance: 'high',
      documentation: 'The topic to publish data to',
      validator: Validators.custom('a single topic', (name, v) => {
        if (!Array.isArray(v) || v.length !== 1)
          throw new ConfigException(
            name,
            v,
            "'topic' in FileStreamSourceConnector configuration requires definition of a single topic",
          );
      }),
    })
    .define({
      name: 'batch.size',
      type: 'int',
      default: 2000,
      importance: 'low',
      documentation:
        'The maximum number of records the source task can read from the file each time it is polled',
      validator: Validators.atLeast(1),
    });
}

export class FileStreamSourceConnector implements SourceConnector {
  readonly type = 'source';
  private props: Props = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return fileSourceConfigDef();
  }
  start(props: Props): void {
    fileSourceConfigDef().parse(props);
    this.props = props;
  }
  taskConfigs(): Props[] {
    const { file, topic, 'batch.size': batch } = this.props;
    return [
      {
        ...(file !== undefined ? { file } : {}),
        topic: topic!,
        ...(batch !== undefined ? { 'batch.size': batch } : {}),
      },
    ];
  }
  stop(): void {}
  createTask(): SourceTask {
    return new FileStreamSourceTask();
  }
}

export class FileStreamSourceTask implements SourceTask {
  private fd: number | null = null;
  private filename = '';
  private topic = '';
  private batchSize = 2000;
  /** Byte offset of the next unread byte of the file. */
  private position = 0;
  private pending = Buffer.alloc(0);
  private readonly chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  private stopped = false;
  /** The source partition: `{filename}`, or null for stdin (which has no offsets). */
  private partition: { filename: string } | null = null;
  private readonly stdinChunks: Buffer[] = [];
  private stdinBytes = 0;
  private onStdin: ((chunk: Buffer) => void) | null = null;

  version(): string {
    return VERSION;
  }

  async start(props: Props, context: SourceTaskContext): Promise<void> {
    const cfg = fileSourceConfigDef().parse(props);
    this.filename = (cfg.file as string | null) ?? '';
    this.topic = (cfg.topic as string[])[0]!;
    this.batchSize = cfg['batch.size'] as number;
    if (this.filename === '') {
      this.fd = 0;
      this.partition = null;
      this.followStdin();
      return;
    }
    this.partition = { filename: this.filename };
    const offset = await context.offsetStorageReader.offset({ filename: this.filename });
    const pos = offset?.position;
    if (typeof pos === 'number') this.position = pos;
  }

  private open(): boolean {
    if (this.fd !== null) return true;
    try {
      this.fd = openSync(this.filename, 'r');
      return true;
    } catch {
      return false; // Kafka waits for the file to appear
    }
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null;
    if (!this.open()) {
      await sleep(IDLE_WAIT_MS);
      return null;
    }
    const records: SourceRecord[] = [];
    const now = Date.now();
    const partition = this.partition;
    // `lineStart` is the file offset of pending[0].
    let lineStart = this.position - this.pending.length;
    for (;;) {
      let from = 0;
      for (;;) {
        if (records.length >= this.batchSize) break;
        const nl = this.pending.indexOf(10, from);
        if (nl < 0) break;
        const end = nl > from && this.pending[nl - 1] === 13 ? nl - 1 : nl;
        const line = this.pending.toString('utf8', from, end);
        lineStart += nl + 1 - from;
        from = nl + 1;
        records.push({
          topic: this.topic,
          kafkaPartition: null,
          keySchema: null,
          key: null,
          valueSchema: Schemas.STRING,
          value: line,
          timestamp: now,
          headers: [],
          sourcePartition: partition,
          sourceOffset: partition === null ? null : { position: lineStart },
        });
      }
      this.pending = this.pending.subarray(from);
      if (records.length >= this.batchSize) break;
      if (this.partition === null) {
        // stdin: whatever arrived since the last poll (no offsets, as in Kafka).
        if (this.stdinChunks.length === 0) break;
        this.pending = Buffer.concat([this.pending, ...this.stdinChunks.splice(0)]);
        this.stdinBytes = 0;
        process.stdin.resume();
        continue;
      }
      const n = readSync(this.fd!, this.chunk, 0, READ_CHUNK_BYTES, this.position);
      if (n <= 0) break;
      this.position += n;
      this.pending =
        this.pending.length === 0
          ? Buffer.from(this.chunk.subarray(0, n))
          : Buffer.concat([this.pending, this.chunk.subarray(0, n)]);
    }
    if (records.length === 0) {
      await sleep(IDLE_WAIT_MS);
      return null;
    }
    return records;
  }

  /** Reads stdin without blocking the event loop; pauses it while STDIN_BUFFER_BYTES are waiting. */
  private followStdin(): void {
    this.onStdin = (chunk: Buffer) => {
      this.stdinChunks.push(chunk);
      this.stdinBytes += chunk.length;
      if (this.stdinBytes >= STDIN_BUFFER_BYTES) process.stdin.pause();
    };
    process.stdin.on('data', this.onStdin);
    process.stdin.resume();
  }

  stop(): void {
    this.stopped = true;
    if (this.onStdin) {
      process.stdin.off('data', this.onStdin);
      process.stdin.pause();
      this.onStdin = null;
    }
    if (this.fd !== null && this.fd !== 0) closeSync(this.fd);
    this.fd = null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
