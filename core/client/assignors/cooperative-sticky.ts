/**
 * 'cooperative-sticky' (Java's CooperativeStickyAssignor, KIP-429): the sticky assignment
 * (sticky.ts) under the COOPERATIVE rebalance protocol. Members keep consuming what they own
 * through a rebalance; a partition changes hands in two rebalances instead of one stop-the-world:
 *
 * - The leader computes the balanced target, then leaves out of this generation's assignment
 *   every partition that goes to a member while another member still owns it (the Java leader
 *   does the same, and Java members check it: validateCooperativeAssignment).
 * - The owner finds that partition missing from its new assignment and revokes it; because it
 *   revoked something it rejoins at once; the next assignment (nobody owns it now) gives it to
 *   its new member.
 *
 * What the consumer (the group membership code, elsewhere) must do for this to hold:
 * 1. JoinGroup with protocol type "consumer", this assignor's name and a subscription (v3) with
 *    ownedPartitions = the partitions it owns now, generationId = the generation it got them in
 *    (-1 when it owns nothing or lost its membership) and userData = subscriptionUserData(...).
 * 2. After SyncGroup: revoked = owned − assigned, added = assigned − owned. Stop fetching and
 *    commit the revoked ones, then call onPartitionsRevoked(revoked) (before anything else);
 *    start the added ones and call onPartitionsAssigned(added) (also when empty). Partitions
 *    in both keep being fetched without a pause: no revoke/assign callbacks for them.
 * 3. If revoked was not empty, rejoin right away (Java: requestRejoin "need to revoke partitions
 *    and re-join").
 * 4. When the membership is lost (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
 *    session timeout): onPartitionsLost(owned), owned = [], generation -1 — never commit for
 *    lost partitions, another member may already have them.
 * 5. The protocol is COOPERATIVE only if every configured assignor supports it (Java: the
 *    common protocol of partition.assignment.strategy; ['range', 'cooperative-sticky'] is
 *    EAGER until 'range' is dropped, the documented two-bounce upgrade). Under EAGER, revoke
 *    everything before JoinGroup and send ownedPartitions empty.
 *
 * Generations: Java ≥ 2.8 members send generationId in the subscription (v2+); older Java
 * members put it in userData as one int32; librdkafka (≥ 1.6, including 2.0.2) sends
 * StickyAssignor userData v1 ([topic [partition]] generation). All three are read.
 */
import type { Assignor, AssignorMember } from './assignor.js';
import { planStickyAssignment } from './sticky.js';

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'COOPERATIVE',

  /** Java's format: the generation as one int32, for leaders that read subscriptions v0-1. */
  subscriptionUserData(_topics, _owned, generationId) {
    const buf = Buffer.allocUnsafe(4);
    buf.writeInt32BE(generationId, 0);
    return buf;
  },

  assign(members, partitionsPerTopic) {
    return planStickyAssignment(members, partitionsPerTopic, memberGeneration).assignment;
  },
};

/** The generation a member owned its partitions in, or -1 when it does not say. */
export function memberGeneration(member: AssignorMember): number {
  const sub = member.subscription;
  if (sub.generationId >= 0) return sub.generationId;
  const userData = sub.userData;
  if (userData === null) return -1;
  if (userData.length === 4) return readInt32BE(userData, 0);
  return stickyUserDataGeneration(userData);
}

/**
 * The generation in StickyAssignor userData v1 (librdkafka's cooperative-sticky, Java's eager
 * 'sticky'): [topic:string [partition:int32]] generation:int32. -1 when it does not parse
 * exactly (v0 has no generation).
 */
export function stickyUserDataGeneration(data: Uint8Array): number {
  let pos = 0;
  const need = (n: number): boolean => pos + n <= data.length;
  if (!need(4)) return -1;
  const topics = readInt32BE(data, pos);
  pos += 4;
  if (topics < 0) return -1;
  for (let i = 0; i < topics; i++) {
    if (!need(2)) return -1;
    const len = (data[pos]! << 8) | data[pos + 1]!;
    pos += 2;
    if (len > 0x7fff || !need(len + 4)) return -1;
    pos += len;
    const partitions = readInt32BE(data, pos);
    pos += 4;
    if (partitions < 0 || !need(partitions * 4)) return -1;
    pos += partitions * 4;
  }
  if (pos + 4 !== data.length) return -1;
  return readInt32BE(data, pos);
}

function readInt32BE(data: Uint8Array, pos: number): number {
  return (data[pos]! << 24) | (data[pos + 1]! << 16) | (data[pos + 2]! << 8) | data[pos + 3]!;
}
