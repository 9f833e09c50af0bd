/**
 * The deterministic simulation of partition replication (the data path). One seeded PRNG drives
 * everything: 3 or 4 brokers running the real replication code (sim-broker.ts) over simulated
 * disks and a simulated network, the controller's rules (sim-controller.ts), and a producer
 * writing acks=all batches and remembering every acknowledgement.
 *
 * Phase 1: `steps` events under faults — brokers killed (SIGKILL: the page cache survives), power
 * losses (unsynced writes lost or torn), clean restarts, network partitions (random splits, an
 * isolated leader, the controller cut off), storms of loss/duplication/delay, fsync stalls.
 * Phase 2, quiet: faults stop; every partition must get a leader, new acks=all writes must all
 * succeed, and all replicas must converge. The DataChecker runs after every event.
 *
 * Failure model: Kafka's acks=all promise is that a record survives as long as one in-sync replica
 * stays alive with it, and followers do not fsync. A power loss is therefore injected only into a
 * healthy cluster (every broker up, no cut link, no storm; otherwise it becomes a kill), and until
 * the broker that lost power has caught up again on what was committed before, no other failure
 * is injected and the network loses nothing (a broker fenced for lost heartbeats is a failure):
 * otherwise the controller could shrink an ISR to just that broker and elect it
 * (the "last replica standing" loss that Kafka's KIP-966, eligible leader replicas, addresses;
 * not implemented here, see docs/cluster.md). Kills and clean restarts are unrestricted.
 *
 * A failure reports its seed, the replay command and the trace tail; the same seed replays the
 * same run (equal trace digests).
 */
import { SimViolation } from '../../../cluster/sim/checker.js';
import { SimClock } from '../../../cluster/sim/sim-clock.js';
import { drainMicrotasks } from '../../../cluster/sim/sim-cluster.js';
import { SimDisk, type SimDiskOptions } from '../../../cluster/sim/sim-disk.js';
import { type NetworkOptions, QUIET_NETWORK, SimNetwork } from '../../../cluster/sim/sim-network.js';
import { Trace } from '../../../cluster/sim/trace.js';
import { SeededRandom } from '../../../env/random.js';
import { ApiKey } from '../../../protocol/api-keys.js';
import { encodeBatch } from '../../../records/index.js';
import { DataChecker, readRecords } from './checker.js';
import { SimBroker, type SimBrokerEnv } from './sim-broker.js';
import { CONTROLLER_ID, type ControllerUnsafe, SimController } from './sim-controller.js';
import { type SimEnvelope, SimNodeNet, simWireCodec } from './sim-wire.js';

export interface ReplicationUnsafe extends ControllerUnsafe {
  /** The producer counts acks=1 answers (the leader appended, nobody replicated) as acknowledged. */
  readonly ackOnLeaderAppend?: boolean;
  /** Brokers restart without the high-watermark checkpoint (the high watermark at the log end). */
  readonly noHwCheckpoint?: boolean;
}

export interface ReplicationSimOptions {
  readonly seed: number;
  /** Events in the faulty phase. */
  readonly steps: number;
  /** Bound on the quiet phase, virtual ms. */
  readonly quietMs?: number;
  readonly unsafe?: ReplicationUnsafe;
  readonly traceTail?: number;
  /** Every how many events every replica's records below its high watermark are checked (default 150). */
  readonly scanEvery?: number;
  /** Debugging: called with the brokers when the run ends (inspect their logs). */
  readonly inspect?: (brokers: ReadonlyMap<number, SimBroker>) => void;
}

export interface ReplicationSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly kind: 'ok' | 'safety' | 'liveness';
  readonly failure: string | null;
  readonly report: string;
  readonly traceDigest: string;
  readonly stats: Readonly<Record<string, number>>;
}

const TOPIC = 'orders';
const PRODUCER_ID = 100;
const PRODUCE_VERSION = 8;

interface Scenario {
  brokers: number[];
  partitions: number;
  replicationFactor: number;
  minIsr: number;
  lagTimeMaxMs: number;
  sessionTimeoutMs: number;
  heartbeatMs: number;
  network: NetworkOptions;
  disk: SimDiskOptions;
  faultMeanIntervalMs: number;
  produceMeanIntervalMs: number;
  produceTimeoutMs: number;
  hwCheckpointIntervalMs: number;
  logDefaults: Record<string, string | number | boolean>;
  fetchMaxWaitMs: number;
}

function between(r: SeededRandom, lo: number, hi: number): number {
  return lo + r.int(hi - lo + 1);
}

function randomScenario(r: SeededRandom): Scenario {
  const brokerCount = r.next() < 0.7 ? 3 : 4;
  const sessionTimeoutMs = between(r, 400, 1500);
  return {
    brokers: Array.from({ length: brokerCount }, (_, i) => i + 1),
    partitions: between(r, 1, 3),
    replicationFactor: 3,
    minIsr: r.next() < 0.5 ? 1 : 2,
    lagTimeMaxMs: between(r, 200, 1200),
    sessionTimeoutMs,
    heartbeatMs: Math.floor(sessionTimeoutMs / between(r, 3, 6)),
    network: {
      dropProbability: r.next() * 0.1,
      duplicateProbability: r.next() * 0.05,
      minDelayMs: 0.2 + r.next(),
      maxDelayMs: 2 + r.next() * 15,
      longDelayProbability: r.next() * 0.05,
      longDelayMaxMs: r.next() * 400,
    },
    disk: {
      tornWriteProbability: r.next(),
      minSyncMs: 0.2 + r.next(),
      maxSyncMs: 1 + r.next() * 6,
      stallProbability: r.next() * 0.02,
      stallMaxMs: r.next() * 300,
    },
    faultMeanIntervalMs: between(r, 150, 1500),
    produceMeanIntervalMs: between(r, 3, 40),
    produceTimeoutMs: between(r, 200, 2000),
    hwCheckpointIntervalMs: between(r, 50, 2000),
    logDefaults: {
      'log.segment.bytes': between(r, 2048, 32768),
      'log.flush.interval.ms': between(r, 20, 2000),
      'log.flush.scheduler.interval.ms': between(r, 20, 500),
      'log.flush.offset.checkpoint.interval.ms': between(r, 100, 3000),
    },
    fetchMaxWaitMs: between(r, 20, 300),
  };
}

function describe(s: Scenario): string {
  const n = s.network;
  return [
    `brokers=${s.brokers.join(',')} partitions=${s.partitions} rf=${s.replicationFactor} min.insync=${s.minIsr}`,
    `lag=${s.lagTimeMaxMs}ms session=${s.sessionTimeoutMs}ms`,
    `drop=${n.dropProbability.toFixed(3)} dup=${n.duplicateProbability.toFixed(3)} delay=${n.minDelayMs.toFixed(1)}-${n.maxDelayMs.toFixed(1)}ms`,
    `faultEvery~${s.faultMeanIntervalMs}ms produceEvery~${s.produceMeanIntervalMs}ms`,
  ].join(' ');
}

export async function runReplicationSimulation(opts: ReplicationSimOptions): Promise<ReplicationSimResult> {
  const unsafe = opts.unsafe ?? {};
  const random = new SeededRandom(opts.seed);
  const s = randomScenario(random);
  const clock = new SimClock();
  const trace = new Trace(Math.max(400, opts.traceTail ?? 0));
  const log = (line: string): void => trace.line(clock.monotonic(), line);
  const checker = new DataChecker();
  let failure: Error | null = null;
  let kind: ReplicationSimResult['kind'] = 'ok';
  const fail = (err: Error): void => {
    if (failure !== null) return;
    failure = err;
    log(`FAILURE ${err.message}`);
  };
  const net = new SimNetwork<SimEnvelope>(clock, random, s.network, trace, simWireCodec);
  log(`SEED=${opts.seed} ${describe(s)}${opts.unsafe ? ` unsafe=${JSON.stringify(opts.unsafe)}` : ''}`);

  let controller: SimController | null = null;
  const ctrlNet = new SimNodeNet(CONTROLLER_ID, net.attach(CONTROLLER_ID), clock, (m) =>
    controller?.onMessage(m),
  );
  controller = new SimController(
    ctrlNet,
    clock,
    s.brokers,
    {
      name: TOPIC,
      partitions: s.partitions,
      replicationFactor: s.replicationFactor,
      configs: { 'min.insync.replicas': String(s.minIsr) },
    },
    s.sessionTimeoutMs,
    unsafe,
    log,
  );
  const ctrl = controller;
  ctrl.start();

  const env: SimBrokerEnv = {
    clock,
    random,
    net,
    log,
    lagTimeMaxMs: s.lagTimeMaxMs,
    heartbeatMs: s.heartbeatMs,
    fetcher: { maxWaitMs: s.fetchMaxWaitMs, backoffMs: 20, requestTimeoutMs: 400 },
    hwCheckpointIntervalMs: s.hwCheckpointIntervalMs,
    hwCheckpoint: unsafe.noHwCheckpoint !== true,
    logDefaults: s.logDefaults,
  };
  const brokers = new Map<number, SimBroker>();
  for (const id of s.brokers) brokers.set(id, new SimBroker(id, new SimDisk(random, s.disk), env));
  const startBroker = (b: SimBroker): void => {
    try {
      b.start();
    } catch (err) {
      fail(new SimViolation(`broker ${b.id} could not start: ${(err as Error).stack ?? err}`));
    }
  };
  for (const b of brokers.values()) startBroker(b);

  // --- producer ---------------------------------------------------------------------------------
  const producer = new SimNodeNet(PRODUCER_ID, net.attach(PRODUCER_ID), clock, () => {});
  const acks = unsafe.ackOnLeaderAppend ? 1 : -1;
  let seq = 0;
  let produced = 0;
  let inflight = 0;
  let refused = 0;
  /** Sends one batch; resolves with true when acknowledged. */
  const produce = (partition: number, target: number): Promise<boolean> => {
    const n = 1 + random.int(3);
    const values = Array.from({ length: n }, () => `s${opts.seed}-p${partition}-${++seq}`);
    const records = encodeBatch(
      values.map((v) => ({ value: Buffer.from(v) })),
      { now: clock.now() },
    );
    produced++;
    inflight++;
    return producer
      .request(
        target,
        ApiKey.Produce,
        PRODUCE_VERSION,
        {
          transactionalId: null,
          acks,
          timeoutMs: s.produceTimeoutMs,
          topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
        },
        s.produceTimeoutMs + 300,
        'sim-producer',
      )
      .then(
        (res) => {
          const r = res.responses[0]?.partitionResponses[0];
          if (r === undefined || r.errorCode !== 0) {
            refused++;
            return false;
          }
          const first = Number(r.baseOffset);
          log(`producer: broker ${target} acknowledged ${TOPIC}-${partition} [${first}..${first + n - 1}]`);
          try {
            checker.ack(partition, first, values);
          } catch (err) {
            fail(err as Error);
          }
          return true;
        },
        () => false,
      )
      .finally(() => {
        inflight--;
      });
  };
  let producing = true;
  const produceLoop = (): void => {
    if (!producing) return;
    if (inflight < 8) {
      const partition = random.int(s.partitions);
      const leader = ctrl.partition(TOPIC, partition)?.leader ?? -1;
      // mostly the controller's leader; sometimes any broker (a client with stale metadata)
      const target = random.next() < 0.15 ? s.brokers[random.int(s.brokers.length)]! : leader;
      if (target >= 0) void produce(partition, target);
    }
    clock.setTimeout(produceLoop, random.next() * 2 * s.produceMeanIntervalMs);
  };
  produceLoop();

  // --- faults -----------------------------------------------------------------------------------
  let faultsOn = true;
  let faults = 0;
  let powerLosses = 0;
  let kills = 0;
  let cleanRestarts = 0;
  /** Brokers that lost power and have not caught up on what was acknowledged before: id → partition → offset. */
  const unrecovered = new Map<number, Map<number, number>>();
  const pick = <T>(xs: readonly T[]): T | undefined =>
    xs.length === 0 ? undefined : xs[random.int(xs.length)];
  const upBrokers = (): SimBroker[] => [...brokers.values()].filter((b) => b.up);
  const restartLater = (b: SimBroker): void => {
    if (random.next() < 0.1) return; // stays down until a later restart or the quiet phase
    const inc = b.incarnation;
    clock.setTimeout(
      () => {
        if (faultsOn && !b.up && b.incarnation === inc) startBroker(b);
      },
      20 + random.next() * 3 * s.sessionTimeoutMs,
    );
  };
  /** Per partition, the end of what is committed: acknowledged, or below a leader's high watermark. */
  const committedEnds = (): Map<number, number> => {
    const ends = new Map<number, number>();
    for (let p = 0; p < s.partitions; p++) {
      let max = -1;
      for (const o of checker.acked.get(p)?.keys() ?? []) if (o > max) max = o;
      ends.set(p, Math.max(max + 1, checker.committedEnd(p)));
    }
    return ends;
  };
  let storm = false;
  const groups = (ids: number[]): number[][] => {
    const side = ids.filter(() => random.next() < 0.5);
    return [side, ids.filter((x) => !side.includes(x))];
  };
  const healthy = (): boolean =>
    unrecovered.size === 0 &&
    !storm &&
    net.cutLinks === 0 &&
    [...brokers.values()].every((b) => b.up && !b.stopping);
  /**
   * Whether b is (or is about to be) the only electable holder of committed records it has not
   * fsynced: the ISR shrank, or b asked to shrink it, to b alone (another replica failed) and the
   * flush has not completed yet. A power loss then is a second failure.
   */
  const soleUnsyncedHolder = (b: SimBroker): boolean => {
    const ends = committedEnds();
    for (let p = 0; p < s.partitions; p++) {
      const a = ctrl.partition(TOPIC, p)!;
      const log = b.log(TOPIC, p);
      // the ISR is b alone, or b has asked the controller for that (its request may still land)
      const pending = b.replication?.partition(TOPIC, p)?.pendingIsr;
      const alone = (isr: readonly number[] | null | undefined): boolean =>
        isr?.length === 1 && isr[0] === b.id;
      if (log && (alone(a.isr) || alone(pending)) && log.flushedOffset < (ends.get(p) ?? 0)) return true;
    }
    return false;
  };
  const injectFault = (): void => {
    faults++;
    const r = random.next();
    if (unrecovered.size > 0 && r < 0.82) {
      // A broker lost unsynced data: no other failure until it has caught up again (see the header).
      return;
    }
    if (r < 0.2) {
      const b = pick(upBrokers());
      if (b) {
        kills++;
        b.kill();
        restartLater(b);
      }
    } else if (r < 0.38 || (healthy() && random.next() < 0.3)) {
      // (a healthy cluster is a chance for a power loss: they are only injected there)
      const b = pick(upBrokers());
      if (!b) return;
      if (!healthy() || soleUnsyncedHolder(b)) {
        log(`power loss of broker ${b.id} becomes a kill: the cluster is not healthy`);
        kills++;
        b.kill();
        restartLater(b);
      } else {
        powerLosses++;
        unrecovered.set(b.id, committedEnds());
        // No other failure meanwhile — not even a broker fenced because the network lost its
        // heartbeats: the network is quiet until the broker has caught up.
        net.options = QUIET_NETWORK;
        b.powerLoss();
        const inc = b.incarnation;
        clock.setTimeout(
          () => {
            if (faultsOn && !b.up && b.incarnation === inc) startBroker(b);
          },
          20 + random.next() * 3 * s.sessionTimeoutMs,
        );
      }
    } else if (r < 0.46) {
      const b = pick(upBrokers());
      if (b) {
        cleanRestarts++;
        const inc = b.incarnation;
        void b.stop().then(() => {
          clock.setTimeout(() => {
            if (faultsOn && !b.up && b.incarnation === inc) startBroker(b);
          }, random.next() * s.sessionTimeoutMs);
        });
      }
    } else if (r < 0.6) {
      const g = groups([CONTROLLER_ID, ...s.brokers, ...(random.next() < 0.3 ? [PRODUCER_ID] : [])]);
      log(`partition {${g[0]}} | {${g[1]}}`);
      net.heal();
      net.partition(g);
    } else if (r < 0.7) {
      const p = random.int(s.partitions);
      const leader = ctrl.partition(TOPIC, p)?.leader ?? -1;
      if (leader >= 0) {
        const others = [CONTROLLER_ID, PRODUCER_ID, ...s.brokers].filter((x) => x !== leader);
        // half the time the producer stays with the isolated leader (a zombie leader's clients)
        const withLeader = random.next() < 0.5 ? [leader, PRODUCER_ID] : [leader];
        log(`isolate leader ${leader} of partition ${p}${withLeader.length > 1 ? ' with the producer' : ''}`);
        net.heal();
        net.partition([withLeader, others.filter((x) => !withLeader.includes(x))]);
      }
    } else if (r < 0.76) {
      log(`cut the controller off`);
      net.heal();
      net.partition([[CONTROLLER_ID], [PRODUCER_ID, ...s.brokers]]);
    } else if (r < 0.82) {
      net.options = {
        dropProbability: 0.2 + random.next() * 0.4,
        duplicateProbability: random.next() * 0.3,
        minDelayMs: s.network.minDelayMs,
        maxDelayMs: s.network.maxDelayMs * 3,
        longDelayProbability: 0.2,
        longDelayMaxMs: s.sessionTimeoutMs,
      };
      log('network storm begins');
      storm = true;
      clock.setTimeout(
        () => {
          if (!faultsOn) return;
          net.options = s.network;
          storm = false;
          log('network storm ends');
        },
        random.next() * 3 * s.sessionTimeoutMs,
      );
    } else if (r < 0.86) {
      const b = pick([...brokers.values()]);
      if (b) {
        b.disk.options = { ...s.disk, stallProbability: 0.5, stallMaxMs: s.sessionTimeoutMs };
        log(`disk of broker ${b.id} stalls`);
        clock.setTimeout(
          () => {
            b.disk.options = s.disk;
          },
          random.next() * 2 * s.sessionTimeoutMs,
        );
      }
    } else {
      if (net.cutLinks > 0) log('heal network');
      net.heal();
      const down = pick([...brokers.values()].filter((b) => !b.up && !b.stopping));
      if (down && random.next() < 0.7) startBroker(down);
    }
  };
  const faultLoop = (): void => {
    clock.setTimeout(
      () => {
        if (!faultsOn) return;
        injectFault();
        faultLoop();
      },
      random.next() * 2 * s.faultMeanIntervalMs,
    );
  };
  faultLoop();

  // --- observation --------------------------------------------------------------------------------
  const scanEvery = Math.max(1, opts.scanEvery ?? 150);
  let steps = 0;
  const observe = (scan: boolean): void => {
    for (let p = 0; p < s.partitions; p++) {
      const a = ctrl.partition(TOPIC, p)!;
      checker.controllerLeader(p, a.leaderEpoch, a.leader);
      for (const b of brokers.values()) {
        const part = b.replication?.partition(TOPIC, p);
        if (part?.role === 'leader') {
          checker.leader(p, part.leaderEpoch, b.id);
          checker.leaderHighWatermark(p, part.log.highWatermark);
        }
      }
      for (const b of brokers.values()) {
        const part = b.replication?.partition(TOPIC, p);
        if (!part) continue;
        checker.replicaHighWatermark(p, b.id, part.log.highWatermark);
        if (scan) {
          const hw = part.log.highWatermark;
          checker.replica(p, b.id, readRecords(part.log, hw), part.log.logStartOffset, hw);
        }
        const target = unrecovered.get(b.id)?.get(p);
        if (target !== undefined && part.log.logEndOffset >= target) unrecovered.get(b.id)!.delete(p);
      }
    }
    for (const [id, targets] of unrecovered) {
      if (
        targets.size === 0 ||
        [...targets.keys()].every((p) => !ctrl.partition(TOPIC, p)!.replicas.includes(id))
      ) {
        unrecovered.delete(id);
        log(`broker ${id} recovered from its power loss`);
        if (unrecovered.size === 0 && faultsOn) net.options = s.network;
      }
    }
  };
  const step = async (): Promise<boolean> => {
    if (!clock.runNext()) return false;
    steps++;
    await drainMicrotasks();
    if (failure === null) {
      try {
        observe(steps % scanEvery === 0);
      } catch (err) {
        fail(err as Error);
      }
    }
    return true;
  };
  while (failure === null && steps < opts.steps) if (!(await step())) break;

  // --- quiet phase --------------------------------------------------------------------------------
  faultsOn = false;
  producing = false;
  let problem: string | null = null;
  if (failure === null) {
    net.heal();
    net.options = QUIET_NETWORK;
    for (const b of brokers.values()) b.disk.options = { ...s.disk, stallProbability: 0 };
    log('faults stop: network healed, every broker starting');
    const quietUntil = clock.monotonic() + (opts.quietMs ?? 30_000);
    const runUntil = async (pred: () => boolean): Promise<boolean> => {
      while (failure === null && !pred()) {
        for (const b of brokers.values()) if (!b.up && !b.stopping) startBroker(b);
        if (clock.nextAtMs() > quietUntil) return false;
        if (!(await step())) return false;
      }
      return failure === null;
    };
    const led = (): boolean => {
      for (let p = 0; p < s.partitions; p++) {
        const a = ctrl.partition(TOPIC, p)!;
        const part = a.leader >= 0 ? brokers.get(a.leader)!.replication?.partition(TOPIC, p) : undefined;
        if (part?.role !== 'leader' || part.leaderEpoch !== a.leaderEpoch) return false;
      }
      return true;
    };
    if (!(await runUntil(led))) problem = 'not every partition got a leader that knows it';
    // progress: new acks=all writes succeed (retrying refusals: NOT_LEADER, NOT_ENOUGH_REPLICAS…)
    const probes = 5;
    for (let p = 0; p < s.partitions && problem === null && failure === null; p++) {
      for (let i = 0; i < probes && problem === null; i++) {
        let done = false;
        while (!done && failure === null) {
          const st = { outcome: 'pending' as 'pending' | 'ok' | 'no' };
          const leader = ctrl.partition(TOPIC, p)!.leader;
          if (leader < 0) {
            if (!(await runUntil(() => ctrl.partition(TOPIC, p)!.leader >= 0))) break;
            continue;
          }
          void produce(p, leader).then((ok) => {
            st.outcome = ok ? 'ok' : 'no';
          });
          if (!(await runUntil(() => st.outcome !== 'pending'))) break;
          if (st.outcome === 'ok') done = true;
          else {
            const until = clock.monotonic() + 50;
            if (!(await runUntil(() => clock.monotonic() >= until))) break;
          }
        }
        if (!done && failure === null)
          problem = `an acks=all write to partition ${p} did not succeed after the faults stopped`;
      }
    }
    const converged = (): boolean => {
      for (let p = 0; p < s.partitions; p++) {
        const a = ctrl.partition(TOPIC, p)!;
        if (a.leader < 0 || a.isr.length !== a.replicas.length) return false;
        const lead = brokers.get(a.leader)!.replication?.partition(TOPIC, p);
        if (lead?.role !== 'leader') return false;
        const end = lead.log.logEndOffset;
        if (lead.log.highWatermark !== end) return false;
        for (const r of a.replicas) {
          const part = brokers.get(r)!.replication?.partition(TOPIC, p);
          if (!part || part.log.logEndOffset !== end || part.log.highWatermark !== end) return false;
        }
      }
      return true;
    };
    if (problem === null && failure === null && !(await runUntil(converged))) {
      const state: string[] = [];
      for (let p = 0; p < s.partitions; p++) {
        const a = ctrl.partition(TOPIC, p)!;
        const reps = a.replicas.map((r) => {
          const part = brokers.get(r)!.replication?.partition(TOPIC, p);
          return part
            ? `${r}:${part.role}@${part.leaderEpoch} leo=${part.log.logEndOffset} hw=${part.log.highWatermark}`
            : `${r}:down`;
        });
        state.push(`p${p} leader=${a.leader}@${a.leaderEpoch} isr=[${a.isr}] ${reps.join(' ')}`);
      }
      problem = `replicas did not converge: ${state.join('; ')}`;
    }
    if (problem === null && failure === null) {
      try {
        for (let p = 0; p < s.partitions; p++) {
          const a = ctrl.partition(TOPIC, p)!;
          const lead = brokers.get(a.leader)!.replication!.partition(TOPIC, p)!;
          const records = readRecords(lead.log, lead.log.highWatermark);
          checker.replica(p, a.leader, records, lead.log.logStartOffset, lead.log.highWatermark);
          checker.finalLeader(p, a.leader, records);
          const want = JSON.stringify(records);
          for (const r of a.replicas) {
            const part = brokers.get(r)!.replication!.partition(TOPIC, p)!;
            const mine = readRecords(part.log, lead.log.highWatermark);
            checker.replica(p, r, mine, part.log.logStartOffset, lead.log.highWatermark);
            if (JSON.stringify(mine) !== want) {
              throw new SimViolation(
                `replica ${r} of partition ${p} differs from the leader ${a.leader} below the high watermark ${lead.log.highWatermark}`,
              );
            }
          }
        }
        log('quiet: every partition led, acks=all writes succeed, replicas identical');
      } catch (err) {
        fail(err as Error);
      }
    }
    if (problem !== null && failure === null) {
      kind = 'liveness';
      fail(new Error(`liveness: ${problem}`));
    }
  }
  if (failure !== null && kind === 'ok') kind = 'safety';
  ctrl.stop();
  opts.inspect?.(brokers);

  const stats = {
    steps,
    virtualMs: Math.round(clock.monotonic()),
    faults,
    kills,
    powerLosses,
    cleanRestarts,
    produced,
    refused,
    ackedRecords: checker.ackedRecords,
    replicaScans: checker.replicaScans,
    maxLeaderEpoch: checker.maxLeaderEpoch,
    elections: ctrl.elections,
    uncleanElections: ctrl.uncleanElections,
    fences: ctrl.fences,
    isrChanges: ctrl.isrChanges,
    messages: net.sent,
    dropped: net.dropped,
    duplicated: net.duplicated,
    lostDiskOps: [...brokers.values()].reduce((n, b) => n + b.disk.lostWrites, 0),
    tornWrites: [...brokers.values()].reduce((n, b) => n + b.disk.tornWrites, 0),
  };
  const f = failure as Error | null;
  const message = f === null ? null : f.message;
  const report =
    f === null
      ? `SEED=${opts.seed} ok: ${JSON.stringify(stats)}`
      : [
          `SEED=${opts.seed} FAILED (${kind}) after ${steps} steps, ${clock.monotonic().toFixed(1)} virtual ms: ${message}`,
          `replay: SEED=${opts.seed} SIM_STEPS=${opts.steps} npx vitest run test/sim/replication.sim.test.ts` +
            (opts.unsafe ? ` (with unsafe ${JSON.stringify(opts.unsafe)})` : ''),
          `scenario: ${describe(s)}`,
          `stats: ${JSON.stringify(stats)}`,
          `trace digest: ${trace.digest()}`,
          'trace tail:',
          ...trace.tail(opts.traceTail ?? 120),
        ].join('\n');
  return {
    seed: opts.seed,
    ok: f === null,
    kind,
    failure: message,
    report,
    traceDigest: trace.digest(),
    stats,
  };
}
