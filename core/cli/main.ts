/**
 * `trib`: the command table and the dispatcher.
 *
 * `main(argv)` finds the command, parses its flags from its CommandSpec, runs it and turns any
 * failure into one line on stderr: `trib <command>: <what was wrong and what to do>`, exit code 2
 * for usage errors and 1 otherwise (stack traces with TRIB_DEBUG=1). It never throws.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { closest, parseArgs, UsageError } from './args.js';
import { brokerCommand } from './broker.js';
import type { CliIO, CommandEntry, CommandGroup, LeafCommand, PlannedCommand, Signal } from './command.js';
import { entryName, verbOf } from './command.js';
import { connectCommand } from './connect.js';
import { consumeCommand } from './consume.js';
import { demoCommand } from './demo.js';
import { reportError } from './errors.js';
import { groupsCommand } from './groups.js';
import { commandHelp, groupHelp, mainHelp, markdownReference, updateReference } from './help.js';
import { produceCommand } from './produce.js';
import { registryCommand } from './registry.js';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { topicsCommand } from './topics.js';
import { packageVersion } from './version.js';

// ─── The command table ──────────────────────────────────────────────────────────────────────────
// Register new commands here: a LeafCommand (`{ kind: 'command', spec, run }`) or a CommandGroup
// of them, in the order `trib --help` lists them. When a command from PLANNED lands, add it to
// COMMANDS and delete its PLANNED entry (help lists planned commands only while they are missing).
export const COMMANDS: CommandEntry[] = [
  startCommand,
  brokerCommand,
  topicsCommand,
  produceCommand,
  consumeCommand,
  groupsCommand,
  runCommand,
  connectCommand,
  registryCommand,
  demoCommand,
];

export const PLANNED: PlannedCommand[] = [];
// ────────────────────────────────────────────────────────────────────────────────────────────────

/** Every entry: the commands, then the planned ones whose name no command has taken yet. */
export function commandTable(): CommandEntry[] {
  const taken = new Set(COMMANDS.map(entryName));
  return [...COMMANDS, ...PLANNED.filter((p) => !taken.has(p.name))];
}

let signalCount = 0;

/** The real process's streams, environment and signals. */
export function processIO(): CliIO {
  // `trib … | head`: a closed pipe must not crash a command that is not watching for it.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return;
    process.stderr.write(`trib: cannot write to stdout: ${err.message}\n`);
    process.exitCode = 1;
  });
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onSignal(handler) {
      const listener = (signal: Signal) => {
        // A second Ctrl-C while a command is shutting down means now.
        if (++signalCount > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
        handler(signal);
      };
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
  };
}

interface Resolved {
  /** The name for messages: 'topics create', 'produce', or '' before a command is known. */
  name: string;
  run(io: CliIO): Promise<number>;
}

function unknown(name: string, known: string[], helpCmd: string): never {
  const guess = closest(name, known);
  throw new UsageError(
    `unknown command '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}; see '${helpCmd} --help'`,
  );
}

function leaf(cmd: LeafCommand, argv: readonly string[]): Resolved {
  return {
    name: cmd.spec.name,
    async run(io) {
      const args = parseArgs(cmd.spec, argv);
      if (args.help) {
        io.stdout.write(commandHelp(cmd));
        return 0;
      }
      return (await cmd.run(args, io)) ?? 0;
    },
  };
}

function group(g: CommandGroup, argv: readonly string[]): Resolved {
  const verb = argv[0];
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    return {
      name: g.name,
      async run(io) {
        if (verb === undefined) {
          io.stderr.write(groupHelp(g));
          return 2;
        }
        io.stdout.write(groupHelp(g));
        return 0;
      },
    };
  }
  const sub = g.subcommands.find((s) => verbOf(s) === verb);
  if (!sub) {
    return {
      name: g.name,
      run: async () => unknown(verb, g.subcommands.map(verbOf), `trib ${g.name}`),
    };
  }
  return leaf(sub, argv.slice(1));
}

function planned(p: PlannedCommand): Resolved {
  return {
    name: p.name,
    async run(io) {
      io.stderr.write(`trib ${p.name}: not available in this release yet (${p.summary}: ${p.usage})\n`);
      return 1;
    },
  };
}

function resolve(argv: readonly string[], table: readonly CommandEntry[]): Resolved {
  const [first, ...rest] = argv;
  const simple = (text: () => string, code = 0): Resolved => ({
    name: '',
    async run(io) {
      (code === 0 ? io.stdout : io.stderr).write(text());
      return code;
    },
  });
  if (first === undefined || first === '--help' || first === '-h') {
    return simple(() => mainHelp(table, packageVersion()));
  }
  if (first === 'help') return resolve(rest.length > 0 ? [...rest, '--help'] : ['--help'], table);
  if (first === '--version' || first === '-V' || first === 'version')
    return simple(() => `${packageVersion()}\n`);
  if (first === '--help-markdown') {
    const file = rest[0];
    if (file === undefined) return simple(() => markdownReference(table));
    // For maintainers: rewrites the reference part of a document (docs/cli.md) in place.
    return {
      name: '',
      async run(io) {
        writeFileSync(file, updateReference(readFileSync(file, 'utf8'), markdownReference(table)));
        io.stderr.write(`updated the command reference in ${file}\n`);
        return 0;
      },
    };
  }
  if (first.startsWith('-')) {
    return {
      name: '',
      run: async () => {
        throw new UsageError(`unknown option ${first}; usage: trib COMMAND [ARGS...] (see 'trib --help')`);
      },
    };
  }
  const entry = table.find((e) => entryName(e) === first);
  if (!entry) {
    return { name: '', run: async () => unknown(first, table.map(entryName), 'trib') };
  }
  switch (entry.kind) {
    case 'command':
      return leaf(entry, rest);
    case 'group':
      return group(entry, rest);
    case 'planned':
      return planned(entry);
  }
}

/** Runs `trib` with `argv` (without node and script); resolves to the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const resolved = resolve(argv, commandTable());
  try {
    return await resolved.run(io);
  } catch (err) {
    const { text, exitCode } = reportError(resolved.name, err, io.env.TRIB_DEBUG === '1');
    io.stderr.write(text);
    return exitCode;
  }
}
