/**
 * ConsumerBatch and RecordCursor over a record index (core/records/record-index.ts): what
 * Consumer.pollBatch() hands out. The index holds where each record lies in the fetched bytes;
 * the cursor reads a field, makes a key or value view, or decodes a string only when asked.
 *
 * The fetched bytes of a network consumer lie in pooled receive buffers (FetchLease): a batch
 * holds each buffer its records lie in until release(), after which a later fetch may read into it.
 */
import { releaseReadBuffer } from '../log/read-buffers.js';
import {
  HEADERS_START,
  INDEX_FIELDS,
  type IndexRun,
  KEY_LENGTH,
  KEY_START,
  type RecordIndex,
  readIndexedHeaders,
  VALUE_LENGTH,
  VALUE_START,
} from '../records/index.js';
import { KafkaClientError } from './errors.js';
import type { ConsumerBatch, ConsumerRecord, RecordCursor, TimestampType, TopicPartition } from './types.js';

/** What a run of the index is tagged with: the partition its records came from. */
export type BatchTag = TopicPartition;

/**
 * The holders of one pooled fetch response buffer: the partitions' parts of the response still
 * being handed out, and the pollBatch() batches holding records of it. When the last lets go the
 * buffer goes back to its pool, unless records of it were handed out by poll() (`escaped`: their
 * key and value views live as long as the application keeps them).
 */
export class FetchLease {
  private holders = 0;
  escaped = false;

  constructor(private readonly buffer: Buffer) {}

  retain(): void {
    this.holders++;
  }

  release(): void {
    if (--this.holders === 0 && !this.escaped) releaseReadBuffer(this.buffer);
  }
}

export class IndexedConsumerBatch implements ConsumerBatch {
  private isReleased = false;

  constructor(
    readonly index: RecordIndex<BatchTag> | null,
    private readonly leases: readonly FetchLease[] = [],
    /** Gets the index back on release(), for reuse. */
    private readonly onRelease?: (index: RecordIndex<BatchTag>) => void,
  ) {}

  get count(): number {
    return this.isReleased ? 0 : (this.index?.count ?? 0);
  }

  cursor(): RecordCursor {
    this.checkHeld();
    return new IndexCursor(this, this.index);
  }

  toArray(): ConsumerRecord[] {
    this.checkHeld();
    const out: ConsumerRecord[] = new Array(this.count);
    const c = new IndexCursor(this, this.index);
    for (let i = 0; c.next(); i++) out[i] = c.record();
    return out;
  }

  release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    for (const lease of this.leases) lease.release();
    if (this.index !== null) this.onRelease?.(this.index);
  }

  /** @internal */
  checkHeld(): void {
    if (this.isReleased) {
      throw new KafkaClientError(
        'ILLEGAL_STATE',
        'this batch was released: its records are gone (copy what you keep before release())',
      );
    }
  }
}

class IndexCursor implements RecordCursor {
  private i = -1;
  private f = -INDEX_FIELDS;
  private runIndex = -1;
  /** Index of the first record past the current run. */
  private runEnd = 0;
  private run: IndexRun<BatchTag> | undefined;
  private readonly count: number;

  constructor(
    private readonly batch: IndexedConsumerBatch,
    private readonly index: RecordIndex<BatchTag> | null,
  ) {
    this.count = index?.count ?? 0;
  }

  next(): boolean {
    this.batch.checkHeld();
    const i = this.i + 1;
    if (i >= this.count) {
      this.i = this.count;
      return false;
    }
    this.i = i;
    this.f = i * INDEX_FIELDS;
    if (i >= this.runEnd) this.nextRun(i);
    return true;
  }

  private nextRun(i: number): void {
    const runs = this.index!.runs;
    let r = this.runIndex;
    do r++;
    while (r + 1 < runs.length && runs[r + 1]!.first <= i);
    this.runIndex = r;
    this.run = runs[r];
    this.runEnd = r + 1 < runs.length ? runs[r + 1]!.first : this.count;
  }

  private current(): IndexRun<BatchTag> {
    this.batch.checkHeld();
    if (this.run === undefined || this.i >= this.count) {
      throw new RangeError('the cursor is not on a record: call next() first (it returned false at the end)');
    }
    return this.run;
  }

  get topic(): string {
    return this.current().tag.topic;
  }

  get partition(): number {
    return this.current().tag.partition;
  }

  get offset(): number {
    this.current();
    return this.index!.offsets[this.i]!;
  }

  get timestamp(): number {
    this.current();
    return this.index!.timestamps[this.i]!;
  }

  get timestampType(): TimestampType {
    return this.current().batch.timestampType === 1 ? 'LogAppendTime' : 'CreateTime';
  }

  get leaderEpoch(): number {
    return this.current().batch.partitionLeaderEpoch;
  }

  get keyLength(): number {
    this.current();
    return this.index!.fields[this.f + KEY_LENGTH]!;
  }

  get valueLength(): number {
    this.current();
    return this.index!.fields[this.f + VALUE_LENGTH]!;
  }

  private bytes(startField: number, lengthField: number): Buffer | null {
    const data = this.current().data;
    const fields = this.index!.fields;
    const length = fields[this.f + lengthField]!;
    if (length < 0) return null;
    const start = fields[this.f + startField]!;
    return data.subarray(start, start + length);
  }

  private text(startField: number, lengthField: number): string | null {
    const data = this.current().data;
    const fields = this.index!.fields;
    const length = fields[this.f + lengthField]!;
    if (length < 0) return null;
    const start = fields[this.f + startField]!;
    return data.toString('utf8', start, start + length);
  }

  key(): Buffer | null {
    return this.bytes(KEY_START, KEY_LENGTH);
  }

  value(): Buffer | null {
    return this.bytes(VALUE_START, VALUE_LENGTH);
  }

  keyString(): string | null {
    return this.text(KEY_START, KEY_LENGTH);
  }

  valueString(): string | null {
    return this.text(VALUE_START, VALUE_LENGTH);
  }

  headers(): ConsumerRecord['headers'] {
    return readIndexedHeaders(this.current().data, this.index!.fields[this.f + HEADERS_START]!);
  }

  record(): ConsumerRecord {
    const run = this.current();
    return {
      topic: run.tag.topic,
      partition: run.tag.partition,
      offset: this.index!.offsets[this.i]!,
      timestamp: this.index!.timestamps[this.i]!,
      timestampType: run.batch.timestampType === 1 ? 'LogAppendTime' : 'CreateTime',
      key: this.key(),
      value: this.value(),
      headers: this.headers(),
      leaderEpoch: run.batch.partitionLeaderEpoch,
    };
  }
}
