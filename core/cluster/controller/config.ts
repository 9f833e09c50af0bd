/**
 * Controller configuration: defaults → validate → freeze. Kafka's keys where Kafka has them.
 *
 * - broker.heartbeat.interval.ms (2000): how often a broker heartbeats the active controller.
 * - broker.session.timeout.ms (9000): a broker not heard from for this long is fenced: it loses
 *   its leaderships (a new leader is elected from the ISR) and leaves every ISR. This bounds
 *   leader failover after a broker dies without its connections closing (a network cut).
 * - broker.session.reconnect.grace.ms (1000): when the connection a broker heartbeats on closes
 *   (a killed process's kernel closes its sockets at once), its session is cut to this: a live
 *   broker reconnects and heartbeats at once, a dead one is fenced this long after its death.
 *   A new active controller gives the same grace (instead of a full session) to a broker one of
 *   whose connections it saw close and that it has not heard from since. Capped at the session
 *   timeout.
 */
export interface ControllerConfig {
  readonly brokerHeartbeatIntervalMs: number;
  readonly brokerSessionTimeoutMs: number;
  readonly brokerSessionReconnectGraceMs: number;
  /** How often the active controller looks for expired sessions. */
  readonly sessionCheckIntervalMs: number;
  /** num.partitions: partitions of a topic created without a count. */
  readonly numPartitions: number;
  /** default.replication.factor: used when a create asks for -1. */
  readonly defaultReplicationFactor: number;
  readonly maxPartitionsPerTopic: number;
  readonly maxTopics: number;
  readonly maxReplicationFactor: number;
  /** Records are proposed in batches of at most this many encoded bytes (≤ Raft's maxCommandBytes). */
  readonly maxBatchBytes: number;
  /** Operations queued at the controller before TOO_MANY_REQUESTS. */
  readonly maxPendingOperations: number;
  /** Items (topics, partitions) in one request. */
  readonly maxItemsPerRequest: number;
}

export type ControllerConfigInput = Partial<ControllerConfig>;

export const DEFAULT_CONTROLLER_CONFIG: ControllerConfig = Object.freeze({
  brokerHeartbeatIntervalMs: 2000,
  brokerSessionTimeoutMs: 9000,
  brokerSessionReconnectGraceMs: 1000,
  sessionCheckIntervalMs: 250,
  numPartitions: 1,
  defaultReplicationFactor: 1,
  maxPartitionsPerTopic: 10_000,
  maxTopics: 100_000,
  maxReplicationFactor: 16,
  maxBatchBytes: 512 * 1024,
  maxPendingOperations: 10_000,
  maxItemsPerRequest: 10_000,
});

/** Kafka's property names for the keys above. */
export const CONTROLLER_CONFIG_KEYS: Readonly<Record<string, keyof ControllerConfig>> = {
  'broker.heartbeat.interval.ms': 'brokerHeartbeatIntervalMs',
  'broker.session.timeout.ms': 'brokerSessionTimeoutMs',
  'broker.session.reconnect.grace.ms': 'brokerSessionReconnectGraceMs',
  'num.partitions': 'numPartitions',
  'default.replication.factor': 'defaultReplicationFactor',
};

export function resolveControllerConfig(input: ControllerConfigInput = {}): ControllerConfig {
  const c: ControllerConfig = { ...DEFAULT_CONTROLLER_CONFIG, ...input };
  for (const [key, v] of Object.entries(c)) {
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`controller config ${key}: must be a positive integer, got ${v}`);
  }
  if (c.brokerHeartbeatIntervalMs >= c.brokerSessionTimeoutMs) {
    throw new RangeError(
      `broker.heartbeat.interval.ms (${c.brokerHeartbeatIntervalMs}) must be below broker.session.timeout.ms (${c.brokerSessionTimeoutMs})`,
    );
  }
  // a grace longer than the session would lengthen it: capped (so a short session needs no grace key)
  if (c.brokerSessionReconnectGraceMs > c.brokerSessionTimeoutMs)
    return Object.freeze({ ...c, brokerSessionReconnectGraceMs: c.brokerSessionTimeoutMs });
  return Object.freeze(c);
}
