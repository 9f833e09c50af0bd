/**
 * Runs a PostgresCdcTask in-process the way the Connect runtime does — start, poll in a loop,
 * commitRecord() for each record "acknowledged", commit() after storing offsets — without a log,
 * so tests can look at every record and decide when (or whether) acknowledgements happen.
 */
import { JsonConverter } from '../../../connect/converters/json.js';
import type { SourceMap, SourceRecord } from '../../../connect/sdk.js';
import { PostgresCdcTask } from '../../../connectors/postgres-cdc/index.js';
import type { PostgresServer } from '../../helpers/postgres.js';

export function cdcProps(
  server: PostgresServer,
  db: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    name: 'pg-cdc',
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'database.hostname': server.host,
    'database.port': String(server.port),
    'database.user': server.user,
    'database.password': '',
    'database.dbname': db,
    'topic.prefix': 'srv',
    'plugin.name': 'pgoutput',
    'poll.interval.ms': '50',
    'status.update.interval.ms': '200',
    ...extra,
  };
}

/** What a JsonConverter with schemas.enable writes, parsed back: { schema, payload }. */
export function asJson(r: SourceRecord): {
  key: unknown;
  value: { schema: unknown; payload: Record<string, unknown> } | null;
} {
  const conv = new JsonConverter();
  conv.configure({ 'schemas.enable': 'true' });
  const k = conv.fromConnectData(r.topic, r.keySchema, r.key);
  const v = conv.fromConnectData(r.topic, r.valueSchema, r.value);
  return { key: k ? JSON.parse(k.toString()) : null, value: v ? JSON.parse(v.toString()) : null };
}

export class TaskDriver {
  task = new PostgresCdcTask();
  readonly records: SourceRecord[] = [];
  /** Offsets as the runtime would have committed them: the last acknowledged record's. */
  readonly offsets: Map<string, SourceMap>;
  autoAck = true;

  constructor(offsets?: Map<string, SourceMap>) {
    this.offsets = offsets ?? new Map();
  }

  async start(props: Record<string, string>): Promise<void> {
    const offsets = this.offsets;
    await this.task.start(props, {
      configs: props,
      offsetStorageReader: {
        offset: async (p) => offsets.get(JSON.stringify(p)) ?? null,
        offsets: async (ps) => new Map(ps.map((p) => [p, offsets.get(JSON.stringify(p)) ?? null])),
      },
    });
  }

  async pollOnce(): Promise<SourceRecord[]> {
    const batch = (await this.task.poll()) ?? [];
    for (const r of batch) {
      this.records.push(r);
      if (this.autoAck) this.ack(r);
    }
    if (this.autoAck && batch.length > 0) await this.task.commit();
    return batch;
  }

  ack(r: SourceRecord): void {
    if (r.sourcePartition && r.sourceOffset)
      this.offsets.set(JSON.stringify(r.sourcePartition), r.sourceOffset);
    this.task.commitRecord(r, { topic: r.topic, partition: 0, offset: 0 });
  }

  /** Polls until `pred` holds for the records so far. */
  async pollUntil(
    what: string,
    pred: (records: SourceRecord[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<SourceRecord[]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.records)) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; have ${this.records.length} records: ${this.records.map((r) => `${r.topic}:${(r.value as { op?: string } | null)?.op ?? 'tombstone'}`).join(', ')}`,
        );
      }
      await this.pollOnce();
    }
    return this.records;
  }

  /** Polls for `ms` more and returns what came. */
  async drain(ms: number): Promise<SourceRecord[]> {
    const start = this.records.length;
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) await this.pollOnce();
    return this.records.slice(start);
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }
}

export function values(records: SourceRecord[], topic?: string): Record<string, unknown>[] {
  return records
    .filter((r) => (topic === undefined || r.topic === topic) && r.value !== null)
    .map((r) => r.value as Record<string, unknown>);
}
