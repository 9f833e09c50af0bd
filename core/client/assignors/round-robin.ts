/**
 * 'roundrobin': Java's RoundRobinAssignor. Every partition of every subscribed topic, sorted by
 * (topic, partition), is dealt in turn over all members in member order (static members by
 * group.instance.id first, then member id); a member not subscribed to the partition's topic is
 * skipped and keeps its place in the circle.
 *
 *   C0, C1 subscribed to t0, t1 (3 partitions each):
 *   C0: t0p0 t0p2 t1p1    C1: t0p1 t1p0 t1p2
 *
 * Balanced within one partition when all members subscribe to the same topics.
 *
 * 'RoundRobinAssigner' is the same algorithm under kafkajs's protocol name, so that our
 * consumers can share a group with kafkajs ones (kafkajs offers nothing else). When a kafkajs
 * member leads such a group it deals the union of all subscriptions over all members without
 * looking at who subscribed to what: a member can be handed a topic it did not subscribe to.
 */
import { compareStrings } from '../consumer-protocol.js';
import { type Assignor, compareMembers, emptyAssignment, partitionCount } from './assignor.js';

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'EAGER',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const circle = [...members].sort(compareMembers);
    const subscribed = circle.map((m) => new Set(m.subscription.topics));
    const topics = new Set<string>();
    for (const s of subscribed) for (const t of s) topics.add(t);

    let at = 0;
    for (const topic of [...topics].sort(compareStrings)) {
      const n = partitionCount(partitionsPerTopic, topic);
      for (let partition = 0; partition < n; partition++) {
        // Some member subscribes to `topic` (it came from a subscription), so this ends.
        while (!subscribed[at]!.has(topic)) at = (at + 1) % circle.length;
        out.get(circle[at]!.memberId)!.push({ topic, partition });
        at = (at + 1) % circle.length;
      }
    }
    return out;
  },
};

/** kafkajs's protocol name for round robin; the assignment is Java's (valid for kafkajs members). */
export const kafkajsRoundRobinAssignor: Assignor = {
  ...roundRobinAssignor,
  name: 'RoundRobinAssigner',
};
