/**
 * Where a client command connects: `--bootstrap HOST:PORT[,...]` (a Kafka-protocol cluster) or
 * `--data-dir DIR` (the embedded log, opened in-process), exactly one of them. The environment
 * variables TRIB_BOOTSTRAP and TRIB_DATA_DIR give defaults; a flag always wins over them.
 *
 * The client is loaded on first use, so that `trib --help` and usage errors stay instant.
 */
import type { Admin, ClientConfig, KafkaClient } from '../client/types.js';
import { type FlagSpec, type ParsedArgs, UsageError } from './args.js';
import { type CliIO, stringFlag } from './command.js';

export const CONNECTION_FLAGS: Readonly<Record<string, FlagSpec>> = {
  bootstrap: {
    type: 'string',
    arg: 'HOST:PORT[,...]',
    help: 'brokers of a Kafka-protocol cluster (env TRIB_BOOTSTRAP)',
  },
  'data-dir': {
    type: 'string',
    arg: 'DIR',
    help: 'open the embedded log in DIR instead (env TRIB_DATA_DIR)',
  },
};

/** A spec's flags with the connection flags first. */
export function withConnectionFlags(flags: Record<string, FlagSpec>): Record<string, FlagSpec> {
  return { ...CONNECTION_FLAGS, ...flags };
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):(\d{1,5})$/;

/** Splits and checks a bootstrap list; throws UsageError naming the bad entry. */
export function parseBootstrap(command: string, value: string): string[] {
  const servers = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) throw new UsageError(`${command}: --bootstrap is empty; give HOST:PORT[,...]`);
  for (const server of servers) {
    const m = HOST_PORT.exec(server);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw new UsageError(
        `${command}: --bootstrap entry '${server}' is not HOST:PORT (e.g. localhost:9092)`,
      );
    }
  }
  return servers;
}

/** The client config a command's flags and environment ask for. */
export function resolveClientConfig(
  command: string,
  args: ParsedArgs,
  env: Readonly<Record<string, string | undefined>>,
): ClientConfig {
  const bootstrapFlag = stringFlag(args, 'bootstrap');
  const dataDirFlag = stringFlag(args, 'data-dir');
  if (bootstrapFlag !== undefined && dataDirFlag !== undefined) {
    throw new UsageError(`${command}: give either --bootstrap or --data-dir, not both`);
  }
  let bootstrap = bootstrapFlag;
  let dataDir = dataDirFlag;
  if (bootstrap === undefined && dataDir === undefined) {
    const envBootstrap = env.TRIB_BOOTSTRAP || undefined;
    const envDataDir = env.TRIB_DATA_DIR || undefined;
    if (envBootstrap !== undefined && envDataDir !== undefined) {
      throw new UsageError(
        `${command}: both TRIB_BOOTSTRAP and TRIB_DATA_DIR are set; pass --bootstrap or --data-dir to choose`,
      );
    }
    bootstrap = envBootstrap;
    dataDir = envDataDir;
  }
  if (bootstrap !== undefined) {
    return { 'bootstrap.servers': parseBootstrap(command, bootstrap), 'client.id': 'trib' };
  }
  if (dataDir !== undefined) {
    if (dataDir.trim() === '') throw new UsageError(`${command}: --data-dir is empty`);
    return { 'data.dir': dataDir, 'client.id': 'trib' };
  }
  throw new UsageError(
    `${command}: say where the log is: --bootstrap HOST:PORT (a cluster) or --data-dir DIR (embedded), ` +
      'or set TRIB_BOOTSTRAP / TRIB_DATA_DIR',
  );
}

/** Opens the client the flags ask for. */
export async function openClient(config: ClientConfig): Promise<KafkaClient> {
  // Loaded here, not at the top: `trib --help` and usage errors need none of the client.
  const { connect } = await import('../client/index.js');
  return connect(config);
}

/**
 * Opens a client, runs `fn`, and closes the client whatever happens. A failure to close is
 * reported only when `fn` succeeded (the first error is the one worth showing).
 */
export async function withClient<T>(
  config: ClientConfig,
  fn: (client: KafkaClient) => Promise<T>,
): Promise<T> {
  const client = await openClient(config);
  let result: T;
  try {
    result = await fn(client);
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  await client.close();
  return result;
}

/** Runs `fn` with an Admin of the client that a command's flags and environment name. */
export async function withAdmin<T>(
  command: string,
  args: ParsedArgs,
  io: CliIO,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  const config = resolveClientConfig(command, args, io.env);
  return withClient(config, (client) => fn(client.admin()));
}
