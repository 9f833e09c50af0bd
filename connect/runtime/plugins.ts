/**
 * Connector plugins: the ones bundled with this installation (the folders of `connectors/`,
 * found next to this runtime and loaded like `plugin.path` entries, so the runtime has no import
 * of any connector: the layers point down only), and those from `plugin.path` — folders (a plugin
 * module, or a folder of them) and npm package names. A module exports
 * `plugins: ConnectorPlugin[]` (or a default of the same). `connector.class` may name a plugin by
 * its class name or any alias: Kafka's, Confluent's and Debezium's class names are aliases of
 * ours, so existing configs paste unchanged.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigException, messageOf } from '../errors.js';
import type { ConnectorPlugin, PluginModule } from '../sdk.js';

/**
 * The connectors bundled with Tributary, by folder under `connectors/`, and the foreign class
 * names they answer to (also declared by the plugins themselves; listed here so that a missing
 * folder — a trimmed installation — gets a clear "not installed" message).
 */
export const BUNDLED_CONNECTORS: Readonly<Record<string, readonly string[]>> = {
  file: [
    'org.apache.kafka.connect.file.FileStreamSourceConnector',
    'org.apache.kafka.connect.file.FileStreamSinkConnector',
    'FileStreamSourceConnector',
    'FileStreamSinkConnector',
  ],
  datagen: ['io.confluent.kafka.connect.datagen.DatagenConnector', 'DatagenConnector'],
  'postgres-cdc': ['io.debezium.connector.postgresql.PostgresConnector', 'PostgresConnector'],
  'postgres-sink': [
    'io.confluent.connect.jdbc.JdbcSinkConnector',
    'JdbcSinkConnector',
    'io.debezium.connector.jdbc.JdbcSinkConnector',
  ],
  's3-sink': ['io.confluent.connect.s3.S3SinkConnector', 'S3SinkConnector'],
  'mirror-source': ['org.apache.kafka.connect.mirror.MirrorSourceConnector', 'MirrorSourceConnector'],
};

const CONNECTORS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'connectors');

export class PluginRegistry {
  private readonly byName = new Map<string, ConnectorPlugin>();
  private readonly all: ConnectorPlugin[] = [];
  readonly warnings: string[] = [];
  /** Why a module could not be imported, by its label (a bundled connector's folder name). */
  private readonly loadFailures = new Map<string, string>();

  add(plugin: ConnectorPlugin): void {
    if (this.byName.has(plugin.className)) return;
    this.all.push(plugin);
    for (const n of [plugin.className, ...(plugin.aliases ?? [])]) {
      if (!this.byName.has(n)) this.byName.set(n, plugin);
    }
  }

  list(): ConnectorPlugin[] {
    return [...this.all];
  }

  find(name: string): ConnectorPlugin | undefined {
    return this.byName.get(name) ?? this.byName.get(name.split('.').pop() ?? name);
  }

  /** The plugin for `connector.class`, or a ConfigException listing what is installed. */
  get(name: string | undefined): ConnectorPlugin {
    if (name === undefined || name.trim() === '') {
      throw new ConfigException(
        'connector.class',
        undefined,
        'Missing required configuration "connector.class" which has no default value.',
      );
    }
    const p = this.find(name.trim());
    if (!p) {
      const bundled = Object.entries(BUNDLED_CONNECTORS).find(([, names]) => names.includes(name.trim()));
      const failed = bundled === undefined ? undefined : this.loadFailures.get(bundled[0]);
      const hint =
        bundled === undefined
          ? ''
          : failed !== undefined
            ? ` (the bundled ${bundled[0]} connector failed to load: ${failed})`
            : ` (the ${bundled[0]} connector is not installed in this version)`;
      throw new ConfigException(
        'connector.class',
        name,
        `Failed to find any class that implements Connector and which name matches ${name}${hint}, available connectors are: ${this.all.map((x) => x.className).join(', ')}`,
      );
    }
    return p;
  }

  /** The bundled connectors whose folders exist, then plugin.path entries. */
  static async load(
    pluginPath: readonly string[],
    /** Where the bundled connectors are (tests give another folder). */
    connectorsDir: string = CONNECTORS_DIR,
  ): Promise<PluginRegistry> {
    const reg = new PluginRegistry();
    for (const folder of Object.keys(BUNDLED_CONNECTORS)) {
      // index.js when running compiled, index.ts when running from sources (vitest, tsx)
      const entry = ['index.js', 'index.ts']
        .map((f) => join(connectorsDir, folder, f))
        .find((f) => existsSync(f));
      if (!entry) continue;
      await reg.importModule(pathToFileURL(entry).href, folder);
    }
    for (const raw of pluginPath) {
      const entry = raw.trim();
      if (entry === '') continue;
      await reg.loadPathEntry(entry);
    }
    return reg;
  }

  private async loadPathEntry(entry: string): Promise<void> {
    const abs = resolve(entry);
    if (existsSync(abs) && statSync(abs).isDirectory()) {
      if (isModuleDir(abs)) {
        await this.importModule(moduleUrl(abs), entry);
        return;
      }
      for (const child of readdirSync(abs).sort()) {
        const dir = join(abs, child);
        if (statSync(dir).isDirectory() && isModuleDir(dir))
          await this.importModule(moduleUrl(dir), join(entry, child));
        else if (/\.(m?js)$/.test(child))
          await this.importModule(pathToFileURL(dir).href, join(entry, child));
      }
      return;
    }
    if (existsSync(abs) && /\.(m?js)$/.test(abs)) {
      await this.importModule(pathToFileURL(abs).href, entry);
      return;
    }
    // An npm package name, resolved from the working directory.
    let url: string;
    try {
      url = pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve(entry)).href;
    } catch {
      throw new ConfigException(
        'plugin.path',
        entry,
        'neither a folder, a .js file nor an installed npm package',
      );
    }
    await this.importModule(url, entry);
  }

  private async importModule(url: string, label: string): Promise<void> {
    let mod: PluginModule;
    try {
      mod = (await import(url)) as PluginModule;
    } catch (err) {
      this.warnings.push(`plugin ${label} could not be loaded: ${messageOf(err)}`);
      this.loadFailures.set(label, messageOf(err));
      return;
    }
    const list =
      mod.plugins ??
      (Array.isArray(mod.default)
        ? mod.default
        : (mod.default as { plugins?: ConnectorPlugin[] } | undefined)?.plugins);
    if (!Array.isArray(list) || list.length === 0) {
      this.warnings.push(`plugin ${label} exports no 'plugins' array`);
      return;
    }
    for (const p of list as ConnectorPlugin[]) {
      if (typeof p?.className !== 'string' || typeof p.create !== 'function') {
        this.warnings.push(`plugin ${label}: an entry without className/create was skipped`);
        continue;
      }
      this.add(p);
    }
  }
}

function isModuleDir(dir: string): boolean {
  return existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'index.js'));
}

function moduleUrl(dir: string): string {
  if (existsSync(join(dir, 'package.json'))) {
    try {
      return pathToFileURL(createRequire(join(dir, 'noop.js')).resolve(dir)).href;
    } catch {
      // fall through to index.js
    }
  }
  return pathToFileURL(join(dir, 'index.js')).href;
}
