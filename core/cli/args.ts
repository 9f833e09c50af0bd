/**
 * A small declarative flag parser: each command lists its flags once, and that list drives
 * parsing, validation and `--help`. Errors name the flag and say what was expected.
 */

import { closestName } from '../util/closest.js';

export type FlagType = 'string' | 'int' | 'bool' | 'list';

export interface FlagSpec {
  type: FlagType;
  help: string;
  /** Placeholder in help, e.g. HOST:PORT. */
  arg?: string;
  default?: string | number | boolean;
  alias?: string;
  /** For string flags: the accepted values (shown in help, checked while parsing). */
  choices?: readonly string[];
  /** For int flags: the smallest accepted value. */
  min?: number;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Number of positional arguments accepted: [min, max]. */
  positionals?: [number, number];
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export interface ParsedArgs {
  flags: Record<string, string | number | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

/** The closest known name, when one is close enough to be a likely typo. */
export const closest = closestName;

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  const byAlias = new Map<string, string>();
  for (const [name, f] of Object.entries(spec.flags)) if (f.alias) byAlias.set(f.alias, name);
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const alias = byAlias.get(arg.slice(1));
      if (!alias) throw new UsageError(`${spec.name}: unknown flag ${arg}; see 'trib ${spec.name} --help'`);
      name = alias;
    }
    const f = spec.flags[name];
    if (!f) {
      const guess = closest(name, Object.keys(spec.flags));
      throw new UsageError(
        `${spec.name}: unknown flag --${name}${guess ? ` (did you mean --${guess}?)` : ''}; see 'trib ${spec.name} --help'`,
      );
    }
    if (f.type === 'bool') {
      if (inline !== undefined && !['true', 'false'].includes(inline)) {
        throw new UsageError(`${spec.name}: --${name} is a switch; give it alone or as --${name}=true|false`);
      }
      flags[name] = inline === undefined ? true : inline === 'true';
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined)
        throw new UsageError(`${spec.name}: --${name} needs a value (${f.arg ?? f.type})`);
    }
    if (f.type === 'int') {
      if (!/^-?\d+$/.test(value))
        throw new UsageError(`${spec.name}: --${name} must be an integer, got '${value}'`);
      const n = Number.parseInt(value, 10);
      if (!Number.isSafeInteger(n)) throw new UsageError(`${spec.name}: --${name} is too large: ${value}`);
      if (f.min !== undefined && n < f.min) {
        throw new UsageError(`${spec.name}: --${name} must be at least ${f.min}, got ${value}`);
      }
      flags[name] = n;
    } else if (f.type === 'list') {
      const list = (flags[name] as string[] | undefined) ?? [];
      list.push(value);
      flags[name] = list;
    } else {
      if (f.choices && !f.choices.includes(value)) {
        throw new UsageError(
          `${spec.name}: --${name} must be one of ${f.choices.join(', ')}; got '${value}'`,
        );
      }
      flags[name] = value;
    }
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (flags[name] === undefined && f.default !== undefined) flags[name] = f.default;
  }
  const [min, max] = spec.positionals ?? [0, 0];
  if (!help && positionals.length < min)
    throw new UsageError(`${spec.name}: missing argument; usage: ${spec.usage}`);
  if (!help && positionals.length > max) {
    throw new UsageError(`${spec.name}: unexpected argument '${positionals[max]}'; usage: ${spec.usage}`);
  }
  return { flags, positionals, help };
}

/** Words of `text` in lines of at most `width` characters. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export function helpText(spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, '', ...wrap(spec.summary, 100), ''];
  const entries = Object.entries(spec.flags);
  if (entries.length > 0) lines.push('flags:');
  for (const [name, f] of entries) {
    const left = `  ${f.alias ? `-${f.alias}, ` : ''}--${name}${f.type === 'bool' ? '' : ` ${f.arg ?? f.type.toUpperCase()}`}`;
    const choices = f.choices ? ` (${f.choices.join('|')})` : f.type === 'list' ? ' (repeatable)' : '';
    const def = f.default !== undefined ? ` (default ${String(f.default)})` : '';
    lines.push(`${left.padEnd(34)} ${f.help}${choices}${def}`);
  }
  return `${lines.join('\n')}\n`;
}
