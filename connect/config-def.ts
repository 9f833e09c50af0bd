/**
 * Config definitions, as Kafka's ConfigDef: each key has a type, a default (or none: required), an
 * importance, documentation and an optional validator. `parse` turns string properties into typed
 * values and throws a {@link ConfigException} naming the first bad key; `validate` reports every key
 * with its errors, which is what `PUT /connector-plugins/{type}/config/validate` answers.
 */
import { ConfigException, messageOf } from './errors.js';

export type ConfigType = 'string' | 'int' | 'long' | 'double' | 'boolean' | 'list' | 'password' | 'class';
export type Importance = 'high' | 'medium' | 'low';
export type ConfigValueType = string | number | boolean | string[] | null;

/** Throws ConfigException when `value` is not accepted. */
export type Validator = ((name: string, value: ConfigValueType) => void) & { describe?: string };

/** Marks a key without a default: it must be given. */
export const NO_DEFAULT: unique symbol = Symbol('NO_DEFAULT');

export interface ConfigKey {
  name: string;
  type: ConfigType;
  /** NO_DEFAULT (or omitted) makes the key required. */
  default?: ConfigValueType | typeof NO_DEFAULT;
  importance?: Importance;
  documentation: string;
  validator?: Validator;
  group?: string;
  orderInGroup?: number;
  displayName?: string;
  width?: 'NONE' | 'SHORT' | 'MEDIUM' | 'LONG';
  dependents?: string[];
}

export type ParsedConfig = Readonly<Record<string, ConfigValueType>>;

/** One key's entry in a validation answer (Kafka's ConfigInfo). */
export interface ConfigInfo {
  definition: {
    name: string;
    type: string;
    required: boolean;
    default_value: string | null;
    importance: string;
    documentation: string;
    group: string | null;
    width: string;
    display_name: string;
    dependents: string[];
    order: number;
  };
  value: {
    name: string;
    value: string | null;
    recommended_values: string[];
    errors: string[];
    visible: boolean;
  };
}

export class ConfigDef {
  private readonly entries = new Map<string, ConfigKey>();

  define(key: ConfigKey): this {
    if (this.entries.has(key.name)) throw new Error(`config ${key.name} is defined twice`);
    this.entries.set(key.name, key);
    return this;
  }

  /** Every key of `other` not defined here yet. */
  merge(other: ConfigDef): this {
    for (const k of other.keys()) if (!this.entries.has(k.name)) this.entries.set(k.name, k);
    return this;
  }

  keys(): ConfigKey[] {
    return [...this.entries.values()];
  }

  get(name: string): ConfigKey | undefined {
    return this.entries.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Typed values for every defined key; throws ConfigException at the first bad or missing one. */
  parse(props: Readonly<Record<string, unknown>>): ParsedConfig {
    const out: Record<string, ConfigValueType> = {};
    for (const key of this.entries.values()) out[key.name] = parseKey(key, props[key.name]);
    return Object.freeze(out);
  }

  /** Every key with the errors of its value (none when it is fine). */
  validate(props: Readonly<Record<string, unknown>>): ConfigInfo[] {
    return this.keys().map((key, i) => {
      const raw = props[key.name];
      const errors: string[] = [];
      try {
        parseKey(key, raw);
      } catch (err) {
        errors.push(err instanceof ConfigException ? err.message : messageOf(err));
      }
      return configInfo(key, i, raw === undefined || raw === null ? null : String(raw), errors);
    });
  }
}

export function configInfo(
  key: ConfigKey,
  order: number,
  value: string | null,
  errors: string[],
): ConfigInfo {
  const def = key.default === undefined || key.default === NO_DEFAULT ? undefined : key.default;
  return {
    definition: {
      name: key.name,
      type: key.type.toUpperCase(),
      required: key.default === undefined || key.default === NO_DEFAULT,
      default_value:
        def === undefined || def === null ? null : Array.isArray(def) ? def.join(',') : String(def),
      importance: (key.importance ?? 'medium').toUpperCase(),
      documentation: key.documentation,
      group: key.group ?? null,
      width: key.width ?? 'NONE',
      display_name: key.displayName ?? key.name,
      dependents: key.dependents ?? [],
      order: key.orderInGroup ?? order,
    },
    value: {
      name: key.name,
      value: key.type === 'password' && value !== null ? '[hidden]' : value,
      recommended_values: [],
      errors,
      visible: true,
    },
  };
}

function parseKey(key: ConfigKey, raw: unknown): ConfigValueType {
  let value: ConfigValueType;
  if (raw === undefined || raw === null) {
    if (key.default === undefined || key.default === NO_DEFAULT) {
      throw new ConfigException(
        key.name,
        undefined,
        `Missing required configuration "${key.name}" which has no default value.`,
      );
    }
    value = key.default;
  } else {
    value = parseType(key.name, key.type, raw);
  }
  key.validator?.(key.name, value);
  return value;
}

/** Kafka's ConfigDef.parseType: strings (as in .properties) or JSON values of the right type. */
export function parseType(name: string, type: ConfigType, raw: unknown): ConfigValueType {
  const bad = (why: string): never => {
    throw new ConfigException(name, raw, why);
  };
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (type) {
    case 'string':
    case 'password':
    case 'class':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
      return bad('Expected value to be a string');
    case 'boolean':
      if (typeof text === 'boolean') return text;
      if (typeof text === 'string' && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
      return bad('Expected value to be either true or false');
    case 'int':
    case 'long': {
      const n =
        typeof text === 'number'
          ? text
          : typeof text === 'string' && /^[-+]?\d+$/.test(text)
            ? Number(text)
            : Number.NaN;
      if (!Number.isSafeInteger(n)) return bad(`Not a number of type ${type.toUpperCase()}`);
      if (type === 'int' && (n < -2147483648 || n > 2147483647)) return bad('Not a number of type INT');
      return n;
    }
    case 'double': {
      const n =
        typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : Number.NaN;
      if (!Number.isFinite(n)) return bad('Not a number of type DOUBLE');
      return n;
    }
    case 'list':
      if (Array.isArray(raw)) return raw.map((v) => String(v).trim());
      if (typeof text === 'string') return text === '' ? [] : text.split(',').map((s) => s.trim());
      return bad('Expected a comma separated list.');
  }
}

// ─── Validators (Kafka's ConfigDef.Range, ValidString, NonEmptyString, …) ───────────────────────

function validator(describe: string, check: (name: string, value: ConfigValueType) => void): Validator {
  const v = check as Validator;
  v.describe = describe;
  return v;
}

export const Validators = {
  atLeast(min: number): Validator {
    return validator(`[${min},...]`, (name, value) => {
      if (value === null) return;
      if (typeof value !== 'number' || value < min)
        throw new ConfigException(name, value, `Value must be at least ${min}`);
    });
  },
  between(min: number, max: number): Validator {
    return validator(`[${min},...,${max}]`, (name, value) => {
      if (value === null) return;
      if (typeof value !== 'number' || value < min || value > max) {
        throw new ConfigException(name, value, `Value must be between ${min} and ${max}`);
      }
    });
  },
  in(...allowed: string[]): Validator {
    return validator(`[${allowed.join(', ')}]`, (name, value) => {
      if (value === null) return;
      if (typeof value !== 'string' || !allowed.includes(value)) {
        throw new ConfigException(name, value, `String must be one of: ${allowed.join(', ')}`);
      }
    });
  },
  inIgnoreCase(...allowed: string[]): Validator {
    return validator(`[${allowed.join(', ')}]`, (name, value) => {
      if (value === null) return;
      if (typeof value !== 'string' || !allowed.some((a) => a.toLowerCase() === value.toLowerCase())) {
        throw new ConfigException(
          name,
          value,
          `String must be one of (case insensitive): ${allowed.join(', ')}`,
        );
      }
    });
  },
  nonEmptyString(): Validator {
    return validator('non-empty string', (name, value) => {
      if (typeof value !== 'string' || value.length === 0)
        throw new ConfigException(name, value, 'String must be non-empty');
    });
  },
  nonEmptyList(): Validator {
    return validator('non-empty list', (name, value) => {
      if (!Array.isArray(value) || value.length === 0) throw new ConfigException(name, value, 'Empty list');
    });
  },
  regex(): Validator {
    return validator('a regular expression', (name, value) => {
      if (value === null) return;
      try {
        new RegExp(String(value));
      } catch (err) {
        throw new ConfigException(name, value, `Invalid regex: ${messageOf(err)}`);
      }
    });
  },
  custom(describe: string, check: (name: string, value: ConfigValueType) => void): Validator {
    return validator(describe, check);
  },
} as const;

// ─── Typed access to a parsed config ────────────────────────────────────────────────────────────

export function getString(c: ParsedConfig, name: string): string {
  const v = c[name];
  if (typeof v !== 'string') throw new ConfigException(name, v, 'Expected a string');
  return v;
}

export function getOptionalString(c: ParsedConfig, name: string): string | null {
  const v = c[name];
  return typeof v === 'string' ? v : null;
}

export function getNumber(c: ParsedConfig, name: string): number {
  const v = c[name];
  if (typeof v !== 'number') throw new ConfigException(name, v, 'Expected a number');
  return v;
}

export function getBoolean(c: ParsedConfig, name: string): boolean {
  return c[name] === true;
}

export function getList(c: ParsedConfig, name: string): string[] {
  const v = c[name];
  return Array.isArray(v) ? v : [];
}
