/**
 * The admin client: topics, configs, offsets, groups and the cluster, over Kafka's admin APIs.
 * Every failure names the topic, group or config it was about.
 */
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/errors.js';
import type { Cluster } from './cluster.js';
import { decodeAssignment } from './consumer-protocol.js';
import { brokerError, KafkaClientError } from './errors.js';
import type {
  Admin,
  ClusterDescription,
  ConfigChange,
  ConfigDescription,
  ConfigEntry,
  ConfigResource,
  GroupDescription,
  GroupListing,
  GroupOffset,
  ListOffsetsResult,
  NewTopic,
  OffsetSpec,
  PartitionReassignment,
  TopicDescription,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';

const RESOURCE_TYPE = { topic: 2, broker: 4 } as const;
const CONFIG_SOURCE: Record<number, ConfigEntry['source']> = {
  1: 'topic',
  2: 'broker',
  3: 'broker',
  4: 'static-broker',
  5: 'default',
};
const OPS = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

/** The group's cached coordinator is wrong: it is unreachable, or says it is not the coordinator. */
function coordinatorGone(err: unknown): boolean {
  if (err instanceof Error && err.name === 'NetworkError') return true; // connection lost or refused
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'NOT_COORDINATOR' || code === 'COORDINATOR_NOT_AVAILABLE' || code === 'NETWORK_EXCEPTION';
}

function groupBy<T>(items: readonly T[], keyOf: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) {
    const k = keyOf(i);
    const list = out.get(k);
    if (list) list.push(i);
    else out.set(k, [i]);
  }
  return out;
}

export class AdminImpl implements Admin {
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly onClose?: () => void,
  ) {}

  private deadline(timeoutMs?: number): number {
    return Date.now() + (timeoutMs ?? this.cluster.options.requestTimeoutMs);
  }

  /**
   * Runs op against the group's coordinator, retrying retriable failures with backoff within
   * request.timeout.ms. A lost connection (the coordinator died) and NOT_COORDINATOR /
   * COORDINATOR_NOT_AVAILABLE (it moved) forget the cached coordinator, so the next attempt asks
   * FindCoordinator again.
   */
  private withCoordinator<T>(groupId: string, what: string, op: (node: number) => Promise<T>): Promise<T> {
    return this.cluster.withRetries(what, this.deadline(), async () => {
      const node = await this.cluster.coordinator(groupId);
      try {
        return await op(node);
      } catch (err) {
        if (coordinatorGone(err)) this.cluster.invalidateCoordinator(groupId);
        throw err;
      }
    });
  }

  /** Admin requests go to the controller, as Kafka's do (any broker on a single node). */
  private async controller(): Promise<number> {
    if (this.cluster.controllerId < 0 || !this.cluster.brokers.has(this.cluster.controllerId)) {
      await this.cluster.refreshMetadata([]);
    }
    // A controller that is not also a broker (KRaft) cannot take requests: any broker forwards them.
    return this.cluster.brokers.has(this.cluster.controllerId)
      ? this.cluster.controllerId
      : [...this.cluster.brokers.keys()][0]!;
  }

  async createTopics(
    topics: readonly NewTopic[],
    opts: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const res = await this.cluster.withRetries('creating topics', this.deadline(timeoutMs), async () =>
      this.cluster.request(await this.controller(), ApiKey.CreateTopics, {
        topics: topics.map((t) => ({
          name: t.topic,
          numPartitions: t.numPartitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          assignments: [],
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
        timeoutMs,
        validateOnly: opts.validateOnly ?? false,
      }),
    );
    const failed = res.topics.find((t) => t.errorCode !== 0);
    if (failed) throw brokerError(failed.errorCode, `creating topic ${failed.name}`, failed.errorMessage);
    if (!opts.validateOnly)
      await this.cluster.refreshMetadata(
        topics.map((t) => t.topic),
        false,
      );
  }

  async deleteTopics(topics: readonly string[], opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const res = await this.cluster.request(await this.controller(), ApiKey.DeleteTopics, {
      topics: topics.map((name) => ({ name })),
      topicNames: [...topics],
      timeoutMs,
    });
    const failed = res.responses.find((t) => t.errorCode !== 0);
    if (failed)
      throw brokerError(failed.errorCode, `deleting topic ${failed.name ?? ''}`, failed.errorMessage);
    for (const t of topics) this.cluster.topics.delete(t);
  }

  async listTopics(opts: { includeInternal?: boolean } = {}): Promise<string[]> {
    await this.cluster.refreshMetadata(null, false);
    return [...this.cluster.topics.values()]
      .filter((t) => opts.includeInternal || !t.internal)
      .map((t) => t.name)
      .sort();
  }

  async describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    await this.cluster.refreshMetadata(topics, false);
    return topics.map((name) => {
      const t = this.cluster.topics.get(name);
      if (!t) throw new KafkaClientError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      return {
        name,
        topicId: t.topicId,
        internal: t.internal,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicas,
          isr: p.isr,
          offlineReplicas: p.offlineReplicas,
        })),
      };
    });
  }

  async createPartitions(changes: readonly { topic: string; count: number }[]): Promise<void> {
    const res = await this.cluster.request(await this.controller(), ApiKey.CreatePartitions, {
      topics: changes.map((c) => ({ name: c.topic, count: c.count, assignments: null })),
      timeoutMs: 60_000,
      validateOnly: false,
    });
    const failed = res.results.find((r) => r.errorCode !== 0);
    if (failed)
      throw brokerError(failed.errorCode, `adding partitions to ${failed.name}`, failed.errorMessage);
    await this.cluster.refreshMetadata(
      changes.map((c) => c.topic),
      false,
    );
  }

  async listOffsets(
    query: readonly (TopicPartition & { spec: OffsetSpec })[],
    opts: { isolationLevel?: 'read_uncommitted' | 'read_committed' } = {},
  ): Promise<ListOffsetsResult[]> {
    const timestampOf = (spec: OffsetSpec): number =>
      spec === 'earliest' ? -2 : spec === 'latest' ? -1 : spec === 'max-timestamp' ? -3 : spec.timestamp;
    return this.cluster.listOffsets(
      query.map((q) => ({ topic: q.topic, partition: q.partition, timestamp: timestampOf(q.spec) })),
      { isolationLevel: opts.isolationLevel === 'read_committed' ? 1 : 0 },
    );
  }

  async describeConfigs(resources: readonly ConfigResource[]): Promise<ConfigDescription[]> {
    const res = await this.cluster.request(await this.controller(), ApiKey.DescribeConfigs, {
      resources: resources.map((r) => ({
        resourceType: RESOURCE_TYPE[r.type],
        resourceName: r.type === 'broker' && r.name === '' ? String(this.cluster.controllerId) : r.name,
        configurationKeys: null,
      })),
      includeSynonyms: false,
      includeDocumentation: false,
    });
    return res.results.map((r, i) => {
      if (r.errorCode !== 0)
        throw brokerError(
          r.errorCode,
          `describing configs of ${resources[i]!.type} ${r.resourceName}`,
          r.errorMessage,
        );
      return {
        resource: resources[i]!,
        entries: r.configs.map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          isDefault: c.configSource === 5 || c.isDefault,
          isSensitive: c.isSensitive,
          source: CONFIG_SOURCE[c.configSource] ?? 'unknown',
        })),
      };
    });
  }

  async alterConfigs(resource: ConfigResource, changes: readonly ConfigChange[]): Promise<void> {
    const res = await this.cluster.request(await this.controller(), ApiKey.IncrementalAlterConfigs, {
      resources: [
        {
          resourceType: RESOURCE_TYPE[resource.type],
          resourceName: resource.name,
          configs: changes.map((c) => ({
            name: c.name,
            configOperation: OPS[c.op ?? (c.value === null ? 'delete' : 'set')],
            value: c.value,
          })),
        },
      ],
      validateOnly: false,
    });
    const r = res.responses[0];
    if (r && r.errorCode !== 0)
      throw brokerError(r.errorCode, `altering configs of ${resource.type} ${resource.name}`, r.errorMessage);
  }

  async listGroups(): Promise<GroupListing[]> {
    await this.cluster.refreshMetadata([]);
    const out: GroupListing[] = [];
    for (const id of this.cluster.brokers.keys()) {
      const res = await this.cluster.request(id, ApiKey.ListGroups, { statesFilter: [], typesFilter: [] });
      if (res.errorCode !== 0) throw brokerError(res.errorCode, `listing groups on broker ${id}`);
      for (const g of res.groups)
        out.push({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState });
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const groupId of groupIds) {
      const { node, g } = await this.withCoordinator(groupId, `describing group ${groupId}`, async (node) => {
        const res = await this.cluster.request(
          node,
          ApiKey.DescribeGroups,
          { groups: [groupId], includeAuthorizedOperations: false },
          { purpose: 'coordinator' },
        );
        const g = res.groups[0]!;
        if (g.errorCode !== 0) throw brokerError(g.errorCode, `describing group ${groupId}`);
        return { node, g };
      });
      out.push({
        groupId: g.groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        protocol: g.protocolData,
        coordinator: node,
        members: g.members.map((m) => {
          let assignment: TopicPartition[] = [];
          if (g.protocolType === 'consumer' && m.memberAssignment.length > 0) {
            try {
              assignment = decodeAssignment(m.memberAssignment).partitions;
            } catch {
              // not a consumer-protocol assignment
            }
          }
          return {
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment,
          };
        }),
      });
    }
    return out;
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    for (const groupId of groupIds) {
      await this.withCoordinator(groupId, `deleting group ${groupId}`, async (node) => {
        const res = await this.cluster.request(
          node,
          ApiKey.DeleteGroups,
          { groupsNames: [groupId] },
          { purpose: 'coordinator' },
        );
        const r = res.results[0];
        if (r && r.errorCode !== 0) throw brokerError(r.errorCode, `deleting group ${groupId}`);
      });
    }
  }

  async listGroupOffsets(groupId: string): Promise<GroupOffset[]> {
    const what = `listing offsets of group ${groupId}`;
    const group = await this.withCoordinator(groupId, what, async (node) => {
      const res = await this.cluster.request(
        node,
        ApiKey.OffsetFetch,
        { groupId, topics: null, groups: [{ groupId, topics: null }], requireStable: false },
        { purpose: 'coordinator' },
      );
      const g = res.groups.length > 0 ? res.groups[0]! : { errorCode: res.errorCode, topics: res.topics };
      if (g.errorCode !== 0) throw brokerError(g.errorCode, what);
      return g;
    });
    const committed: TopicPartitionOffset[] = [];
    for (const t of group.topics) {
      for (const p of t.partitions) {
        if (p.committedOffset >= 0) {
          committed.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            metadata: p.metadata,
          });
        }
      }
    }
    if (committed.length === 0) return [];
    const ends = await this.listOffsets(
      committed.map((c) => ({ topic: c.topic, partition: c.partition, spec: 'latest' as const })),
    );
    const endOf = new Map(ends.map((e) => [`${e.topic}\u0000${e.partition}`, e.offset]));
    return committed
      .map((c) => {
        const end = endOf.get(`${c.topic}\u0000${c.partition}`) ?? -1;
        return { ...c, logEndOffset: end, lag: end >= 0 ? Math.max(0, end - c.offset) : -1 };
      })
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  async alterGroupOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    await this.withCoordinator(groupId, `setting offsets of group ${groupId}`, async (node) => {
      const res = await this.cluster.request(
        node,
        ApiKey.OffsetCommit,
        {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [...groupBy(offsets, (o) => o.topic)].map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({
              partitionIndex: p.partition,
              committedOffset: p.offset,
              committedLeaderEpoch: -1,
              committedMetadata: p.metadata ?? '',
            })),
          })),
        },
        { purpose: 'coordinator' },
      );
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || p.errorCode === ErrorCode.ILLEGAL_GENERATION) {
            throw new KafkaClientError(
              'NON_EMPTY_GROUP',
              `group ${groupId} has active members: stop its consumers before changing its offsets`,
            );
          }
          if (p.errorCode !== 0)
            throw brokerError(
              p.errorCode,
              `setting the offset of ${t.name}-${p.partitionIndex} for group ${groupId}`,
            );
        }
      }
    });
  }

  async deleteRecords(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const byLeader = new Map<number, TopicPartitionOffset[]>();
    for (const o of offsets) {
      await this.cluster.topic(o.topic, { allowAutoCreate: false });
      const leader = this.cluster.leaderFor(o.topic, o.partition);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), o]);
    }
    for (const [leader, list] of byLeader) {
      const res = await this.cluster.request(leader, ApiKey.DeleteRecords, {
        topics: [...groupBy(list, (o) => o.topic)].map(([name, ps]) => ({
          name,
          partitions: ps.map((p) => ({ partitionIndex: p.partition, offset: p.offset })),
        })),
        timeoutMs: 30_000,
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0)
            throw brokerError(p.errorCode, `deleting records of ${t.name}-${p.partitionIndex}`);
        }
      }
    }
  }

  async describeCluster(): Promise<ClusterDescription> {
    const conn = await this.cluster.anyConnection();
    const res = await conn.request(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false });
    if (res.errorCode !== 0) throw brokerError(res.errorCode, 'describing the cluster', res.errorMessage);
    return {
      clusterId: res.clusterId,
      controllerId: res.controllerId,
      brokers: res.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })),
    };
  }

  async electLeaders(
    type: 'preferred' | 'unclean',
    partitions?: readonly TopicPartition[],
  ): Promise<TopicPartition[]> {
    const res = await this.cluster.request(await this.controller(), ApiKey.ElectLeaders, {
      electionType: type === 'unclean' ? 1 : 0,
      topicPartitions:
        partitions === undefined
          ? null
          : [...groupBy(partitions, (p) => p.topic)].map(([topic, ps]) => ({
              topic,
              partitions: ps.map((p) => p.partition),
            })),
      timeoutMs: 60_000,
    });
    if (res.errorCode !== 0) throw brokerError(res.errorCode, `electing ${type} leaders`);
    const elected: TopicPartition[] = [];
    for (const t of res.replicaElectionResults) {
      for (const p of t.partitionResult) {
        if (p.errorCode === ErrorCode.ELECTION_NOT_NEEDED) continue;
        if (p.errorCode !== 0)
          throw brokerError(
            p.errorCode,
            `electing a ${type} leader for ${t.topic}-${p.partitionId}`,
            p.errorMessage,
          );
        elected.push({ topic: t.topic, partition: p.partitionId });
      }
    }
    return elected;
  }

  async alterPartitionReassignments(
    reassignments: readonly (TopicPartition & { replicas: readonly number[] | null })[],
  ): Promise<void> {
    const res = await this.cluster.request(await this.controller(), ApiKey.AlterPartitionReassignments, {
      timeoutMs: 60_000,
      topics: [...groupBy(reassignments, (r) => r.topic)].map(([name, rs]) => ({
        name,
        partitions: rs.map((r) => ({
          partitionIndex: r.partition,
          replicas: r.replicas === null ? null : [...r.replicas],
        })),
      })),
    });
    if (res.errorCode !== 0) throw brokerError(res.errorCode, 'reassigning partitions', res.errorMessage);
    for (const t of res.responses) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0)
          throw brokerError(p.errorCode, `reassigning ${t.name}-${p.partitionIndex}`, p.errorMessage);
      }
    }
  }

  async listPartitionReassignments(partitions?: readonly TopicPartition[]): Promise<PartitionReassignment[]> {
    const res = await this.cluster.request(await this.controller(), ApiKey.ListPartitionReassignments, {
      timeoutMs: 60_000,
      topics:
        partitions === undefined
          ? null
          : [...groupBy(partitions, (p) => p.topic)].map(([name, ps]) => ({
              name,
              partitionIndexes: ps.map((p) => p.partition),
            })),
    });
    if (res.errorCode !== 0)
      throw brokerError(res.errorCode, 'listing partition reassignments', res.errorMessage);
    return res.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        replicas: [...p.replicas],
        addingReplicas: [...p.addingReplicas],
        removingReplicas: [...p.removingReplicas],
      })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.cluster.close();
    this.onClose?.();
  }
}
