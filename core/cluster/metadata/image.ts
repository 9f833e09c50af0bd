/**
 * MetadataImage: an immutable view of the cluster's metadata at one offset of the metadata log
 * (brokers with liveness, topics with configs, partitions with replicas, ISR and leaders, and the
 * producer-id high mark).
 * `apply(records, offset)` returns a new image (copy-on-write: untouched topics are shared) and
 * the set of partitions it touched, from which per-broker deltas are computed (delta.ts).
 *
 * Applying is deterministic and never throws on a record that does not fit the state (a change
 * to a topic that was deleted meanwhile, say): such a record is skipped and counted, so every
 * replica skips it alike. The controller validates before proposing.
 */
import type { ConfigResourceType, MetadataRecord, PartitionChangeRecord } from './records.js';
import { NO_LEADER } from './records.js';

export interface BrokerRegistration {
  readonly id: number;
  readonly epoch: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly controller: boolean;
  /** Fenced: registered but not alive (missed heartbeats, shutting down, or not caught up yet). */
  readonly fenced: boolean;
}

export interface PartitionImage {
  readonly topicId: string;
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Partitions by index (0..n-1). */
  readonly partitions: ReadonlyMap<number, PartitionImage>;
  readonly configs: ReadonlyMap<string, string>;
}

/** `topicId:partition`, the key of the touched set. */
export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

export interface ApplyResult {
  readonly image: MetadataImage;
  /** Partitions added, changed or removed (keys from partitionKey). */
  readonly touched: ReadonlySet<string>;
  readonly brokersChanged: boolean;
  /** Topic names whose configs changed. */
  readonly configsChanged: ReadonlySet<string>;
  /** Records that did not fit the state and were skipped. */
  readonly skipped: number;
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage(0, new Map(), new Map(), new Map(), new Map(), 0, null);

  private constructor(
    /** The metadata log index of the last record applied (0 = none). */
    readonly offset: number,
    readonly brokers: ReadonlyMap<number, BrokerRegistration>,
    /** Topics by id. */
    readonly topics: ReadonlyMap<string, TopicImage>,
    /** Topic ids by name. */
    readonly topicIds: ReadonlyMap<string, string>,
    /** Broker configs by broker id as a string ('' = cluster-wide default). */
    readonly brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>,
    /** The first producer id no broker has been given yet (producer id blocks, ProducerIdsRecord). */
    readonly nextProducerId: number,
    /** The cluster's id (ClusterIdRecord); null until the first active controller wrote it. */
    readonly clusterId: string | null,
  ) {}

  topicByName(name: string): TopicImage | undefined {
    const id = this.topicIds.get(name);
    return id === undefined ? undefined : this.topics.get(id);
  }

  partition(topicIdOrName: string, partition: number): PartitionImage | undefined {
    const t = this.topics.get(topicIdOrName) ?? this.topicByName(topicIdOrName);
    return t?.partitions.get(partition);
  }

  /** Every partition, topic by topic. */
  *partitions(): IterableIterator<PartitionImage> {
    for (const t of this.topics.values()) yield* t.partitions.values();
  }

  /** Registered brokers that are not fenced. */
  liveBrokers(): BrokerRegistration[] {
    return [...this.brokers.values()].filter((b) => !b.fenced);
  }

  isLive(brokerId: number): boolean {
    const b = this.brokers.get(brokerId);
    return b !== undefined && !b.fenced;
  }

  apply(records: readonly MetadataRecord[], offset: number): ApplyResult {
    const b = new ImageBuilder(this);
    for (const r of records) b.apply(r);
    return b.build(Math.max(offset, this.offset));
  }

  /** The records that rebuild this image from empty (for snapshots). */
  toRecords(): MetadataRecord[] {
    const out: MetadataRecord[] = [];
    if (this.clusterId !== null) out.push({ type: 'clusterId', clusterId: this.clusterId });
    for (const br of this.brokers.values()) {
      out.push({
        type: 'registerBroker',
        brokerId: br.id,
        brokerEpoch: br.epoch,
        host: br.host,
        port: br.port,
        rack: br.rack,
        controller: br.controller,
      });
      if (!br.fenced) out.push({ type: 'unfenceBroker', brokerId: br.id, brokerEpoch: br.epoch });
    }
    for (const [name, configs] of this.brokerConfigs) {
      for (const [k, v] of configs)
        out.push({ type: 'config', resourceType: 'broker', resourceName: name, name: k, value: v });
    }
    if (this.nextProducerId > 0)
      out.push({ type: 'producerIds', brokerId: -1, brokerEpoch: 0, nextProducerId: this.nextProducerId });
    for (const t of this.topics.values()) {
      out.push({ type: 'topic', name: t.name, topicId: t.topicId });
      for (const [k, v] of t.configs)
        out.push({ type: 'config', resourceType: 'topic', resourceName: t.name, name: k, value: v });
      for (const p of t.partitions.values()) {
        out.push({
          type: 'partition',
          topicId: p.topicId,
          partition: p.partition,
          replicas: p.replicas,
          isr: p.isr,
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          addingReplicas: p.addingReplicas,
          removingReplicas: p.removingReplicas,
        });
      }
    }
    return out;
  }

  /** @internal for ImageBuilder */
  static create(
    offset: number,
    brokers: ReadonlyMap<number, BrokerRegistration>,
    topics: ReadonlyMap<string, TopicImage>,
    topicIds: ReadonlyMap<string, string>,
    brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>,
    nextProducerId: number,
    clusterId: string | null,
  ): MetadataImage {
    return new MetadataImage(offset, brokers, topics, topicIds, brokerConfigs, nextProducerId, clusterId);
  }
}

interface MutableTopic {
  name: string;
  topicId: string;
  partitions: Map<number, PartitionImage>;
  configs: Map<string, string>;
}

class ImageBuilder {
  private brokers: Map<number, BrokerRegistration> | null = null;
  private topics: Map<string, TopicImage | MutableTopic> | null = null;
  private topicIds: Map<string, string> | null = null;
  private brokerConfigs: Map<string, ReadonlyMap<string, string>> | null = null;
  private nextProducerId: number;
  private clusterId: string | null;
  private readonly copied = new Set<string>();
  readonly touched = new Set<string>();
  readonly configsChanged = new Set<string>();
  brokersChanged = false;
  skipped = 0;

  constructor(private readonly base: MetadataImage) {
    this.nextProducerId = base.nextProducerId;
    this.clusterId = base.clusterId;
  }

  private brokersW(): Map<number, BrokerRegistration> {
    this.brokers ??= new Map(this.base.brokers);
    this.brokersChanged = true;
    return this.brokers;
  }

  private topicsR(): ReadonlyMap<string, TopicImage> {
    return this.topics ?? this.base.topics;
  }

  private topicIdsW(): Map<string, string> {
    this.topicIds ??= new Map(this.base.topicIds);
    return this.topicIds;
  }

  private topicW(topicId: string): MutableTopic | undefined {
    this.topics ??= new Map(this.base.topics);
    const t = this.topics.get(topicId);
    if (t === undefined) return undefined;
    if (this.copied.has(topicId)) return t as MutableTopic;
    const copy: MutableTopic = {
      name: t.name,
      topicId: t.topicId,
      partitions: new Map(t.partitions),
      configs: new Map(t.configs),
    };
    this.topics.set(topicId, copy);
    this.copied.add(topicId);
    return copy;
  }

  apply(r: MetadataRecord): void {
    switch (r.type) {
      case 'registerBroker': {
        const prev = (this.brokers ?? this.base.brokers).get(r.brokerId);
        if (prev !== undefined && prev.epoch >= r.brokerEpoch) {
          this.skip();
          return;
        }
        this.brokersW().set(r.brokerId, {
          id: r.brokerId,
          epoch: r.brokerEpoch,
          host: r.host,
          port: r.port,
          rack: r.rack,
          controller: r.controller,
          fenced: true,
        });
        return;
      }
      case 'fenceBroker':
      case 'unfenceBroker': {
        const prev = (this.brokers ?? this.base.brokers).get(r.brokerId);
        if (prev === undefined || prev.epoch !== r.brokerEpoch) {
          this.skip();
          return;
        }
        this.brokersW().set(r.brokerId, { ...prev, fenced: r.type === 'fenceBroker' });
        return;
      }
      case 'topic': {
        const ids = this.topicIds ?? this.base.topicIds;
        if (ids.has(r.name) || this.topicsR().has(r.topicId)) {
          this.skip();
          return;
        }
        this.topicIdsW().set(r.name, r.topicId);
        this.topics ??= new Map(this.base.topics);
        this.topics.set(r.topicId, {
          name: r.name,
          topicId: r.topicId,
          partitions: new Map(),
          configs: new Map(),
        });
        this.copied.add(r.topicId);
        return;
      }
      case 'partition': {
        const t = this.topicW(r.topicId);
        if (t === undefined || r.partition < 0) {
          this.skip();
          return;
        }
        const { type: _type, ...fields } = r;
        t.partitions.set(r.partition, { ...fields, topic: t.name });
        this.touched.add(partitionKey(r.topicId, r.partition));
        return;
      }
      case 'partitionChange':
        this.change(r);
        return;
      case 'config':
        this.config(r.resourceType, r.resourceName, r.name, r.value);
        return;
      case 'clusterId':
        // written once; a cluster's id never changes (a second record is skipped)
        if (this.clusterId !== null) {
          this.skip();
          return;
        }
        this.clusterId = r.clusterId;
        this.brokersChanged = true;
        return;
      case 'producerIds':
        // blocks only ever move up: an older high mark (never proposed by a correct controller) is skipped
        if (r.nextProducerId <= this.nextProducerId) {
          this.skip();
          return;
        }
        this.nextProducerId = r.nextProducerId;
        return;
      case 'removeTopic': {
        const t = this.topicsR().get(r.topicId);
        if (t === undefined) {
          this.skip();
          return;
        }
        for (const p of t.partitions.keys()) this.touched.add(partitionKey(r.topicId, p));
        this.topics ??= new Map(this.base.topics);
        this.topics.delete(r.topicId);
        this.topicIdsW().delete(t.name);
        return;
      }
    }
  }

  private change(r: PartitionChangeRecord): void {
    const t = this.topicsR().get(r.topicId);
    const prev = t?.partitions.get(r.partition);
    if (prev === undefined) {
      this.skip();
      return;
    }
    const leaderChanged = r.leader !== undefined && r.leader !== prev.leader;
    const next: PartitionImage = {
      ...prev,
      leader: r.leader ?? prev.leader,
      isr: r.isr ?? prev.isr,
      replicas: r.replicas ?? prev.replicas,
      addingReplicas: r.addingReplicas ?? prev.addingReplicas,
      removingReplicas: r.removingReplicas ?? prev.removingReplicas,
      leaderEpoch: leaderChanged ? prev.leaderEpoch + 1 : prev.leaderEpoch,
      partitionEpoch: prev.partitionEpoch + 1,
    };
    this.topicW(r.topicId)!.partitions.set(r.partition, next);
    this.touched.add(partitionKey(r.topicId, r.partition));
  }

  private config(type: ConfigResourceType, name: string, key: string, value: string | null): void {
    if (type === 'topic') {
      const id = (this.topicIds ?? this.base.topicIds).get(name);
      const t = id === undefined ? undefined : this.topicW(id);
      if (t === undefined) {
        this.skip();
        return;
      }
      if (value === null) t.configs.delete(key);
      else t.configs.set(key, value);
      this.configsChanged.add(name);
      return;
    }
    this.brokerConfigs ??= new Map(this.base.brokerConfigs);
    const m = new Map(this.brokerConfigs.get(name) ?? []);
    if (value === null) m.delete(key);
    else m.set(key, value);
    if (m.size === 0) this.brokerConfigs.delete(name);
    else this.brokerConfigs.set(name, m);
    this.brokersChanged = true;
  }

  private skip(): void {
    this.skipped++;
  }

  build(offset: number): ApplyResult {
    const topics = this.topics === null ? this.base.topics : freezeTopics(this.topics, this.copied);
    const image = MetadataImage.create(
      offset,
      this.brokers ?? this.base.brokers,
      topics,
      this.topicIds ?? this.base.topicIds,
      this.brokerConfigs ?? this.base.brokerConfigs,
      this.nextProducerId,
      this.clusterId,
    );
    return {
      image,
      touched: this.touched,
      brokersChanged: this.brokersChanged,
      configsChanged: this.configsChanged,
      skipped: this.skipped,
    };
  }
}

function freezeTopics(
  topics: Map<string, TopicImage | MutableTopic>,
  copied: ReadonlySet<string>,
): ReadonlyMap<string, TopicImage> {
  for (const id of copied) {
    const t = topics.get(id);
    if (t !== undefined) topics.set(id, { ...t });
  }
  return topics as ReadonlyMap<string, TopicImage>;
}

export { NO_LEADER };
