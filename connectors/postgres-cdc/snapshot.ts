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
      if (res.rows.length > 0) return { table: t, rows: res.rows };
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
