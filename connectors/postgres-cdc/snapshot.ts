/**
 * The initial snapshot: every captured table read inside one REPEATABLE READ transaction, either
 * the snapshot the slot exported when it was created (`SET TRANSACTION SNAPSHOT`: the rows are
 * exactly the database as of the slot's consistent point, so streaming from that point neither
 * misses nor repeats a change) or, when the slot already existed, a fresh one (streaming then
 * resumes at the slot's confirmed LSN, before the snapshot: changes may repeat, none is lost).
 *
 * Rows are read through a cursor, `fetchSize` at a time, as text (see catalog.ts).
 */
import type pg from 'pg';
import { ConnectError } from '../../connect/sdk.js';
import { openClient, type PgTarget, quoteIdent, quoteLiteral } from './catalog.js';

export interface SnapshotTable {
  schema: string;
  table: string;
  columns: readonly string[];
}

export class SnapshotReader {
  private client: pg.Client | null = null;
  private tableIndex = 0;
  private cursorOpen = false;
  private finished = false;
  /** Milliseconds since the epoch when the snapshot transaction began. */
  startedAtMs = 0;
  /** Rows read so far. */
  rowsRead = 0;
  /**
   * Rows to read: the planner's estimate (pg_class.reltuples) for tables analyzed since they
   * were last filled, an exact count in the snapshot for the others. Null until begin() ran.
   */
  rowsTotal: number | null = null;

  constructor(
    private readonly target: PgTarget,
    private readonly tables: readonly SnapshotTable[],
    private readonly fetchSize: number,
  ) {}

  /** Opens the transaction (importing `snapshotName` when given). */
  async begin(snapshotName: string | null): Promise<void> {
    this.client = await openClient(this.target);
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (snapshotName) {
      try {
        await this.client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshotName)}`);
      } catch (err) {
        throw new ConnectError(
          'CONNECT',
          `cannot import the slot's exported snapshot ${snapshotName}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    // Take the snapshot now (the first statement does), so later writes are not seen.
    await this.client.query('SELECT 1');
    this.startedAtMs = Date.now();
    this.rowsTotal = await this.countRows(this.client);
  }

  private async countRows(c: pg.Client): Promise<number> {
    let total = 0;
    for (const t of this.tables) {
      const name = `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
      const est = await c.query<{ n: string | null }>(
        'SELECT reltuples::bigint AS n FROM pg_class WHERE oid = $1::regclass',
        [name],
      );
      let n = Number(est.rows[0]?.n ?? -1);
      // -1: never analyzed (PostgreSQL 14+); 0: maybe empty, maybe never analyzed (older versions).
      if (!(n > 0)) {
        const exact = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
        n = Number(exact.rows[0]?.n ?? 0);
      }
      total += n;
    }
    return total;
  }

  get done(): boolean {
    return this.finished;
  }

  /** The next rows (at most `max`) of the current table, or null when every table was read. */
  async next(max: number): Promise<{ table: SnapshotTable; rows: (string | null)[][] } | null> {
    const c = this.client;
    if (!c) throw new ConnectError('CONNECT', 'snapshot not begun');
    while (this.tableIndex < this.tables.length) {
      const t = this.tables[this.tableIndex]!;
      if (!this.cursorOpen) {
        const cols = t.columns.length > 0 ? t.columns.map(quoteIdent).join(', ') : '*';
        await c.query(
          `DECLARE snap NO SCROLL CURSOR FOR SELECT ${cols} FROM ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`,
        );
        this.cursorOpen = true;
      }
      const res = await c.query<(string | null)[]>({
        text: `FETCH ${Math.min(max, this.fetchSize)} FROM snap`,
        rowMode: 'array',
      });
      if (res.rows.length > 0) {
        this.rowsRead += res.rows.length;
        return { table: t, rows: res.rows };
      }
      await c.query('CLOSE snap');
      this.cursorOpen = false;
      this.tableIndex++;
    }
    await this.close();
    this.finished = true;
    return null;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (!c) return;
    await c.query('COMMIT').catch(() => {});
    await c.end().catch(() => {});
  }
}
