/**
 * Worker configs (JSON and .properties, Kafka Connect's keys, pass-through prefixes, unknown keys
 * refused by name), plugin lookup by Kafka's, Confluent's and Debezium's class names, and
 * plugins loaded from `plugin.path`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigDef } from '../../connect/config-def.js';
import { BUNDLED_CONNECTORS, PluginRegistry } from '../../connect/runtime/plugins.js';
import { parseConfigText, parseProperties } from '../../connect/runtime/properties.js';
import {
  clientConfigOf,
  parseWorkerConfig,
  readConnectorConfigFile,
  restListener,
} from '../../connect/runtime/worker-config.js';

const dir = mkdtempSync(join(tmpdir(), 'trib-connect-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('.properties', () => {
  it('reads Java properties: separators, comments, continuations, escapes', () => {
    const text = [
      '# comment',
      '! also',
      'a=1',
      'b : two',
      'c three',
      'd=line \\',
      '   continued',
      'e=tab\\there',
      'f=\\u0041',
      'empty=',
      '',
    ].join('\n');
    expect(parseProperties(text)).toEqual({
      a: '1',
      b: 'two',
      c: 'three',
      d: 'line continued',
      e: 'tab\there',
      f: 'A',
      empty: '',
    });
  });

  it('JSON configs become string maps', () => {
    expect(parseConfigText('{"tasks.max": 2, "x": true, "n": null}', 'c.json')).toEqual({
      'tasks.max': '2',
      x: 'true',
    });
    expect(() => parseConfigText('{"a": {"b": 1}}', 'c.json')).toThrow(/'a' must be a string/);
  });
});

describe('connector config files', () => {
  it('reads .properties, flat JSON and REST bodies {"name", "config"}', () => {
    writeFileSync(join(dir, 'a.properties'), 'name=a\nconnector.class=FileStreamSource\n');
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({ name: 'b', 'connector.class': 'FileStreamSink', 'tasks.max': 2 }),
    );
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ name: 'c', config: { 'connector.class': 'FileStreamSink', topics: 't' } }),
    );
    expect(readConnectorConfigFile(join(dir, 'a.properties'))).toEqual({
      name: 'a',
      'connector.class': 'FileStreamSource',
    });
    expect(readConnectorConfigFile(join(dir, 'b.json'))).toEqual({
      name: 'b',
      'connector.class': 'FileStreamSink',
      'tasks.max': '2',
    });
    expect(readConnectorConfigFile(join(dir, 'c.json'))).toEqual({
      name: 'c',
      'connector.class': 'FileStreamSink',
      topics: 't',
    });
    expect(() => readConnectorConfigFile(join(dir, 'missing.json'))).toThrow(/cannot read/);
  });
});

describe('worker config', () => {
  const base = { 'bootstrap.servers': 'localhost:9092', 'offset.storage.file.filename': '/tmp/o' };

  it("takes Kafka Connect's keys and passes producer./consumer./admin./converter prefixes through", () => {
    const cfg = parseWorkerConfig('standalone', {
      ...base,
      'producer.linger.ms': '10',
      'consumer.max.poll.records': '100',
      'admin.request.timeout.ms': '1000',
      'value.converter.schemas.enable': 'false',
      'rest.port': '8084',
    });
    expect(cfg.producer).toEqual({ 'linger.ms': '10' });
    expect(cfg.consumer).toEqual({ 'max.poll.records': '100' });
    expect(cfg.admin).toEqual({ 'request.timeout.ms': '1000' });
    expect(cfg.values['offset.flush.interval.ms']).toBe(60_000);
    expect(restListener(cfg)).toEqual({ host: '0.0.0.0', port: 8084 });
    expect(clientConfigOf(cfg)).toEqual({ 'bootstrap.servers': ['localhost:9092'] });
  });

  it('refuses unknown keys naming them, with the closest known key', () => {
    expect(() => parseWorkerConfig('standalone', { ...base, 'offset.flush.intervall.ms': '1' })).toThrow(
      /offset.flush.intervall.ms.*did you mean 'offset.flush.interval.ms'/,
    );
    expect(() => parseWorkerConfig('standalone', { ...base, 'group.id': 'g' })).toThrow(
      /group.id.*distributed worker setting/,
    );
    expect(() => parseWorkerConfig('standalone', { ...base, 'offset.flush.interval.ms': 'soon' })).toThrow(
      /offset.flush.interval.ms/,
    );
  });

  it('needs exactly one of bootstrap.servers and data.dir; distributed needs its topics', () => {
    expect(() => parseWorkerConfig('standalone', { 'offset.storage.file.filename': '/o' })).toThrow(
      /bootstrap.servers.*data.dir/,
    );
    expect(() => parseWorkerConfig('standalone', { ...base, 'data.dir': '/d' })).toThrow(/exactly one/);
    expect(clientConfigOf(parseWorkerConfig('standalone', { 'data.dir': '/d' }))).toEqual({
      'data.dir': '/d',
    });
    expect(() => parseWorkerConfig('distributed', { 'bootstrap.servers': 'h:1', 'group.id': 'g' })).toThrow(
      /config.storage.topic/,
    );
    const d = parseWorkerConfig('distributed', {
      'bootstrap.servers': 'h:1',
      'group.id': 'g',
      'config.storage.topic': 'c',
      'offset.storage.topic': 'o',
      'status.storage.topic': 's',
      listeners: 'http://127.0.0.1:8085',
    });
    expect(restListener(d)).toEqual({ host: '127.0.0.1', port: 8085 });
    expect(() =>
      parseWorkerConfig('distributed', {
        'bootstrap.servers': 'h:1',
        'group.id': 'g',
        'config.storage.topic': 'c',
        'offset.storage.topic': 'o',
        'status.storage.topic': 's',
        'connect.protocol': 'cooperative',
      }),
    ).toThrow(/connect.protocol/);
  });
});

describe('plugins', () => {
  it('loads every bundled connector, and each answers to every foreign class name listed for it', async () => {
    const reg = await PluginRegistry.load([]);
    expect(reg.warnings).toEqual([]);
    for (const [folder, names] of Object.entries(BUNDLED_CONNECTORS)) {
      for (const name of names) expect(reg.find(name), `${folder}: ${name}`).toBeDefined();
    }
    expect(reg.find('FileStreamSinkConnector')?.type).toBe('sink');
    expect(reg.find('MirrorSourceConnector')?.className).toBe(
      'org.apache.kafka.connect.mirror.MirrorSourceConnector',
    );
  });

  it('names a bundled connector that failed to load, and why, instead of calling it not installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trib-connectors-'));
    try {
      mkdirSync(join(dir, 's3-sink'));
      writeFileSync(join(dir, 's3-sink', 'index.js'), "throw new Error('boom: a dependency is missing');\n");
      const reg = await PluginRegistry.load([], dir);
      expect(reg.warnings).toEqual([expect.stringMatching(/s3-sink could not be loaded: boom/)]);
      expect(() => reg.get('io.confluent.connect.s3.S3SinkConnector')).toThrow(
        /bundled s3-sink connector failed to load: boom: a dependency is missing/,
      );
      expect(() => reg.get('io.debezium.connector.postgresql.PostgresConnector')).toThrow(
        /postgres-cdc connector is not installed/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts Kafka's class names and short forms as aliases", async () => {
    const reg = await PluginRegistry.load([]);
    for (const name of [
      'org.apache.kafka.connect.file.FileStreamSourceConnector',
      'FileStreamSourceConnector',
      'FileStreamSource',
    ]) {
      expect(reg.get(name).className).toBe('org.apache.kafka.connect.file.FileStreamSourceConnector');
    }
    expect(reg.get('FileStreamSink').type).toBe('sink');
    expect(reg.get('io.confluent.kafka.connect.datagen.DatagenConnector').type).toBe('source');
    expect(reg.get('io.debezium.connector.postgresql.PostgresConnector').type).toBe('source');
    expect(() => reg.get('com.example.Nope')).toThrow(
      /available connectors are: .*FileStreamSourceConnector/,
    );
  });

  it('loads plugins from plugin.path folders (a module folder, or a folder of them)', async () => {
    const sdk = JSON.stringify(new URL('../../connect/config-def.ts', import.meta.url).pathname);
    void sdk;
    const pluginDir = join(dir, 'plugins', 'echo');
    mkdirSync(pluginDir, { recursive: true });
    writeFileSync(
      join(pluginDir, 'package.json'),
      JSON.stringify({ name: 'echo-connector', type: 'module', main: 'main.js' }),
    );
    writeFileSync(
      join(pluginDir, 'main.js'),
      `export const plugins = [{ className: 'com.example.EchoSinkConnector', aliases: ['EchoSink'], type: 'sink', version: '0.1', create: () => ({ type: 'sink' }) }];\n`,
    );
    const reg = await PluginRegistry.load([join(dir, 'plugins')]);
    expect(reg.get('EchoSink').className).toBe('com.example.EchoSinkConnector');
    const direct = await PluginRegistry.load([pluginDir]);
    expect(direct.get('com.example.EchoSinkConnector').version).toBe('0.1');
    await expect(PluginRegistry.load(['no-such-package-anywhere'])).rejects.toThrow(/plugin.path/);
  });
});

describe('ConfigDef', () => {
  it('types, defaults, validators and the validation answer', () => {
    const def = new ConfigDef()
      .define({ name: 'a', type: 'int', default: 5, documentation: 'A' })
      .define({ name: 'b', type: 'list', documentation: 'B' })
      .define({ name: 'c', type: 'boolean', default: false, documentation: 'C' });
    expect(def.parse({ b: 'x, y', c: 'TRUE' })).toEqual({ a: 5, b: ['x', 'y'], c: true });
    expect(() => def.parse({})).toThrow(/Missing required configuration "b"/);
    const infos = def.validate({ a: 'x' });
    expect(infos[0]!.value.errors[0]).toMatch(
      /Invalid value x for configuration a: Not a number of type INT/,
    );
    expect(infos[1]!.definition).toMatchObject({
      name: 'b',
      type: 'LIST',
      required: true,
      default_value: null,
    });
  });
});
