import { describe, expect, it } from 'vitest';
import {
  type BrokerMetadataDelta,
  decodeRecords,
  decodeSnapshot,
  encodeRecords,
  MetadataError,
  MetadataImage,
  type MetadataRecord,
  MetadataStateMachine,
  StaticMetadata,
  staticTopicId,
} from '../../../core/cluster/metadata/index.js';

const T = staticTopicId('orders');

const sample: MetadataRecord[] = [
  {
    type: 'registerBroker',
    brokerId: 1,
    brokerEpoch: 5,
    host: 'h1',
    port: 9092,
    rack: 'a',
    controller: true,
  },
  {
    type: 'registerBroker',
    brokerId: 2,
    brokerEpoch: 6,
    host: 'h2',
    port: 9093,
    rack: null,
    controller: false,
  },
  { type: 'unfenceBroker', brokerId: 1, brokerEpoch: 5 },
  { type: 'topic', name: 'orders', topicId: T },
  { type: 'config', resourceType: 'topic', resourceName: 'orders', name: 'retention.ms', value: '1000' },
  {
    type: 'partition',
    topicId: T,
    partition: 0,
    replicas: [1, 2],
    isr: [1, 2],
    leader: 1,
    leaderEpoch: 0,
    partitionEpoch: 0,
    addingReplicas: [],
    removingReplicas: [],
  },
  { type: 'partitionChange', topicId: T, partition: 0, leader: 2, isr: [2] },
  { type: 'config', resourceType: 'broker', resourceName: '', name: 'x', value: null },
];

describe('metadata records codec', () => {
  it('round-trips every record type', () => {
    const extra: MetadataRecord[] = [
      { type: 'fenceBroker', brokerId: 2, brokerEpoch: 6 },
      { type: 'removeTopic', topicId: T },
      { type: 'clusterId', clusterId: 'MkU3OEVBNTcwNTJENDM2Qg' },
      {
        type: 'partitionChange',
        topicId: T,
        partition: 3,
        replicas: [1],
        addingReplicas: [4],
        removingReplicas: [],
      },
    ];
    const all = [...sample, ...extra];
    expect(decodeRecords(encodeRecords(all))).toEqual(all);
  });

  it('refuses corrupt and unknown input with a MetadataError', () => {
    const bytes = encodeRecords(sample);
    expect(() => decodeRecords(bytes.subarray(0, bytes.length - 3))).toThrow(MetadataError);
    const bad = Uint8Array.from(bytes);
    bad[1] = 9;
    expect(() => decodeRecords(bad)).toThrowError(/version 9/);
    const trailing = new Uint8Array(bytes.length + 1);
    trailing.set(bytes);
    expect(() => decodeRecords(trailing)).toThrow(MetadataError);
  });
});

describe('MetadataImage', () => {
  it('applies records, bumping leader and partition epochs', () => {
    const { image, touched, skipped } = MetadataImage.EMPTY.apply(sample, 7);
    expect(skipped).toBe(0);
    expect(image.offset).toBe(7);
    expect(image.brokers.get(1)?.fenced).toBe(false);
    expect(image.brokers.get(2)?.fenced).toBe(true);
    const p = image.partition('orders', 0)!;
    expect(p).toMatchObject({ leader: 2, isr: [2], leaderEpoch: 1, partitionEpoch: 1, topic: 'orders' });
    expect(image.topicByName('orders')?.configs.get('retention.ms')).toBe('1000');
    expect([...touched]).toEqual([`${T}:0`]);
  });

  it('is immutable: applying leaves the previous image alone and shares untouched topics', () => {
    const a = MetadataImage.EMPTY.apply(sample, 1).image;
    const other = staticTopicId('other');
    const b = a.apply(
      [
        { type: 'topic', name: 'other', topicId: other },
        { type: 'partitionChange', topicId: T, partition: 0, isr: [2, 1] },
      ],
      2,
    ).image;
    expect(a.partition('orders', 0)!.isr).toEqual([2]);
    expect(b.partition('orders', 0)!.isr).toEqual([2, 1]);
    expect(a.topicByName('other')).toBeUndefined();
    const c = b.apply([{ type: 'partitionChange', topicId: T, partition: 0, isr: [2] }], 3).image;
    expect(c.topicByName('other')).toBe(b.topicByName('other'));
  });

  it('skips records that do not fit the state, deterministically', () => {
    const r = MetadataImage.EMPTY.apply(
      [
        { type: 'partitionChange', topicId: T, partition: 0, leader: 1 },
        { type: 'fenceBroker', brokerId: 9, brokerEpoch: 1 },
        {
          type: 'registerBroker',
          brokerId: 1,
          brokerEpoch: 2,
          host: 'h',
          port: 1,
          rack: null,
          controller: false,
        },
        {
          type: 'registerBroker',
          brokerId: 1,
          brokerEpoch: 2,
          host: 'h',
          port: 1,
          rack: null,
          controller: false,
        },
      ],
      1,
    );
    expect(r.skipped).toBe(3);
  });

  it('snapshots and restores through the state machine', () => {
    const sm = new MetadataStateMachine();
    sm.apply(encodeRecords(sample), 12, 1);
    const snap = sm.snapshot();
    expect(decodeSnapshot(snap).offset).toBe(12);
    const other = new MetadataStateMachine();
    other.restore(snap);
    expect(other.image().toRecords()).toEqual(sm.image().toRecords());
    expect(other.image().offset).toBe(12);
    expect(other.image().partition(T, 0)).toEqual(sm.image().partition(T, 0));
  });

  it('takes the cluster id once: a later one is skipped, snapshots keep it', () => {
    const first = MetadataImage.EMPTY.apply([{ type: 'clusterId', clusterId: 'first-id' }], 1);
    expect(first.image.clusterId).toBe('first-id');
    expect(first.brokersChanged).toBe(true);
    const again = first.image.apply([{ type: 'clusterId', clusterId: 'second-id' }], 2);
    expect(again.skipped).toBe(1);
    expect(again.image.clusterId).toBe('first-id');
    const sm = new MetadataStateMachine();
    sm.apply(encodeRecords([{ type: 'clusterId', clusterId: 'first-id' }, ...sample]), 5, 1);
    const other = new MetadataStateMachine();
    other.restore(sm.snapshot());
    expect(other.image().clusterId).toBe('first-id');
  });
});

describe('MetadataListener contract', () => {
  const desc = {
    brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
    topics: [
      {
        name: 'orders',
        partitions: [{ replicas: [1, 2, 3] }, { replicas: [2, 3, 1] }, { replicas: [3, 2] }],
      },
    ],
  };

  it('delivers the initial roles on subscribe', () => {
    const meta = new StaticMetadata(desc);
    const deltas: BrokerMetadataDelta[] = [];
    meta.subscribe(1, { onChange: (d) => deltas.push(d) });
    expect(deltas).toHaveLength(1);
    expect(deltas[0]!.leaders.map((p) => p.partition)).toEqual([0]);
    expect(deltas[0]!.followers.map((p) => p.partition)).toEqual([1]);
    expect(deltas[0]!.leaders[0]).toMatchObject({ isNew: true, previousLeaderEpoch: -1, leaderEpoch: 0 });
    expect(deltas[0]!.self?.id).toBe(1);
  });

  it('reports leader changes, ISR changes and removals per broker', () => {
    const meta = new StaticMetadata(desc);
    const seen = new Map<number, BrokerMetadataDelta[]>();
    for (const id of [1, 2, 3]) {
      seen.set(id, []);
      meta.subscribe(id, { onChange: (d) => seen.get(id)!.push(d) });
    }
    meta.apply([
      { type: 'partitionChange', topicId: staticTopicId('orders'), partition: 0, leader: 2, isr: [2, 3] },
      { type: 'partitionChange', topicId: staticTopicId('orders'), partition: 2, replicas: [3] },
    ]);
    const d1 = seen.get(1)!.at(-1)!;
    expect(d1.followers.map((p) => [p.partition, p.leader, p.leaderEpoch, p.isNew])).toEqual([
      [0, 2, 1, false],
    ]);
    const d2 = seen.get(2)!.at(-1)!;
    expect(d2.leaders.map((p) => [p.partition, p.previousLeaderEpoch, p.leaderEpoch])).toEqual([[0, 0, 1]]);
    expect(d2.removed).toEqual([
      { topicId: staticTopicId('orders'), topic: 'orders', partition: 2, deleted: false },
    ]);
    const d3 = seen.get(3)!.at(-1)!;
    expect(d3.leaders.map((p) => p.partition)).toEqual([2]);
    meta.apply([{ type: 'removeTopic', topicId: staticTopicId('orders') }]);
    expect(
      seen
        .get(3)!
        .at(-1)!
        .removed.map((r) => [r.partition, r.deleted]),
    ).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ]);
  });

  it('StaticMetadata.update bumps epochs where a controller would', () => {
    const meta = new StaticMetadata(desc);
    const deltas: BrokerMetadataDelta[] = [];
    meta.subscribe(3, { onChange: (d) => deltas.push(d) });
    meta.update({
      ...desc,
      topics: [
        {
          name: 'orders',
          partitions: [{ replicas: [1, 2, 3], leader: 3 }, { replicas: [2, 3, 1] }, { replicas: [3, 2] }],
        },
      ],
    });
    const d = deltas.at(-1)!;
    expect(d.leaders.map((p) => [p.partition, p.leaderEpoch, p.partitionEpoch])).toEqual([[0, 1, 1]]);
    expect(d.followers).toEqual([]);
  });
});
