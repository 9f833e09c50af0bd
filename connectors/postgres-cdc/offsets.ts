/**
 * Source offsets and the confirmed flush LSN.
 *
 * Every record carries, as Debezium's do, `sourcePartition = {server: <topic.prefix>}` and a
 * `sourceOffset` with `lsn` (the change's LSN), `lsn_proc`, `lsn_commit` (its transaction's commit
 * LSN), `txId` and `ts_usec`; snapshot records add `snapshot: true` and, on the last one,
 * `last_snapshot_record: true`. Ours also carry `lsn_flush`: the end LSN of the last transaction
 * that was complete before this record — the position it is safe to resume from.
 *
 * The slot's confirmed flush LSN is advanced by {@link AckTracker}: records and "transaction
 * complete at LSN x" marks are queued in the order the stream produced them; the runtime's
 * commitRecord() (called once the log acknowledged a record, or a transform dropped it) marks
 * records done, and the LSN of the last mark in the fully done prefix is what may be confirmed.
 * So PostgreSQL only forgets WAL whose every change is in the log: after a crash, streaming
 * resumes at or before the first change not acknowledged (duplicates possible, loss never).
 * Offsets committed by the runtime give a second, slower path (`lsn_flush` of the committed
 * offset), which also covers records the runtime acknowledged without calling commitRecord().
 */
import type { SourceMap, SourceRecord } from '../../connect/sdk.js';

export interface CdcOffset {
  lsn: number;
  lsn_flush: number;
  snapshot: boolean;
  last_snapshot_record: boolean;
}

export function readOffset(raw: SourceMap | null): CdcOffset | null {
  if (!raw) return null;
  const num = (v: unknown): number =>
    typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0;
  return {
    lsn: num(raw.lsn),
    lsn_flush: num(raw.lsn_flush),
    snapshot: raw.snapshot === true || raw.snapshot === 'true',
    last_snapshot_record: raw.last_snapshot_record === true || raw.last_snapshot_record === 'true',
  };
}

/** Whether a committed offset says the snapshot finished (or there was none: a streaming offset). */
export function snapshotCompleted(o: CdcOffset | null): boolean {
  return o !== null && (!o.snapshot || o.last_snapshot_record);
}

/** Where a tracked record sits in the tracker's queue (a sequence number), kept on the record itself. */
const SEQ: unique symbol = Symbol('cdc.seq');
type Tracked = SourceRecord & { [SEQ]?: number };

/**
 * Records and marks in production order, as parallel arrays indexed by sequence number - base:
 * `done[i]` once acknowledged, `lsn[i]` the LSN confirmable when everything up to i is done (0 for
 * none). Marks are done from the start. O(1) per record, no per-record map.
 */
export class AckTracker {
  private done: boolean[] = [];
  private lsn: number[] = [];
  /** Sequence number of done[0]. */
  private base = 0;
  /** Index of the first entry not yet done. */
  private head = 0;
  private pendingCount = 0;
  private confirmable = 0;

  constructor(private readonly onAdvance: (lsn: number) => void) {}

  /** A record handed to the runtime; done when commitRecord() reports it. */
  track(record: SourceRecord): void {
    (record as Tracked)[SEQ] = this.base + this.done.length;
    this.done.push(false);
    this.lsn.push(0);
    this.pendingCount++;
  }

  /** Everything produced so far completes the WAL up to `lsn` (a transaction's end, a keepalive between transactions). */
  mark(lsn: number): void {
    if (this.head === this.done.length) {
      this.setConfirmable(lsn);
      return;
    }
    this.done.push(true);
    this.lsn.push(lsn);
  }

  /** The runtime acknowledged (or dropped) this record. */
  ack(record: SourceRecord): void {
    const seq = (record as Tracked)[SEQ];
    if (seq === undefined) return;
    const i = seq - this.base;
    if (i < this.head || i >= this.done.length || this.done[i]) return;
    this.done[i] = true;
    this.pendingCount--;
    if (i === this.head) this.advance();
  }

  get pending(): number {
    return this.pendingCount;
  }

  get confirmableLsn(): number {
    return this.confirmable;
  }

  private advance(): void {
    let best = 0;
    const { done, lsn } = this;
    let h = this.head;
    while (h < done.length && done[h]) {
      if (lsn[h]! > best) best = lsn[h]!;
      h++;
    }
    this.head = h;
    if (h > 4096 || h === done.length) {
      this.done = done.slice(h);
      this.lsn = lsn.slice(h);
      this.base += h;
      this.head = 0;
    }
    if (best > 0) this.setConfirmable(best);
  }

  private setConfirmable(lsn: number): void {
    if (lsn <= this.confirmable) return;
    this.confirmable = lsn;
    this.onAdvance(lsn);
  }
}
