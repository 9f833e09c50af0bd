/**
 * A restarted broker may first see metadata older than what its log has already seen (its own
 * metadata copy lagging): acting on it — following, or leading, at an older leader epoch — would
 * write batches of an old epoch after newer ones. The replica waits for newer metadata instead.
 */
import { describe, expect, it } from 'vitest';
import type { PartitionAssignment } from '../../../core/broker/cluster-view.js';
import { Partition } from '../../../core/broker/replication/partition.js';
import { batch, FakeClock, openLog } from '../log/helpers.js';

describe('a replica given metadata older than its log', () => {
  it('ignores a leader epoch below the log latest, and applies the current one', () => {
    const clock = new FakeClock();
    const log = openLog({}, { clock });
    log.append(batch(3), { assignOffsets: true, leaderEpoch: 5 }); // written under leader epoch 5
    expect(log.latestEpoch).toBe(5);
    const p = new Partition(log, 1, clock, { onHighWatermark: () => {}, proposeIsr: () => {} });
    const stale: PartitionAssignment = {
      topic: 'topic',
      partition: 0,
      replicas: [1, 2],
      isr: [1, 2],
      leader: 1,
      leaderEpoch: 3,
      partitionEpoch: 4,
    };
    expect(p.apply(stale)).toBe('unchanged');
    expect(p.role).toBe('none');
    expect(p.apply({ ...stale, leader: 2, leaderEpoch: 4 })).toBe('unchanged');
    expect(p.role).toBe('none');
    // the current metadata: leader 1 at epoch 6; the log takes the new epoch after the old ones
    expect(p.apply({ ...stale, leaderEpoch: 6, partitionEpoch: 9 })).toBe('leader');
    expect(log.latestEpoch).toBe(6);
    // and a follower role at the log's own epoch is fine
    const q = new Partition(log, 1, clock, { onHighWatermark: () => {}, proposeIsr: () => {} });
    expect(q.apply({ ...stale, leader: 2, leaderEpoch: 6, partitionEpoch: 9 })).toBe('follower');
  });
});
