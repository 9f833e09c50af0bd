import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PostgresConnector, parseCdcConfig, plugins } from '../../../connectors/postgres-cdc/index.js';
import { parseSinkConfig, plugins as sinkPlugins } from '../../../connectors/postgres-sink/index.js';

const BASE = { 'database.hostname': 'h', 'database.user': 'u', 'database.dbname': 'd', 'topic.prefix': 'p' };

describe('postgres-cdc config', () => {
  it("takes Debezium's keys with Debezium's defaults", () => {
    const c = parseCdcConfig(BASE);
    expect(c).toMatchObject({
      port: 5432,
      slotName: 'debezium',
      publicationName: 'dbz_publication',
      publicationAutocreateMode: 'all_tables',
      snapshotMode: 'initial',
      tombstonesOnDelete: true,
      decimalMode: 'precise',
      placeholder: '__debezium_unavailable_value',
    });
    expect([...c.skippedOperations]).toEqual(['t']);
  });

  it('names the offending key', () => {
    expect(() => parseCdcConfig({ ...BASE, 'plugin.name': 'decoderbufs' })).toThrow(
      /plugin.name.*only pgoutput/,
    );
    expect(() => parseCdcConfig({ ...BASE, 'slot.name': 'Bad-Slot' })).toThrow(/slot.name/);
    expect(() => parseCdcConfig({ ...BASE, 'snapshot.mode': 'sometimes' })).toThrow(/snapshot.mode/);
    expect(() => parseCdcConfig({ ...BASE, 'table.include.list': 'a', 'table.exclude.list': 'b' })).toThrow(
      /table.exclude.list/,
    );
    expect(() => parseCdcConfig({ ...BASE, 'table.include.list': '(' })).toThrow(/table.include.list/);
    expect(() => parseCdcConfig({ ...BASE, 'skipped.operations': 'x' })).toThrow(/skipped.operations/);
    const { 'topic.prefix': _, ...noPrefix } = BASE;
    expect(() => parseCdcConfig(noPrefix)).toThrow(/topic.prefix/);
    expect(new PostgresConnector().validate({ ...BASE, 'decimal.handling.mode': 'float' })).toHaveProperty([
      'decimal.handling.mode',
    ]);
  });

  it("answers to Debezium's and the JDBC sink's class names, one CDC task", () => {
    expect(plugins[0]!.aliases).toContain('io.debezium.connector.postgresql.PostgresConnector');
    expect(sinkPlugins[0]!.aliases).toContain('io.confluent.connect.jdbc.JdbcSinkConnector');
    const c = new PostgresConnector();
    c.start(BASE);
    expect(c.taskConfigs(4)).toHaveLength(1);
  });

  it('the example configs parse', () => {
    const cdc = JSON.parse(
      readFileSync(new URL('../../../examples/connect/postgres-cdc.json', import.meta.url), 'utf8'),
    ).config;
    expect(parseCdcConfig(cdc).topicPrefix).toBe('dbserver1');
    const sink = JSON.parse(
      readFileSync(new URL('../../../examples/connect/postgres-sink.json', import.meta.url), 'utf8'),
    ).config;
    expect(parseSinkConfig(sink)).toMatchObject({
      host: 'localhost',
      database: 'replica',
      insertMode: 'upsert',
      pkMode: 'record_key',
    });
  });
});
