/**
 * The high-watermark checkpoint (Kafka's replication-offset-checkpoint): a cluster broker writes
 * every replica's high watermark periodically and on close, and a restarted broker starts from
 * it — not from its log end, which may hold records that were never committed, and not from 0.
 * Real log manager and replication manager on a temp directory; virtual time.
 */
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StaticClusterView } from '../../../core/broker/cluster-view.js';
import { ReplicaManager } from '../../../core/broker/replica-manager.js';
import { HW_CHECKPOINT_FILE } from '../../../core/broker/replication/hw-checkpoint.js';
import { ReplicationManager } from '../../../core/broker/replication/replication-manager.js';
import { SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { LogManager } from '../../../core/log/log-manager.js';
import { decodeBatches } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { batch } from '../log/helpers.js';

const TOPIC = 'orders';

interface Node {
  logs: LogManager;
  repl: ReplicationManager;
  replicas: ReplicaManager;
}

/** Broker 1 of a 2-broker cluster; broker 2 never answers (port 0), so nothing moves the HW but us. */
function startNode(
  dir: string,
  view: StaticClusterView,
  clock: SimClock,
  opts: { intervalMs?: number } = {},
): Node {
  const logs = LogManager.open({ dataDir: dir, nodeId: 1, clusterId: 'hw-test', clock, lock: false });
  const replicas = new ReplicaManager(logs, clock);
  const repl = new ReplicationManager({
    view,
    logs,
    selfId: 1,
    clock,
    lagTimeMaxMs: 60_000,
    onHighWatermark: (log) => replicas.wake(log),
    hwCheckpointIntervalMs: opts.intervalMs ?? 1000,
  });
  replicas.replication = repl;
  return { logs, repl, replicas };
}

async function stopNode(n: Node): Promise<void> {
  await n.repl.close();
  n.replicas.close();
  await n.logs.close();
}

function setup(leader: number): { dir: string; view: StaticClusterView; clock: SimClock } {
  const view = new StaticClusterView();
  view.registerBroker({ nodeId: 1, host: '127.0.0.1', port: 0, rack: null });
  view.registerBroker({ nodeId: 2, host: '127.0.0.1', port: 0, rack: null });
  view.addTopic(TOPIC, [leader === 1 ? [1, 2] : [2, 1]]);
  return { dir: tempDir('trib-hw-'), view, clock: new SimClock() };
}

/** Lets the view's microtask notifications run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function runFor(clock: SimClock, ms: number): void {
  const until = clock.monotonic() + ms;
  while (clock.nextAtMs() <= until) clock.runNext();
  clock.advanceTo(until);
}

function checkpointText(dir: string): string {
  return nodeFs.readFileSync(path.join(dir, HW_CHECKPOINT_FILE), 'utf8');
}

describe('high-watermark checkpoint', () => {
  it('is written on close, and a restarted replica starts from it, not from its log end', async () => {
    const { dir, view, clock } = setup(2);
    let node = startNode(dir, view, clock);
    await settle();
    const log = node.logs.getLog(TOPIC, 0);
    log.append(batch(10), { assignOffsets: true, leaderEpoch: 0 }); // as fetched from the leader
    log.setHighWatermark(6); // the leader said 6 are committed
    await stopNode(node);
    expect(checkpointText(dir)).toBe(`0\n1\n${TOPIC} 0 6\n`);

    node = startNode(dir, view, clock);
    await settle();
    const after = node.logs.getLog(TOPIC, 0);
    expect(after.logEndOffset).toBe(10);
    expect(after.highWatermark).toBe(6);
    await stopNode(node);
  });

  it('is rewritten periodically while the broker runs', async () => {
    const { dir, view, clock } = setup(2);
    const node = startNode(dir, view, clock, { intervalMs: 500 });
    await settle();
    const log = node.logs.getLog(TOPIC, 0);
    log.append(batch(5), { assignOffsets: true, leaderEpoch: 0 });
    log.setHighWatermark(3);
    runFor(clock, 600);
    expect(checkpointText(dir)).toBe(`0\n1\n${TOPIC} 0 3\n`);
    log.setHighWatermark(5);
    runFor(clock, 500);
    expect(checkpointText(dir)).toBe(`0\n1\n${TOPIC} 0 5\n`);
    await stopNode(node);
  });

  it('after a restart as leader, consumers read only up to the checkpointed high watermark', async () => {
    const { dir, view, clock } = setup(1);
    let node = startNode(dir, view, clock);
    await settle();
    const log = node.logs.getLog(TOPIC, 0);
    // Leader with ISR [1, 2]: broker 2 fetched 4 records, then the leader appended 6 more.
    log.append(batch(4), { assignOffsets: true, leaderEpoch: 0 });
    log.setHighWatermark(4);
    log.append(batch(6, { tag: 'uncommitted' }), { assignOffsets: true, leaderEpoch: 0 });
    await stopNode(node);

    node = startNode(dir, view, clock);
    await settle();
    expect(node.repl.partition(TOPIC, 0)!.role).toBe('leader');
    const results = await node.replicas.fetch(
      [{ topic: TOPIC, partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
      { maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, replicaId: -1, isolationLevel: 0 },
    );
    expect(results[0]!.errorCode).toBe(0);
    expect(results[0]!.highWatermark).toBe(4);
    const offsets = decodeBatches(results[0]!.records!).flatMap((b) => b.records.map((r) => r.offset));
    expect(offsets).toEqual([0, 1, 2, 3]);
    await stopNode(node);
  });

  it('without an entry (or with a corrupt file) a replica starts at its log start offset', async () => {
    const { dir, view, clock } = setup(2);
    let node = startNode(dir, view, clock);
    await settle();
    node.logs.getLog(TOPIC, 0).append(batch(8), { assignOffsets: true, leaderEpoch: 0 });
    await stopNode(node);
    nodeFs.writeFileSync(path.join(dir, HW_CHECKPOINT_FILE), 'not a checkpoint');

    node = startNode(dir, view, clock);
    await settle();
    expect(node.logs.getLog(TOPIC, 0).highWatermark).toBe(0);
    await stopNode(node);
    // and the next checkpoint is a good one again
    expect(checkpointText(dir)).toBe(`0\n1\n${TOPIC} 0 0\n`);
  });
});
