/**
 * StaticMetadata: a MetadataSource built from a literal description, for tests of code that
 * consumes metadata (the broker's replica manager) without running a controller or Raft.
 *
 *   const meta = new StaticMetadata({
 *     brokers: [{ id: 1 }, { id: 2 }, { id: 3, fenced: true }],
 *     topics: [{ name: 'orders', partitions: [{ replicas: [1, 2, 3] }, { replicas: [2, 3, 1], leader: 3 }] }],
 *   });
 *   meta.subscribe(1, listener);         // initial roles
 *   meta.update({ ...same, changed });   // listeners see the difference (leader epochs bumped)
 *   meta.apply([{ type: 'partitionChange', ... }]); // or drive it with records
 */
import { fullChange } from './delta.js';
import { MetadataImage } from './image.js';
import type { MetadataListener, MetadataSource } from './listener.js';
import { MetadataPublisher } from './publisher.js';
import type { MetadataRecord } from './records.js';

export interface StaticBroker {
  readonly id: number;
  readonly host?: string;
  /** Default 9092 + id. */
  readonly port?: number;
  readonly rack?: string | null;
  readonly fenced?: boolean;
  readonly epoch?: number;
}

export interface StaticPartition {
  readonly replicas: readonly number[];
  /** Default replicas[0]. */
  readonly leader?: number;
  /** Default replicas. */
  readonly isr?: readonly number[];
  readonly leaderEpoch?: number;
  readonly partitionEpoch?: number;
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

export interface StaticTopic {
  readonly name: string;
  /** Default: derived from the name (stable across calls). */
  readonly topicId?: string;
  readonly configs?: Readonly<Record<string, string>>;
  readonly partitions: readonly StaticPartition[];
}

export interface StaticDescription {
  readonly brokers: readonly StaticBroker[];
  readonly topics?: readonly StaticTopic[];
  /** Image offset; default 1. */
  readonly offset?: number;
}

/** A stable, valid topic id derived from a name (tests only). */
export function staticTopicId(name: string): string {
  const b = Buffer.alloc(16);
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < name.length; j++) h = Math.imul(h ^ name.charCodeAt(j), 0x01000193) >>> 0;
    h = Math.imul(h ^ i, 0x01000193) >>> 0;
    b[i] = h & 0xff;
  }
  b[0] = (b[0]! & 0x7f) | 1;
  return b.toString('base64url');
}

export function describeRecords(desc: StaticDescription): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const br of desc.brokers) {
    const epoch = br.epoch ?? 1;
    out.push({
      type: 'registerBroker',
      brokerId: br.id,
      brokerEpoch: epoch,
      host: br.host ?? '127.0.0.1',
      port: br.port ?? 9092 + br.id,
      rack: br.rack ?? null,
      controller: false,
    });
    if (!br.fenced) out.push({ type: 'unfenceBroker', brokerId: br.id, brokerEpoch: epoch });
  }
  for (const t of desc.topics ?? []) {
    const topicId = t.topicId ?? staticTopicId(t.name);
    out.push({ type: 'topic', name: t.name, topicId });
    for (const [k, v] of Object.entries(t.configs ?? {}))
      out.push({ type: 'config', resourceType: 'topic', resourceName: t.name, name: k, value: v });
    t.partitions.forEach((p, i) => {
      out.push({
        type: 'partition',
        topicId,
        partition: i,
        replicas: p.replicas,
        isr: p.isr ?? p.replicas,
        leader: p.leader ?? p.replicas[0] ?? -1,
        leaderEpoch: p.leaderEpoch ?? 0,
        partitionEpoch: p.partitionEpoch ?? 0,
        addingReplicas: p.addingReplicas ?? [],
        removingReplicas: p.removingReplicas ?? [],
      });
    });
  }
  return out;
}

export class StaticMetadata implements MetadataSource {
  private readonly publisher = new MetadataPublisher((err) => {
    throw err;
  });

  /** An image from a description. */
  static image(desc: StaticDescription): MetadataImage {
    return MetadataImage.EMPTY.apply(describeRecords(desc), desc.offset ?? 1).image;
  }

  constructor(desc?: StaticDescription) {
    if (desc !== undefined) this.publisher.replace(StaticMetadata.image(desc));
  }

  image(): MetadataImage {
    return this.publisher.image();
  }

  subscribe(brokerId: number, listener: MetadataListener): () => void {
    return this.publisher.subscribe(brokerId, listener);
  }

  /**
   * Replaces the image with a new description. Leader epochs not given explicitly are bumped
   * where the leader changed, and partition epochs where anything changed, as a controller would.
   */
  update(desc: StaticDescription): void {
    const prev = this.image();
    let next = StaticMetadata.image({ ...desc, offset: desc.offset ?? prev.offset + 1 });
    const fixes: MetadataRecord[] = [];
    for (const p of next.partitions()) {
      const before = prev.topics.get(p.topicId)?.partitions.get(p.partition);
      if (before === undefined) continue;
      const same =
        p.leader === before.leader &&
        sameIds(p.isr, before.isr) &&
        sameIds(p.replicas, before.replicas) &&
        sameIds(p.addingReplicas, before.addingReplicas) &&
        sameIds(p.removingReplicas, before.removingReplicas);
      const leaderEpoch = p.leader === before.leader ? before.leaderEpoch : before.leaderEpoch + 1;
      const partitionEpoch = same ? before.partitionEpoch : before.partitionEpoch + 1;
      if (p.leaderEpoch === 0 && p.partitionEpoch === 0 && (leaderEpoch > 0 || partitionEpoch > 0)) {
        fixes.push({ type: 'partition', ...p, leaderEpoch, partitionEpoch });
      }
    }
    if (fixes.length > 0) next = next.apply(fixes, next.offset).image;
    const change = fullChange(prev, next);
    this.publisher.publish(change);
  }

  /** Applies records, as the metadata log would. */
  apply(records: readonly MetadataRecord[]): void {
    this.publisher.publish(this.image().apply(records, this.image().offset + 1));
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
