/**
 * Invariants of the cluster metadata, checked on every image any node (controller or broker)
 * applies:
 * - a partition's leader is a replica, in the ISR, registered and not fenced (or NO_LEADER);
 *   the ISR is a non-empty subset of the replicas;
 * - at most one leader per partition per leader epoch, across all nodes and all time;
 * - within a node's incarnation, leader and partition epochs never go backwards;
 * - a new leader comes from the previous ISR, unless the topic allows unclean election or the
 *   change completes a reassignment (checked where a node saw the partition change by exactly
 *   one partition epoch);
 * - producer id blocks: no two acknowledged allocateProducerIds answers overlap, and a node's
 *   producer-id high mark never goes backwards (and covers every block it acknowledged, at the end).
 */
import type { MetadataImage } from '../../metadata/image.js';
import { NO_LEADER } from '../../metadata/records.js';
import { SimViolation } from '../../sim/checker.js';
import { uncleanAllowed } from '../topic-configs.js';

export class MetadataChecker {
  private readonly leaderOfEpoch = new Map<string, number>();
  private readonly lastSeen = new Map<
    string,
    { leaderEpoch: number; partitionEpoch: number; isr: readonly number[]; replicas: readonly number[] }
  >();
  /** Acknowledged producer id blocks, [first, end). */
  private readonly producerIdBlocks: { first: number; end: number }[] = [];
  private readonly producerIdMark = new Map<number, number>();
  uncleanElections = 0;
  checkedImages = 0;
  maxLeaderEpoch = 0;

  /** A node restarted: its epochs start again from what its disk held. */
  restarted(nodeId: number): void {
    for (const k of [...this.lastSeen.keys()]) if (k.startsWith(`${nodeId}/`)) this.lastSeen.delete(k);
    this.producerIdMark.delete(nodeId);
  }

  /** A controller acknowledged the producer id block [first, first + size). */
  producerIdBlock(first: number, size: number): void {
    const end = first + size;
    for (const b of this.producerIdBlocks) {
      if (first < b.end && b.first < end)
        throw new SimViolation(`producer id block [${first}, ${end}) overlaps [${b.first}, ${b.end})`);
    }
    this.producerIdBlocks.push({ first, end });
  }

  get producerIdBlocksGranted(): number {
    return this.producerIdBlocks.length;
  }

  /** The end of the highest acknowledged block (0: none). */
  get producerIdHighest(): number {
    return this.producerIdBlocks.reduce((m, b) => Math.max(m, b.end), 0);
  }

  observe(nodeId: number, image: MetadataImage): void {
    this.checkedImages++;
    const mark = this.producerIdMark.get(nodeId) ?? 0;
    if (image.nextProducerId < mark)
      throw new SimViolation(
        `node ${nodeId} @${image.offset}: producer id mark went backwards (${mark} → ${image.nextProducerId})`,
      );
    this.producerIdMark.set(nodeId, image.nextProducerId);
    for (const p of image.partitions()) {
      const where = `node ${nodeId} @${image.offset} ${p.topic}-${p.partition}`;
      if (p.isr.length === 0) throw new SimViolation(`${where}: empty ISR`);
      if (!p.isr.every((r) => p.replicas.includes(r)))
        throw new SimViolation(`${where}: ISR ${p.isr} ⊄ replicas ${p.replicas}`);
      if (p.leader !== NO_LEADER) {
        if (!p.isr.includes(p.leader))
          throw new SimViolation(`${where}: leader ${p.leader} not in ISR ${p.isr}`);
        const b = image.brokers.get(p.leader);
        if (b === undefined || b.fenced)
          throw new SimViolation(`${where}: leader ${p.leader} is fenced or unknown`);
      }
      const key = `${p.topicId}:${p.partition}:${p.leaderEpoch}`;
      const seen = this.leaderOfEpoch.get(key);
      if (seen === undefined) this.leaderOfEpoch.set(key, p.leader);
      else if (seen !== p.leader)
        throw new SimViolation(
          `${where}: leader epoch ${p.leaderEpoch} has two leaders, ${seen} and ${p.leader}`,
        );
      if (p.leaderEpoch > this.maxLeaderEpoch) this.maxLeaderEpoch = p.leaderEpoch;
      const mine = `${nodeId}/${p.topicId}:${p.partition}`;
      const last = this.lastSeen.get(mine);
      if (
        last !== undefined &&
        (p.leaderEpoch < last.leaderEpoch || p.partitionEpoch < last.partitionEpoch)
      ) {
        throw new SimViolation(
          `${where}: epochs went backwards (${last.leaderEpoch}/${last.partitionEpoch} → ${p.leaderEpoch}/${p.partitionEpoch})`,
        );
      }
      if (
        last !== undefined &&
        p.partitionEpoch === last.partitionEpoch + 1 &&
        p.leaderEpoch > last.leaderEpoch &&
        p.leader !== NO_LEADER &&
        !last.isr.includes(p.leader) &&
        // completing a reassignment elects from the ISR its leader just reported (AlterPartition)
        last.replicas.join() === p.replicas.join()
      ) {
        const unclean = uncleanAllowed(image, image.topics.get(p.topicId));
        if (!unclean)
          throw new SimViolation(`${where}: leader ${p.leader} elected from outside the ISR ${last.isr}`);
        this.uncleanElections++;
      }
      this.lastSeen.set(mine, {
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
        isr: p.isr,
        replicas: p.replicas,
      });
    }
  }
}
