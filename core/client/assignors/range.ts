/**
 * 'range': Java's RangeAssignor. Topic by topic, the topic's partitions in numeric order are cut
 * into contiguous ranges over its subscribers in member order (static members by
 * group.instance.id first, then member id); the first `partitions % subscribers` get one extra.
 *
 *   C0, C1 subscribed to t0, t1 (3 partitions each):
 *   C0: t0p0 t0p1 t1p0 t1p1    C1: t0p2 t1p2
 *
 * Co-partitioned topics land together (partition i of every topic on the same member), which is
 * why joins use it; with many topics the first members get the extras of every topic. Java's
 * rack-aware variant (KIP-881) needs replica racks this interface does not carry: not done.
 */
import { compareStrings } from '../consumer-protocol.js';
import type { TopicPartition } from '../types.js';
import {
  type Assignor,
  type AssignorMember,
  compareMembers,
  emptyAssignment,
  partitionCount,
} from './assignor.js';

export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'EAGER',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const subscribers = new Map<string, AssignorMember[]>();
    for (const m of members) {
      for (const topic of new Set(m.subscription.topics)) {
        const list = subscribers.get(topic);
        if (list === undefined) subscribers.set(topic, [m]);
        else list.push(m);
      }
    }

    for (const topic of [...subscribers.keys()].sort(compareStrings)) {
      const n = partitionCount(partitionsPerTopic, topic);
      if (n === 0) continue;
      const consumers = subscribers.get(topic)!.sort(compareMembers);
      const perConsumer = Math.floor(n / consumers.length);
      const withExtra = n % consumers.length;
      let next = 0;
      for (let i = 0; i < consumers.length && next < n; i++) {
        const count = perConsumer + (i < withExtra ? 1 : 0);
        const list: TopicPartition[] = out.get(consumers[i]!.memberId)!;
        for (let k = 0; k < count; k++) list.push({ topic, partition: next++ });
      }
    }
    return out;
  },
};
