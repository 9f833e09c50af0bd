/**
 * A seeded simulation of the metadata quorum with its contents: 3 controllers and 3 brokers (a
 * 4th joins the running cluster halfway) under one PRNG, over simulated networks (Raft and RPC)
 * that drop, delay, duplicate and partition, and disks that lose unsynced writes on a crash.
 *
 * Phase 1: `steps` events of workload (topic creates and deletes, elections, reassignments,
 * config changes, ISR changes from leaders) under faults (crashes and restarts of controllers
 * and brokers, controlled shutdowns, partitions, an isolated active controller).
 * Phase 2, quiet: faults stop and the cluster must make progress: an active controller, every
 * broker registered and unfenced, a topic creation acknowledged, every partition led, every
 * node's image identical. MetadataChecker runs on every image any node applies.
 */
import { SeededRandom } from '../../../env/random.js';
import { encodeRecords } from '../../metadata/codec.js';
import { SimViolation } from '../../sim/checker.js';
import { SimClock } from '../../sim/sim-clock.js';
import { drainMicrotasks } from '../../sim/sim-cluster.js';
import { DEFAULT_SIM_DISK, SimDisk } from '../../sim/sim-disk.js';
import { QUIET_NETWORK, raftWireCodec, SimNetwork } from '../../sim/sim-network.js';
import { Trace } from '../../sim/trace.js';
import { MetadataChecker } from './checker.js';
import { type MemberEnv, SimMember } from './members.js';
import { rpcWireCodec } from './sim-rpc.js';

export interface ControllerSimOptions {
  readonly seed: number;
  readonly steps: number;
  readonly quietMs?: number;
}

export interface ControllerSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly report: string;
  readonly traceDigest: string;
  readonly stats: Readonly<Record<string, number>>;
}

const CONTROLLERS = [1, 2, 3];
const BROKERS = [101, 102, 103];
/** Joins the running cluster halfway through the faulty phase. */
const LATE_BROKER = 104;
const ALL_BROKERS = [...BROKERS, LATE_BROKER];

export async function runControllerSimulation(opts: ControllerSimOptions): Promise<ControllerSimResult> {
  const random = new SeededRandom(opts.seed);
  const clock = new SimClock();
  const trace = new Trace(200);
  const checker = new MetadataChecker();
  let failure: Error | null = null;
  const fail = (err: Error): void => {
    if (failure === null) {
      failure = err;
      trace.line(clock.monotonic(), `FAILURE ${err.message}`);
    }
  };
  const faulty = {
    dropProbability: random.next() * 0.08,
    duplicateProbability: random.next() * 0.04,
    minDelayMs: 0.5,
    maxDelayMs: 2 + random.next() * 15,
    longDelayProbability: random.next() * 0.03,
    longDelayMaxMs: 300,
  };
  const raftNet = new SimNetwork(clock, random, faulty, trace, raftWireCodec(8 * 1024 * 1024));
  const rpcNet = new SimNetwork(clock, random, faulty, trace, rpcWireCodec);
  const log = (line: string): void => trace.line(clock.monotonic(), line);
  const env: MemberEnv = {
    clock,
    random,
    raftNet,
    rpcNet,
    voters: CONTROLLERS,
    raft: {
      electionTimeoutMs: 300,
      heartbeatIntervalMs: 60,
      appendTimeoutMs: 300,
      proposeTimeoutMs: 2000,
      readTimeoutMs: 1000,
      snapshotIntervalEntries: 40 + random.int(80),
      retainEntriesAfterSnapshot: random.int(20),
      snapshotChunkBytes: 512,
      snapshotChunkTimeoutMs: 300,
      segmentBytes: 4096,
    },
    controller: { brokerHeartbeatIntervalMs: 200, brokerSessionTimeoutMs: 900, sessionCheckIntervalMs: 100 },
    onApplied: (id, image) => {
      try {
        checker.observe(id, image);
      } catch (err) {
        fail(err as Error);
      }
    },
    onFatal: (id, err) => fail(new SimViolation(`node ${id} failed: ${(err as Error)?.stack ?? err}`)),
    log,
  };
  const members = new Map<number, SimMember>();
  for (const id of [...CONTROLLERS, ...ALL_BROKERS]) {
    members.set(id, new SimMember(id, CONTROLLERS.includes(id), new SimDisk(random, DEFAULT_SIM_DISK)));
  }
  const start = (m: SimMember): void => {
    checker.restarted(m.id);
    m.start(env);
  };
  for (const m of members.values()) if (m.id !== LATE_BROKER) start(m);
  log(
    `SEED=${opts.seed} drop=${faulty.dropProbability.toFixed(3)} dup=${faulty.duplicateProbability.toFixed(3)}`,
  );

  const up = (): SimMember[] => [...members.values()].filter((m) => m.up);
  const pick = <T>(xs: readonly T[]): T | undefined =>
    xs.length === 0 ? undefined : xs[random.int(xs.length)];
  const active = (): SimMember | undefined => up().find((m) => m.controller?.isActive);
  let faultsOn = true;
  let faults = 0;
  let ops = 0;
  let acked = 0;
  let topicSeq = 0;

  const injectFault = (): void => {
    if (!faultsOn) return;
    faults++;
    const r = random.next();
    if (r < 0.35) {
      const m = pick(up());
      if (m !== undefined) {
        m.crash(env, rpcNet);
        clock.setTimeout(() => start(m), 100 + random.next() * 3000);
      }
    } else if (r < 0.42) {
      const m = pick(up().filter((x) => x.lifecycle !== null));
      const lifecycle = m?.lifecycle;
      if (m !== undefined && lifecycle) {
        log(`controlled shutdown of broker ${m.id}`);
        const inc = m.incarnation;
        void lifecycle.shutdown(3000).then(() => {
          if (m.incarnation !== inc || !m.up) return;
          m.crash(env, rpcNet);
          clock.setTimeout(() => start(m), 100 + random.next() * 2000);
        });
      }
    } else if (r < 0.6) {
      const ids = [...members.keys()];
      const side = ids.filter(() => random.next() < 0.5);
      log(`partition [${side}] | rest`);
      const groups = [side, ids.filter((x) => !side.includes(x))];
      raftNet.partition(groups);
      rpcNet.partition(groups);
    } else if (r < 0.75) {
      const a = active();
      if (a !== undefined) {
        log(`isolate active controller ${a.id}`);
        const groups = [[a.id], [...members.keys()].filter((x) => x !== a.id)];
        raftNet.partition(groups);
        rpcNet.partition(groups);
      }
    } else {
      log('heal');
      raftNet.heal();
      rpcNet.heal();
    }
  };
  const faultLoop = (): void => {
    clock.setTimeout(
      () => {
        injectFault();
        if (faultsOn) faultLoop();
      },
      200 + random.next() * 1500,
    );
  };

  const workload = (): void => {
    if (!faultsOn) return;
    const m = pick(up());
    const router = m?.router;
    const img = m?.sm?.image();
    if (router && img) {
      ops++;
      const r = random.next();
      const topics = [...img.topics.values()];
      let p: Promise<unknown>;
      if (r < 0.5 || topics.length === 0) {
        p = router.call('createTopics', {
          topics: [
            {
              name: `t${topicSeq++}`,
              numPartitions: 1 + random.int(4),
              replicationFactor: 1 + random.int(3),
            },
          ],
        });
      } else if (r < 0.6) {
        p = router.call('deleteTopics', { topics: [pick(topics)!.name] });
      } else if (r < 0.75) {
        p = router.call('electLeaders', { electionType: 'preferred', partitions: null });
      } else if (r < 0.85) {
        const t = pick(topics)!;
        const rf = 1 + random.int(3);
        const target = [...ALL_BROKERS].sort(() => random.next() - 0.5).slice(0, rf);
        p = router.call('alterPartitionReassignments', {
          reassignments: [{ topic: t.name, partition: random.int(t.partitions.size), replicas: target }],
        });
      } else if (r < 0.92) {
        // a broker's producer id block (as the brokers' InitProducerId would ask): never shared
        const b = pick([...img.brokers.values()]);
        p =
          b === undefined
            ? Promise.resolve()
            : router.call('allocateProducerIds', { brokerId: b.id, brokerEpoch: b.epoch }).then((block) => {
                try {
                  checker.producerIdBlock(block.firstProducerId, block.size);
                } catch (err) {
                  fail(err as Error);
                }
              });
      } else {
        const t = pick(topics)!;
        p = router.call('alterConfigs', {
          resources: [
            {
              type: 'topic',
              name: t.name,
              configs: { 'unclean.leader.election.enable': random.next() < 0.5 ? 'true' : 'false' },
            },
          ],
        });
      }
      p.then(
        () => {
          acked++;
        },
        () => {},
      );
    }
    clock.setTimeout(workload, 50 + random.next() * 400);
  };
  faultLoop();
  workload();

  let steps = 0;
  const step = async (): Promise<boolean> => {
    if (!clock.runNext()) return false;
    steps++;
    await drainMicrotasks();
    return true;
  };
  let lateStarted = false;
  while (failure === null && steps < opts.steps) {
    if (!lateStarted && steps >= opts.steps / 2) {
      lateStarted = true;
      start(members.get(LATE_BROKER)!);
    }
    if (!(await step())) break;
  }

  // quiet phase
  faultsOn = false;
  raftNet.heal();
  rpcNet.heal();
  raftNet.options = QUIET_NETWORK;
  rpcNet.options = QUIET_NETWORK;
  for (const m of members.values()) {
    m.disk.options = { ...m.disk.options, stallProbability: 0 };
    start(m);
  }
  log('quiet phase');
  const quietUntil = clock.monotonic() + (opts.quietMs ?? 40_000);
  const runUntil = async (pred: () => boolean): Promise<boolean> => {
    while (failure === null && !pred()) {
      if (clock.nextAtMs() > quietUntil) return false;
      await step();
    }
    return pred();
  };
  let problem: string | null = null;
  const brokersRunning = (): boolean => {
    const a = active();
    const img = a?.sm?.image();
    return (
      img !== undefined &&
      ALL_BROKERS.every(
        (b) => members.get(b)!.lifecycle?.state === 'running' && img.brokers.get(b)?.fenced === false,
      )
    );
  };
  if (failure === null && !(await runUntil(brokersRunning)))
    problem = 'brokers were not all registered and unfenced';
  if (failure === null && problem === null) {
    let created = false;
    const name = `quiet-${opts.seed}`;
    const b = members.get(BROKERS[0]!)!;
    const attempt = (): void => {
      b.router!.call('createTopics', { topics: [{ name, numPartitions: 3, replicationFactor: 3 }] }).then(
        (r) => {
          const e = r.topics[0]!.error;
          if (e === null || e === 'TOPIC_ALREADY_EXISTS') created = true;
          else {
            log(`quiet: create refused (${e}), retrying`);
            clock.setTimeout(attempt, 100);
          }
        },
        (err: unknown) => {
          log(`quiet: create failed (${(err as Error).message}), retrying`);
          clock.setTimeout(attempt, 100);
        },
      );
    };
    attempt();
    if (!(await runUntil(() => created))) problem = 'a topic creation was not acknowledged';
  }
  const converged = (): boolean => {
    const a = active();
    if (a === undefined) return false;
    const target = a.raft!.status().commitIndex;
    const images = new Set<string>();
    for (const m of members.values()) {
      if (m.raft === null || m.raft.status().lastApplied !== target) return false;
      images.add(Buffer.from(encodeRecords(m.sm!.image().toRecords())).toString('base64'));
    }
    if (images.size !== 1) return false;
    for (const p of a.sm!.image().partitions()) if (p.leader === -1) return false;
    return true;
  };
  if (failure === null && problem === null && !(await runUntil(converged))) {
    const a = active();
    const leaderless = a?.sm
      ? [...a.sm.image().partitions()]
          .filter((p) => p.leader === -1)
          .map(
            (p) =>
              `${p.topic}-${p.partition} r=${p.replicas} isr=${p.isr} +${p.addingReplicas} -${p.removingReplicas}`,
          )
      : [];
    const applied = [...members.values()].map(
      (m) => `${m.id}:${m.raft?.status().lastApplied ?? 'down'}/${m.raft?.status().role}`,
    );
    const fenced = a?.sm
      ? [...a.sm.image().brokers.values()].map((b) => `${b.id}:${b.fenced ? 'F' : 'U'}@${b.epoch}`)
      : [];
    problem = `images did not converge with every partition led: active=${a?.id} applied=${applied} brokers=${fenced} leaderless=${leaderless.join('; ')}`;
  }
  if (problem === null && failure === null) {
    const mark = active()?.sm?.image().nextProducerId ?? 0;
    if (mark < checker.producerIdHighest)
      fail(
        new SimViolation(
          `the producer id mark ${mark} is below an acknowledged block ending at ${checker.producerIdHighest}`,
        ),
      );
  }
  if (problem !== null && failure === null) fail(new Error(`liveness: ${problem}`));

  const stats = {
    steps,
    virtualMs: Math.round(clock.monotonic()),
    faults,
    ops,
    acked,
    checkedImages: checker.checkedImages,
    maxLeaderEpoch: checker.maxLeaderEpoch,
    uncleanElectionsSeen: checker.uncleanElections,
    producerIdBlocks: checker.producerIdBlocksGranted,
    raftMessages: raftNet.sent,
    rpcMessages: rpcNet.sent,
    restarts: [...members.values()].reduce((n, m) => n + m.incarnation - 1, 0),
  };
  const f = failure as Error | null;
  const report =
    f === null
      ? `SEED=${opts.seed} ok: ${JSON.stringify(stats)}`
      : [
          `SEED=${opts.seed} FAILED after ${steps} steps: ${f.message}`,
          `replay: SEED=${opts.seed} SIM_STEPS=${opts.steps} npx vitest run test/sim/controller.sim.test.ts`,
          `stats: ${JSON.stringify(stats)}`,
          'trace tail:',
          ...trace.tail(120),
        ].join('\n');
  return { seed: opts.seed, ok: f === null, report, traceDigest: trace.digest(), stats };
}
