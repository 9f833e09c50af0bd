/**
 * Converter lookup by class name (Kafka's names and short forms), and the hook for more
 * (`registerConverter`, e.g. the Avro converter once the schema registry exists).
 */
import { ConfigException } from '../errors.js';
import type { Converter, HeaderConverter } from './converter.js';
import { JsonConverter } from './json.js';
import { ByteArrayConverter, SimpleHeaderConverter, StringConverter } from './simple.js';

export type { Converter, HeaderConverter, SchemaAndValue } from './converter.js';
export { JsonConverter } from './json.js';
export { ByteArrayConverter, SimpleHeaderConverter, StringConverter } from './simple.js';

const converters = new Map<string, () => Converter>();
const headerConverters = new Map<string, () => HeaderConverter>();

/** Makes `names` (a class name and its aliases) usable in key.converter / value.converter. */
export function registerConverter(names: readonly string[], create: () => Converter): void {
  for (const n of names) converters.set(n, create);
}

export function registerHeaderConverter(names: readonly string[], create: () => HeaderConverter): void {
  for (const n of names) headerConverters.set(n, create);
}

registerConverter(
  ['org.apache.kafka.connect.json.JsonConverter', 'JsonConverter'],
  () => new JsonConverter(),
);
registerConverter(
  ['org.apache.kafka.connect.storage.StringConverter', 'StringConverter'],
  () => new StringConverter(),
);
registerConverter(
  ['org.apache.kafka.connect.converters.ByteArrayConverter', 'ByteArrayConverter'],
  () => new ByteArrayConverter(),
);
registerHeaderConverter(
  ['org.apache.kafka.connect.converters.ByteArrayConverter', 'ByteArrayConverter'],
  () => new ByteArrayConverter(),
);
registerHeaderConverter(
  ['org.apache.kafka.connect.storage.SimpleHeaderConverter', 'SimpleHeaderConverter'],
  () => new SimpleHeaderConverter(),
);
registerHeaderConverter(
  ['org.apache.kafka.connect.storage.StringConverter', 'StringConverter'],
  () => new SimpleHeaderConverter(),
);

export function converterNames(): string[] {
  return [...converters.keys()].filter((n) => n.includes('.'));
}

/** Sub-configs under `prefix.` with the prefix removed. */
export function subConfig(props: Readonly<Record<string, unknown>>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  const p = `${prefix}.`;
  for (const [k, v] of Object.entries(props))
    if (k.startsWith(p) && v !== undefined) out[k.slice(p.length)] = String(v);
  return out;
}

/** A configured converter for `key.converter`/`value.converter` (the key names it for messages). */
export function createConverter(
  configKey: string,
  className: string,
  props: Readonly<Record<string, unknown>>,
  isKey: boolean,
): Converter {
  const create = converters.get(className);
  if (!create) {
    throw new ConfigException(
      configKey,
      className,
      `Class ${className} could not be found. Known converters: ${converterNames().join(', ')}`,
    );
  }
  const c = create();
  c.configure({ ...subConfig(props, configKey), 'converter.type': isKey ? 'key' : 'value' }, isKey);
  return c;
}

export function createHeaderConverter(
  className: string,
  props: Readonly<Record<string, unknown>>,
): HeaderConverter {
  const create = headerConverters.get(className);
  if (!create)
    throw new ConfigException('header.converter', className, `Class ${className} could not be found.`);
  const c = create();
  c.configure(subConfig(props, 'header.converter'));
  return c;
}
