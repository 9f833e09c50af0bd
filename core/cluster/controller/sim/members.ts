/**
 * The processes of a controller simulation: controllers (Raft voters running a QuorumController)
 * and brokers (Raft learners following the metadata log, registering and heartbeating through
 * a BrokerLifecycle, and a toy replica manager that, for the partitions they lead, proposes ISR
 * changes with AlterPartition as a real leader would when followers lag or come back).
 */
import type { Random } from '../../../env/random.js';
import type { MetadataImage } from '../../metadata/image.js';
import { MetadataStateMachine } from '../../metadata/state-machine.js';
import type { RaftConfigInput } from '../../raft/config.js';
import type { RaftMessage } from '../../raft/messages.js';
import { RaftNode } from '../../raft/raft-node.js';
import { NodeClock, type SimClock } from '../../sim/sim-clock.js';
import type { SimDisk } from '../../sim/sim-disk.js';
import type { SimNetwork } from '../../sim/sim-network.js';
import { BrokerLifecycle } from '../broker-lifecycle.js';
import type { ControllerConfigInput } from '../config.js';
import { QuorumController } from '../controller.js';
import { ControllerRouter } from '../router.js';
import { type RpcEnvelope, SimRpcEndpoint } from './sim-rpc.js';

export interface MemberEnv {
  readonly clock: SimClock;
  readonly random: Random;
  readonly raftNet: SimNetwork<RaftMessage>;
  readonly rpcNet: SimNetwork<RpcEnvelope>;
  readonly voters: readonly number[];
  readonly raft: Omit<RaftConfigInput, 'voters'>;
  readonly controller: ControllerConfigInput;
  readonly onApplied: (id: number, image: MetadataImage) => void;
  readonly onFatal: (id: number, err: unknown) => void;
  readonly log: (line: string) => void;
}

export class SimMember {
  clock: NodeClock | null = null;
  raft: RaftNode | null = null;
  sm: MetadataStateMachine | null = null;
  controller: QuorumController | null = null;
  lifecycle: BrokerLifecycle | null = null;
  router: ControllerRouter | null = null;
  incarnation = 0;

  constructor(
    readonly id: number,
    readonly isVoter: boolean,
    readonly disk: SimDisk,
  ) {}

  get up(): boolean {
    return this.raft !== null;
  }

  start(env: MemberEnv): void {
    if (this.raft !== null) return;
    this.incarnation++;
    const clock = new NodeClock(env.clock);
    this.clock = clock;
    const sm = new MetadataStateMachine({
      onApplied: (img) => env.onApplied(this.id, img),
      onListenerError: (err) => env.onFatal(this.id, err),
    });
    this.sm = sm;
    const rpc = new SimRpcEndpoint(this.id, env.rpcNet.attach(this.id), clock, 1000);
    let controller: QuorumController | null = null;
    this.raft = RaftNode.open({
      id: this.id,
      config: { ...env.raft, voters: env.voters },
      dir: '/data/meta',
      fs: this.disk.mount(clock),
      clock,
      random: env.random,
      transport: env.raftNet.attach(this.id),
      stateMachine: sm,
      onFatal: (err) => env.onFatal(this.id, err),
      onStateChange: (s) => controller?.onRaftStateChange(s),
    });
    if (this.isVoter) {
      controller = new QuorumController({
        log: this.raft,
        metadata: sm,
        clock,
        random: env.random,
        config: env.controller,
        logger: (l) => env.log(l),
      });
      this.controller = controller;
      rpc.serve(controller);
    }
    this.router = new ControllerRouter({
      controllers: env.voters,
      channel: (id) => rpc.channel(id),
      clock,
      timeoutMs: 5000,
      retryBackoffMs: 50,
    });
    this.raft.start();
    if (!this.isVoter) {
      this.lifecycle = new BrokerLifecycle({
        brokerId: this.id,
        host: `broker-${this.id}`,
        port: 9092,
        rack: `rack-${this.id % 2}`,
        channel: this.router,
        metadata: sm,
        clock,
        random: env.random,
        heartbeatIntervalMs: env.controller.brokerHeartbeatIntervalMs,
      });
      this.lifecycle.start();
      this.runReplicaManager(env);
    }
    env.log(`start ${this.isVoter ? 'controller' : 'broker'} ${this.id}#${this.incarnation}`);
  }

  /** Every so often, lead like a replica manager: shrink the ISR to live followers, or expand it. */
  private runReplicaManager(env: MemberEnv): void {
    const clock = this.clock!;
    const tick = (): void => {
      const sm = this.sm;
      const lifecycle = this.lifecycle;
      if (sm === null || lifecycle === null || this.router === null) return;
      const img = sm.image();
      const items = [];
      for (const p of img.partitions()) {
        if (p.leader !== this.id || lifecycle.state !== 'running') continue;
        // followers "in sync": live brokers, except one that randomly lags now and then
        let isr = p.replicas.filter((r) => r === this.id || img.isLive(r));
        if (env.random.next() < 0.2) isr = isr.filter((r) => r === this.id || env.random.next() < 0.5);
        if (isr.length === p.isr.length && isr.every((r) => p.isr.includes(r))) continue;
        items.push({
          topicId: p.topicId,
          partition: p.partition,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          newIsr: isr,
        });
      }
      if (items.length > 0) {
        this.router
          .call('alterPartition', {
            brokerId: this.id,
            brokerEpoch: lifecycle.brokerEpoch,
            partitions: items,
          })
          .catch(() => {});
      }
      clock.setTimeout(tick, 200 + env.random.next() * 400);
    };
    clock.setTimeout(tick, 300);
  }

  crash(env: MemberEnv, rpcNet: SimNetwork<RpcEnvelope>): void {
    if (this.raft === null) return;
    this.clock!.kill();
    env.raftNet.detach(this.id);
    rpcNet.detach(this.id);
    this.raft = null;
    this.sm = null;
    this.controller = null;
    this.lifecycle = null;
    this.router = null;
    env.log(`crash ${this.id} (${this.disk.crash()})`);
  }
}
