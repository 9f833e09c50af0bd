/**
 * What every request handler receives: the node's parts and the request's context.
 * Handlers take decoded request data (all fields present, Kafka's names) and return response
 * input (fields left out take their defaults), whatever the API version: the codec drops what a
 * version lacks.
 */
import type { Clock } from '../../env/clock.js';
import type { LogManager } from '../../log/log-manager.js';
import type { BrokerConfig } from '../config.js';
import type { ProducerIdManager } from '../producer-ids.js';
import type { ReplicaManager } from '../replica-manager.js';

export interface Endpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface NodeParts {
  readonly config: BrokerConfig;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly producerIds: ProducerIdManager;
  readonly clock: Clock;
  /** This node as clients should reach it. */
  endpoint(): Endpoint;
  /** Every broker of the cluster (one, until replication). */
  brokers(): Endpoint[];
  controllerId(): number;
  /**
   * The cluster's id: the metadata's in a multi-node cluster (null until its first controller
   * wrote it), else the data directory's.
   */
  clusterId(): string | null;
}

export interface CallContext {
  apiVersion: number;
  clientId: string | null;
  clientHost: string;
}

import type { ApiKey } from '../../protocol/api-keys.js';
import type { RequestData, ResponseInput, SupportedApiKey } from '../../protocol/messages/index.js';

type KeyOf<N extends keyof typeof ApiKey> = (typeof ApiKey)[N] extends SupportedApiKey
  ? (typeof ApiKey)[N]
  : never;
/** Decoded request data of an API, by name: `Req<'Produce'>`. */
export type Req<N extends keyof typeof ApiKey> = RequestData<KeyOf<N>>;
/** Response input of an API, by name: `Res<'Produce'>`. */
export type Res<N extends keyof typeof ApiKey> = ResponseInput<KeyOf<N>>;
