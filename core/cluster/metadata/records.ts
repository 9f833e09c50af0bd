/**
 * The replicated metadata, as typed records (KRaft's metadata records, simplified). Every
 * change to the cluster's metadata is one of these, proposed by the active controller through
 * Raft and applied, once committed, by every controller and every broker in log order.
 *
 * Broker ids are Kafka's int32 node ids; `NO_LEADER` (-1) means a partition has no leader.
 * Topic ids are Kafka's 16-byte UUIDs, written as 22 characters of base64url (Kafka's
 * `Uuid.toString()`).
 */

export const NO_LEADER = -1;

export interface RegisterBrokerRecord {
  readonly type: 'registerBroker';
  readonly brokerId: number;
  /** Assigned by the controller, higher on every registration of this broker id. */
  readonly brokerEpoch: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  /** The broker also runs a controller (combined mode). */
  readonly controller: boolean;
}

/** A fenced broker leads nothing and is out of every ISR; it is still registered. */
export interface FenceBrokerRecord {
  readonly type: 'fenceBroker';
  readonly brokerId: number;
  readonly brokerEpoch: number;
}

export interface UnfenceBrokerRecord {
  readonly type: 'unfenceBroker';
  readonly brokerId: number;
  readonly brokerEpoch: number;
}

export interface TopicRecord {
  readonly type: 'topic';
  readonly name: string;
  readonly topicId: string;
}

export interface PartitionRecord {
  readonly type: 'partition';
  readonly topicId: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

/**
 * A change to one partition; absent fields are unchanged. Applying it bumps partitionEpoch, and
 * leaderEpoch too when `leader` is present and differs from the current leader.
 */
export interface PartitionChangeRecord {
  readonly type: 'partitionChange';
  readonly topicId: string;
  readonly partition: number;
  readonly leader?: number;
  readonly isr?: readonly number[];
  readonly replicas?: readonly number[];
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

export type ConfigResourceType = 'topic' | 'broker';

/** Sets (value non-null) or deletes (null) one config key. Broker name '' = cluster default. */
export interface ConfigRecord {
  readonly type: 'config';
  readonly resourceType: ConfigResourceType;
  readonly resourceName: string;
  readonly name: string;
  readonly value: string | null;
}

export interface RemoveTopicRecord {
  readonly type: 'removeTopic';
  readonly topicId: string;
}

/**
 * A block of producer ids handed to a broker (KRaft's ProducerIdsRecord): ids below
 * `nextProducerId` have been given out, so the next block starts there. `brokerId` and
 * `brokerEpoch` say who got the block (-1 and 0 in a snapshot, which keeps only the high mark).
 */
export interface ProducerIdsRecord {
  readonly type: 'producerIds';
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly nextProducerId: number;
}

/**
 * The cluster's id (Kafka's `cluster.id`, 22 characters of base64url), written once by the first
 * active controller; every broker of the cluster reports it in Metadata and DescribeCluster.
 * A later record with another id is skipped: a cluster's id never changes.
 */
export interface ClusterIdRecord {
  readonly type: 'clusterId';
  readonly clusterId: string;
}

export type MetadataRecord =
  | ClusterIdRecord
  | RegisterBrokerRecord
  | FenceBrokerRecord
  | UnfenceBrokerRecord
  | TopicRecord
  | PartitionRecord
  | PartitionChangeRecord
  | ConfigRecord
  | RemoveTopicRecord
  | ProducerIdsRecord;

export type MetadataRecordType = MetadataRecord['type'];
