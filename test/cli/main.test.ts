/** The dispatcher, help and usage errors, run in-process (no client needed). */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../core/cli/args.js';
import type { CliIO } from '../../core/cli/command.js';
import { resolveClientConfig } from '../../core/cli/connection.js';
import { reportError } from '../../core/cli/errors.js';
import { COMMANDS, commandTable, main } from '../../core/cli/main.js';

function fakeIO(env: Record<string, string> = {}): { io: CliIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIO = { stdin: new PassThrough(), stdout, stderr, env, onSignal: () => () => {} };
  return { io, out: () => out, err: () => err };
}

async function trib(argv: string[], env: Record<string, string> = {}) {
  const f = fakeIO(env);
  const code = await main(argv, f.io);
  return { code, stdout: f.out(), stderr: f.err() };
}

describe('trib dispatch', () => {
  it('lists every command with one line each', async () => {
    const r = await trib(['--help']);
    expect(r.code).toBe(0);
    for (const name of [
      'topics create',
      'topics describe',
      'produce',
      'consume',
      'groups reset-offsets',
      'demo',
      'start',
      'broker',
      'run',
      'connect standalone',
      'connect distributed',
      'registry',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
    expect(r.stdout).not.toMatch(/coming in later releases/);
    expect(r.stdout).toContain('--data-dir DIR');
  });

  it('suggests the closest command for a typo, exit 2', async () => {
    const r = await trib(['tpoics']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("trib: unknown command 'tpoics' (did you mean 'topics'?); see 'trib --help'\n");
    const sub = await trib(['topics', 'lsit']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("trib topics: unknown command 'lsit' (did you mean 'list'?)");
  });

  it('names the bad flag and its likely spelling, exit 2', async () => {
    const r = await trib(['consume', 'orders', '--form-beginning', '--data-dir', '/nonexistent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "trib consume: unknown flag --form-beginning (did you mean --from-beginning?); see 'trib consume --help'\n",
    );
    const bad = await trib(['produce', 'orders', '--acks', '2']);
    expect(bad.stderr).toContain('trib produce: --acks must be one of 0, 1, all');
    const neg = await trib(['topics', 'create', 't', '--partitions', '0']);
    expect(neg.stderr).toContain('trib topics create: --partitions must be at least 1, got 0');
    const fmt = await trib(['consume', 't', '--data-dir', '/x', '--format', '%q']);
    expect(fmt).toMatchObject({ code: 2 });
    expect(fmt.stderr).toContain('trib consume: --format: unknown token %q');
  });

  it('asks where the log is when neither flag nor environment says', async () => {
    const r = await trib(['topics', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^trib topics list: say where the log is: --bootstrap HOST:PORT .* --data-dir DIR/,
    );
  });

  it('prints help for groups of commands and for each command', async () => {
    const g = await trib(['topics', '--help']);
    expect(g.stdout).toMatch(/usage: trib topics create\|list\|describe\|delete\|alter\|add-partitions/);
    const missing = await trib(['groups']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('reset-offsets');
    for (const argv of [
      ['produce', '--help'],
      ['help', 'produce'],
      ['topics', 'create', '-h'],
    ]) {
      const r = await trib(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: trib /);
      expect(r.stdout).toContain('flags:');
    }
  });

  it('prints the package version', async () => {
    const r = await trib(['--version']);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists planned commands only while no command has their name', () => {
    const names = commandTable().map((e) => (e.kind === 'command' ? e.spec.name : e.name));
    expect(new Set(names).size).toBe(names.length);
    expect(COMMANDS.length).toBeGreaterThan(0);
  });
});

describe('--bootstrap / --data-dir', () => {
  const spec = {
    name: 'x',
    summary: '',
    usage: 'x',
    flags: {
      bootstrap: { type: 'string' as const, help: '' },
      'data-dir': { type: 'string' as const, help: '' },
    },
  };
  const resolve = (argv: string[], env: Record<string, string> = {}) =>
    resolveClientConfig('x', parseArgs(spec, argv), env);

  it('takes exactly one, flags over environment', () => {
    expect(resolve(['--data-dir', '/d'])).toMatchObject({ 'data.dir': '/d' });
    expect(resolve(['--bootstrap', 'a:9092, b:9093'])).toMatchObject({
      'bootstrap.servers': ['a:9092', 'b:9093'],
    });
    expect(resolve([], { TRIB_DATA_DIR: '/e' })).toMatchObject({ 'data.dir': '/e' });
    expect(resolve([], { TRIB_BOOTSTRAP: 'h:1' })).toMatchObject({ 'bootstrap.servers': ['h:1'] });
    expect(resolve(['--data-dir', '/d'], { TRIB_BOOTSTRAP: 'h:1' })).toMatchObject({ 'data.dir': '/d' });
    expect(resolve(['--bootstrap', '[::1]:9092'])).toMatchObject({ 'bootstrap.servers': ['[::1]:9092'] });
  });

  it('refuses both, neither, and malformed servers', () => {
    expect(() => resolve(['--data-dir', '/d', '--bootstrap', 'h:1'])).toThrow(
      /either --bootstrap or --data-dir, not both/,
    );
    expect(() => resolve([], { TRIB_DATA_DIR: '/e', TRIB_BOOTSTRAP: 'h:1' })).toThrow(
      /both TRIB_BOOTSTRAP and TRIB_DATA_DIR/,
    );
    expect(() => resolve([])).toThrow(UsageError);
    expect(() => resolve(['--bootstrap', 'localhost'])).toThrow(/'localhost' is not HOST:PORT/);
    expect(() => resolve(['--bootstrap', 'h:99999'])).toThrow(/not HOST:PORT/);
  });
});

describe('error lines', () => {
  it('one line, the command named, no stack unless debugging', () => {
    const err = Object.assign(new Error('first line\nsecond line'), { code: 'SOMETHING' });
    expect(reportError('topics list', err, false)).toEqual({
      text: 'trib topics list: first line\n',
      exitCode: 1,
    });
    expect(reportError('topics list', err, true).text).toContain('at ');
    expect(reportError('produce', new UsageError('produce: bad'), false)).toEqual({
      text: 'trib produce: bad\n',
      exitCode: 2,
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(reportError('topics list', refused, false).text).toMatch(/is a broker listening there/);
  });
});
