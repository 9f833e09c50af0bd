/**
 * Errors of the command line, and how any error is shown to the user.
 *
 * Every failure becomes one line on stderr, `trib <command>: <what was wrong and what to do>`,
 * with exit code 2 for usage errors and 1 for everything else. Stack traces only with
 * TRIB_DEBUG=1.
 */
import { UsageError } from './args.js';

/** A failure the command already explained: `message` is shown as is. */
export class CliError extends Error {
  readonly code = 'CLI';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The `code` property of an error from any layer (client, log, protocol, node:fs, net). */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Plain-language explanations for errors whose own message is terse. */
function explain(err: unknown): string {
  const code = errorCode(err);
  const message = messageOf(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `${message}: connection refused; is a broker listening there? (check --bootstrap)`;
    case 'ENOTFOUND':
      return `${message}: unknown host; check --bootstrap`;
    case 'ETIMEDOUT':
      return `${message}: timed out; is the broker reachable?`;
    case 'EACCES':
    case 'EPERM':
      return `${message}: permission denied`;
    default:
      return message;
  }
}

/** Rewrites the client's errors about a named topic into messages that say what to do. */
export function explainTopicError(err: unknown, topic: string): unknown {
  switch (errorCode(err)) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return new CliError(`topic '${topic}' does not exist; see 'trib topics list'`, 1, { cause: err });
    case 'TOPIC_ALREADY_EXISTS':
      return new CliError(`topic '${topic}' already exists (add --if-not-exists to ignore that)`, 1, {
        cause: err,
      });
    default:
      return err;
  }
}

/** Rewrites the client's errors about a named group into messages that say what to do. */
export function explainGroupError(err: unknown, group: string): unknown {
  switch (errorCode(err)) {
    case 'GROUP_ID_NOT_FOUND':
      return new CliError(`group '${group}' does not exist; see 'trib groups list'`, 1, { cause: err });
    case 'NON_EMPTY_GROUP':
      return new CliError(`group '${group}' has active members; stop its consumers first`, 1, { cause: err });
    default:
      return err;
  }
}

export interface ReportedError {
  /** What to print on stderr, newline included. */
  text: string;
  exitCode: number;
}

/**
 * Turns any thrown value into the line to print and the exit code. `command` is the full command
 * name ('topics create'), or '' when the failure came before a command was known.
 */
export function reportError(command: string, err: unknown, debug: boolean): ReportedError {
  const exitCode = err instanceof UsageError ? 2 : err instanceof CliError ? err.exitCode : 1;
  let message = err instanceof UsageError || err instanceof CliError ? err.message : explain(err);
  message = message.split('\n')[0]!;
  // Usage errors from parseArgs already start with the command's name.
  const text =
    command !== '' && message.startsWith(`${command}: `)
      ? `trib ${message}`
      : `trib${command ? ` ${command}` : ''}: ${message}`;
  let out = `${text}\n`;
  if (debug) {
    const stack = err instanceof Error ? err.stack : undefined;
    if (stack) out += `${stack}\n`;
    const cause = err instanceof Error ? err.cause : undefined;
    if (cause instanceof Error && cause.stack) out += `caused by: ${cause.stack}\n`;
  }
  return { text: out, exitCode };
}
