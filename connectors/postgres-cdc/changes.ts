/**
 * The stream's messages → Debezium events: transaction boundaries (Begin/Commit, which also
 * mark the WAL complete for the ack tracker), Relation messages (a table's columns, picked up
 * again after ALTER TABLE), inserts, updates (a key change becomes delete + tombstone + create),
 * deletes (+ tombstone), truncates and logical decoding messages.
 */
import { ConnectError, DataException, type SourceMap, type SourceRecord } from '../../connect/sdk.js';
import { type CdcConfig, messageSelected } from './config.js';
import {
  CONNECTOR_VERSION,
  changeRecord,
  keyOf,
  MESSAGE_KEY_SCHEMA,
  MESSAGE_VALUE_SCHEMA,
  type Row,
  type SourceInfo,
  sourceStruct,
  type TableSchema,
  tombstone,
} from './envelope.js';
import {
  type Lsn,
  type PgOutputMessage,
  pgTimeToMs,
  type ReplicationMessage,
  type TupleValue,
} from './pgoutput.js';

export interface Tx {
  xid: number;
  finalLsn: Lsn;
  commitTimeUs: number;
}

export type RelationMessage = Extract<PgOutputMessage, { tag: 'relation' }>;

export interface ChangeEmitterDeps {
  readonly cfg: CdcConfig;
  readonly partition: SourceMap;
  /** The schema of a relation as the message describes it, or null when the table is not captured. */
  relationSchema(msg: RelationMessage): Promise<TableSchema | null>;
  /** A Type message: the type changed (e.g. an enum value was added). */
  invalidateType(oid: number): void;
  /** A record going out (the task tracks it until acknowledged). */
  emit(record: SourceRecord): SourceRecord;
  /** Everything emitted so far completes the WAL up to `lsn`. */
  mark(lsn: Lsn): void;
}

export class ChangeEmitter {
  /** The transaction being received, between Begin and Commit. */
  tx: Tx | null = null;
  /** End LSN of the last complete transaction: where it is safe to resume. */
  lastCommitEndLsn: Lsn = 0;
  /** Records emitted from the stream. */
  streamed = 0;
  private readonly tables = new Map<number, TableSchema | null>();

  constructor(private readonly d: ChangeEmitterDeps) {}

  /** Handles one message; returns a promise only when it must wait (a Relation message reads the catalog). */
  handle(m: ReplicationMessage, out: SourceRecord[]): Promise<void> | undefined {
    if (m.kind === 'keepalive') {
      // Every transaction that committed before walEnd has been received (or was empty): once
      // what we emitted is acknowledged, the slot may move up to here.
      if (!this.tx && m.walEnd > 0) this.d.mark(m.walEnd);
      return;
    }
    const msg = m.message;
    switch (msg.tag) {
      case 'begin':
        this.tx = { xid: msg.xid, finalLsn: msg.finalLsn, commitTimeUs: msg.commitTimeUs };
        return;
      case 'commit':
        this.tx = null;
        this.lastCommitEndLsn = msg.endLsn;
        this.d.mark(msg.endLsn);
        return;
      case 'origin':
        return;
      case 'type':
        this.d.invalidateType(msg.oid);
        return;
      case 'relation':
        return this.onRelation(msg);
      case 'insert':
      case 'update':
      case 'delete':
        this.onChange(msg, m.dataStart, out);
        return;
      case 'truncate':
        this.onTruncate(msg, m.dataStart, out);
        return;
      case 'message':
        this.onMessage(msg, m.dataStart, out);
        return;
    }
  }

  private async onRelation(msg: Extract<PgOutputMessage, { tag: 'relation' }>): Promise<void> {
    this.tables.set(msg.oid, await this.d.relationSchema(msg));
  }

  private table(oid: number): TableSchema | null {
    const t = this.tables.get(oid);
    if (t === undefined)
      throw new ConnectError('CONNECT', `a change of relation ${oid} arrived before its Relation message`);
    return t;
  }

  private streamOffset(lsn: Lsn): SourceMap {
    const tx = this.tx;
    return {
      lsn_proc: lsn,
      lsn_commit: tx?.finalLsn ?? lsn,
      lsn,
      txId: tx?.xid ?? null,
      ts_usec: tx ? tx.commitTimeUs + 946_684_800_000_000 : Date.now() * 1000,
      lsn_flush: this.lastCommitEndLsn,
    };
  }

  private sourceInfo(lsn: Lsn): SourceInfo {
    const tx = this.tx;
    return {
      tsMs: tx ? pgTimeToMs(tx.commitTimeUs) : Date.now(),
      snapshot: 'false',
      sequence: this.sequence(lsn),
      txId: tx?.xid ?? null,
      lsn,
    };
  }

  /** Debezium's `sequence`: `["<last commit end LSN>","<lsn>"]`. */
  private sequence(lsn: Lsn): string {
    if (this.sequenceFor !== this.lastCommitEndLsn) {
      // The same for every change of a transaction.
      this.sequenceFor = this.lastCommitEndLsn;
      this.sequenceHead = `[${this.lastCommitEndLsn > 0 ? `"${this.lastCommitEndLsn}"` : 'null'},"`;
    }
    return `${this.sequenceHead}${lsn}"]`;
  }
  private sequenceFor = -1;
  private sequenceHead = '';

  /** The `source` block of a streamed change (sourceStruct of sourceInfo, without the intermediate object). */
  private source(t: TableSchema, lsn: Lsn): Row {
    const tx = this.tx;
    return {
      version: CONNECTOR_VERSION,
      connector: 'postgresql',
      name: this.d.cfg.topicPrefix,
      ts_ms: tx ? pgTimeToMs(tx.commitTimeUs) : Date.now(),
      snapshot: 'false',
      db: this.d.cfg.dbname,
      sequence: this.sequence(lsn),
      schema: t.relation.schema,
      table: t.relation.table,
      txId: tx?.xid ?? null,
      lsn,
      xmin: null,
    };
  }

  private push(r: SourceRecord, out: SourceRecord[]): void {
    this.streamed++;
    out.push(this.d.emit(r));
  }

  /** A delete of `before` (+ its tombstone). */
  private pushDelete(t: TableSchema, before: Row, source: Row, offset: SourceMap, out: SourceRecord[]): void {
    const key = keyOf(t, before);
    if (this.d.cfg.skippedOperations.has('d')) return;
    this.push(changeRecord(t, 'd', before, null, source, this.d.partition, offset, key), out);
    if (this.d.cfg.tombstonesOnDelete && key) this.push(tombstone(t, key, this.d.partition, offset), out);
  }

  private onChange(
    msg: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' }>,
    lsn: Lsn,
    out: SourceRecord[],
  ): void {
    const t = this.table(msg.relationOid);
    if (!t) return;
    const skipped = this.d.cfg.skippedOperations;
    if (msg.tag === 'insert') {
      if (skipped.has('c')) return;
      const after = rowOf(t, msg.newTuple, null);
      const record = changeRecord(
        t,
        'c',
        null,
        after,
        this.source(t, lsn),
        this.d.partition,
        this.streamOffset(lsn),
        keyOf(t, after),
      );
      this.push(record, out);
      return;
    }
    const source = this.source(t, lsn);
    const offset = this.streamOffset(lsn);
    if (msg.tag === 'delete') {
      this.pushDelete(t, rowOf(t, msg.oldTuple, null), source, offset, out);
      return;
    }
    const after = rowOf(t, msg.newTuple, msg.oldTuple);
    const before = msg.oldTuple ? rowOf(t, msg.oldTuple, null) : null;
    const oldKey = keyOf(t, before);
    const newKey = keyOf(t, after);
    if (oldKey && newKey && !sameKey(oldKey, newKey)) {
      // The primary key changed: Debezium's delete (+ tombstone) of the old key, then a create.
      this.pushDelete(t, before!, source, offset, out);
      if (!skipped.has('c'))
        this.push(changeRecord(t, 'c', null, after, source, this.d.partition, offset, newKey), out);
      return;
    }
    if (skipped.has('u')) return;
    this.push(
      changeRecord(
        t,
        'u',
        msg.oldKind === 'O' ? before : null,
        after,
        source,
        this.d.partition,
        offset,
        newKey,
      ),
      out,
    );
  }

  private onTruncate(
    msg: Extract<PgOutputMessage, { tag: 'truncate' }>,
    lsn: Lsn,
    out: SourceRecord[],
  ): void {
    if (this.d.cfg.skippedOperations.has('t')) return;
    for (const oid of msg.relationOids) {
      const t = this.tables.get(oid);
      if (!t) continue;
      const source = sourceStruct(this.d.cfg.topicPrefix, this.d.cfg.dbname, t, this.sourceInfo(lsn));
      this.streamed++;
      out.push(
        this.d.emit(changeRecord(t, 't', null, null, source, this.d.partition, this.streamOffset(lsn), null)),
      );
    }
  }

  private onMessage(msg: Extract<PgOutputMessage, { tag: 'message' }>, lsn: Lsn, out: SourceRecord[]): void {
    if (!messageSelected(this.d.cfg, msg.prefix)) return;
    const info = this.sourceInfo(lsn);
    const now = Date.now();
    this.streamed++;
    out.push(
      this.d.emit({
        topic: `${this.d.cfg.topicPrefix}.message`,
        kafkaPartition: null,
        keySchema: MESSAGE_KEY_SCHEMA,
        key: { prefix: msg.prefix },
        valueSchema: MESSAGE_VALUE_SCHEMA,
        value: {
          op: 'm',
          ts_ms: now,
          source: {
            version: CONNECTOR_VERSION,
            connector: 'postgresql',
            name: this.d.cfg.topicPrefix,
            ts_ms: info.tsMs,
            snapshot: 'false',
            db: this.d.cfg.dbname,
            sequence: info.sequence,
            schema: '',
            table: '',
            txId: msg.transactional ? info.txId : null,
            lsn,
            xmin: null,
          },
          message: { prefix: msg.prefix, content: msg.content },
        },
        timestamp: now,
        headers: [],
        sourcePartition: this.d.partition,
        sourceOffset: this.streamOffset(lsn),
      }),
    );
  }
}

/** A row of a table from tuple values (unchanged TOAST columns from `old` when it has them, else the placeholder). */
export function rowOf(t: TableSchema, values: readonly TupleValue[], old: readonly TupleValue[] | null): Row {
  const row: Row = {};
  const cols = t.relation.columns;
  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]!;
    const conv = t.converters[i]!;
    let v = values[i] ?? { kind: 'null' };
    if (v.kind === 'unchanged' && old?.[i]?.kind === 'text') v = old[i]!;
    if (v.kind === 'text') {
      try {
        row[col.name] = conv.fromText(v.text);
      } catch (err) {
        throw new DataException(
          `cannot convert column ${t.relation.schema}.${t.relation.table}.${col.name} value '${v.text.slice(0, 100)}': ${(err as Error).message}`,
          { cause: err },
        );
      }
    } else if (v.kind === 'unchanged') {
      row[col.name] = conv.placeholder ?? (conv.schema.optional || !col.notNull ? null : conv.zero);
    } else {
      row[col.name] = col.notNull ? conv.zero : null;
    }
  }
  return row;
}

function sameKey(a: Row, b: Row): boolean {
  for (const k of Object.keys(a)) {
    const x = a[k];
    const y = b[k];
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y) ? !x.equals(y) : x !== y) return false;
  }
  return true;
}
