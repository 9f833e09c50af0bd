import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  type Assignor,
  type AssignorMember,
  assignorByName,
  cooperativeStickyAssignor,
  kafkajsRoundRobinAssignor,
  memberGeneration,
  planStickyAssignment,
  rangeAssignor,
  rebalanceProtocolOf,
  roundRobinAssignor,
} from '../../../core/client/assignors/index.js';
import {
  decodeAssignment,
  encodeSubscription,
  type Subscription,
} from '../../../core/client/consumer-protocol.js';
import type { TopicPartition } from '../../../core/client/types.js';
import { SeededRandom } from '../../../core/env/random.js';

const SEED = Number(process.env.SEED ?? 20240601);

describe('range', () => {
  const cases: {
    name: string;
    members: AssignorMember[];
    partitions: Record<string, number>;
    expected: Record<string, string[]>;
  }[] = [
    {
      name: 'javadoc: 2 consumers, t0 and t1 with 3 partitions each',
      members: [member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])],
      partitions: { t0: 3, t1: 3 },
      expected: { C0: ['t0p0', 't0p1', 't1p0', 't1p1'], C1: ['t0p2', 't1p2'] },
    },
    {
      name: 'javadoc: static members keep their ranges whatever their member ids',
      members: [
        member('C3', ['t0', 't1'], { groupInstanceId: 'I0' }),
        member('C2', ['t0', 't1'], { groupInstanceId: 'I1' }),
      ],
      partitions: { t0: 3, t1: 3 },
      expected: { C3: ['t0p0', 't0p1', 't1p0', 't1p1'], C2: ['t0p2', 't1p2'] },
    },
    {
      name: 'static members before dynamic ones',
      members: [member('a', ['t']), member('z', ['t'], { groupInstanceId: 'x' })],
      partitions: { t: 3 },
      expected: { z: ['tp0', 'tp1'], a: ['tp2'] },
    },
    {
      name: 'mixed subscriptions: ranges per topic over its subscribers',
      members: [
        member('consumer1', ['topic1']),
        member('consumer2', ['topic1', 'topic2']),
        member('consumer3', ['topic1']),
      ],
      partitions: { topic1: 3, topic2: 2 },
      expected: {
        consumer1: ['topic1p0'],
        consumer2: ['topic1p1', 'topic2p0', 'topic2p1'],
        consumer3: ['topic1p2'],
      },
    },
    {
      name: 'more consumers than partitions',
      members: [member('c1', ['t']), member('c2', ['t'])],
      partitions: { t: 1 },
      expected: { c1: ['tp0'], c2: [] },
    },
    {
      name: 'topics without metadata and members without topics get nothing',
      members: [member('c1', ['missing']), member('c2', [])],
      partitions: { other: 4 },
      expected: { c1: [], c2: [] },
    },
    {
      name: 'lexicographic (not numeric) member order',
      members: [member('c10', ['t']), member('c9', ['t']), member('c1', ['t'])],
      partitions: { t: 5 },
      expected: { c1: ['tp0', 'tp1'], c10: ['tp2', 'tp3'], c9: ['tp4'] },
    },
  ];
  it.each(cases)('$name', ({ members, partitions, expected }) => {
    expect(byMember(rangeAssignor.assign(members, new Map(Object.entries(partitions))))).toEqual(expected);
  });

  it('splits each topic evenly over its subscribers, first ones get the extras', () => {
    const rng = new SeededRandom(SEED);
    for (let run = 0; run < 200; run++) {
      const { members, partitionsPerTopic } = randomGroup(rng);
      const assignment = rangeAssignor.assign(members, partitionsPerTopic);
      expectValid(members, partitionsPerTopic, assignment);
      for (const [topic, n] of partitionsPerTopic) {
        const subs = members.filter((m) => m.subscription.topics.includes(topic));
        const sizes = subs.map((m) => assignment.get(m.memberId)!.filter((p) => p.topic === topic).length);
        if (subs.length === 0) continue;
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
      }
    }
  });
});

describe('roundrobin', () => {
  it('javadoc: 2 consumers, t0 and t1 with 3 partitions each', () => {
    const members = [member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])];
    expect(byMember(roundRobinAssignor.assign(members, ppt({ t0: 3, t1: 3 })))).toEqual({
      C0: ['t0p0', 't0p2', 't1p1'],
      C1: ['t0p1', 't1p0', 't1p2'],
    });
  });

  it('javadoc: members not subscribed to a topic are skipped', () => {
    const members = [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])];
    expect(byMember(roundRobinAssignor.assign(members, ppt({ t0: 1, t1: 2, t2: 3 })))).toEqual({
      C0: ['t0p0'],
      C1: ['t1p0'],
      C2: ['t1p1', 't2p0', 't2p1', 't2p2'],
    });
  });

  it('javadoc: static members, 3 consumers', () => {
    const members = [
      member('C5', ['t0', 't1'], { groupInstanceId: 'I2' }),
      member('C3', ['t0', 't1'], { groupInstanceId: 'I0' }),
      member('C4', ['t0', 't1'], { groupInstanceId: 'I1' }),
    ];
    expect(byMember(roundRobinAssignor.assign(members, ppt({ t0: 3, t1: 3 })))).toEqual({
      C5: ['t0p2', 't1p2'],
      C3: ['t0p0', 't1p0'],
      C4: ['t0p1', 't1p1'],
    });
  });

  it('Java test: mixed topics', () => {
    const members = [
      member('consumer1', ['topic']),
      member('consumer2', ['topic', 'topic2']),
      member('consumer3', ['topic']),
    ];
    expect(byMember(roundRobinAssignor.assign(members, ppt({ topic: 3, topic2: 2 })))).toEqual({
      consumer1: ['topicp0'],
      consumer2: ['topicp1', 'topic2p0', 'topic2p1'],
      consumer3: ['topicp2'],
    });
  });

  it('is valid always, and balanced within one when all subscribe to the same topics', () => {
    const rng = new SeededRandom(SEED + 1);
    for (let run = 0; run < 200; run++) {
      const mixed = randomGroup(rng);
      expectValid(
        mixed.members,
        mixed.partitionsPerTopic,
        roundRobinAssignor.assign(mixed.members, mixed.partitionsPerTopic),
      );
      const same = randomGroup(rng, { sameTopics: true });
      const assignment = roundRobinAssignor.assign(same.members, same.partitionsPerTopic);
      expectValid(same.members, same.partitionsPerTopic, assignment);
      expect(spread(assignment)).toBeLessThanOrEqual(1);
    }
  });
});

describe('every assignor', () => {
  const all: Assignor[] = [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor];

  it.each(all.map((a) => [a.name, a] as const))(
    '%s: deterministic whatever the member order',
    (_name, assignor) => {
      const rng = new SeededRandom(SEED + 2);
      for (let run = 0; run < 100; run++) {
        const { members, partitionsPerTopic } = randomGroup(rng);
        const a = assignor.assign(members, partitionsPerTopic);
        const b = assignor.assign(shuffle(members, rng), partitionsPerTopic);
        for (const m of members) expect(b.get(m.memberId)).toEqual(a.get(m.memberId));
      }
    },
  );

  it('handles an empty group and empty topics', () => {
    for (const a of all) {
      expect(a.assign([], ppt({ t: 3 })).size).toBe(0);
      expect(byMember(a.assign([member('m', ['t'])], ppt({ t: 0 })))).toEqual({ m: [] });
    }
  });
});

describe('assignorByName', () => {
  it('finds the built-ins by their wire names', () => {
    expect(assignorByName('range')).toBe(rangeAssignor);
    expect(assignorByName('roundrobin')).toBe(roundRobinAssignor);
    expect(assignorByName('cooperative-sticky')).toBe(cooperativeStickyAssignor);
    expect(assignorByName('RoundRobinAssigner')).toBe(kafkajsRoundRobinAssignor);
    expect(() => assignorByName('sticky')).toThrow(/unknown partition assignor 'sticky'/);
  });

  it('COOPERATIVE only when every offered assignor supports it', () => {
    expect(rebalanceProtocolOf([cooperativeStickyAssignor])).toBe('COOPERATIVE');
    expect(rebalanceProtocolOf([rangeAssignor, cooperativeStickyAssignor])).toBe('EAGER');
    expect(rebalanceProtocolOf([])).toBe('EAGER');
  });
});

describe('kafkajs interop (RoundRobinAssigner)', () => {
  const require = createRequire(import.meta.url);
  type KafkajsAssigner = {
    name: string;
    assign(group: {
      members: { memberId: string; memberMetadata: Buffer }[];
      topics: string[];
    }): Promise<{ memberId: string; memberAssignment: Buffer }[]>;
  };
  const roundRobin = require('kafkajs/src/consumer/assigners/roundRobinAssigner/index.js') as (opts: {
    cluster: { findTopicPartitionMetadata(topic: string): { partitionId: number }[] };
  }) => KafkajsAssigner;

  it('a kafkajs leader reads our subscriptions, and we read its assignments', async () => {
    const partitions = ppt({ a: 5, b: 2 });
    const assigner = roundRobin({
      cluster: {
        findTopicPartitionMetadata: (topic) =>
          Array.from({ length: partitions.get(topic)! }, (_, partitionId) => ({ partitionId })),
      },
    });
    expect(assigner.name).toBe(kafkajsRoundRobinAssignor.name);
    const members = [member('m1', ['a', 'b']), member('m2', ['a', 'b']), member('m3', ['a', 'b'])];
    const result = await assigner.assign({
      members: members.map((m) => ({
        memberId: m.memberId,
        memberMetadata: encodeSubscription({ ...m.subscription, generationId: 3, rackId: 'r' }),
      })),
      topics: ['a', 'b'],
    });
    const assignment = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
    for (const r of result) assignment.set(r.memberId, decodeAssignment(r.memberAssignment).partitions);
    expectValid(members, partitions, assignment);
    expect(spread(assignment)).toBeLessThanOrEqual(1);
  });
});

describe('cooperative-sticky', () => {
  it('balances a new group like round robin over sorted members', () => {
    const members = [member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])];
    const assignment = cooperativeStickyAssignor.assign(members, ppt({ t0: 3, t1: 3 }));
    expect(byMember(assignment)).toEqual({ C0: ['t0p0', 't0p2', 't1p1'], C1: ['t0p1', 't1p0', 't1p2'] });
  });

  it('keeps owned partitions when the group is balanced already', () => {
    const members = [
      member('A', ['t'], { ownedPartitions: [tp('t', 3), tp('t', 4), tp('t', 5)], generationId: 4 }),
      member('B', ['t'], { ownedPartitions: [tp('t', 0), tp('t', 1), tp('t', 2)], generationId: 4 }),
    ];
    expect(byMember(cooperativeStickyAssignor.assign(members, ppt({ t: 6 })))).toEqual({
      A: ['tp3', 'tp4', 'tp5'],
      B: ['tp0', 'tp1', 'tp2'],
    });
  });

  it('a joining member: the others each give up one partition, handed over a rebalance later', () => {
    const owned = (ps: number[]) => ({ ownedPartitions: ps.map((p) => tp('t', p)), generationId: 7 });
    const members = [
      member('A', ['t'], owned([0, 1, 2, 3])),
      member('B', ['t'], owned([4, 5, 6, 7])),
      member('C', ['t'], owned([8, 9, 10, 11])),
      member('D', ['t']),
    ];
    const plan = planStickyAssignment(members, ppt({ t: 12 }), memberGeneration);
    expect(byMember(plan.target)).toEqual({
      A: ['tp0', 'tp1', 'tp2'],
      B: ['tp4', 'tp5', 'tp6'],
      C: ['tp8', 'tp9', 'tp10'],
      D: ['tp3', 'tp7', 'tp11'],
    });
    // First rebalance: the owners revoke, D waits.
    expect(byMember(cooperativeStickyAssignor.assign(members, ppt({ t: 12 })))).toEqual({
      A: ['tp0', 'tp1', 'tp2'],
      B: ['tp4', 'tp5', 'tp6'],
      C: ['tp8', 'tp9', 'tp10'],
      D: [],
    });
    // They rejoin owning what they kept: D gets the rest.
    const second = [
      member('A', ['t'], owned([0, 1, 2])),
      member('B', ['t'], owned([4, 5, 6])),
      member('C', ['t'], owned([8, 9, 10])),
      member('D', ['t'], owned([])),
    ];
    expect(byMember(cooperativeStickyAssignor.assign(second, ppt({ t: 12 })))).toEqual({
      A: ['tp0', 'tp1', 'tp2'],
      B: ['tp4', 'tp5', 'tp6'],
      C: ['tp8', 'tp9', 'tp10'],
      D: ['tp3', 'tp7', 'tp11'],
    });
  });

  it('a leaving member: only its partitions move', () => {
    const owned = (ps: number[]) => ({ ownedPartitions: ps.map((p) => tp('t', p)), generationId: 2 });
    const members = [member('A', ['t'], owned([0, 1, 2])), member('C', ['t'], owned([6, 7, 8]))];
    const assignment = cooperativeStickyAssignor.assign(members, ppt({ t: 9 }));
    expect(byMember(assignment)).toEqual({
      A: ['tp0', 'tp1', 'tp2', 'tp3', 'tp5'],
      C: ['tp4', 'tp6', 'tp7', 'tp8'],
    });
  });

  it('the newer generation keeps a partition two members claim; a tie means nobody keeps it', () => {
    const newer = [
      member('A', ['t'], { ownedPartitions: [tp('t', 0)], generationId: 5 }),
      member('B', ['t'], { ownedPartitions: [tp('t', 0), tp('t', 1)], generationId: 4 }),
    ];
    expect(byMember(cooperativeStickyAssignor.assign(newer, ppt({ t: 2 })))).toEqual({
      A: ['tp0'],
      B: ['tp1'],
    });

    const tie = [
      member('A', ['t'], { ownedPartitions: [tp('t', 0)], generationId: 5 }),
      member('B', ['t'], { ownedPartitions: [tp('t', 0)], generationId: 5 }),
    ];
    const plan = planStickyAssignment(tie, ppt({ t: 2 }), memberGeneration);
    expect(byMember(plan.target)).toEqual({ A: ['tp0'], B: ['tp1'] });
    // Both think they own t0: it waits until B revoked it.
    expect(byMember(plan.assignment)).toEqual({ A: [], B: ['tp1'] });
  });

  it('drops owned partitions of topics a member no longer subscribes to (and of deleted partitions)', () => {
    const members = [
      member('A', ['u'], { ownedPartitions: [tp('t', 0), tp('u', 9)], generationId: 1 }),
      member('B', ['t'], { generationId: 1 }),
    ];
    const assignment = cooperativeStickyAssignor.assign(members, ppt({ t: 1, u: 1 }));
    // A still owns t0: B gets it after A revoked it.
    expect(byMember(assignment)).toEqual({ A: ['up0'], B: [] });
    expect(byMember(planStickyAssignment(members, ppt({ t: 1, u: 1 }), memberGeneration).target)).toEqual({
      A: ['up0'],
      B: ['tp0'],
    });
  });

  it('reads the generation from the subscription, Java userData and librdkafka userData', () => {
    const sub = (s: Partial<Subscription>) => member('m', ['t'], s);
    expect(memberGeneration(sub({ generationId: 9, userData: int32(3) }))).toBe(9);
    expect(memberGeneration(sub({ userData: int32(3) }))).toBe(3);
    expect(memberGeneration(sub({}))).toBe(-1);
    // StickyAssignor userData v1: [topic [partition]] generation
    const librdkafka = Buffer.concat([
      int32(1),
      Buffer.from([0, 1]),
      Buffer.from('t'),
      int32(2),
      int32(0),
      int32(1),
      int32(11),
    ]);
    expect(memberGeneration(sub({ userData: librdkafka }))).toBe(11);
    expect(memberGeneration(sub({ userData: librdkafka.subarray(0, librdkafka.length - 4) }))).toBe(-1);
    expect(memberGeneration(sub({ userData: Buffer.from([1, 2, 3]) }))).toBe(-1);
    expect(cooperativeStickyAssignor.subscriptionUserData!(['t'], [], 42)).toEqual(int32(42));
  });

  it('random groups: valid, and as balanced as a direct move can make it', () => {
    const rng = new SeededRandom(SEED + 3);
    for (let run = 0; run < 300; run++) {
      const { members, partitionsPerTopic } = randomGroup(rng, { maxMembers: 10 });
      const plan = planStickyAssignment(members, partitionsPerTopic, memberGeneration);
      expectValid(members, partitionsPerTopic, plan.target);
      // No member could hand a partition to a subscriber holding two fewer.
      for (const a of members) {
        const mine = plan.target.get(a.memberId)!;
        for (const b of members) {
          const theirs = plan.target.get(b.memberId)!;
          if (mine.length - theirs.length < 2) continue;
          const movable = mine.some((p) => b.subscription.topics.includes(p.topic));
          expect(
            movable,
            `${a.memberId} (${mine.length}) could give to ${b.memberId} (${theirs.length})`,
          ).toBe(false);
        }
      }
      const same = randomGroup(rng, { sameTopics: true, maxMembers: 10 });
      const target = planStickyAssignment(same.members, same.partitionsPerTopic, memberGeneration).target;
      expectValid(same.members, same.partitionsPerTopic, target);
      expect(spread(target)).toBeLessThanOrEqual(1);
    }
  });

  it('moves partitions along chains when no direct move balances the group', () => {
    // C takes only y, which A holds; A can take x from B. Balanced: A gives y to C, B gives x to A.
    const members = [
      member('A', ['x', 'y'], { ownedPartitions: [tp('y', 0), tp('y', 1)], generationId: 1 }),
      member('B', ['x'], {
        ownedPartitions: [tp('x', 0), tp('x', 1), tp('x', 2), tp('x', 3)],
        generationId: 1,
      }),
      member('C', ['y'], { generationId: 1 }),
    ];
    const plan = planStickyAssignment(members, ppt({ x: 4, y: 2 }), memberGeneration);
    expect(byMember(plan.target)).toEqual({ A: ['xp2', 'xp3'], B: ['xp0', 'xp1'], C: ['yp0', 'yp1'] });
    expect(byMember(plan.assignment)).toEqual({ A: [], B: ['xp0', 'xp1'], C: [] });
  });

  it('simulated rebalances: never two owners, settles in two rounds, moves the minimum', () => {
    const rng = new SeededRandom(SEED + 4);
    for (let run = 0; run < 60; run++) {
      const partitions = ppt({ a: 1 + rng.int(20), b: 1 + rng.int(20), c: rng.int(5) });
      const topics = ['a', 'b', 'c'];
      const group: SimMember[] = [];
      let nextId = 0;
      let generation = 0;
      for (let step = 0; step < 8; step++) {
        const before = new Map(group.map((m) => [m.id, m.owned.map(key)]));
        // Join or leave a few members.
        const leave = group.length > 1 && rng.next() < 0.4 ? 1 + rng.int(Math.min(2, group.length - 1)) : 0;
        for (let i = 0; i < leave; i++) group.splice(rng.int(group.length), 1);
        const join = leave === 0 || rng.next() < 0.3 ? 1 + rng.int(3) : 0;
        for (let i = 0; i < join; i++) group.push({ id: `m${nextId++}`, topics, owned: [], generation: -1 });

        let rounds = 0;
        let revokedFromSurvivors = 0;
        for (;;) {
          rounds++;
          generation++;
          const result = cooperativeRound(group, partitions, generation);
          revokedFromSurvivors += result.revoked;
          if (result.revoked === 0) break;
          expect(rounds).toBeLessThan(3);
        }
        expect(rounds).toBeLessThanOrEqual(2);
        const members = group.map((m) => member(m.id, m.topics));
        const assignment = new Map(group.map((m) => [m.id, m.owned]));
        expectValid(members, partitions, assignment);
        expect(spread(assignment)).toBeLessThanOrEqual(1);

        // The least any balanced assignment must take from the survivors.
        const total = [...partitions.values()].reduce((s, n) => s + n, 0);
        const ownedNow = group.map((m) => (before.get(m.id) ?? []).length).sort((x, y) => y - x);
        const floor = Math.floor(total / group.length);
        const extra = total % group.length;
        const minimum = ownedNow.reduce(
          (s, owned, i) => s + Math.max(0, owned - (floor + (i < extra ? 1 : 0))),
          0,
        );
        expect(revokedFromSurvivors).toBe(minimum);
      }
    }
  });

  it('simulated rebalances, mixed subscriptions: never two owners, settles, stays balanced', () => {
    const rng = new SeededRandom(SEED + 5);
    const all = ['a', 'b', 'c', 'd'];
    for (let run = 0; run < 60; run++) {
      const partitions = ppt({ a: 1 + rng.int(20), b: 1 + rng.int(10), c: rng.int(5), d: 1 + rng.int(3) });
      const group: SimMember[] = [];
      let nextId = 0;
      let generation = 0;
      for (let step = 0; step < 8; step++) {
        const leave = group.length > 1 && rng.next() < 0.4 ? 1 + rng.int(Math.min(2, group.length - 1)) : 0;
        for (let i = 0; i < leave; i++) group.splice(rng.int(group.length), 1);
        const join = leave === 0 || rng.next() < 0.3 ? 1 + rng.int(3) : 0;
        for (let i = 0; i < join; i++) {
          const topics = all.filter(() => rng.next() < 0.5);
          group.push({
            id: `m${nextId++}`,
            topics: topics.length > 0 ? topics : ['a'],
            owned: [],
            generation: -1,
          });
        }
        // Two rounds normally; a third when the second round's fill needed a chain of moves.
        let rounds = 0;
        while (cooperativeRound(group, partitions, ++generation).revoked > 0) {
          rounds++;
          expect(rounds).toBeLessThan(3);
        }
        const members = group.map((m) => member(m.id, m.topics));
        const owned = new Map(group.map((m) => [m.id, m.owned]));
        expectValid(members, partitions, owned);
        for (const a of group) {
          for (const b of group) {
            if (a.owned.length - b.owned.length < 2) continue;
            expect(a.owned.some((p) => b.topics.includes(p.topic))).toBe(false);
          }
        }
      }
    }
  });
});

interface SimMember {
  id: string;
  topics: string[];
  owned: TopicPartition[];
  generation: number;
}

/** One cooperative generation: the leader assigns, every member applies it; returns how many partitions were revoked. */
function cooperativeRound(
  group: SimMember[],
  partitions: Map<string, number>,
  generation: number,
): { revoked: number } {
  const members = group.map((m) =>
    member(m.id, m.topics, { ownedPartitions: m.owned, generationId: m.generation }),
  );
  const assignment = cooperativeStickyAssignor.assign(
    shuffle(members, new SeededRandom(generation)),
    partitions,
  );
  const ownedBy = new Map<string, string>();
  for (const m of group) for (const p of m.owned) ownedBy.set(key(p), m.id);
  for (const [id, list] of assignment) {
    for (const p of list) {
      const owner = ownedBy.get(key(p));
      if (owner !== undefined && owner !== id)
        throw new Error(`${key(p)} given to ${id} while ${owner} owns it`);
    }
  }
  let revoked = 0;
  for (const m of group) {
    const next = assignment.get(m.id)!;
    const nextKeys = new Set(next.map(key));
    revoked += m.owned.filter((p) => !nextKeys.has(key(p))).length;
    m.owned = next;
    m.generation = generation;
  }
  return { revoked };
}

function member(
  memberId: string,
  topics: string[],
  opts: Partial<Subscription> & { groupInstanceId?: string } = {},
): AssignorMember {
  const { groupInstanceId = null, ...sub } = opts;
  return {
    memberId,
    groupInstanceId,
    subscription: { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null, ...sub },
  };
}

function tp(topic: string, partition: number): TopicPartition {
  return { topic, partition };
}

function ppt(counts: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(counts));
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function key(p: TopicPartition): string {
  return `${p.topic}:${p.partition}`;
}

/** "t0p1" style, for readable expectations. */
function byMember(assignment: Map<string, TopicPartition[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, list] of assignment) out[id] = list.map((p) => `${p.topic}p${p.partition}`);
  return out;
}

function counts(assignment: Map<string, TopicPartition[]>): number[] {
  return [...assignment.values()].map((l) => l.length);
}

function spread(assignment: Map<string, TopicPartition[]>): number {
  const c = counts(assignment);
  return c.length === 0 ? 0 : Math.max(...c) - Math.min(...c);
}

function shuffle<T>(items: readonly T[], rng: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Topics t0..tN with 1..12 partitions; members subscribing to random non-empty subsets (or all). */
function randomGroup(
  rng: SeededRandom,
  opts: { sameTopics?: boolean; maxMembers?: number } = {},
): { members: AssignorMember[]; partitionsPerTopic: Map<string, number> } {
  const partitionsPerTopic = new Map<string, number>();
  const topicCount = 1 + rng.int(5);
  for (let i = 0; i < topicCount; i++) partitionsPerTopic.set(`t${i}`, 1 + rng.int(12));
  const topics = [...partitionsPerTopic.keys()];
  const members: AssignorMember[] = [];
  const memberCount = 1 + rng.int(opts.maxMembers ?? 8);
  for (let i = 0; i < memberCount; i++) {
    let subscribed = opts.sameTopics ? topics : topics.filter(() => rng.next() < 0.5);
    if (subscribed.length === 0) subscribed = [topics[rng.int(topics.length)]!];
    const instance = rng.next() < 0.2 ? { groupInstanceId: `i${rng.int(1000)}-${i}` } : {};
    members.push(member(`m-${rng.int(1e9).toString(36)}-${i}`, subscribed, instance));
  }
  return { members, partitionsPerTopic };
}

/** Every partition of a subscribed topic assigned exactly once, to a subscriber; an entry per member. */
function expectValid(
  members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  assignment: Map<string, TopicPartition[]>,
): void {
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const m of members) {
    const list = assignment.get(m.memberId);
    if (list === undefined) {
      problems.push(`no entry for ${m.memberId}`);
      continue;
    }
    for (const p of list) {
      if (!m.subscription.topics.includes(p.topic))
        problems.push(`${m.memberId} got ${key(p)}, not subscribed`);
      if (owner.has(key(p))) problems.push(`${key(p)} given to ${owner.get(key(p))} and ${m.memberId}`);
      owner.set(key(p), m.memberId);
    }
  }
  if (assignment.size !== members.length)
    problems.push(`${assignment.size} entries for ${members.length} members`);
  for (const topic of new Set(members.flatMap((m) => m.subscription.topics))) {
    for (let p = 0; p < (partitionsPerTopic.get(topic) ?? 0); p++) {
      if (!owner.has(`${topic}:${p}`)) problems.push(`${topic}:${p} unassigned`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
