/**
 * One broker of the data-path simulation: the real data path of a cluster broker — LogManager
 * (over the node's SimDisk), ReplicaManager, ReplicationManager (partitions, fetchers, ISR, high
 * watermark, its checkpoint) and the real Produce / Fetch / OffsetForLeaderEpoch handlers — wired
 * as core/broker/broker.ts wires them, on the node's simulated clock, with the follower fetchers
 * and the Kafka requests on the simulated network. The group coordinator and the other APIs are
 * left out: they play no part in replication.
 *
 * An incarnation ends with kill() (SIGKILL: page cache kept), powerLoss() (unsynced writes lost
 * or torn) or stop() (clean shutdown: logs flushed, checkpoints written).
 */
import { NodeClock, type SimClock } from '../../../cluster/sim/sim-clock.js';
import type { SimDisk } from '../../../cluster/sim/sim-disk.js';
import type { SimNetwork } from '../../../cluster/sim/sim-network.js';
import type { Random } from '../../../env/random.js';
import type { PartitionLog } from '../../../log/log.js';
import { LogManager } from '../../../log/log-manager.js';
import { ApiKey } from '../../../protocol/api-keys.js';
import { decodeRequestFrame, encodeResponseFrame } from '../../../protocol/frames.js';
import { type BrokerConfig, parseBrokerConfig } from '../../config.js';
import type { CallContext, NodeParts } from '../../handlers/context.js';
import { handleFetch, handleOffsetForLeaderEpoch, handleProduce } from '../../handlers/data.js';
import { ProducerIdManager } from '../../producer-ids.js';
import { ReplicaManager } from '../../replica-manager.js';
import type { FetcherConfig } from '../replica-fetcher.js';
import { ReplicationManager } from '../replication-manager.js';
import { CONTROLLER_ID, endpointOf, SimClusterView } from './sim-controller.js';
import {
  KIND_CONTROL,
  KIND_KAFKA_REQUEST,
  KIND_KAFKA_RESPONSE,
  type SimEnvelope,
  SimNodeNet,
} from './sim-wire.js';

export interface SimBrokerEnv {
  readonly clock: SimClock;
  readonly random: Random;
  readonly net: SimNetwork<SimEnvelope>;
  readonly log: (line: string) => void;
  readonly lagTimeMaxMs: number;
  readonly heartbeatMs: number;
  readonly fetcher: Partial<FetcherConfig>;
  readonly hwCheckpointIntervalMs: number;
  /** false: the unsafe variant without the high-watermark checkpoint. */
  readonly hwCheckpoint: boolean;
  /** Log-manager settings (segment size, flush intervals). */
  readonly logDefaults: Record<string, string | number | boolean>;
}

interface Incarnation {
  readonly clock: NodeClock;
  readonly nodeNet: SimNodeNet;
  readonly view: SimClusterView;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly repl: ReplicationManager;
  readonly parts: NodeParts;
  alive: boolean;
}

export const DATA_DIR = '/data';

export class SimBroker {
  incarnation = 0;
  private cur: Incarnation | null = null;
  /** A clean shutdown in progress. */
  stopping = false;

  constructor(
    readonly id: number,
    readonly disk: SimDisk,
    private readonly env: SimBrokerEnv,
  ) {}

  get up(): boolean {
    return this.cur?.alive === true;
  }

  /** The running incarnation's replication manager, if up. */
  get replication(): ReplicationManager | null {
    return this.up ? this.cur!.repl : null;
  }

  /** The running incarnation's log of a partition, if it has one (with or without a role yet). */
  log(topic: string, partition: number): PartitionLog | undefined {
    if (!this.up) return undefined;
    const logs = this.cur!.logs;
    return (logs.topic(topic)?.partitions ?? 0) > partition ? logs.getLog(topic, partition) : undefined;
  }

  start(): void {
    if (this.cur !== null || this.stopping) return;
    const { env } = this;
    this.incarnation++;
    const clock = new NodeClock(env.clock);
    const fs = this.disk.mount(clock);
    const config: BrokerConfig = parseBrokerConfig({ 'node.id': this.id, 'cluster.id': 'sim-cluster' });
    const logs = LogManager.open({
      dataDir: DATA_DIR,
      nodeId: this.id,
      clusterId: 'sim-cluster',
      defaults: env.logDefaults,
      fs,
      clock,
      random: env.random,
      lock: false,
      logger: { info: () => {}, warn: (m) => env.log(`broker ${this.id}: log manager: ${m}`) },
    });
    logs.start();
    const replicas = new ReplicaManager(logs, clock);
    let inc: Incarnation | null = null;
    const ep = env.net.attach(this.id);
    const nodeNet = new SimNodeNet(this.id, ep, clock, (m) => {
      if (inc === null || !inc.alive) return;
      if (m.kind === KIND_KAFKA_REQUEST) this.serve(inc, m);
      else if (m.kind === KIND_CONTROL && m.from === CONTROLLER_ID) inc.view.onMessage(m);
    });
    const view = new SimClusterView(nodeNet, clock, this.incarnation, env.heartbeatMs, 4 * env.heartbeatMs);
    const repl = new ReplicationManager({
      view,
      logs,
      selfId: this.id,
      clock,
      lagTimeMaxMs: env.lagTimeMaxMs,
      fetcher: env.fetcher,
      onHighWatermark: (log) => replicas.wake(log),
      log: (msg) => env.log(`broker ${this.id}: ${msg}`),
      connect: nodeNet.connector(),
      fs,
      hwCheckpointIntervalMs: env.hwCheckpointIntervalMs,
      highWatermarkCheckpoint: env.hwCheckpoint,
    });
    replicas.replication = repl;
    const producerIds = new ProducerIdManager(fs, DATA_DIR);
    const parts: NodeParts = {
      config,
      logs,
      replicas,
      producerIds,
      clock,
      endpoint: () => endpointOf(this.id),
      brokers: () => view.brokers(),
      controllerId: () => CONTROLLER_ID,
      clusterId: () => logs.clusterId,
    };
    inc = { clock, nodeNet, view, logs, replicas, repl, parts, alive: true };
    this.cur = inc;
    view.start();
    env.log(`broker ${this.id} starts (incarnation ${this.incarnation}): ${describeLogs(logs)}`);
  }

  private serve(inc: Incarnation, m: SimEnvelope): void {
    const frame = Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
    let req: ReturnType<typeof decodeRequestFrame>;
    try {
      req = decodeRequestFrame(frame);
    } catch (err) {
      this.env.log(`broker ${this.id}: bad request from ${m.from}: ${(err as Error).message}`);
      return;
    }
    const ctx: CallContext = {
      apiVersion: req.apiVersion,
      clientId: req.clientId,
      clientHost: `node-${m.from}`,
    };
    const reply = (chunks: Buffer[]): void => {
      if (!inc.alive) return; // the process died while the request waited
      inc.nodeNet.send(m.from, KIND_KAFKA_RESPONSE, m.id, Buffer.concat(chunks).subarray(4));
    };
    const failed = (err: unknown): void => {
      this.env.log(
        `broker ${this.id}: request ${req.apiKey} from ${m.from} failed: ${(err as Error).message}`,
      );
    };
    if (req.apiKey === ApiKey.Fetch) {
      handleFetch(inc.parts, ctx, req.body).then(
        (res) => reply(encodeResponseFrame(ApiKey.Fetch, req.apiVersion, req.correlationId, res)),
        failed,
      );
    } else if (req.apiKey === ApiKey.OffsetForLeaderEpoch) {
      const res = handleOffsetForLeaderEpoch(inc.parts, ctx, req.body);
      reply(encodeResponseFrame(ApiKey.OffsetForLeaderEpoch, req.apiVersion, req.correlationId, res));
    } else if (req.apiKey === ApiKey.Produce) {
      handleProduce(inc.parts, ctx, req.body).then((res) => {
        if (res !== null) reply(encodeResponseFrame(ApiKey.Produce, req.apiVersion, req.correlationId, res));
      }, failed);
    }
  }

  /** SIGKILL: the process is gone, the page cache is not. */
  kill(): void {
    if (!this.halt()) return;
    this.disk.kill();
    this.env.log(`broker ${this.id} killed`);
  }

  /** Power loss: unsynced writes lost or torn. */
  powerLoss(): void {
    if (this.cur !== null)
      this.env.log(`broker ${this.id} before power loss: ${describeLogs(this.cur.logs)}`);
    this.halt();
    const what = this.disk.crash();
    this.env.log(`broker ${this.id} loses power (${what})`);
  }

  private halt(): boolean {
    const inc = this.cur;
    this.stopping = false; // a clean shutdown in progress dies with the process
    if (inc === null) return false;
    inc.alive = false;
    inc.clock.kill();
    this.env.net.detach(this.id);
    this.cur = null;
    return true;
  }

  /** Clean shutdown: stop serving, close replication (writes the HW checkpoint), flush and close the logs. */
  async stop(): Promise<void> {
    const inc = this.cur;
    if (inc === null || this.stopping) return;
    this.stopping = true;
    this.env.log(`broker ${this.id} shuts down cleanly`);
    inc.view.stop();
    this.env.net.detach(this.id);
    try {
      await inc.repl.close();
      inc.replicas.close();
      await inc.logs.close();
    } catch (err) {
      this.env.log(`broker ${this.id}: clean shutdown failed: ${(err as Error).message}`);
    } finally {
      if (this.cur === inc) {
        inc.alive = false;
        inc.clock.kill();
        this.disk.kill();
        this.cur = null;
      }
      this.stopping = false;
    }
  }
}

/** "topic-p leo/hw/flushed" of every log, plus what recovery did: for the trace. */
function describeLogs(logs: LogManager): string {
  const out: string[] = [];
  for (const l of logs.logs()) {
    if (l.topic.startsWith('__')) continue;
    const r = l.recovery;
    out.push(
      `${l.topic}-${l.partition} leo=${l.logEndOffset} hw=${l.highWatermark} flushed=${l.flushedOffset}` +
        (r.truncatedBytes > 0 ? ` (recovery cut ${r.truncatedBytes} bytes: ${r.problems.join('; ')})` : ''),
    );
  }
  return out.join(', ') || 'no logs';
}
