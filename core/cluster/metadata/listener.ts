/**
 * How a broker learns its roles from the cluster metadata: the contract between the metadata
 * log (this folder) and the broker's replica manager (core/broker).
 *
 *   const unsubscribe = metadata.subscribe(brokerId, {
 *     onChange(delta) {
 *       for (const p of delta.leaders) replicaManager.becomeLeader(p);   // serve produce/fetch at p.leaderEpoch, ISR p.isr
 *       for (const p of delta.followers) replicaManager.becomeFollower(p); // truncate, then fetch from delta.image.brokers.get(p.leader)
 *       for (const p of delta.removed) replicaManager.stopReplica(p, p.deleted);
 *     },
 *   });
 *
 * - subscribe() delivers, synchronously, a first delta from the empty image to the current one
 *   (every partition the broker hosts appears as a leader or follower with `isNew: true`).
 * - Then onChange is called once per committed metadata batch that changed anything, in log
 *   order, on the event loop turn that applied it; never concurrently, never re-entrantly.
 * - A partition appears in `leaders` / `followers` whenever its registration changed at all
 *   (leader, leaderEpoch, ISR, replicas, partitionEpoch). Compare `leaderEpoch` with the one you
 *   hold: equal means only the ISR or replica set moved (a leader updates its ISR; a follower
 *   keeps fetching).
 * - A follower of a partition with `leader === NO_LEADER` (-1) has nobody to fetch from.
 * - `removed`: the broker is no longer a replica (reassigned away: `deleted: false`, the data
 *   may be dropped once the controller removed it; topic deleted: `deleted: true`).
 * - After a metadata snapshot is installed (a broker far behind), the delta is computed between
 *   the old and new images, so the same rules hold.
 * - A listener that throws is logged by the publisher and does not stop the others.
 * - A broker's image can lag: serve client traffic only once its BrokerLifecycle reports
 *   'running' (the controller unfences a broker only after it applied its own registration).
 * - The leader reports ISR changes to the controller, never applies them itself:
 *     node.controllers.call('alterPartition', { brokerId, brokerEpoch: lifecycle.brokerEpoch,
 *       partitions: [{ topicId, partition, leaderEpoch, partitionEpoch, newIsr }] })
 *   then waits for the committed change to come back through onChange (a per-partition error
 *   FENCED_LEADER_EPOCH / INVALID_UPDATE_VERSION means its view is stale: wait for the next delta).
 */
import type { BrokerRegistration, MetadataImage, PartitionImage } from './image.js';

/** One partition as a broker must act on it. */
export interface PartitionRole extends PartitionImage {
  /** This broker was not a replica in the previous image. */
  readonly isNew: boolean;
  /** The previous leader epoch this broker saw (-1 when new). */
  readonly previousLeaderEpoch: number;
}

export interface RemovedPartition {
  readonly topicId: string;
  readonly topic: string;
  readonly partition: number;
  /** The topic was deleted (vs. this broker reassigned away). */
  readonly deleted: boolean;
}

export interface BrokerMetadataDelta {
  readonly brokerId: number;
  readonly previous: MetadataImage;
  readonly image: MetadataImage;
  /** Partitions this broker now leads, new or changed. */
  readonly leaders: readonly PartitionRole[];
  /** Partitions this broker now follows, new or changed. */
  readonly followers: readonly PartitionRole[];
  readonly removed: readonly RemovedPartition[];
  /** Registrations or liveness changed (a leader's endpoint may be new). */
  readonly brokersChanged: boolean;
  /** Topic names whose configs changed. */
  readonly configsChanged: readonly string[];
  /** This broker's own registration now (undefined before it registered). */
  readonly self: BrokerRegistration | undefined;
}

export interface MetadataListener {
  onChange(delta: BrokerMetadataDelta): void;
}

/** Where a broker gets its metadata: the Raft-backed state machine, or StaticMetadata in tests. */
export interface MetadataSource {
  /** The current image (immutable). */
  image(): MetadataImage;
  /** Calls listener.onChange now (initial roles) and on every change; returns unsubscribe. */
  subscribe(brokerId: number, listener: MetadataListener): () => void;
}
