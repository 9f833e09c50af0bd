import { describe, expect, it } from 'vitest';
import {
  assignReplicas,
  isControllerError,
  QuorumController,
} from '../../../core/cluster/controller/index.js';
import { uncleanAllowed } from '../../../core/cluster/controller/topic-configs.js';
import { encodeRecords, MetadataStateMachine } from '../../../core/cluster/metadata/index.js';
import { SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { SeededRandom } from '../../../core/env/random.js';
import { flush, harness, InstantLog } from './controller-helpers.js';

describe('replica assignment', () => {
  it('spreads leaders and replicas evenly without racks', () => {
    const brokers = [1, 2, 3, 4].map((id) => ({ id, rack: null }));
    const a = assignReplicas(brokers, 8, 3, new SeededRandom(1));
    const leaders = new Map<number, number>();
    const replicas = new Map<number, number>();
    for (const r of a) {
      expect(new Set(r).size).toBe(3);
      leaders.set(r[0]!, (leaders.get(r[0]!) ?? 0) + 1);
      for (const b of r) replicas.set(b, (replicas.get(b) ?? 0) + 1);
    }
    expect([...leaders.values()]).toEqual([2, 2, 2, 2]);
    expect([...replicas.values()]).toEqual([6, 6, 6, 6]);
  });

  it('puts replicas of a partition on different racks', () => {
    const brokers = [
      { id: 1, rack: 'a' },
      { id: 2, rack: 'a' },
      { id: 3, rack: 'b' },
      { id: 4, rack: 'b' },
      { id: 5, rack: 'c' },
      { id: 6, rack: 'c' },
    ];
    const rackOf = new Map(brokers.map((b) => [b.id, b.rack]));
    for (let seed = 1; seed < 20; seed++) {
      for (const r of assignReplicas(brokers, 12, 3, new SeededRandom(seed))) {
        expect(new Set(r.map((b) => rackOf.get(b))).size).toBe(3);
      }
    }
  });

  it('refuses a replication factor larger than the brokers', () => {
    expect(() => assignReplicas([{ id: 1, rack: null }], 1, 2, new SeededRandom(1))).toThrowError(
      /larger than the 1 available/,
    );
  });
});

describe('QuorumController', () => {
  it('gives the cluster an id once, on first activation: the configured one, else a new one', async () => {
    const h = await harness();
    const id = h.sm.image().clusterId;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await h.register(1);
    expect(h.sm.image().clusterId).toBe(id);

    const sm = new MetadataStateMachine();
    const log = new InstantLog(sm);
    const opts = { log, metadata: sm, clock: new SimClock(), random: new SeededRandom(1) };
    const configured = new QuorumController({ ...opts, clusterId: 'my-cluster' });
    configured.onRaftStateChange(log.status());
    await flush();
    expect(sm.image().clusterId).toBe('my-cluster');
    // A later controller (another id configured) keeps the cluster's.
    const next = new QuorumController({ ...opts, clusterId: 'other' });
    next.onRaftStateChange(log.status());
    await flush();
    expect(sm.image().clusterId).toBe('my-cluster');
  });

  it('gives an id to a cluster whose metadata predates cluster ids (restored from an old snapshot)', async () => {
    const sm = new MetadataStateMachine();
    sm.apply(
      encodeRecords([
        {
          type: 'registerBroker',
          brokerId: 1,
          brokerEpoch: 1,
          host: 'h',
          port: 1,
          rack: null,
          controller: true,
        },
        { type: 'unfenceBroker', brokerId: 1, brokerEpoch: 1 },
      ]),
      1,
      1,
    );
    const log = new InstantLog(sm);
    log.index = 1;
    const c = new QuorumController({ log, metadata: sm, clock: new SimClock(), random: new SeededRandom(3) });
    expect(sm.image().clusterId).toBeNull();
    c.onRaftStateChange(log.status());
    await flush();
    expect(sm.image().clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(sm.image().brokers.get(1)?.fenced).toBe(false);
  });

  it('registers brokers fenced, unfences them on a caught-up heartbeat', async () => {
    const h = await harness();
    const r = await h.register(1);
    expect(r.isFenced).toBe(false);
    expect(h.sm.image().brokers.get(1)).toMatchObject({ fenced: false, epoch: r.brokerEpoch });
  });

  it('creates topics with leaders and full ISRs, refuses duplicates and bad factors', async () => {
    const h = await harness();
    for (const id of [1, 2, 3]) await h.register(id);
    const res = await h.controller.call('createTopics', {
      topics: [
        { name: 'orders', numPartitions: 6, replicationFactor: 3 },
        { name: 'orders', numPartitions: 1, replicationFactor: 1 },
        { name: 'big', numPartitions: 1, replicationFactor: 4 },
        { name: 'bad/name', numPartitions: 1, replicationFactor: 1 },
      ],
    });
    expect(res.topics.map((t) => t.error)).toEqual([
      null,
      'TOPIC_ALREADY_EXISTS',
      'INVALID_REPLICATION_FACTOR',
      'INVALID_TOPIC_EXCEPTION',
    ]);
    const topic = h.sm.image().topicByName('orders')!;
    expect(topic.partitions.size).toBe(6);
    for (const p of topic.partitions.values()) {
      expect(p.isr).toEqual(p.replicas);
      expect(p.leader).toBe(p.replicas[0]);
      expect(p.leaderEpoch).toBe(0);
    }
  });

  it('fences a broker that misses heartbeats and elects new leaders from the ISR', async () => {
    const h = await harness();
    for (const id of [1, 2, 3]) await h.register(id);
    await h.controller.call('createTopics', {
      topics: [{ name: 't', numPartitions: 3, replicationFactor: 3 }],
    });
    const before = [...h.sm.image().topicByName('t')!.partitions.values()];
    // brokers 2 and 3 keep heartbeating, 1 goes silent
    for (let t = 0; t < 10_000; t += 2000) {
      await h.heartbeat(2);
      await h.heartbeat(3);
      await h.advance(2000);
    }
    const img = h.sm.image();
    expect(img.brokers.get(1)!.fenced).toBe(true);
    for (const p of img.topicByName('t')!.partitions.values()) {
      const old = before.find((b) => b.partition === p.partition)!;
      expect(p.leader).not.toBe(1);
      expect(p.isr).not.toContain(1);
      expect(p.isr).toContain(p.leader);
      expect(p.leaderEpoch).toBe(old.leader === 1 ? old.leaderEpoch + 1 : old.leaderEpoch);
    }
  });

  it('leaves a partition leaderless when its whole ISR is fenced, unless unclean election is on', async () => {
    const h = await harness({ brokerSessionTimeoutMs: 3000, brokerHeartbeatIntervalMs: 1000 });
    for (const id of [1, 2]) await h.register(id);
    await h.controller.call('createTopics', {
      topics: [
        { name: 'clean', numPartitions: 1, replicationFactor: 1, assignments: [[1]] },
        {
          name: 'dirty',
          numPartitions: 1,
          replicationFactor: 2,
          assignments: [[1, 2]],
          configs: { 'unclean.leader.election.enable': 'true' },
        },
      ],
    });
    // shrink dirty's ISR to [1] through AlterPartition from its leader
    const p = h.sm.image().partition('dirty', 0)!;
    const alt = await h.controller.call('alterPartition', {
      brokerId: 1,
      brokerEpoch: h.sm.image().brokers.get(1)!.epoch,
      partitions: [
        {
          topicId: p.topicId,
          partition: 0,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          newIsr: [1],
        },
      ],
    });
    expect(alt.partitions[0]).toMatchObject({ error: null, isr: [1], partitionEpoch: 1 });
    for (let t = 0; t < 5000; t += 1000) {
      await h.heartbeat(2);
      await h.advance(1000);
    }
    const img = h.sm.image();
    expect(img.brokers.get(1)!.fenced).toBe(true);
    expect(img.partition('clean', 0)).toMatchObject({ leader: -1, isr: [1] });
    expect(img.partition('dirty', 0)).toMatchObject({ leader: 2, isr: [2], leaderEpoch: 1 });
    // broker 1 comes back: the clean partition elects it again
    await h.register(1);
    expect(h.sm.image().partition('clean', 0)).toMatchObject({ leader: 1, leaderEpoch: 2 });
  });

  it('refuses stale AlterPartition requests by leader and partition epoch', async () => {
    const h = await harness();
    for (const id of [1, 2, 3]) await h.register(id);
    await h.controller.call('createTopics', {
      topics: [{ name: 't', numPartitions: 1, replicationFactor: 3, assignments: [[1, 2, 3]] }],
    });
    const p = h.sm.image().partition('t', 0)!;
    const epoch = h.sm.image().brokers.get(1)!.epoch;
    const item = { topicId: p.topicId, partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2] };
    const ok = await h.controller.call('alterPartition', {
      brokerId: 1,
      brokerEpoch: epoch,
      partitions: [item],
    });
    expect(ok.partitions[0]!.error).toBeNull();
    const stale = await h.controller.call('alterPartition', {
      brokerId: 1,
      brokerEpoch: epoch,
      partitions: [{ ...item, newIsr: [1] }],
    });
    expect(stale.partitions[0]!.error).toBe('INVALID_UPDATE_VERSION');
    const fenced = await h.controller.call('alterPartition', {
      brokerId: 1,
      brokerEpoch: epoch,
      partitions: [{ ...item, leaderEpoch: 7, partitionEpoch: 1 }],
    });
    expect(fenced.partitions[0]!.error).toBe('FENCED_LEADER_EPOCH');
    const notLeader = await h.controller.call('alterPartition', {
      brokerId: 2,
      brokerEpoch: h.sm.image().brokers.get(2)!.epoch,
      partitions: [{ ...item, partitionEpoch: 1 }],
    });
    expect(notLeader.partitions[0]!.error).toBe('NOT_LEADER_OR_FOLLOWER');
    const staleBroker = await h.controller.call('alterPartition', {
      brokerId: 1,
      brokerEpoch: epoch - 1,
      partitions: [{ ...item, partitionEpoch: 1 }],
    });
    expect(staleBroker.partitions[0]!.error).toBe('STALE_BROKER_EPOCH');
  });

  it('runs preferred leader election', async () => {
    const h = await harness();
    for (const id of [1, 2]) await h.register(id);
    await h.controller.call('createTopics', {
      topics: [{ name: 't', numPartitions: 1, replicationFactor: 2, assignments: [[1, 2]] }],
    });
    await h.controller.call('brokerHeartbeat', {
      brokerId: 1,
      brokerEpoch: h.sm.image().brokers.get(1)!.epoch,
      metadataOffset: 0,
      wantFence: false,
      wantShutdown: true,
    });
    expect(h.sm.image().partition('t', 0)).toMatchObject({ leader: 2, isr: [2] });
    await h.register(1);
    const p = h.sm.image().partition('t', 0)!;
    await h.controller.call('alterPartition', {
      brokerId: 2,
      brokerEpoch: h.sm.image().brokers.get(2)!.epoch,
      partitions: [
        {
          topicId: p.topicId,
          partition: 0,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          newIsr: [2, 1],
        },
      ],
    });
    const r = await h.controller.call('electLeaders', {
      electionType: 'preferred',
      partitions: [{ topic: 't', partition: 0 }],
    });
    expect(r.partitions[0]!.error).toBeNull();
    expect(h.sm.image().partition('t', 0)).toMatchObject({ leader: 1, leaderEpoch: 2 });
    const again = await h.controller.call('electLeaders', { electionType: 'preferred', partitions: null });
    expect(again.partitions[0]!.error).toBe('ELECTION_NOT_NEEDED');
  });

  it('reassigns a partition: adds replicas, then removes the old ones once the new are in the ISR', async () => {
    const h = await harness();
    for (const id of [1, 2, 3, 4]) await h.register(id);
    await h.controller.call('createTopics', {
      topics: [{ name: 't', numPartitions: 1, replicationFactor: 2, assignments: [[1, 2]] }],
    });
    const r = await h.controller.call('alterPartitionReassignments', {
      reassignments: [{ topic: 't', partition: 0, replicas: [3, 4] }],
    });
    expect(r.partitions[0]!.error).toBeNull();
    let p = h.sm.image().partition('t', 0)!;
    expect(p).toMatchObject({
      replicas: [3, 4, 1, 2],
      addingReplicas: [3, 4],
      removingReplicas: [1, 2],
      leader: 1,
    });
    const listed = await h.controller.call('listPartitionReassignments', { partitions: null });
    expect(listed.partitions).toHaveLength(1);
    const alter = (isr: number[]) =>
      h.controller.call('alterPartition', {
        brokerId: 1,
        brokerEpoch: h.sm.image().brokers.get(1)!.epoch,
        partitions: [
          {
            topicId: p.topicId,
            partition: 0,
            leaderEpoch: p.leaderEpoch,
            partitionEpoch: p.partitionEpoch,
            newIsr: isr,
          },
        ],
      });
    await alter([1, 2, 3]);
    p = h.sm.image().partition('t', 0)!;
    expect(p.addingReplicas).toEqual([3, 4]);
    await alter([1, 2, 3, 4]);
    p = h.sm.image().partition('t', 0)!;
    expect(p).toMatchObject({
      replicas: [3, 4],
      isr: [3, 4],
      leader: 3,
      addingReplicas: [],
      removingReplicas: [],
      leaderEpoch: 1,
    });
  });

  it('changes and deletes topics', async () => {
    const h = await harness();
    await h.register(1);
    await h.controller.call('createTopics', {
      topics: [{ name: 't', numPartitions: 1, replicationFactor: 1 }],
    });
    const bad = await h.controller.call('alterConfigs', {
      resources: [{ type: 'topic', name: 't', configs: { 'no.such': 'x' } }],
    });
    expect(bad.resources[0]!.error).toBe('INVALID_CONFIG');
    await h.controller.call('alterConfigs', {
      resources: [{ type: 'topic', name: 't', configs: { 'retention.ms': '5' } }],
    });
    expect(h.sm.image().topicByName('t')!.configs.get('retention.ms')).toBe('5');
    // The same topic configs and checks as a single node: Kafka's no-effect configs are kept,
    // values are checked by the log's rules, tiered storage is refused.
    const mixed = await h.controller.call('alterConfigs', {
      resources: [{ type: 'topic', name: 't', configs: { preallocate: 'true', 'segment.jitter.ms': '10' } }],
    });
    expect(mixed.resources[0]!.error).toBeNull();
    // A boolean is read as the log reads it (any case, trimmed), so what is accepted takes effect.
    await h.controller.call('alterConfigs', {
      resources: [{ type: 'topic', name: 't', configs: { 'unclean.leader.election.enable': ' TRUE ' } }],
    });
    expect(uncleanAllowed(h.sm.image(), h.sm.image().topicByName('t'))).toBe(true);
    expect(h.sm.image().topicByName('t')!.configs.get('preallocate')).toBe('true');
    const refusedConfigs: Record<string, string>[] = [
      { 'remote.storage.enable': 'true' },
      { 'compression.gzip.level': '12' },
    ];
    for (const configs of refusedConfigs) {
      const refused = await h.controller.call('alterConfigs', {
        resources: [{ type: 'topic', name: 't', configs }],
      });
      expect(refused.resources[0]!.error).toBe('INVALID_CONFIG');
    }
    const grow = await h.controller.call('createPartitions', { topics: [{ name: 't', count: 3 }] });
    expect(grow.topics[0]!.error).toBeNull();
    expect(h.sm.image().topicByName('t')!.partitions.size).toBe(3);
    const del = await h.controller.call('deleteTopics', { topics: ['t', 'nope'] });
    expect(del.topics.map((t) => t.error)).toEqual([null, 'UNKNOWN_TOPIC_OR_PARTITION']);
    expect(h.sm.image().topics.size).toBe(0);
  });

  it('answers NOT_CONTROLLER with the leader hint when not active', async () => {
    const h = await harness();
    h.log.leader = false;
    h.controller.onRaftStateChange(h.log.status());
    const err = await h.controller.call('createTopics', { topics: [] }).catch((e: unknown) => e);
    expect(isControllerError(err, 'NOT_CONTROLLER')).toBe(true);
    expect((err as { leaderId: number }).leaderId).toBe(2);
  });
});

describe('QuorumController after a timed-out proposal', () => {
  it('waits for the entry to be applied before deciding the next operation', async () => {
    const h = await harness();
    await h.register(1);
    const { RaftError } = await import('../../../core/cluster/raft/errors.js');
    const original = h.log.propose.bind(h.log);
    let delayed: (() => void) | null = null;
    // the next proposal is appended (lastIndex moves) but times out; it commits later
    h.log.propose = async (command: Uint8Array) => {
      h.log.propose = original;
      const index = ++h.log.index;
      delayed = () => h.sm.apply(command, index, 1);
      throw new RaftError('REQUEST_TIMED_OUT', 'timed out');
    };
    const first = await h.controller
      .call('createTopics', { topics: [{ name: 't', numPartitions: 1, replicationFactor: 1 }] })
      .catch((e: unknown) => e);
    expect(isControllerError(first, 'REQUEST_TIMED_OUT')).toBe(true);
    let answered = false;
    const second = h.controller
      .call('createTopics', { topics: [{ name: 't', numPartitions: 1, replicationFactor: 1 }] })
      .then((r) => {
        answered = true;
        return r;
      });
    await h.advance(200);
    expect(answered).toBe(false);
    delayed!();
    await h.advance(100);
    expect((await second).topics[0]!.error).toBe('TOPIC_ALREADY_EXISTS');
  });
});
