/**
 * What a `trib` command is, and what it runs with.
 *
 * A command is a {@link CommandSpec} (its flags, which drive parsing and `--help`) plus a `run`
 * function. Commands with verbs (`trib topics create`) are a {@link CommandGroup} of leaf commands.
 * Commands receive their streams and environment through {@link CliIO}, never from `process`
 * directly, so that the pure parts can be tested in-process.
 */
import type { Readable, Writable } from 'node:stream';
import type { CommandSpec, ParsedArgs } from './args.js';

export type Signal = 'SIGINT' | 'SIGTERM';

export interface CliIO {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  /** Calls `handler` on SIGINT/SIGTERM until the returned function is called. */
  onSignal(handler: (signal: Signal) => void): () => void;
}

/** A command that runs: `trib produce`, `trib topics create`. `spec.name` is the full name. */
export interface LeafCommand {
  kind: 'command';
  spec: CommandSpec;
  /** Resolves to the exit code (undefined means 0). Throws CliError or UsageError on failure. */
  run(args: ParsedArgs, io: CliIO): Promise<number | undefined>;
}

/** A command with verbs: `trib topics create|list|…`. */
export interface CommandGroup {
  kind: 'group';
  name: string;
  summary: string;
  subcommands: readonly LeafCommand[];
}

/** Listed in `trib --help` as coming in a later release; running it says so. */
export interface PlannedCommand {
  kind: 'planned';
  name: string;
  summary: string;
  usage: string;
}

export type CommandEntry = LeafCommand | CommandGroup | PlannedCommand;

/** The last word of a leaf's name: 'create' for 'topics create'. */
export function verbOf(cmd: LeafCommand): string {
  const words = cmd.spec.name.split(' ');
  return words[words.length - 1]!;
}

/** The name of an entry as typed on the command line. */
export function entryName(entry: CommandEntry): string {
  return entry.kind === 'command' ? entry.spec.name : entry.name;
}

// Typed access to parsed flags. The spec decides each flag's type; these check it at run time so
// that a mismatch between a spec and its command fails loudly instead of misbehaving.

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  if (v === undefined || typeof v === 'string') return v;
  throw new TypeError(`flag --${name} is not a string flag`);
}

export function intFlag(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags[name];
  if (v === undefined || typeof v === 'number') return v;
  throw new TypeError(`flag --${name} is not an int flag`);
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  const v = args.flags[name];
  if (v === undefined || typeof v === 'boolean') return v === true;
  throw new TypeError(`flag --${name} is not a bool flag`);
}

export function listFlag(args: ParsedArgs, name: string): string[] {
  const v = args.flags[name];
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  throw new TypeError(`flag --${name} is not a list flag`);
}
