/**
 * An ISR expansion whose answer is lost: the controller committed it (and would elect the new
 * member), but the leader never heard back. Until it learns the outcome the leader must keep
 * counting the new member for the high watermark — else it acknowledges records that member
 * lacks, and losing the leader then loses them. Found by the replication simulation.
 */
import { describe, expect, it } from 'vitest';
import {
  type AlterPartitionChange,
  type PartitionAssignment,
  StaticClusterView,
} from '../../../core/broker/cluster-view.js';
import { ReplicaManager } from '../../../core/broker/replica-manager.js';
import { ReplicationManager } from '../../../core/broker/replication/replication-manager.js';
import { SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { LogManager } from '../../../core/log/log-manager.js';
import { tempDir } from '../../helpers/tmp.js';
import { batch } from '../log/helpers.js';

const TOPIC = 'orders';

/** A controller whose answers (and metadata pushes) can be lost on the way back. */
class LossyView extends StaticClusterView {
  loseAnswers = false;
  muted = false;
  private readonly wrapped = new Map<() => void, () => void>();
  override onChange(listener: () => void): () => void {
    const w = (): void => {
      if (!this.muted) listener();
    };
    this.wrapped.set(listener, w);
    return super.onChange(w);
  }
  override async alterPartition(change: AlterPartitionChange): Promise<PartitionAssignment> {
    const committed = await super.alterPartition(change);
    if (this.loseAnswers) throw new Error('AlterPartition timed out');
    return committed;
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('an ISR change whose answer is lost', () => {
  it('keeps counting the proposed member for the high watermark until the outcome is known', async () => {
    const view = new LossyView();
    view.registerBroker({ nodeId: 1, host: '127.0.0.1', port: 0, rack: null });
    view.registerBroker({ nodeId: 2, host: '127.0.0.1', port: 0, rack: null });
    view.addTopic(TOPIC, [[1, 2]]);
    view.electLeader(TOPIC, 0, 1, [1]); // ISR [1]: broker 2 is catching up
    const clock = new SimClock();
    const logs = LogManager.open({
      dataDir: tempDir('trib-isr-'),
      nodeId: 1,
      clusterId: 'isr',
      clock,
      lock: false,
    });
    const replicas = new ReplicaManager(logs, clock);
    const repl = new ReplicationManager({
      view,
      logs,
      selfId: 1,
      clock,
      lagTimeMaxMs: 60_000,
      onHighWatermark: (l) => replicas.wake(l),
      highWatermarkCheckpoint: false,
    });
    replicas.replication = repl;
    await settle();
    const p = repl.partition(TOPIC, 0)!;
    expect(p.role).toBe('leader');
    const follow = (offset: number) =>
      replicas.fetch([{ topic: TOPIC, partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }], {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        replicaId: 2,
        isolationLevel: 0,
      });

    p.log.append(batch(5), { assignOffsets: true, leaderEpoch: p.leaderEpoch });
    p.maybeAdvanceHighWatermark();
    expect(p.log.highWatermark).toBe(5); // alone in the ISR

    // Broker 2 caught up: the leader proposes ISR [1, 2]; the controller commits it, the answer
    // and the metadata are lost.
    view.loseAnswers = true;
    view.muted = true;
    await follow(5);
    await settle();
    await settle();
    expect(view.partition(TOPIC, 0)!.isr).toEqual([1, 2]);
    expect(p.isr).toEqual([1]);

    // More records: broker 2 does not have them, and the controller would elect it.
    p.log.append(batch(5), { assignOffsets: true, leaderEpoch: p.leaderEpoch });
    p.maybeAdvanceHighWatermark();
    expect(p.log.highWatermark).toBe(5);

    // The retry is refused (the partition epoch moved on): still unknown, still counted.
    view.loseAnswers = false;
    clock.runNext(); // the retry timer
    await settle();
    await settle();
    p.maybeAdvanceHighWatermark();
    expect(p.log.highWatermark).toBe(5);

    // The metadata arrives: ISR [1, 2] committed; broker 2 fetches the rest; the HW moves.
    view.muted = false;
    view.registerBroker({ nodeId: 2, host: '127.0.0.1', port: 0, rack: null }); // any change notifies
    await settle();
    expect(p.isr).toEqual([1, 2]);
    await follow(10);
    expect(p.log.highWatermark).toBe(10);

    await repl.close();
    replicas.close();
    await logs.close();
  });
});
