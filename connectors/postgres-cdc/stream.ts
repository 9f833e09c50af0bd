/**
 * The replication connection: slot creation (optionally exporting a snapshot), START_REPLICATION
 * with pgoutput, a bounded queue of decoded messages between the socket and poll(), and standby
 * status updates.
 *
 * Flow control: at most `maxQueued` messages wait for poll(); beyond that the socket is paused
 * (TCP pushes back on the walsender), and resumed once poll() drained half. Keepalives that ask
 * for a reply are answered at once, from the socket's callback, with the confirmed LSN.
 *
 * Waiting messages are kept as their bytes, copied into one arena (pg's parser reuses its buffer),
 * and decoded when poll() takes them: thousands of decoded messages (an object graph each) waiting
 * in a queue survive garbage collections that their bytes in one buffer cost nothing in.
 *
 * The flushed LSN sent to the server only moves forward and only through `confirm()`, which the
 * task calls once the log acknowledged everything up to it.
 */
import pg from 'pg';
import { ConnectError } from '../../connect/sdk.js';
import { openClient, type PgTarget, quoteIdent, quoteLiteral, rows } from './catalog.js';
import {
  decodeReplicationMessage,
  encodeStandbyStatus,
  formatLsn,
  type Lsn,
  parseLsn,
  type ReplicationMessage,
} from './pgoutput.js';

interface CopyDataHandler {
  handleCopyData(msg: { chunk: Buffer }): void;
}

interface PgConnectionLike {
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}

export interface CreatedSlot {
  consistentPoint: Lsn;
  snapshotName: string | null;
}

export class ReplicationStream {
  private client: pg.Client | null = null;
  /** Waiting CopyData payloads, back to back from arena offset 0 (or where the first untaken one starts). */
  private arena = Buffer.allocUnsafe(ARENA_MIN_BYTES);
  /** End offset in the arena of each waiting message; entries before queueHead are taken. */
  private ends: number[] = [];
  private queueHead = 0;
  private arenaStart = 0;
  private paused = false;
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  private confirmedLsn: Lsn = 0;
  private lastStatusMs = 0;
  private statusTimer: NodeJS.Timeout | null = null;
  private streaming = false;
  private closed = false;
  /** The server's WAL end as of the last message (for status). */
  serverWalEnd: Lsn = 0;
  /** The WAL position of the last change message received (for status). */
  lastReceivedLsn: Lsn = 0;

  constructor(
    private readonly target: PgTarget,
    private readonly maxQueued: number,
    private readonly statusIntervalMs: number,
  ) {}

  async connect(): Promise<void> {
    this.client = await openClient(this.target, true);
    this.client.on('error', (err: Error) => this.fail(err));
    this.client.on('end', () => {
      if (!this.closed)
        this.fail(
          new ConnectError('CONNECT', 'the replication connection to PostgreSQL closed', { retriable: true }),
        );
    });
  }

  private get pgClient(): pg.Client {
    if (!this.client) throw new ConnectError('CONNECT', 'replication connection not open');
    return this.client;
  }

  /**
   * CREATE_REPLICATION_SLOT … LOGICAL pgoutput, exporting a snapshot when asked (then keep this
   * connection idle until the snapshot was imported). A temporary slot goes with the connection.
   */
  async createSlot(slot: string, exportSnapshot: boolean, temporary = false): Promise<CreatedSlot> {
    const res = await rows(
      this.pgClient,
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)}${temporary ? ' TEMPORARY' : ''} LOGICAL pgoutput ${exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`,
    );
    const r = res[0];
    if (!r?.consistent_point)
      throw new ConnectError('CONNECT', `CREATE_REPLICATION_SLOT ${slot} returned no consistent point`);
    return { consistentPoint: parseLsn(r.consistent_point), snapshotName: r.snapshot_name ?? null };
  }

  /** START_REPLICATION from `startLsn` (the slot's confirmed flush LSN when that is later). */
  start(slot: string, publication: string, startLsn: Lsn): void {
    this.confirmedLsn = Math.max(this.confirmedLsn, startLsn);
    const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(startLsn)} (proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))}, messages 'true')`;
    this.streaming = true;
    const query = new pg.Query(sql, (err) => {
      if (this.closed) return;
      if (err) this.fail(translateStartError(err, slot, publication));
      else this.fail(new ConnectError('CONNECT', 'the replication stream ended', { retriable: true }));
    });
    // The client hands the running query each CopyData message (a listener on the connection
    // would be a second one for every message, beside the client's).
    (query as unknown as CopyDataHandler).handleCopyData = (msg) => this.onCopyData(msg.chunk);
    this.pgClient.query(query);
    this.statusTimer = setInterval(
      () => this.sendStatus(false),
      Math.max(100, Math.floor(this.statusIntervalMs / 2)),
    );
    this.statusTimer.unref();
  }

  private onCopyData(chunk: Buffer): void {
    if (this.failure) return;
    if (chunk.length >= XLOGDATA_HEADER_BYTES && chunk[0] === 0x77) {
      // XLogData ('w'): its header is all that is needed now; the pgoutput message is decoded when taken.
      const dataStart = readU64(chunk, 1);
      this.serverWalEnd = Math.max(this.serverWalEnd, readU64(chunk, 9));
      if (dataStart > this.lastReceivedLsn) this.lastReceivedLsn = dataStart;
    } else {
      let msg: ReplicationMessage;
      try {
        msg = decodeReplicationMessage(chunk);
      } catch (err) {
        this.fail(decodeError(err));
        return;
      }
      this.serverWalEnd = Math.max(this.serverWalEnd, msg.walEnd);
      if (msg.kind === 'keepalive' && msg.replyRequested) this.sendStatus(true);
    }
    this.enqueue(chunk);
    if (!this.paused && this.queued >= this.maxQueued) {
      this.paused = true;
      (this.pgClient as unknown as { connection: PgConnectionLike }).connection.stream.pause();
    }
    this.waiter?.();
  }

  /** Copies a message's bytes to the end of the arena (moving the waiting ones to its start, or to a larger arena, when it is full). */
  private enqueue(chunk: Buffer): void {
    const end = this.ends.length > 0 ? this.ends[this.ends.length - 1]! : this.arenaStart;
    if (end + chunk.length > this.arena.length) {
      const waiting = end - this.arenaStart;
      const size = Math.max(this.arena.length, (waiting + chunk.length) * 2);
      const target = size > this.arena.length ? Buffer.allocUnsafe(size) : this.arena;
      this.arena.copy(target, 0, this.arenaStart, end);
      const shift = this.arenaStart;
      const ends = this.ends.slice(this.queueHead);
      for (let i = 0; i < ends.length; i++) ends[i]! -= shift;
      this.arena = target;
      this.ends = ends;
      this.queueHead = 0;
      this.arenaStart = 0;
      this.enqueue(chunk);
      return;
    }
    chunk.copy(this.arena, end);
    this.ends.push(end + chunk.length);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.();
  }

  /** Up to `max` queued messages; waits up to `waitMs` when none are queued. Throws the stream's failure. */
  async take(max: number, waitMs: number): Promise<ReplicationMessage[]> {
    if (this.queued === 0 && this.failure === null && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, waitMs);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
    if (this.failure) throw this.failure;
    const n = Math.min(max, this.queued);
    const out: ReplicationMessage[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const end = this.ends[this.queueHead]!;
      try {
        out[i] = decodeReplicationMessage(this.arena, this.arenaStart, end);
      } catch (err) {
        this.fail(decodeError(err));
        throw this.failure;
      }
      this.queueHead++;
      this.arenaStart = end;
    }
    if (this.queueHead === this.ends.length) {
      // Nothing waits: the arena is written from its start again (a small one again after a burst of large rows).
      this.ends.length = 0;
      this.queueHead = 0;
      this.arenaStart = 0;
      if (this.arena.length > ARENA_KEEP_BYTES) this.arena = Buffer.allocUnsafe(ARENA_MIN_BYTES);
    }
    if (this.paused && this.queued <= this.maxQueued / 2) {
      this.paused = false;
      (this.pgClient as unknown as { connection: PgConnectionLike }).connection.stream.resume();
    }
    return out;
  }

  get queued(): number {
    return this.ends.length - this.queueHead;
  }

  /** Moves the flushed LSN forward (never back) and tells the server now. */
  confirm(lsn: Lsn): void {
    if (lsn <= this.confirmedLsn) return;
    this.confirmedLsn = lsn;
    this.sendStatus(false);
  }

  get confirmed(): Lsn {
    return this.confirmedLsn;
  }

  sendStatus(force: boolean): void {
    if (!this.streaming || this.closed || !this.client) return;
    const now = Date.now();
    if (!force && now - this.lastStatusMs < 50) return;
    this.lastStatusMs = now;
    try {
      (this.client as unknown as { connection: PgConnectionLike }).connection.sendCopyFromChunk(
        encodeStandbyStatus(this.confirmedLsn, now),
      );
    } catch {
      // the connection is failing; reported through 'error'
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.streaming) this.sendStatus(true);
    this.waiter?.();
    const c = this.client;
    this.client = null;
    if (!c) return;
    await Promise.race([c.end().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

/** Bytes of an XLogData header: 'w', int64 dataStart, int64 walEnd, int64 sendTime. */
const XLOGDATA_HEADER_BYTES = 25;
const ARENA_MIN_BYTES = 1 << 20;
/** An arena larger than this (grown for large rows) is given back once empty. */
const ARENA_KEEP_BYTES = 16 << 20;

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}

function decodeError(err: unknown): ConnectError {
  return new ConnectError('CONNECT', `cannot decode the replication stream: ${(err as Error).message}`, {
    cause: err,
  });
}

function translateStartError(err: Error, slot: string, publication: string): Error {
  const msg = err.message;
  if (/publication .* does not exist/.test(msg)) {
    return new ConnectError(
      'CONNECT',
      `publication "${publication}" does not exist (publication.name; create it or set publication.autocreate.mode=all_tables|filtered): ${msg}`,
      { cause: err },
    );
  }
  if (/replication slot .* does not exist/.test(msg)) {
    return new ConnectError('CONNECT', `replication slot "${slot}" does not exist (slot.name): ${msg}`, {
      cause: err,
    });
  }
  if (/is active for PID/.test(msg)) {
    return new ConnectError(
      'CONNECT',
      `replication slot "${slot}" is in use by another connection (slot.name): ${msg}`,
      { cause: err, retriable: true },
    );
  }
  return new ConnectError('CONNECT', `replication stream failed: ${msg}`, { cause: err, retriable: true });
}
