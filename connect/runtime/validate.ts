/**
 * Connector config validation, as Kafka's AbstractHerder.validateConnectorConfig: the common keys
 * (ConnectorConfig, plus Sink/SourceConnectorConfig) merged with the connector's own ConfigDef,
 * the connector's `validate()`, the sink topic rules, converter classes and the transform chain —
 * every key with its errors, which is what `PUT /connector-plugins/{type}/config/validate` answers.
 */
import { ConfigDef } from '../config-def.js';
import { createConverter } from '../converters/index.js';
import { ConfigException, ConnectError, messageOf } from '../errors.js';
import type { Props } from '../sdk.js';
import { validateChain } from '../transforms/index.js';
import { commonConfigDef, sinkTopicErrors } from './connector-config.js';
import type { ConfigInfos } from './herder.js';
import type { PluginRegistry } from './plugins.js';

export async function validateConnectorConfig(
  plugins: PluginRegistry,
  config: Props,
  pathType?: string,
): Promise<ConfigInfos> {
  const cls = config['connector.class'];
  if (cls === undefined || cls.trim() === '') {
    throw new ConnectError(
      'BAD_REQUEST',
      `Connector config ${JSON.stringify(config)} contains no connector type`,
    );
  }
  const plugin = plugins.find(cls.trim());
  if (!plugin) throw new ConnectError('BAD_REQUEST', messageOf(tryGet(() => plugins.get(cls))));
  if (pathType !== undefined) {
    const byPath = plugins.find(pathType);
    if (byPath !== plugin)
      throw new ConnectError(
        'BAD_REQUEST',
        `Included connector type ${cls} does not match request type ${pathType}`,
      );
  }
  const connector = plugin.create();
  const def = commonConfigDef(plugin.type).merge(connector.config());
  const infos = def.validate(config);
  const extra: Record<string, string[]> = { ...(plugin.type === 'sink' ? sinkTopicErrors(config) : {}) };
  try {
    Object.assign(extra, mergeErrors(extra, (await connector.validate?.(config)) ?? {}));
  } catch (err) {
    extra['connector.class'] = [...(extra['connector.class'] ?? []), messageOf(err)];
  }
  for (const [key, isKey] of [
    ['key.converter', true],
    ['value.converter', false],
  ] as const) {
    if (config[key] === undefined) continue;
    try {
      createConverter(key, config[key]!, config, isKey);
    } catch (err) {
      extra[key] = [...(extra[key] ?? []), messageOf(err)];
    }
  }
  for (const info of infos) {
    const more = extra[info.definition.name];
    if (more) {
      for (const m of more) if (!info.value.errors.includes(m)) info.value.errors.push(m);
      delete extra[info.definition.name];
    }
  }
  for (const [name, errors] of Object.entries(extra)) {
    const d = new ConfigDef().define({ name, type: 'string', default: null, documentation: '' });
    const info = def.validate({})[0]
      ? { ...d.validate({ [name]: config[name] ?? null })[0]! }
      : d.validate({})[0]!;
    info.value.errors = errors;
    infos.push(info);
  }
  infos.push(...validateChain(config));
  const groups = [...new Set(infos.map((i) => i.definition.group).filter((g): g is string => g !== null))];
  return {
    name: plugin.className,
    error_count: infos.reduce((n, i) => n + i.value.errors.length, 0),
    groups,
    configs: infos,
  };
}

function tryGet(fn: () => unknown): unknown {
  try {
    fn();
    return new ConfigException('connector.class', undefined, 'unknown');
  } catch (err) {
    return err;
  }
}

function mergeErrors(a: Record<string, string[]>, b: Record<string, string[]>): Record<string, string[]> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = [...(out[k] ?? []), ...v];
  return out;
}
