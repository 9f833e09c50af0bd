/**
 * `trib --help`, `trib GROUP --help`, and the Markdown reference (docs/cli.md) generated from the
 * same CommandSpecs that drive parsing.
 */
import { helpText } from './args.js';
import type { CommandEntry, CommandGroup, LeafCommand, PlannedCommand } from './command.js';
import { verbOf } from './command.js';
import { CONNECTION_FLAGS } from './connection.js';

const CONNECTION_NOTE =
  'Client commands take --bootstrap HOST:PORT[,...] (a Kafka-protocol cluster) or --data-dir DIR\n' +
  '(the embedded log, opened in-process); TRIB_BOOTSTRAP or TRIB_DATA_DIR set a default.\n';

function firstSentence(text: string): string {
  const end = text.search(/\.(\s|$)/);
  return (end < 0 ? text : text.slice(0, end)).replace(/^./, (c) => c.toLowerCase());
}

function rows(entries: readonly CommandEntry[]): [string, string][] {
  const out: [string, string][] = [];
  for (const e of entries) {
    if (e.kind === 'planned') continue;
    if (e.kind === 'group') {
      for (const sub of e.subcommands) out.push([sub.spec.name, firstSentence(sub.spec.summary)]);
    } else {
      out.push([e.spec.name, firstSentence(e.spec.summary)]);
    }
  }
  return out;
}

export function mainHelp(entries: readonly CommandEntry[], version: string): string {
  const available = rows(entries);
  const planned = entries.filter((e) => e.kind === 'planned');
  const width = Math.max(...available.map(([n]) => n.length), ...planned.map((p) => p.name.length)) + 2;
  let text =
    `trib ${version}: a Kafka-compatible log, streams and connect in one package\n\n` +
    'usage: trib COMMAND [ARGS...]\n' +
    '       trib COMMAND --help      flags of one command\n' +
    '       trib --version\n\ncommands:\n';
  for (const [name, summary] of available) text += `  ${name.padEnd(width)}${summary}\n`;
  if (planned.length > 0) {
    text += '\ncoming in later releases:\n';
    for (const p of planned) text += `  ${p.name.padEnd(width)}${p.summary}\n`;
  }
  return `${text}\n${CONNECTION_NOTE}`;
}

export function groupHelp(group: CommandGroup): string {
  const width = Math.max(...group.subcommands.map((s) => verbOf(s).length)) + 2;
  let text = `usage: trib ${group.name} ${group.subcommands.map(verbOf).join('|')} ...\n\n${group.summary}\n\ncommands:\n`;
  for (const sub of group.subcommands)
    text += `  ${verbOf(sub).padEnd(width)}${firstSentence(sub.spec.summary)}\n`;
  return `${text}\nSee 'trib ${group.name} COMMAND --help' for a command's flags.\n`;
}

export function commandHelp(cmd: LeafCommand): string {
  const text = helpText(cmd.spec);
  return connects(cmd) ? `${text}\n${CONNECTION_NOTE}` : text;
}

/** Whether a command connects to a log (and takes the connection flags). */
function connects(cmd: LeafCommand): boolean {
  return 'bootstrap' in cmd.spec.flags;
}

/** Markdown blocks (paragraphs, tables) describing a command's flags. */
function markdownFlags(cmd: LeafCommand): string[] {
  // The connection flags are the same everywhere: described once, in the reference's introduction.
  const flags = Object.entries(cmd.spec.flags).filter(
    ([name]) => !connects(cmd) || !(name in CONNECTION_FLAGS),
  );
  const blocks = connects(cmd) ? ['Connects with `--bootstrap` or `--data-dir`.'] : [];
  if (flags.length === 0) return blocks;
  const rows = ['| flag | meaning |', '|---|---|'];
  for (const [name, f] of flags) {
    const arg = f.type === 'bool' ? '' : ` ${f.arg ?? f.type.toUpperCase()}`;
    const alias = f.alias ? `-${f.alias}, ` : '';
    const extra = [
      f.choices ? `one of ${f.choices.map((c) => `\`${c}\``).join(', ')}` : '',
      f.default !== undefined ? `default \`${String(f.default)}\`` : '',
      f.type === 'list' ? 'repeatable' : '',
    ].filter(Boolean);
    const help = f.help.replace(/\|/g, '\\|');
    rows.push(`| \`${alias}--${name}${arg}\` | ${help}${extra.length > 0 ? ` (${extra.join('; ')})` : ''} |`);
  }
  return [...blocks, rows.join('\n')];
}

function markdownCommand(cmd: LeafCommand, heading: string): string {
  return [
    `${heading} trib ${cmd.spec.name}`,
    `\`\`\`\n${cmd.spec.usage}\n\`\`\``,
    cmd.spec.summary,
    ...markdownFlags(cmd),
  ].join('\n\n');
}

/** The command reference in Markdown, generated from the specs (the reference part of docs/cli.md). */
export function markdownReference(entries: readonly CommandEntry[]): string {
  const parts: string[] = [];
  for (const e of entries) {
    if (e.kind === 'planned') continue;
    if (e.kind === 'group') {
      parts.push(`### trib ${e.name}\n\n${e.summary.replace(/^./, (c) => c.toUpperCase())}.`);
      for (const sub of e.subcommands) parts.push(markdownCommand(sub, '####'));
    } else {
      parts.push(markdownCommand(e, '###'));
    }
  }
  const planned = entries.filter((e): e is PlannedCommand => e.kind === 'planned');
  if (planned.length > 0) {
    parts.push(
      `### Coming in later releases\n\n${planned.map((p) => `- \`${p.usage}\`: ${p.summary}`).join('\n')}`,
    );
  }
  return `${parts.join('\n\n')}\n`;
}

/** The line in docs/cli.md after which the generated reference starts. */
export const REFERENCE_MARKER =
  '<!-- Generated from the command specs: `node bin/trib.js --help-markdown docs/cli.md` rewrites everything below. -->';

/** `doc` with everything after REFERENCE_MARKER replaced by `reference`. */
export function updateReference(doc: string, reference: string): string {
  const at = doc.indexOf(REFERENCE_MARKER);
  if (at < 0) throw new Error(`the marker line is missing: ${REFERENCE_MARKER}`);
  return `${doc.slice(0, at + REFERENCE_MARKER.length)}\n\n${reference}`;
}
