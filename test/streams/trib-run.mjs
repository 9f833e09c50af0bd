// Runs `trib run ARGS...` from dist/: through bin/trib.js once main.ts registers the command,
// else straight through dist/core/cli/run.js (same flags, same signals, same exit code).
import { parseArgs } from '../../dist/core/cli/args.js';
import { COMMANDS, main, processIO } from '../../dist/core/cli/main.js';
import { runCommand } from '../../dist/core/cli/run.js';

const argv = process.argv.slice(2);
if (COMMANDS.some((c) => c.kind === 'command' && c.spec.name === 'run')) {
  process.exitCode = await main(['run', ...argv]);
} else {
  const io = processIO();
  try {
    process.exitCode = (await runCommand.run(parseArgs(runCommand.spec, argv), io)) ?? 0;
  } catch (err) {
    process.stderr.write(`trib run: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
