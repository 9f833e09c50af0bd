/**
 * The transform and predicate registry (Kafka's class names, short names, and
 * `registerTransformation` for more) and the chain a connector's `transforms`/`predicates` keys
 * describe:
 *
 * ```
 * transforms=mask,route
 * transforms.mask.type=org.apache.kafka.connect.transforms.MaskField$Value
 * transforms.mask.fields=ssn
 * transforms.mask.predicate=isUsers
 * transforms.mask.negate=false
 * predicates=isUsers
 * predicates.isUsers.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
 * predicates.isUsers.pattern=users.*
 * ```
 */
import { ConfigDef, type ConfigInfo, configInfo } from '../config-def.js';
import type { ConnectRecord } from '../data.js';
import { ConfigException, messageOf } from '../errors.js';
import { Cast, TimestampConverter } from './cast.js';
import { InsertField, MaskField, ReplaceField } from './fields.js';
import { HasHeaderKey, RecordIsTombstone, TopicNameMatches } from './predicates.js';
import { DropHeaders, Filter, InsertHeader, RegexRouter, TimestampRouter } from './routing.js';
import { ExtractField, Flatten, HoistField, ValueToKey } from './structure.js';
import { KEY, type Predicate, type Transformation, VALUE } from './transformation.js';

export type { Predicate, Transformation } from './transformation.js';

const T = 'org.apache.kafka.connect.transforms.';
const P = 'org.apache.kafka.connect.transforms.predicates.';

const transforms = new Map<string, () => Transformation>();
const predicates = new Map<string, () => Predicate>();
const canonical: { className: string; type: 'transformation' | 'predicate' }[] = [];

/** Makes a transform usable as `transforms.<alias>.type` under its class name and short name. */
export function registerTransformation(
  className: string,
  create: () => Transformation,
  aliases: string[] = [],
): void {
  transforms.set(className, create);
  for (const a of aliases) transforms.set(a, create);
  canonical.push({ className, type: 'transformation' });
}

export function registerPredicate(className: string, create: () => Predicate, aliases: string[] = []): void {
  predicates.set(className, create);
  for (const a of aliases) predicates.set(a, create);
  canonical.push({ className, type: 'predicate' });
}

const sided: [string, (side: typeof KEY) => Transformation][] = [
  ['InsertField', (s) => new InsertField(s)],
  ['ReplaceField', (s) => new ReplaceField(s)],
  ['MaskField', (s) => new MaskField(s)],
  ['ExtractField', (s) => new ExtractField(s)],
  ['HoistField', (s) => new HoistField(s)],
  ['Cast', (s) => new Cast(s)],
  ['TimestampConverter', (s) => new TimestampConverter(s)],
  ['Flatten', (s) => new Flatten(s)],
];
for (const [name, make] of sided) {
  registerTransformation(`${T}${name}$Key`, () => make(KEY), [`${name}$Key`]);
  registerTransformation(`${T}${name}$Value`, () => make(VALUE), [`${name}$Value`]);
}
registerTransformation(`${T}ValueToKey`, () => new ValueToKey(VALUE), ['ValueToKey']);
registerTransformation(`${T}RegexRouter`, () => new RegexRouter(), ['RegexRouter']);
registerTransformation(`${T}TimestampRouter`, () => new TimestampRouter(), ['TimestampRouter']);
registerTransformation(`${T}Filter`, () => new Filter(), ['Filter']);
registerTransformation(`${T}InsertHeader`, () => new InsertHeader(), ['InsertHeader']);
registerTransformation(`${T}DropHeaders`, () => new DropHeaders(), ['DropHeaders']);
registerPredicate(`${P}TopicNameMatches`, () => new TopicNameMatches(), ['TopicNameMatches']);
registerPredicate(`${P}HasHeaderKey`, () => new HasHeaderKey(), ['HasHeaderKey']);
registerPredicate(`${P}RecordIsTombstone`, () => new RecordIsTombstone(), ['RecordIsTombstone']);

export function transformPlugins(): { className: string; type: 'transformation' | 'predicate' }[] {
  return [...canonical];
}

export function transformFactory(className: string): (() => Transformation) | undefined {
  return transforms.get(className);
}

export function predicateFactory(className: string): (() => Predicate) | undefined {
  return predicates.get(className);
}

/** One step of a chain: the transform, with its predicate and negate. */
export interface ChainStep {
  alias: string;
  transform: Transformation;
  predicate: Predicate | null;
  negate: boolean;
}

/** A connector's transform chain; `apply` returns null once a step dropped the record. */
export class TransformationChain {
  constructor(readonly steps: readonly ChainStep[]) {}

  apply<R extends ConnectRecord>(record: R): R | null {
    let r: R | null = record;
    for (const step of this.steps) {
      if (step.predicate && step.predicate.test(r) === step.negate) continue;
      r = step.transform.apply(r);
      if (r === null) return null;
    }
    return r;
  }

  close(): void {
    for (const s of this.steps) s.transform.close?.();
  }
}

function aliases(props: Readonly<Record<string, string>>, key: string): string[] {
  const v = props[key];
  if (v === undefined || v.trim() === '') return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function sub(props: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** Builds the chain; throws ConfigException naming the first bad key. */
export function buildChain(props: Readonly<Record<string, string>>): TransformationChain {
  const preds = new Map<string, Predicate>();
  for (const alias of aliases(props, 'predicates')) {
    const type = props[`predicates.${alias}.type`];
    const create = type === undefined ? undefined : predicates.get(type);
    if (!create)
      throw new ConfigException(
        `predicates.${alias}.type`,
        type,
        type === undefined ? 'Missing required configuration' : `Class ${type} could not be found.`,
      );
    const p = create();
    const own = sub(props, `predicates.${alias}.`);
    delete own.type;
    try {
      p.configure(own);
    } catch (err) {
      throw prefixed(err, `predicates.${alias}.`);
    }
    preds.set(alias, p);
  }
  const steps: ChainStep[] = [];
  for (const alias of aliases(props, 'transforms')) {
    const type = props[`transforms.${alias}.type`];
    const create = type === undefined ? undefined : transforms.get(type);
    if (!create)
      throw new ConfigException(
        `transforms.${alias}.type`,
        type,
        type === undefined ? 'Missing required configuration' : `Class ${type} could not be found.`,
      );
    const own = sub(props, `transforms.${alias}.`);
    const predName = own.predicate;
    const negate = (own.negate ?? 'false').trim().toLowerCase() === 'true';
    delete own.type;
    delete own.predicate;
    delete own.negate;
    let predicate: Predicate | null = null;
    if (predName !== undefined && predName !== '') {
      predicate = preds.get(predName) ?? null;
      if (!predicate)
        throw new ConfigException(
          `transforms.${alias}.predicate`,
          predName,
          `Predicate ${predName} is not listed in 'predicates'`,
        );
    } else if (own.negate !== undefined) {
      throw new ConfigException(`transforms.${alias}.negate`, own.negate, 'negate needs a predicate');
    }
    const t = create();
    try {
      t.configure(own);
    } catch (err) {
      throw prefixed(err, `transforms.${alias}.`);
    }
    steps.push({ alias, transform: t, predicate, negate });
  }
  return new TransformationChain(steps);
}

function prefixed(err: unknown, prefix: string): unknown {
  if (err instanceof ConfigException)
    return new ConfigException(
      prefix + err.key,
      undefined,
      err.message.replace(/^Invalid value .*? for configuration \S+: /, ''),
    );
  return err;
}

/** The validation entries of the `transforms.*` and `predicates.*` keys (for /config/validate). */
export function validateChain(props: Readonly<Record<string, string>>): ConfigInfo[] {
  try {
    buildChain(props);
    return [];
  } catch (err) {
    const key = err instanceof ConfigException ? err.key : 'transforms';
    const def = new ConfigDef().define({
      name: key,
      type: 'string',
      default: null,
      documentation: 'Transform setting',
      group: 'Transforms',
    });
    return [configInfo(def.get(key)!, 0, props[key] ?? null, [messageOf(err)])];
  }
}
