/**
 * Source offsets: `[connector, sourcePartition]` → sourceOffset, as Kafka Connect keeps them — in a
 * local file (standalone: `offset.storage.file.filename`, written atomically: temp file, fsync,
 * rename) or in the offset topic (distributed; keys and values in Kafka's JSON, so a Kafka Connect
 * cluster reading the same topic finds the same offsets).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Admin, ConsumerRecord, KafkaClient } from '../../core/client/types.js';
import type { SourceMap } from '../data.js';
import { ConnectError } from '../errors.js';
import { KafkaLog } from './kafka-log.js';

/** JSON with object keys sorted, so that equal maps give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

/** The offset key of a connector's source partition: `["name",{...}]`. */
export function offsetKey(connector: string, partition: SourceMap): string {
  return canonicalJson([connector, partition]);
}

export interface OffsetEntry {
  partition: SourceMap;
  offset: SourceMap;
}

export interface OffsetStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Catches up with writes made elsewhere (other workers) before reading. */
  refresh(): Promise<void>;
  get(connector: string, partition: SourceMap): SourceMap | null;
  /** Writes offsets (null deletes); resolves once they are durable. */
  set(
    connector: string,
    entries: readonly { partition: SourceMap; offset: SourceMap | null }[],
  ): Promise<void>;
  list(connector: string): OffsetEntry[];
}

abstract class MapStore implements OffsetStore {
  protected readonly data = new Map<string, string>();
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  abstract refresh(): Promise<void>;
  abstract set(
    connector: string,
    entries: readonly { partition: SourceMap; offset: SourceMap | null }[],
  ): Promise<void>;

  get(connector: string, partition: SourceMap): SourceMap | null {
    const v = this.data.get(offsetKey(connector, partition));
    return v === undefined ? null : (JSON.parse(v) as SourceMap);
  }

  list(connector: string): OffsetEntry[] {
    const out: OffsetEntry[] = [];
    for (const [k, v] of this.data) {
      const [name, partition] = JSON.parse(k) as [string, SourceMap];
      if (name === connector) out.push({ partition, offset: JSON.parse(v) as SourceMap });
    }
    return out;
  }

  protected apply(key: string, value: string | null): void {
    if (value === null) this.data.delete(key);
    else this.data.set(key, value);
  }
}

export class FileOffsetStore extends MapStore {
  private chain: Promise<void> = Promise.resolve();
  /** null: offsets in memory only (in-process workers without offset.storage.file.filename). */
  constructor(private readonly path: string | null) {
    super();
  }

  async start(): Promise<void> {
    if (this.path === null || !existsSync(this.path)) return;
    const text = readFileSync(this.path, 'utf8');
    if (text.trim() === '') return;
    let json: { offsets?: [string, string][] };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new ConnectError(
        'CONNECT',
        `${this.path} is not an offset file written by Tributary (offset.storage.file.filename)`,
      );
    }
    for (const [k, v] of json.offsets ?? []) this.data.set(k, v);
  }

  async stop(): Promise<void> {
    await this.chain;
  }

  async refresh(): Promise<void> {}

  set(
    connector: string,
    entries: readonly { partition: SourceMap; offset: SourceMap | null }[],
  ): Promise<void> {
    for (const e of entries)
      this.apply(offsetKey(connector, e.partition), e.offset === null ? null : canonicalJson(e.offset));
    const path = this.path;
    if (path === null) return Promise.resolve();
    const snapshot = JSON.stringify({ version: 1, offsets: [...this.data] });
    this.chain = this.chain.then(() => writeAtomically(path, snapshot));
    return this.chain;
  }
}

function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class KafkaOffsetStore extends MapStore {
  private readonly log: KafkaLog;
  constructor(
    client: KafkaClient,
    admin: Admin,
    topic: string,
    partitions: number,
    replicationFactor: number,
    logger?: (m: string) => void,
  ) {
    super();
    this.log = new KafkaLog(client, admin, {
      topic,
      partitions,
      replicationFactor,
      onRecord: (r: ConsumerRecord) => {
        if (r.key === null) return;
        const key = JSON.parse(r.key.toString('utf8')) as unknown;
        if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== 'string') return;
        this.apply(
          canonicalJson(key),
          r.value === null ? null : canonicalJson(JSON.parse(r.value.toString('utf8'))),
        );
      },
      log: logger,
    });
  }

  start(): Promise<void> {
    return this.log.start();
  }
  stop(): Promise<void> {
    return this.log.stop();
  }
  refresh(): Promise<void> {
    return this.log.readToEnd();
  }

  async set(
    connector: string,
    entries: readonly { partition: SourceMap; offset: SourceMap | null }[],
  ): Promise<void> {
    const records = entries.map((e) => ({
      key: offsetKey(connector, e.partition),
      value: e.offset === null ? null : canonicalJson(e.offset),
    }));
    await this.log.sendAll(records);
    for (const r of records) this.apply(r.key, r.value);
  }
}
