/**
 * Client config validation: Kafka's key names, typed; a wrong key or value is refused with a
 * message naming it (and the closest known key), never silently ignored.
 */

import { closestName } from '../util/closest.js';
import { KafkaClientError } from './errors.js';

type Check = (v: unknown) => boolean;

const int =
  (min: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min;
const bool: Check = (v) => typeof v === 'boolean';
const str: Check = (v) => typeof v === 'string';
const oneOf =
  (...values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v);

/** Known keys with the check their values must pass, and a description for errors. */
export type KeySpec = Readonly<Record<string, readonly [Check, string]>>;

export const COMMON_KEYS: KeySpec = {
  'client.id': [str, 'a string'],
  'request.timeout.ms': [int(1), 'an integer ≥ 1'],
  'retry.backoff.ms': [int(0), 'an integer ≥ 0'],
};

export const PRODUCER_KEYS: KeySpec = {
  ...COMMON_KEYS,
  acks: [oneOf(0, 1, -1, 'all'), "0, 1, -1 or 'all'"],
  'linger.ms': [int(0), 'an integer ≥ 0'],
  'batch.size': [int(1), 'an integer ≥ 1'],
  'compression.type': [oneOf('none', 'gzip', 'snappy', 'lz4', 'zstd'), 'none, gzip, snappy, lz4 or zstd'],
  'enable.idempotence': [bool, 'true or false'],
  'max.in.flight.requests.per.connection': [int(1), 'an integer ≥ 1'],
  'delivery.timeout.ms': [int(1), 'an integer ≥ 1'],
  retries: [int(0), 'an integer ≥ 0'],
  'retry.backoff.max.ms': [int(0), 'an integer ≥ 0'],
  'buffer.memory': [int(1024), 'an integer ≥ 1024'],
  'max.request.size': [int(1), 'an integer ≥ 1'],
  'max.block.ms': [int(0), 'an integer ≥ 0'],
  partitioner: [
    (v) => typeof v === 'function' || ['murmur2', 'consistent_random', 'random'].includes(v as string),
    "a function or 'murmur2', 'consistent_random', 'random'",
  ],
  'transactional.id': [str, 'a string'],
};

export const CONSUMER_KEYS: KeySpec = {
  ...COMMON_KEYS,
  'group.id': [str, 'a string'],
  'group.instance.id': [str, 'a string'],
  'auto.offset.reset': [oneOf('earliest', 'latest', 'none'), 'earliest, latest or none'],
  'enable.auto.commit': [bool, 'true or false'],
  'auto.commit.interval.ms': [int(1), 'an integer ≥ 1'],
  'session.timeout.ms': [int(1), 'an integer ≥ 1'],
  'heartbeat.interval.ms': [int(1), 'an integer ≥ 1'],
  'rebalance.timeout.ms': [int(1), 'an integer ≥ 1'],
  'max.poll.interval.ms': [int(1), 'an integer ≥ 1'],
  'max.poll.records': [int(1), 'an integer ≥ 1'],
  'fetch.min.bytes': [int(0), 'an integer ≥ 0'],
  'fetch.max.bytes': [int(1), 'an integer ≥ 1'],
  'fetch.max.wait.ms': [int(0), 'an integer ≥ 0'],
  'max.partition.fetch.bytes': [int(1), 'an integer ≥ 1'],
  'isolation.level': [oneOf('read_uncommitted', 'read_committed'), 'read_uncommitted or read_committed'],
  'partition.assignment.strategy': [
    (v) => {
      const list = Array.isArray(v) ? v : [v];
      return list.length > 0 && list.every((s) => ['range', 'roundrobin', 'cooperative-sticky'].includes(s));
    },
    "'range', 'roundrobin', 'cooperative-sticky' or a list of them",
  ],
  'check.crcs': [bool, 'true or false'],
};

/** Throws INVALID_CONFIG for an unknown key or a bad value. */
export function validateConfig(what: string, config: object, keys: KeySpec): void {
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    const spec = keys[key];
    if (!spec) {
      const near = closestName(key, Object.keys(keys));
      throw new KafkaClientError(
        'INVALID_CONFIG',
        `unknown ${what} config '${key}'${near ? ` (did you mean '${near}'?)` : ''}`,
      );
    }
    if (!spec[0](value)) {
      throw new KafkaClientError(
        'INVALID_CONFIG',
        `${what} config '${key}' must be ${spec[1]}, got ${JSON.stringify(value)}`,
      );
    }
  }
}
