/**
 * One node of a Tributary cluster, wired: the metadata log's RaftNode (a voter when the node id
 * is in --controller-quorum, else a learner following the log), the MetadataStateMachine, the
 * QuorumController (voters only), the controller listener (TCP: raft + RPC), and, for nodes
 * that are brokers, the BrokerLifecycle that registers and heartbeats.
 *
 *   const node = await ClusterNode.start({
 *     nodeId: 1, dataDir: 'd1',
 *     quorum: parseControllerQuorum('1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293'),
 *     controllerListen: parseHostPort('127.0.0.1:9093'),
 *     broker: { host: '127.0.0.1', port: 9092 },
 *   });
 *   node.metadata.subscribe(1, replicaManagerListener);   // roles (see metadata/listener.ts)
 *   await node.controllers.call('createTopics', {...});   // admin requests, to the active controller
 *   await node.shutdown();
 */
import * as path from 'node:path';
import { type Clock, systemClock } from '../../env/clock.js';
import { type FileSystem, nodeFileSystem } from '../../env/fs.js';
import { type Random, systemRandom } from '../../env/random.js';
import { BrokerLifecycle } from '../controller/broker-lifecycle.js';
import { type ControllerConfigInput, resolveControllerConfig } from '../controller/config.js';
import { QuorumController } from '../controller/controller.js';
import type { ControllerChannel } from '../controller/requests.js';
import { ControllerRouter } from '../controller/router.js';
import { MetadataStateMachine } from '../metadata/state-machine.js';
import type { QuorumVoter, RaftConfigInput } from '../raft/config.js';
import { RaftNode } from '../raft/raft-node.js';
import type { RaftStatus } from '../raft/types.js';
import type { HostPort } from './address.js';
import { ControllerListener } from './listener.js';
import { TcpRaftTransport } from './raft-transport.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer } from './rpc-server.js';

export const METADATA_DIR = '__cluster_metadata-0';

export interface ClusterNodeOptions {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly quorum: readonly QuorumVoter[];
  /** Required for voters: where this controller listens (usually its entry in quorum). */
  readonly controllerListen?: HostPort;
  /** Present when the node is also a broker: its client endpoint and rack. */
  readonly broker?: { readonly host: string; readonly port: number; readonly rack?: string | null } | null;
  readonly raft?: Omit<RaftConfigInput, 'voters'>;
  readonly controller?: ControllerConfigInput;
  /** The id this node's controller gives the cluster if it is the first active one (`cluster.id`). */
  readonly clusterId?: string;
  readonly fs?: FileSystem;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: (line: string) => void;
  readonly onFatal?: (err: unknown) => void;
}

export class ClusterNode {
  private constructor(
    readonly nodeId: number,
    readonly raft: RaftNode,
    readonly metadata: MetadataStateMachine,
    readonly controller: QuorumController | null,
    /** Calls the active controller (follows NOT_CONTROLLER redirects). */
    readonly controllers: ControllerChannel,
    readonly lifecycle: BrokerLifecycle | null,
    private readonly listener: ControllerListener | null,
    private readonly transport: TcpRaftTransport,
    private readonly clients: RpcClient[],
    private readonly rpc: RpcServer | null,
  ) {}

  static async start(opts: ClusterNodeOptions): Promise<ClusterNode> {
    const clock = opts.clock ?? systemClock;
    const random = opts.random ?? systemRandom;
    const voters = opts.quorum.map((v) => v.id);
    const isVoter = voters.includes(opts.nodeId);
    if (isVoter && opts.controllerListen === undefined) {
      throw new RangeError(`node ${opts.nodeId} is in --controller-quorum, so it needs --controller-listen`);
    }
    const metadata = new MetadataStateMachine({
      onListenerError: (err) => opts.logger?.(`metadata listener failed: ${(err as Error)?.stack ?? err}`),
    });
    const transport = new TcpRaftTransport({
      selfId: opts.nodeId,
      peers: new Map(
        opts.quorum.filter((v) => v.id !== opts.nodeId).map((v) => [v.id, { host: v.host, port: v.port }]),
      ),
      clock,
      random,
      maxMessageBytes: opts.raft?.maxMessageBytes,
      // a peer's connection closed: maybe it died (its kernel closed its sockets)
      onPeerLost: (id) => {
        raft.peerLost(id);
        controller?.onConnectionLost(id, false);
      },
      onPeerHeard: (id) => controller?.onNodeHeard(id),
    });
    let controller: QuorumController | null = null;
    let lifecycle: BrokerLifecycle | null = null;
    let leaderSeen: number | null = null;
    const raft = RaftNode.open({
      id: opts.nodeId,
      config: { ...opts.raft, voters },
      dir: path.join(opts.dataDir, METADATA_DIR),
      fs: opts.fs ?? nodeFileSystem,
      clock,
      random,
      transport,
      stateMachine: metadata,
      onFatal: (err) => (opts.onFatal ?? ((e) => opts.logger?.(`metadata quorum stopped: ${e}`)))(err),
      onStateChange: (s: RaftStatus) => {
        controller?.onRaftStateChange(s);
        // another controller leads: heartbeat it now (its sessions start afresh)
        if (s.leaderId !== null && s.leaderId !== leaderSeen) lifecycle?.nudge();
        leaderSeen = s.leaderId;
      },
    });
    if (isVoter) {
      controller = new QuorumController({
        log: raft,
        metadata,
        clock,
        random,
        config: opts.controller,
        ...(opts.clusterId === undefined ? {} : { clusterId: opts.clusterId }),
        logger: opts.logger,
      });
    }
    const clients: RpcClient[] = [];
    const local = controller;
    const byId = new Map<number, ControllerChannel>();
    for (const v of opts.quorum) {
      if (v.id === opts.nodeId && local !== null) byId.set(v.id, local);
      else {
        // a closed controller connection: heartbeat again at once (broker.session.reconnect.grace.ms)
        const c = new RpcClient({
          selfId: opts.nodeId,
          address: v,
          clock,
          random,
          onClose: () => lifecycle?.nudge(),
        });
        clients.push(c);
        byId.set(v.id, c);
      }
    }
    // broker-only nodes too: they heartbeat at the configured interval
    const controllerConfig = local?.config ?? resolveControllerConfig(opts.controller);
    const controllers = new ControllerRouter({
      controllers: voters,
      channel: (id) => byId.get(id)!,
      clock,
      // calls start at, and after a failure go straight to, the leader this node's Raft follows
      leaderHint: () => {
        const s = raft.status();
        return s.stopped ? null : s.leaderId;
      },
      // a heartbeat is idempotent: a silent controller holds it no longer than one interval
      heartbeatAttemptTimeoutMs: controllerConfig.brokerHeartbeatIntervalMs,
    });
    let listener: ControllerListener | null = null;
    let rpc: RpcServer | null = null;
    if (isVoter && local !== null) {
      rpc = new RpcServer(local, {
        onConnected: (id) => local.onNodeHeard(id),
        // the broker heartbeats on it: a live one comes back at once, a dead one is fenced soon
        onDisconnected: (id) => local.onConnectionLost(id, true),
      });
      listener = await ControllerListener.start({
        listen: opts.controllerListen!,
        raft: transport,
        rpc,
        clock,
      });
    }
    raft.start();
    if (opts.broker) {
      lifecycle = new BrokerLifecycle({
        brokerId: opts.nodeId,
        host: opts.broker.host,
        port: opts.broker.port,
        rack: opts.broker.rack ?? null,
        controller: isVoter,
        channel: controllers,
        metadata,
        clock,
        random,
        heartbeatIntervalMs: controllerConfig.brokerHeartbeatIntervalMs,
      });
      lifecycle.start();
    }
    return new ClusterNode(
      opts.nodeId,
      raft,
      metadata,
      controller,
      controllers,
      lifecycle,
      listener,
      transport,
      clients,
      rpc,
    );
  }

  /** The address the controller listener is bound to (null for broker-only nodes). */
  get listenAddress(): HostPort | null {
    return this.listener?.address ?? null;
  }

  /** Controlled shutdown (leaderships move away first), then stop. */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    await this.lifecycle?.shutdown(timeoutMs);
    await this.stop();
  }

  /** Stops at once (as a crash would, minus losing the disk). */
  async stop(): Promise<void> {
    this.lifecycle?.stop();
    this.controller?.stop();
    this.raft.stop();
    this.transport.close();
    for (const c of this.clients) c.close();
    this.rpc?.close();
    await this.listener?.close();
  }
}
