/**
 * The registry: every API we have schemas for, keyed by API key, with the version range we
 * support. The broker advertises these ranges in ApiVersions; the client negotiates within
 * them (see versions.ts). Minimum versions are kept low on purpose: librdkafka switches
 * features on by exact version (KAFKA-COMPAT.md pitfall 1).
 */
import { ApiKey } from '../api-keys.js';
import { ErrorCode } from '../errors.js';
import type { Infer, InferInput, MessageSchema } from '../schema.js';
import { AlterConfigsRequest, AlterConfigsResponse } from './alter-configs.js';
import {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
} from './alter-partition-reassignments.js';
import { ApiVersionsRequest, ApiVersionsResponse, type ApiVersionsResponseData } from './api-versions.js';
import { CreatePartitionsRequest, CreatePartitionsResponse } from './create-partitions.js';
import { CreateTopicsRequest, CreateTopicsResponse } from './create-topics.js';
import { DeleteGroupsRequest, DeleteGroupsResponse } from './delete-groups.js';
import { DeleteRecordsRequest, DeleteRecordsResponse } from './delete-records.js';
import { DeleteTopicsRequest, DeleteTopicsResponse } from './delete-topics.js';
import { DescribeClusterRequest, DescribeClusterResponse } from './describe-cluster.js';
import { DescribeConfigsRequest, DescribeConfigsResponse } from './describe-configs.js';
import { DescribeGroupsRequest, DescribeGroupsResponse } from './describe-groups.js';
import { DescribeProducersRequest, DescribeProducersResponse } from './describe-producers.js';
import { ElectLeadersRequest, ElectLeadersResponse } from './elect-leaders.js';
import { FetchRequest, FetchResponse } from './fetch.js';
import { FindCoordinatorRequest, FindCoordinatorResponse } from './find-coordinator.js';
import { HeartbeatRequest, HeartbeatResponse } from './heartbeat.js';
import {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from './incremental-alter-configs.js';
import { InitProducerIdRequest, InitProducerIdResponse } from './init-producer-id.js';
import { JoinGroupRequest, JoinGroupResponse } from './join-group.js';
import { LeaveGroupRequest, LeaveGroupResponse } from './leave-group.js';
import { ListGroupsRequest, ListGroupsResponse } from './list-groups.js';
import { ListOffsetsRequest, ListOffsetsResponse } from './list-offsets.js';
import {
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from './list-partition-reassignments.js';
import { MetadataRequest, MetadataResponse } from './metadata.js';
import { OffsetCommitRequest, OffsetCommitResponse } from './offset-commit.js';
import { OffsetFetchRequest, OffsetFetchResponse } from './offset-fetch.js';
import { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './offset-for-leader-epoch.js';
import { ProduceRequest, ProduceResponse } from './produce.js';
import { SaslHandshakeRequest, SaslHandshakeResponse } from './sasl-handshake.js';
import { SyncGroupRequest, SyncGroupResponse } from './sync-group.js';

export interface ApiDefinition<
  Req extends MessageSchema = MessageSchema,
  Res extends MessageSchema = MessageSchema,
> {
  readonly apiKey: number;
  readonly name: string;
  readonly request: Req;
  readonly response: Res;
  /** The lowest version we support. */
  readonly minVersion: number;
  /** The highest version we support (the schema may declare more). */
  readonly maxVersion: number;
  /** Whether the broker lists the API in ApiVersions (false: schema declared only). */
  readonly advertised: boolean;
}

function api<Req extends MessageSchema, Res extends MessageSchema>(
  request: Req,
  response: Res,
  minVersion: number,
  maxVersion: number,
  advertised = true,
): ApiDefinition<Req, Res> {
  return { apiKey: request.apiKey, name: request.api, request, response, minVersion, maxVersion, advertised };
}

/** Every API with a schema, by API key. */
export const apis = {
  [ApiKey.Produce]: api(ProduceRequest, ProduceResponse, 0, 9),
  [ApiKey.Fetch]: api(FetchRequest, FetchResponse, 0, 12),
  [ApiKey.ListOffsets]: api(ListOffsetsRequest, ListOffsetsResponse, 0, 7),
  [ApiKey.Metadata]: api(MetadataRequest, MetadataResponse, 0, 12),
  [ApiKey.OffsetCommit]: api(OffsetCommitRequest, OffsetCommitResponse, 0, 8),
  [ApiKey.OffsetFetch]: api(OffsetFetchRequest, OffsetFetchResponse, 0, 8),
  [ApiKey.FindCoordinator]: api(FindCoordinatorRequest, FindCoordinatorResponse, 0, 4),
  [ApiKey.JoinGroup]: api(JoinGroupRequest, JoinGroupResponse, 0, 9),
  [ApiKey.Heartbeat]: api(HeartbeatRequest, HeartbeatResponse, 0, 4),
  [ApiKey.LeaveGroup]: api(LeaveGroupRequest, LeaveGroupResponse, 0, 5),
  [ApiKey.SyncGroup]: api(SyncGroupRequest, SyncGroupResponse, 0, 5),
  [ApiKey.DescribeGroups]: api(DescribeGroupsRequest, DescribeGroupsResponse, 0, 5),
  [ApiKey.ListGroups]: api(ListGroupsRequest, ListGroupsResponse, 0, 4),
  [ApiKey.SaslHandshake]: api(SaslHandshakeRequest, SaslHandshakeResponse, 0, 1, false),
  [ApiKey.ApiVersions]: api(ApiVersionsRequest, ApiVersionsResponse, 0, 3),
  [ApiKey.CreateTopics]: api(CreateTopicsRequest, CreateTopicsResponse, 0, 7),
  [ApiKey.DeleteTopics]: api(DeleteTopicsRequest, DeleteTopicsResponse, 0, 6),
  [ApiKey.DeleteRecords]: api(DeleteRecordsRequest, DeleteRecordsResponse, 0, 2),
  [ApiKey.InitProducerId]: api(InitProducerIdRequest, InitProducerIdResponse, 0, 4),
  [ApiKey.OffsetForLeaderEpoch]: api(OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, 0, 4),
  [ApiKey.DescribeConfigs]: api(DescribeConfigsRequest, DescribeConfigsResponse, 0, 4),
  [ApiKey.AlterConfigs]: api(AlterConfigsRequest, AlterConfigsResponse, 0, 2),
  [ApiKey.CreatePartitions]: api(CreatePartitionsRequest, CreatePartitionsResponse, 0, 3),
  [ApiKey.DeleteGroups]: api(DeleteGroupsRequest, DeleteGroupsResponse, 0, 2),
  [ApiKey.ElectLeaders]: api(ElectLeadersRequest, ElectLeadersResponse, 0, 2),
  [ApiKey.IncrementalAlterConfigs]: api(
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
    0,
    1,
  ),
  [ApiKey.AlterPartitionReassignments]: api(
    AlterPartitionReassignmentsRequest,
    AlterPartitionReassignmentsResponse,
    0,
    0,
  ),
  [ApiKey.ListPartitionReassignments]: api(
    ListPartitionReassignmentsRequest,
    ListPartitionReassignmentsResponse,
    0,
    0,
  ),
  [ApiKey.DescribeCluster]: api(DescribeClusterRequest, DescribeClusterResponse, 0, 1),
  [ApiKey.DescribeProducers]: api(DescribeProducersRequest, DescribeProducersResponse, 0, 0),
} as const;

export type Apis = typeof apis;
/** API keys with a schema (number literals). */
export type SupportedApiKey = keyof Apis;
export type RequestSchemaOf<K extends SupportedApiKey> = Apis[K]['request'];
export type ResponseSchemaOf<K extends SupportedApiKey> = Apis[K]['response'];
/** Decoded request body of an API: `RequestData<typeof ApiKey.Produce>`. */
export type RequestData<K extends SupportedApiKey> = Infer<RequestSchemaOf<K>>;
export type ResponseData<K extends SupportedApiKey> = Infer<ResponseSchemaOf<K>>;
/** What the encoder takes for a request body (every field optional). */
export type RequestInput<K extends SupportedApiKey> = InferInput<RequestSchemaOf<K>>;
export type ResponseInput<K extends SupportedApiKey> = InferInput<ResponseSchemaOf<K>>;

const byKey = new Map<number, ApiDefinition>(Object.values(apis).map((a) => [a.apiKey, a]));

/** The API definition for a key, if we have its schema. */
export function getApi(apiKey: number): ApiDefinition | undefined {
  return byKey.get(apiKey);
}

export function isSupportedApiKey(apiKey: number): apiKey is SupportedApiKey {
  return byKey.has(apiKey);
}

/** Whether we support (advertise or declare) `version` of `apiKey`. */
export function isSupportedVersion(apiKey: number, version: number): boolean {
  const a = byKey.get(apiKey);
  return a !== undefined && version >= a.minVersion && version <= a.maxVersion;
}

/** The `apiKeys` list of our ApiVersions response, ascending by key. */
export function advertisedApiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
  return [...byKey.values()]
    .filter((a) => a.advertised)
    .sort((a, b) => a.apiKey - b.apiKey)
    .map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
}

/**
 * The answer to an ApiVersions request at a version we do not support (pitfall 2): error 35
 * UNSUPPORTED_VERSION plus our API list. Encode it as version 0 (ApiVersions responses always
 * use response header v0), and keep the connection open: the client retries with a version
 * from the list.
 */
export function unsupportedApiVersionsResponse(): ApiVersionsResponseData {
  return {
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: advertisedApiVersions(),
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}

// Every schema and its Data/Input types, for `import { ProduceRequest } from '.../protocol/index.js'`.
export * from './alter-configs.js';
export * from './alter-partition-reassignments.js';
export * from './api-versions.js';
export * from './create-partitions.js';
export * from './create-topics.js';
export * from './delete-groups.js';
export * from './delete-records.js';
export * from './delete-topics.js';
export * from './describe-cluster.js';
export * from './describe-configs.js';
export * from './describe-groups.js';
export * from './describe-producers.js';
export * from './elect-leaders.js';
export * from './fetch.js';
export * from './find-coordinator.js';
export * from './heartbeat.js';
export * from './incremental-alter-configs.js';
export * from './init-producer-id.js';
export * from './join-group.js';
export * from './leave-group.js';
export * from './list-groups.js';
export * from './list-offsets.js';
export * from './list-partition-reassignments.js';
export * from './metadata.js';
export * from './offset-commit.js';
export * from './offset-fetch.js';
export * from './offset-for-leader-epoch.js';
export * from './produce.js';
export * from './sasl-handshake.js';
export * from './sync-group.js';
