/**
 * The broker→controller API: plain JSON-able objects, so that the RPC in core/cluster/net can
 * carry them as they are (see docs/cluster.md for the framing). Per-item errors use Kafka's
 * error names (errors.ts); request-level failures (NOT_CONTROLLER…) are thrown ControllerErrors.
 */
import type { ControllerErrorCode, ItemError } from './errors.js';

export interface RegisterBrokerRequest {
  readonly brokerId: number;
  /** Random per process start: the same incarnation registering twice is idempotent. */
  readonly incarnationId: string;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly controller: boolean;
}
export interface RegisterBrokerResponse {
  readonly brokerEpoch: number;
}

export interface BrokerHeartbeatRequest {
  readonly brokerId: number;
  readonly brokerEpoch: number;
  /** The last metadata offset this broker applied. */
  readonly metadataOffset: number;
  /** Stay fenced (starting up, not ready). */
  readonly wantFence: boolean;
  /** Controlled shutdown: move leaderships away, then fence. */
  readonly wantShutdown: boolean;
}
export interface BrokerHeartbeatResponse {
  readonly isFenced: boolean;
  readonly shouldShutdown: boolean;
}

export interface AlterPartitionItem {
  readonly topicId: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}
export interface AlterPartitionRequest {
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly partitions: readonly AlterPartitionItem[];
}
export interface AlterPartitionResult extends ItemError {
  readonly topicId: string;
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly number[];
}
export interface AlterPartitionResponse {
  readonly partitions: readonly AlterPartitionResult[];
}

export interface CreatableTopic {
  readonly name: string;
  /** -1: num.partitions. Ignored when assignments are given. */
  readonly numPartitions: number;
  /** -1: default.replication.factor. Ignored when assignments are given. */
  readonly replicationFactor: number;
  /** Manual assignment: replicas of partition i. */
  readonly assignments?: readonly (readonly number[])[];
  readonly configs?: Readonly<Record<string, string>>;
}
export interface CreateTopicsRequest {
  readonly topics: readonly CreatableTopic[];
  readonly validateOnly?: boolean;
}
export interface CreateTopicResult extends ItemError {
  readonly name: string;
  readonly topicId: string | null;
  readonly numPartitions: number;
  readonly replicationFactor: number;
}
export interface CreateTopicsResponse {
  readonly topics: readonly CreateTopicResult[];
}

export interface DeleteTopicsRequest {
  /** Topic names (a name is only ever looked up as a name). */
  readonly topics: readonly string[];
  /** Topic ids (DeleteTopics v6): deletes that topic only, never a later one of the same name. */
  readonly topicIds?: readonly string[];
}
export interface DeleteTopicsResponse {
  readonly topics: readonly (ItemError & { readonly topic: string })[];
  /** One per requested topic id, in order; topic is the deleted topic's name (null: unknown id). */
  readonly topicIds?: readonly (ItemError & { readonly topicId: string; readonly topic: string | null })[];
}

export interface CreatePartitionsRequest {
  readonly topics: readonly {
    readonly name: string;
    /** The new total. */
    readonly count: number;
    readonly assignments?: readonly (readonly number[])[];
  }[];
  readonly validateOnly?: boolean;
}
export interface CreatePartitionsResponse {
  readonly topics: readonly (ItemError & { readonly name: string })[];
}

export interface AlterConfigsRequest {
  readonly resources: readonly {
    readonly type: 'topic' | 'broker';
    /** Topic name, broker id, or '' for the cluster-wide broker default. */
    readonly name: string;
    /** Incremental: null deletes a key. */
    readonly configs: Readonly<Record<string, string | null>>;
  }[];
  readonly validateOnly?: boolean;
}
export interface AlterConfigsResponse {
  readonly resources: readonly (ItemError & { readonly type: 'topic' | 'broker'; readonly name: string })[];
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}
export interface ElectLeadersRequest {
  readonly electionType: 'preferred' | 'unclean';
  /** null: every partition. */
  readonly partitions: readonly TopicPartitionRef[] | null;
}
export interface ElectLeadersResponse {
  readonly partitions: readonly (ItemError & TopicPartitionRef)[];
}

export interface AlterPartitionReassignmentsRequest {
  readonly reassignments: readonly (TopicPartitionRef & {
    /** The target replica list; null cancels an ongoing reassignment. */
    readonly replicas: readonly number[] | null;
  })[];
}
export interface AlterPartitionReassignmentsResponse {
  readonly partitions: readonly (ItemError & TopicPartitionRef)[];
}

export interface ListPartitionReassignmentsRequest {
  readonly partitions: readonly TopicPartitionRef[] | null;
}
export interface ListPartitionReassignmentsResponse {
  readonly partitions: readonly (TopicPartitionRef & {
    readonly replicas: readonly number[];
    readonly addingReplicas: readonly number[];
    readonly removingReplicas: readonly number[];
  })[];
}

export interface AllocateProducerIdsRequest {
  readonly brokerId: number;
  /** The broker's current registration: STALE_BROKER_EPOCH otherwise. */
  readonly brokerEpoch: number;
  /**
   * The block starts at this id or above (not in Kafka): a data directory that ran as a single
   * node and gave out ids below it joins a cluster without reusing them. Default 0.
   */
  readonly minProducerId?: number;
}
export interface AllocateProducerIdsResponse {
  /** The block is [firstProducerId, firstProducerId + size), this broker's alone. */
  readonly firstProducerId: number;
  readonly size: number;
}

/** Every API: name → request and response. */
export interface ControllerApis {
  registerBroker: { request: RegisterBrokerRequest; response: RegisterBrokerResponse };
  brokerHeartbeat: { request: BrokerHeartbeatRequest; response: BrokerHeartbeatResponse };
  alterPartition: { request: AlterPartitionRequest; response: AlterPartitionResponse };
  createTopics: { request: CreateTopicsRequest; response: CreateTopicsResponse };
  deleteTopics: { request: DeleteTopicsRequest; response: DeleteTopicsResponse };
  createPartitions: { request: CreatePartitionsRequest; response: CreatePartitionsResponse };
  alterConfigs: { request: AlterConfigsRequest; response: AlterConfigsResponse };
  electLeaders: { request: ElectLeadersRequest; response: ElectLeadersResponse };
  alterPartitionReassignments: {
    request: AlterPartitionReassignmentsRequest;
    response: AlterPartitionReassignmentsResponse;
  };
  listPartitionReassignments: {
    request: ListPartitionReassignmentsRequest;
    response: ListPartitionReassignmentsResponse;
  };
  allocateProducerIds: { request: AllocateProducerIdsRequest; response: AllocateProducerIdsResponse };
}

export type ControllerApi = keyof ControllerApis;
export type ApiRequest<A extends ControllerApi> = ControllerApis[A]['request'];
export type ApiResponse<A extends ControllerApi> = ControllerApis[A]['response'];

export const CONTROLLER_APIS: readonly ControllerApi[] = [
  'registerBroker',
  'brokerHeartbeat',
  'alterPartition',
  'createTopics',
  'deleteTopics',
  'createPartitions',
  'alterConfigs',
  'electLeaders',
  'alterPartitionReassignments',
  'listPartitionReassignments',
  'allocateProducerIds',
];

/** Something that answers controller APIs: the controller itself, or an RPC client to it. */
/** Per-call options of ControllerChannel.call. */
export interface CallOptions {
  /**
   * The call's own deadline in ms (a client request's timeoutMs): REQUEST_TIMED_OUT when no
   * controller answered within it. Absent: the channel's default.
   */
  readonly timeoutMs?: number;
}

export interface ControllerChannel {
  call<A extends ControllerApi>(
    api: A,
    request: ApiRequest<A>,
    options?: CallOptions,
  ): Promise<ApiResponse<A>>;
}

export type { ControllerErrorCode };
