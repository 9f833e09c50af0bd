/**
 * What the task sets up in PostgreSQL before it streams: the publication (per
 * publication.autocreate.mode) and the checks on an existing slot.
 */
import type pg from 'pg';
import { ConfigException, ConnectError, RetriableException } from '../../connect/sdk.js';
import { listTables, quoteIdent, rows, type SlotInfo } from './catalog.js';
import { type CdcConfig, tableSelected } from './config.js';

/** Refuses a slot the connector cannot use, naming slot.name. */
export function checkSlot(cfg: CdcConfig, slot: SlotInfo | null): void {
  if (!slot) return;
  if (slot.slotType !== 'logical') {
    throw new ConfigException(
      'slot.name',
      cfg.slotName,
      `slot "${cfg.slotName}" is a ${slot.slotType} slot, not a logical one; choose another slot.name`,
    );
  }
  if (slot.plugin !== 'pgoutput') {
    throw new ConfigException(
      'slot.name',
      cfg.slotName,
      `slot "${cfg.slotName}" uses the ${slot.plugin} plugin, not pgoutput (plugin.name); drop it or choose another slot.name`,
    );
  }
  if (slot.database !== cfg.dbname) {
    throw new ConfigException(
      'slot.name',
      cfg.slotName,
      `slot "${cfg.slotName}" belongs to database ${slot.database}, not ${cfg.dbname} (database.dbname); choose another slot.name`,
    );
  }
  if (slot.active) {
    throw new RetriableException(
      `replication slot "${cfg.slotName}" (slot.name) is in use by process ${slot.activePid}; another connector or client streams from it`,
    );
  }
}

/** Creates or updates the publication per publication.autocreate.mode. */
export async function ensurePublication(meta: pg.Client, cfg: CdcConfig): Promise<void> {
  const name = cfg.publicationName;
  const exists = (await rows(meta, 'SELECT 1 FROM pg_publication WHERE pubname = $1', [name])).length > 0;
  const mode = cfg.publicationAutocreateMode;
  if (mode === 'disabled') {
    if (!exists) {
      throw new ConfigException(
        'publication.name',
        name,
        `publication "${name}" does not exist and publication.autocreate.mode=disabled; create it (CREATE PUBLICATION ${quoteIdent(name)} FOR ALL TABLES) or change the mode`,
      );
    }
    return;
  }
  try {
    if (mode === 'all_tables') {
      if (!exists) await meta.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR ALL TABLES`);
      return;
    }
    const tables = (await listTables(meta)).filter(([s, t]) => tableSelected(cfg, s, t));
    const list = tables.map(([s, t]) => `${quoteIdent(s)}.${quoteIdent(t)}`).join(', ');
    if (!exists)
      await meta.query(`CREATE PUBLICATION ${quoteIdent(name)}${list ? ` FOR TABLE ${list}` : ''}`);
    else {
      const all =
        (await rows(meta, 'SELECT puballtables FROM pg_publication WHERE pubname = $1', [name]))[0]
          ?.puballtables === 't';
      if (all)
        throw new ConfigException(
          'publication.name',
          name,
          `publication "${name}" is FOR ALL TABLES; publication.autocreate.mode=filtered needs a publication of its own tables`,
        );
      if (list) await meta.query(`ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${list}`);
    }
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    throw new ConnectError(
      'CONNECT',
      `cannot create or update publication "${name}" (publication.name, publication.autocreate.mode=${mode}): ${(err as Error).message}`,
      { cause: err },
    );
  }
}
