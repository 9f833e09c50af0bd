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

/**
 * Records and marks in production order, as parallel arrays: `records[i]` the record until it is
 * acknowledged (null once it is, and for marks), `lsn[i]` the LSN confirmable when everything up
 * to i is done (0 for none). O(1) per record as acknowledgements come in order (they do, but for
 * records a transform drops, which come at once): an acknowledged record is looked for from where
 * the last one was found. Nothing is added to the records themselves.
 */
export class AckTracker {
  private records: (SourceRecord | null)[] = [];
  private lsn: number[] = [];
  /** Index of the first entry not yet done. */
  private head = 0;
  /** Where to look for the next acknowledged record first: after the last one found. */
  private cursor = 0;
  private pendingCount = 0;
  private confirmable = 0;

  constructor(private readonly onAdvance: (lsn: number) => void) {}

  /** A record handed to the runtime; done when commitRecord() reports it. */
  track(record: SourceRecord): void {
    this.records.push(record);
    this.lsn.push(0);
    this.pendingCount++;
  }

  /** Everything produced so far completes the WAL up to `lsn` (a transaction's end, a keepalive between transactions). */
  mark(lsn: number): void {
    if (this.head === this.records.length) {
      this.setConfirmable(lsn);
      return;
    }
    this.records.push(null);
    this.lsn.push(lsn);
  }

  /** The runtime acknowledged (or dropped) this record. */
  ack(record: SourceRecord): void {
    const i = this.indexOf(record);
    if (i < 0) return;
    this.records[i] = null;
    this.pendingCount--;
    this.cursor = i + 1;
    if (i === this.head) this.advance();
  }

  /** Where `record` waits, or -1 (not tracked, or done already). */
  private indexOf(record: SourceRecord): number {
    const { records, head } = this;
    const from = Math.max(this.cursor, head);
    for (let i = from; i < records.length; i++) if (records[i] === record) return i;
    for (let i = head; i < from && i < records.length; i++) if (records[i] === record) return i;
    return -1;
  }

  get pending(): number {
    return this.pendingCount;
  }

  get confirmableLsn(): number {
    return this.confirmable;
  }

  private advance(): void {
    let best = 0;
    const { records, lsn } = this;
    let h = this.head;
    while (h < records.length && records[h] === null) {
      if (lsn[h]! > best) best = lsn[h]!;
      h++;
    }
    this.head = h;
    if (h > 4096 || h === records.length) {
      this.records = records.slice(h);
      this.lsn = lsn.slice(h);
      this.cursor = Math.max(0, this.cursor - h);
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
