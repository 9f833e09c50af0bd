/**
 * `trib registry`: its usage errors (the running command is exercised by the tests that start it
 * as a child process, helpers.ts startRegistryProcess).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../core/cli/args.js';
import { registryCommand } from '../../core/cli/registry.js';

function io() {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return {
    io: {
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      stderr,
      env: {},
      onSignal: () => () => {},
    },
    stderr: () => text,
  };
}

describe('trib registry', () => {
  it('needs --bootstrap or --data-dir, and a HOST:PORT to listen on', async () => {
    await expect(registryCommand.run(parseArgs(registryCommand.spec, []), io().io)).rejects.toThrow(
      /--bootstrap HOST:PORT .* or --data-dir DIR/,
    );
    await expect(
      registryCommand.run(parseArgs(registryCommand.spec, ['--bootstrap', 'nope']), io().io),
    ).rejects.toThrow(/not HOST:PORT/);
    expect(registryCommand.spec.flags.listen?.default).toBe('127.0.0.1:8081');
  });
});
