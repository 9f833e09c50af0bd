/**
 * The broker's socket-server settings: Kafka's config keys and defaults (KafkaConfig /
 * SocketServerConfigs), plus one Tributary key marked as such. Schema with defaults →
 * validate → freeze: `socketConfig()` picks the keys it knows from a broker-wide config
 * (numbers, or numeric strings from `--set key=value`), ignores the others, and returns a
 * frozen, complete SocketConfig.
 */

export interface SocketConfig {
  /** Largest request (size prefix) a client may send; a larger one closes its connection. */
  readonly 'socket.request.max.bytes': number;
  /** A connection with no reads, no writes and no request in flight this long is closed. */
  readonly 'connections.max.idle.ms': number;
  /** Requests being handled at once across the broker; beyond it, sockets stop being read. */
  readonly 'queued.max.requests': number;
  /** Bytes of requests being handled at once across the broker; -1 = no limit. */
  readonly 'queued.max.request.bytes': number;
  /** Tributary: requests being handled at once on one connection (pipelining depth). */
  readonly 'queued.max.requests.per.connection': number;
  /** Open connections the broker accepts; further ones are closed at once. */
  readonly 'max.connections': number;
  /** Open connections from one IP address; further ones are closed at once. */
  readonly 'max.connections.per.ip': number;
  /** SO_SNDBUF; -1 = the OS default. Accepted for compatibility; Node cannot set it on TCP sockets. */
  readonly 'socket.send.buffer.bytes': number;
  /** SO_RCVBUF; -1 = the OS default. Accepted for compatibility; Node cannot set it on TCP sockets. */
  readonly 'socket.receive.buffer.bytes': number;
  /** Backlog of the listening socket (Kafka: socket.listen.backlog.size). */
  readonly 'socket.listen.backlog.size': number;
}

export type SocketConfigKey = keyof SocketConfig;

interface Def {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
}

const INT32_MAX = 2147483647;

/** Every key with its default, bounds and documentation (Kafka's wording where Kafka has the key). */
export const SOCKET_CONFIG_DEFS: Readonly<Record<SocketConfigKey, Def>> = Object.freeze({
  'socket.request.max.bytes': {
    default: 104857600,
    min: 1,
    max: INT32_MAX,
    doc: 'The maximum number of bytes in a socket request.',
  },
  'connections.max.idle.ms': {
    default: 600000,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'Idle connections timeout: the server socket processor threads close the connections that idle more than this.',
  },
  'queued.max.requests': {
    default: 500,
    min: 1,
    max: INT32_MAX,
    doc: 'The number of queued requests allowed for the data-plane before blocking the network threads.',
  },
  'queued.max.request.bytes': {
    default: -1,
    min: -1,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'The number of queued bytes allowed before no more requests are read (-1: no limit).',
  },
  'queued.max.requests.per.connection': {
    default: 100,
    min: 1,
    max: 100000,
    doc: 'Tributary: pipelined requests handled at once per connection; reading that socket pauses beyond it. Responses are always written in request order.',
  },
  'max.connections': {
    default: 10000,
    min: 0,
    max: INT32_MAX,
    doc: 'The maximum number of connections the broker allows at any time; further connections are closed (Kafka: unlimited by default; bounded here).',
  },
  'max.connections.per.ip': {
    default: INT32_MAX,
    min: 0,
    max: INT32_MAX,
    doc: 'The maximum number of connections allowed from each IP address.',
  },
  'socket.send.buffer.bytes': {
    default: 102400,
    min: -1,
    max: INT32_MAX,
    doc: 'The SO_SNDBUF buffer of the socket server sockets (-1: the OS default). Not applied: Node offers no way to set it on TCP sockets.',
  },
  'socket.receive.buffer.bytes': {
    default: 102400,
    min: -1,
    max: INT32_MAX,
    doc: 'The SO_RCVBUF buffer of the socket server sockets (-1: the OS default). Not applied: Node offers no way to set it on TCP sockets.',
  },
  'socket.listen.backlog.size': {
    default: 50,
    min: 1,
    max: INT32_MAX,
    doc: 'The maximum number of pending connections on the socket.',
  },
});

const KEYS = Object.keys(SOCKET_CONFIG_DEFS) as SocketConfigKey[];

/** Thrown for a value that is not a number in its key's range; names the key and what is allowed. */
export class SocketConfigError extends Error {
  override readonly name = 'SocketConfigError';
  constructor(
    readonly key: SocketConfigKey,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A complete, frozen SocketConfig: Kafka's defaults overridden by the known keys of `values`.
 * Unknown keys are ignored (the broker-wide config holds many others).
 */
export function socketConfig(values: Readonly<Record<string, unknown>> = {}): SocketConfig {
  const out = {} as Record<SocketConfigKey, number>;
  for (const key of KEYS) {
    const def = SOCKET_CONFIG_DEFS[key];
    const raw = values[key];
    if (raw === undefined || raw === null) {
      out[key] = def.default;
      continue;
    }
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < def.min || n > def.max) {
      throw new SocketConfigError(
        key,
        `${key}=${JSON.stringify(raw)} is invalid: expected an integer in [${def.min}, ${def.max}] (default ${def.default}). ${def.doc}`,
      );
    }
    out[key] = n;
  }
  return Object.freeze(out);
}
