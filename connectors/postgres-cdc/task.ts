/**
 * The Postgres CDC source task: at start, checks the server (wal_level), manages the publication
 * (publication.autocreate.mode) and the slot (created when missing; a slot of another plugin or
 * database is refused; a slot lost while offsets exist is reported, or re-snapshotted under
 * snapshot.mode=when_needed/always), decides whether to snapshot (snapshot.mode and the committed
 * offset), then in poll() emits the snapshot's `r` events followed by the stream's `c/u/d/t`
 * events in Debezium's envelope.
 *
 * One task per connector (a slot has one reader). Connections: the replication connection, a
 * metadata connection (catalog lookups on Relation messages, heartbeat queries, slot lag) and,
 * during the snapshot, the snapshot transaction's connection. Turning messages into events is
 * changes.ts; publication and slot checks are setup.ts; offsets and LSN confirmation offsets.ts.
 */
import type pg from 'pg';
import {
  ConnectError,
  type Props,
  type RecordMetadataLike,
  type SourceMap,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
} from '../../connect/sdk.js';
import {
  describeTable,
  listTables,
  openClient,
  type RelationInfo,
  rows,
  type SlotPosition,
  slotInfo,
  slotPosition,
  TypeRegistry,
  tableConstraints,
  targetOf,
} from './catalog.js';
import { ChangeEmitter, type RelationMessage, rowOf } from './changes.js';
import { type CdcConfig, parseCdcConfig, tableSelected } from './config.js';
import {
  buildTableSchema,
  CONNECTOR_VERSION,
  changeRecord,
  HEARTBEAT_KEY_SCHEMA,
  HEARTBEAT_VALUE_SCHEMA,
  keyOf,
  type Row,
  type SourceInfo,
  sourceStruct,
  type TableSchema,
} from './envelope.js';
import { AckTracker, readOffset, snapshotCompleted } from './offsets.js';
import { formatLsn, type Lsn, parseLsn, type ReplicationMessage, type TupleValue } from './pgoutput.js';
import { checkSlot, ensurePublication } from './setup.js';
import { SnapshotReader } from './snapshot.js';
import { ReplicationStream } from './stream.js';
import type { TypeOptions } from './types.js';

/**
 * What the task reports about itself: the `metrics` of its REST status (see
 * {@link PostgresCdcTask.status}). The slot's figures come from `pg_replication_slots`, read on a
 * normal connection every status.update.interval.ms (null until the first read, or when the slot
 * is missing).
 */
export type CdcTaskStatus = {
  /** starting, snapshot (initial snapshot in progress), streaming, done (initial_only), stopped. */
  phase: 'starting' | 'snapshot' | 'streaming' | 'done' | 'stopped';
  slot_name: string;
  /** The slot's confirmed_flush_lsn on the server, as of the last read. */
  confirmed_flush_lsn: string | null;
  /** The slot's restart_lsn on the server, as of the last read. */
  restart_lsn: string | null;
  /** pg_current_wal_lsn() - restart_lsn: the WAL, in bytes, the server keeps for this slot. */
  wal_retained_bytes: number | null;
  /** pg_current_wal_lsn() - confirmed_flush_lsn: WAL written, in bytes, that this connector has not confirmed. */
  slot_lag_bytes: number | null;
  /** When the slot was last read (ISO 8601), and why the last read failed (null when it did not). */
  slot_checked_at: string | null;
  slot_check_error: string | null;
  /** The LSN of the last change received from the replication stream. */
  last_received_lsn: string | null;
  /** The LSN last confirmed to PostgreSQL: every change before it is acknowledged by the log. */
  last_confirmed_lsn: string | null;
  /** Records handed to the runtime and not yet acknowledged by the log. */
  pending_records: number;
  /** Snapshot progress: rows read, and rows to read (the planner's estimate for analyzed tables); null without a snapshot. */
  snapshot_rows_done: number | null;
  snapshot_rows_total: number | null;
  /** Change events emitted from the stream since the task started. */
  streamed_records: number;
};

const MAX_RECONNECT_ATTEMPTS = 10;
/** How long reading the slot's position may take before it counts as failed. */
const SLOT_QUERY_TIMEOUT_MS = 5_000;
const RECONNECT_BACKOFF_MAX_MS = 10_000;

/** Registered instances, so the connector (and tests) can read a running task's status. */
export const runningTasks = new Set<PostgresCdcTask>();

export class PostgresCdcTask implements SourceTask {
  private cfg!: CdcConfig;
  private meta: pg.Client | null = null;
  private stream: ReplicationStream | null = null;
  private snapshot: SnapshotReader | null = null;
  private types!: TypeRegistry;
  private typeOpts!: TypeOptions;
  private readonly snapshotTables = new Map<string, TableSchema>();
  private partition: SourceMap = {};
  private phase: CdcTaskStatus['phase'] = 'starting';
  private streamStartLsn: Lsn = 0;
  private snapshotLsn: Lsn = 0;
  private tracker!: AckTracker;
  private heldSnapshotRow: { t: TableSchema; row: Row } | null = null;
  private lastHeartbeatMs = Date.now();
  private slot: SlotPosition | null = null;
  private slotCheckedAt: string | null = null;
  private slotCheckError: string | null = null;
  /** A normal connection for reading the slot's position (statement_timeout set), opened on demand. */
  private statusConn: pg.Client | null = null;
  private slotTimer: NodeJS.Timeout | null = null;
  private slotRead: Promise<void> | null = null;
  private lastReceivedLsn: Lsn = 0;
  private lastConfirmedLsn: Lsn = 0;
  private snapshotRows: { done: number; total: number | null } | null = null;
  private context: SourceTaskContext | null = null;
  private stopped = false;
  private changes!: ChangeEmitter;
  private reconnectAttempts = 0;
  private metaBroken = false;

  version(): string {
    return CONNECTOR_VERSION;
  }

  /**
   * The task's status figures (the runtime shows them in the REST status). Cheap: the slot's
   * position is read on a timer, not here.
   */
  status(): CdcTaskStatus {
    const received = Math.max(this.lastReceivedLsn, this.stream?.lastReceivedLsn ?? 0);
    const confirmed = Math.max(this.lastConfirmedLsn, this.stream?.confirmed ?? 0);
    const snap = this.snapshot
      ? { done: this.snapshot.rowsRead, total: this.snapshot.rowsTotal }
      : this.snapshotRows;
    return {
      phase: this.phase,
      slot_name: this.cfg?.slotName ?? '',
      confirmed_flush_lsn: this.slot?.confirmedFlushLsn ?? null,
      restart_lsn: this.slot?.restartLsn ?? null,
      wal_retained_bytes: this.slot?.retainedBytes ?? null,
      slot_lag_bytes: this.slot?.lagBytes ?? null,
      slot_checked_at: this.slotCheckedAt,
      slot_check_error: this.slotCheckError,
      last_received_lsn: received > 0 ? formatLsn(received) : null,
      last_confirmed_lsn: confirmed > 0 ? formatLsn(confirmed) : null,
      pending_records: this.tracker?.pending ?? 0,
      snapshot_rows_done: snap ? snap.done : null,
      snapshot_rows_total: snap && snap.total !== null ? Math.max(snap.total, snap.done) : null,
      streamed_records: this.changes?.streamed ?? 0,
    };
  }

  async start(props: Props, context: SourceTaskContext): Promise<void> {
    this.cfg = parseCdcConfig(props);
    this.context = context;
    const cfg = this.cfg;
    this.partition = { server: cfg.topicPrefix };
    this.typeOpts = {
      decimalMode: cfg.decimalMode,
      timePrecisionMode: cfg.timePrecisionMode,
      binaryMode: cfg.binaryMode,
      intervalMode: cfg.intervalMode,
      placeholder: cfg.placeholder,
    };
    this.tracker = new AckTracker((lsn) => this.stream?.confirm(lsn));
    this.changes = new ChangeEmitter({
      cfg,
      partition: this.partition,
      relationSchema: (msg) => this.relationSchema(msg),
      invalidateType: (oid) => this.types.invalidate(oid),
      emit: (r) => this.emit(r),
      mark: (lsn) => this.tracker.mark(lsn),
    });
    const target = targetOf(cfg);
    const meta = await this.openMeta();
    this.types = new TypeRegistry(() => this.metaClient());
    runningTasks.add(this);
    // The slot's position for status(): on a timer, so that it stays current while poll() is not
    // called (the connector paused, the producer behind) and status requests never wait on it.
    this.slotTimer = setInterval(() => void this.refreshLag(), cfg.statusUpdateIntervalMs);
    this.slotTimer.unref();
    try {
      const walLevel = (await rows(meta, 'SHOW wal_level'))[0]?.wal_level;
      if (walLevel !== 'logical') {
        throw new ConnectError(
          'CONNECT',
          `PostgreSQL at ${cfg.hostname}:${cfg.port} runs with wal_level=${walLevel}; logical decoding needs wal_level=logical (postgresql.conf, then restart)`,
        );
      }
      await ensurePublication(meta, cfg);
      const offset = readOffset(await context.offsetStorageReader.offset(this.partition));
      const slot = await slotInfo(meta, cfg.slotName);
      checkSlot(cfg, slot);
      const mode = cfg.snapshotMode;
      let snapshotNeeded: boolean;
      if (mode === 'always') snapshotNeeded = true;
      else if (mode === 'never' || mode === 'no_data') snapshotNeeded = false;
      else snapshotNeeded = !snapshotCompleted(offset);
      if (!slot && offset && snapshotCompleted(offset)) {
        // Offsets say we streamed from this slot before; it is gone, and with it every change since.
        if (mode === 'when_needed') snapshotNeeded = true;
        else if (mode !== 'always') {
          throw new ConnectError(
            'CONNECT',
            `replication slot "${cfg.slotName}" (slot.name) does not exist, but the connector has committed offsets up to LSN ${formatLsn(offset.lsn)}: the changes made since are lost. Set snapshot.mode=when_needed to take a new snapshot, or delete the connector's offsets to start over.`,
          );
        }
      }
      if (mode === 'initial_only' && snapshotCompleted(offset)) {
        this.phase = 'done';
        return;
      }
      this.stream = new ReplicationStream(target, cfg.maxQueueSize, cfg.statusUpdateIntervalMs);
      await this.stream.connect();
      if (snapshotNeeded) {
        let snapshotName: string | null = null;
        if (slot) {
          // The slot's consistent point is behind us: a fresh snapshot, then stream from the slot's position (duplicates possible).
          this.streamStartLsn = offset?.lsn_flush ?? 0;
          this.snapshotLsn = parseLsn(slot.confirmedFlushLsn ?? '0/0');
        } else {
          // initial_only never streams: a temporary slot exports the snapshot and leaves no WAL retained behind.
          const created = await this.stream.createSlot(cfg.slotName, true, mode === 'initial_only');
          snapshotName = created.snapshotName;
          this.streamStartLsn = created.consistentPoint;
          this.snapshotLsn = created.consistentPoint;
        }
        await this.beginSnapshot(snapshotName);
        this.phase = 'snapshot';
      } else {
        if (slot) this.streamStartLsn = offset?.lsn_flush ?? 0;
        else this.streamStartLsn = (await this.stream.createSlot(cfg.slotName, false)).consistentPoint;
        this.startStreaming();
      }
      void this.refreshLag();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Opens the metadata connection; a broken one is replaced at the next poll. */
  private async openMeta(): Promise<pg.Client> {
    const meta = await openClient(targetOf(this.cfg));
    const broken = () => {
      if (this.meta === meta) this.metaBroken = true;
    };
    meta.on('error', broken);
    meta.on('end', broken);
    this.meta = meta;
    this.metaBroken = false;
    return meta;
  }

  private metaClient(): pg.Client {
    if (!this.meta) throw new ConnectError('CONNECT', 'the task is stopped');
    return this.meta;
  }

  private async beginSnapshot(snapshotName: string | null): Promise<void> {
    const meta = this.metaClient();
    const selected = (await listTables(meta)).filter(([s, t]) => tableSelected(this.cfg, s, t));
    const described: TableSchema[] = [];
    for (const [s, t] of selected) {
      const rel = await describeTable(meta, s, t);
      described.push(await this.tableSchemaOf(rel));
    }
    for (const t of described) this.snapshotTables.set(`${t.relation.schema}.${t.relation.table}`, t);
    this.snapshot = new SnapshotReader(
      targetOf(this.cfg),
      described.map((t) => ({
        schema: t.relation.schema,
        table: t.relation.table,
        columns: t.relation.columns.map((c) => c.name),
      })),
      this.cfg.snapshotFetchSize,
    );
    await this.snapshot.begin(snapshotName);
  }

  private startStreaming(): void {
    this.stream!.start(this.cfg.slotName, this.cfg.publicationName, this.streamStartLsn);
    this.changes.lastCommitEndLsn = this.streamStartLsn;
    this.phase = 'streaming';
  }

  private async tableSchemaOf(rel: RelationInfo): Promise<TableSchema> {
    await this.types.ensure(rel.columns.map((c) => c.typeOid));
    return buildTableSchema(this.cfg.topicPrefix, rel, this.typeOpts, (oid) => this.types.get(oid));
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null;
    if (this.metaBroken) {
      const old = this.meta;
      this.meta = null;
      await old?.end().catch(() => {});
      try {
        await this.openMeta();
      } catch (err) {
        await sleep(1000); // retriable: the runtime polls again; not in a tight loop
        throw err;
      }
    }
    if (this.phase === 'snapshot') return this.pollSnapshot();
    if (this.phase === 'streaming') return this.pollStream();
    await sleep(this.cfg.pollIntervalMs);
    return null;
  }

  private async pollSnapshot(): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    const snap = this.snapshot!;
    while (out.length < this.cfg.maxBatchSize) {
      const batch = await snap.next(this.cfg.maxBatchSize - out.length);
      if (!batch) break;
      const t = this.snapshotTables.get(`${batch.table.schema}.${batch.table.table}`)!;
      for (const values of batch.rows) {
        const row = rowOf(t, values.map(textValue), null);
        if (this.heldSnapshotRow)
          out.push(this.snapshotRecord(this.heldSnapshotRow.t, this.heldSnapshotRow.row, false));
        this.heldSnapshotRow = { t, row };
      }
    }
    if (snap.done) {
      if (this.heldSnapshotRow)
        out.push(this.snapshotRecord(this.heldSnapshotRow.t, this.heldSnapshotRow.row, true));
      this.heldSnapshotRow = null;
      this.snapshotRows = { done: snap.rowsRead, total: snap.rowsRead };
      this.snapshot = null;
      if (this.cfg.snapshotMode === 'initial_only') {
        this.phase = 'done';
        await this.stream?.close();
        this.stream = null;
      } else this.startStreaming();
    }
    return out;
  }

  private snapshotRecord(t: TableSchema, row: Row, last: boolean): SourceRecord {
    const ts = this.snapshot?.startedAtMs ?? Date.now();
    const info: SourceInfo = {
      tsMs: ts,
      snapshot: last ? 'last' : 'true',
      sequence: null,
      txId: null,
      lsn: this.snapshotLsn,
    };
    const offset: SourceMap = {
      lsn: this.snapshotLsn,
      lsn_flush: 0,
      txId: null,
      ts_usec: ts * 1000,
      snapshot: true,
      last_snapshot_record: last,
    };
    return this.emit(
      changeRecord(
        t,
        'r',
        null,
        row,
        sourceStruct(this.cfg.topicPrefix, this.cfg.dbname, t, info),
        this.partition,
        offset,
        keyOf(t, row),
      ),
    );
  }

  private emit(record: SourceRecord): SourceRecord {
    this.tracker.track(record);
    return record;
  }

  private async pollStream(): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    if (!this.stream) {
      await this.reconnect(new ConnectError('CONNECT', 'no replication connection', { retriable: true }));
      return out;
    }
    let msgs: ReplicationMessage[];
    try {
      msgs = await this.stream.take(this.cfg.maxBatchSize, this.cfg.pollIntervalMs);
      this.reconnectAttempts = 0;
    } catch (err) {
      if (!(err instanceof ConnectError && err.retriable) || this.reconnectAttempts >= MAX_RECONNECT_ATTEMPTS)
        throw err;
      await this.reconnect(err);
      return out;
    }
    for (const m of msgs) {
      // Only Relation messages wait (for the catalog); the rest is handled synchronously.
      const pending = this.changes.handle(m, out);
      if (pending) await pending;
    }
    if (
      this.cfg.heartbeatIntervalMs > 0 &&
      Date.now() - this.lastHeartbeatMs >= this.cfg.heartbeatIntervalMs
    ) {
      await this.heartbeat(out);
    }
    return out;
  }

  /**
   * The replication connection failed (server restart, network, walsender killed): a new one
   * streams again from the confirmed LSN. What was emitted and not yet acknowledged comes again
   * (at-least-once); the tracker keeps its order, marks only move forward.
   */
  private async reconnect(cause: Error): Promise<void> {
    this.reconnectAttempts++;
    const resumeAt = Math.max(this.stream?.confirmed ?? 0, this.tracker.confirmableLsn, this.streamStartLsn);
    this.keepStreamPositions();
    await this.stream?.close().catch(() => {});
    this.stream = null;
    await sleep(Math.min(RECONNECT_BACKOFF_MAX_MS, 100 * 2 ** this.reconnectAttempts));
    if (this.stopped) return;
    this.changes.tx = null;
    const stream = new ReplicationStream(
      targetOf(this.cfg),
      this.cfg.maxQueueSize,
      this.cfg.statusUpdateIntervalMs,
    );
    this.stream = stream;
    try {
      await stream.connect();
      const slot = await slotInfo(this.metaClient(), this.cfg.slotName);
      if (!slot) {
        throw new ConnectError(
          'CONNECT',
          `replication slot "${this.cfg.slotName}" (slot.name) disappeared while streaming: changes after LSN ${formatLsn(resumeAt)} are lost; restart with snapshot.mode=when_needed to take a new snapshot`,
          { cause },
        );
      }
      this.streamStartLsn = resumeAt;
      stream.start(this.cfg.slotName, this.cfg.publicationName, resumeAt);
    } catch (err) {
      await stream.close().catch(() => {});
      this.stream = null;
      if ((err instanceof ConnectError && !err.retriable) || this.reconnectAttempts >= MAX_RECONNECT_ATTEMPTS)
        throw err;
      // the next poll tries again
    }
  }

  private async heartbeat(out: SourceRecord[]): Promise<void> {
    this.lastHeartbeatMs = Date.now();
    if (this.cfg.heartbeatActionQuery !== '') {
      try {
        await this.metaClient().query(this.cfg.heartbeatActionQuery);
      } catch (err) {
        throw new ConnectError('CONNECT', `heartbeat.action.query failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    const now = Date.now();
    out.push(
      this.emit({
        topic: `${this.cfg.heartbeatTopicPrefix}.${this.cfg.topicPrefix}`,
        kafkaPartition: null,
        keySchema: HEARTBEAT_KEY_SCHEMA,
        key: { serverName: this.cfg.topicPrefix },
        valueSchema: HEARTBEAT_VALUE_SCHEMA,
        value: { ts_ms: now },
        timestamp: now,
        headers: [],
        sourcePartition: this.partition,
        sourceOffset: {
          lsn: this.changes.lastCommitEndLsn,
          lsn_flush: this.changes.tx ? 0 : this.changes.lastCommitEndLsn,
          ts_usec: now * 1000,
        },
      }),
    );
  }

  /** A Relation message's table schema: its columns as sent, the key and NOT NULL from the catalog. */
  private async relationSchema(msg: RelationMessage): Promise<TableSchema | null> {
    if (!tableSelected(this.cfg, msg.namespace, msg.name)) return null;
    // The message is the truth about the columns at this point of the WAL; the catalog (which may
    // be ahead) only adds the primary key and NOT NULL.
    let constraints = new Map<string, { notNull: boolean; pkPosition: number }>();
    try {
      constraints = await tableConstraints(this.metaClient(), msg.oid);
    } catch {
      // dropped since: fall back to the replica identity columns
    }
    const keyFlagged = msg.columns.filter((c) => (c.flags & 1) !== 0).map((c) => c.name);
    const rel: RelationInfo = {
      oid: msg.oid,
      schema: msg.namespace,
      table: msg.name,
      replicaIdentity: msg.replicaIdentity,
      columns: msg.columns.map((c) => {
        const k = constraints.get(c.name);
        return {
          name: c.name,
          typeOid: c.typeOid,
          typeMod: c.typeMod,
          notNull: k?.notNull ?? false,
          pkPosition:
            constraints.size > 0
              ? (k?.pkPosition ?? -1)
              : msg.replicaIdentity === 'd'
                ? keyFlagged.indexOf(c.name)
                : -1,
        };
      }),
    };
    return this.tableSchemaOf(rel);
  }

  /** The stream's positions outlive it (a reconnect replaces it). */
  private keepStreamPositions(): void {
    this.lastReceivedLsn = Math.max(this.lastReceivedLsn, this.stream?.lastReceivedLsn ?? 0);
    this.lastConfirmedLsn = Math.max(this.lastConfirmedLsn, this.stream?.confirmed ?? 0);
  }

  /**
   * Reads the slot's position now (also done every status.update.interval.ms) and returns the
   * status. A read in progress is joined, not repeated; one that fails or takes longer than
   * SLOT_QUERY_TIMEOUT_MS is reported in `slot_check_error` (the figures keep their last values)
   * and its connection replaced at the next read.
   */
  async refreshLag(): Promise<CdcTaskStatus> {
    this.slotRead ??= this.readSlot().finally(() => {
      this.slotRead = null;
    });
    await this.slotRead;
    return this.status();
  }

  private async readSlot(): Promise<void> {
    if (this.stopped || !this.cfg) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer in ${SLOT_QUERY_TIMEOUT_MS} ms`)),
        SLOT_QUERY_TIMEOUT_MS,
      );
    });
    const read = (async () => {
      if (!this.statusConn) {
        const c = await openClient(targetOf(this.cfg));
        if (this.stopped) {
          await c.end().catch(() => {});
          return null;
        }
        this.statusConn = c;
        await c.query(`SET statement_timeout = ${SLOT_QUERY_TIMEOUT_MS}`);
        await c.query("SET application_name = 'tributary-cdc-status'");
      }
      return slotPosition(this.statusConn, this.cfg.slotName);
    })();
    try {
      const pos = await Promise.race([read, timeout]);
      if (this.stopped) return;
      this.slot = pos;
      this.slotCheckedAt = new Date().toISOString();
      this.slotCheckError = pos ? null : `replication slot "${this.cfg.slotName}" does not exist`;
    } catch (err) {
      read.catch(() => {});
      this.slotCheckError = (err as Error).message;
      const c = this.statusConn;
      this.statusConn = null;
      void c?.end().catch(() => {});
    } finally {
      clearTimeout(timer);
    }
  }

  commitRecord(record: SourceRecord, _metadata: RecordMetadataLike | null): void {
    this.tracker?.ack(record);
  }

  async commit(): Promise<void> {
    // The committed offset's lsn_flush is safe too (it covers records acknowledged without commitRecord).
    const committed = readOffset((await this.context?.offsetStorageReader.offset(this.partition)) ?? null);
    if (committed && committed.lsn_flush > 0) this.stream?.confirm(committed.lsn_flush);
    this.stream?.sendStatus(true);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.phase = 'stopped';
    runningTasks.delete(this);
    if (this.slotTimer) clearInterval(this.slotTimer);
    this.slotTimer = null;
    this.keepStreamPositions();
    const statusConn = this.statusConn;
    this.statusConn = null;
    await statusConn?.end().catch(() => {});
    await this.snapshot?.close().catch(() => {});
    await this.stream?.close().catch(() => {});
    this.stream = null;
    const meta = this.meta;
    if (meta && this.cfg?.slotDropOnStop) {
      for (let i = 0; i < 50; i++) {
        try {
          await meta.query(
            'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
            [this.cfg.slotName],
          );
          break;
        } catch {
          await sleep(100); // still active for a moment after the replication connection closed
        }
      }
    }
    this.meta = null;
    await meta?.end().catch(() => {});
  }
}

function textValue(v: string | null): TupleValue {
  return v === null ? { kind: 'null' } : { kind: 'text', text: v };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
