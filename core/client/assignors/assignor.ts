/**
 * Partition assignors: the group leader runs one over every member's decoded subscription and
 * sends each member its share in SyncGroup. Names are the protocol names on the wire, so the
 * coordinator can only pick one that every member of the group offers:
 *
 * | name                 | Java client | librdkafka | kafkajs              |
 * |----------------------|-------------|------------|----------------------|
 * | 'range'              | yes (default: range, cooperative-sticky) | yes (default: range, roundrobin) | no |
 * | 'roundrobin'         | yes         | yes        | no                   |
 * | 'cooperative-sticky' | yes         | yes (≥ 1.6) | no                  |
 * | 'RoundRobinAssigner' | no          | no         | yes (its only built-in) |
 *
 * A group mixing kafkajs members with Java/librdkafka members has no common protocol and the
 * coordinator refuses the join (INCONSISTENT_GROUP_PROTOCOL). Ours join such groups by also
 * offering 'RoundRobinAssigner' (see round-robin.ts).
 *
 * Assignors are pure and deterministic: the same members (in any order) and partition counts
 * give the same assignment. Members are compared with Java's String.compareTo order.
 */
import { compareStrings, type Subscription } from '../consumer-protocol.js';
import type { TopicPartition } from '../types.js';

export interface AssignorMember {
  memberId: string;
  /** group.instance.id of a static member, else null. */
  groupInstanceId: string | null;
  subscription: Subscription;
}

export type RebalanceProtocol = 'EAGER' | 'COOPERATIVE';

export interface Assignor {
  /** The protocol name in JoinGroup. */
  readonly name: string;
  /**
   * EAGER: members revoke everything before rejoining. COOPERATIVE: members keep what they own
   * and revoke only what the assignment takes away (see cooperative-sticky.ts).
   */
  readonly rebalanceProtocol: RebalanceProtocol;
  /**
   * The userData a member puts in its subscription, given what it owns now and the generation
   * it owns it in (-1 before the first assignment). Absent: null.
   */
  subscriptionUserData?(
    topics: readonly string[],
    owned: readonly TopicPartition[],
    generationId: number,
  ): Buffer | null;
  /**
   * Assigns the partitions of the subscribed topics. `partitionsPerTopic` holds the partition
   * count of every subscribed topic that exists; topics missing from it are skipped. The result
   * has an entry, possibly empty, for every member.
   */
  assign(
    members: readonly AssignorMember[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Map<string, TopicPartition[]>;
}

/**
 * Java's AbstractPartitionAssignor.MemberInfo order: static members first, by
 * group.instance.id (which survives restarts, so assignments do too), then the others by
 * member id.
 */
export function compareMembers(a: AssignorMember, b: AssignorMember): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) {
    return compareStrings(a.groupInstanceId, b.groupInstanceId);
  }
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** Partition count of `topic`, or 0 when it has no metadata (or no partitions). */
export function partitionCount(partitionsPerTopic: ReadonlyMap<string, number>, topic: string): number {
  const n = partitionsPerTopic.get(topic);
  return n !== undefined && n > 0 ? n : 0;
}

/** An entry, empty, for every member. */
export function emptyAssignment(members: readonly AssignorMember[]): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>();
  for (const m of members) out.set(m.memberId, []);
  return out;
}
