/**
 * allocateProducerIds: the controller hands each broker blocks of producer ids that no other
 * broker ever gets — across brokers, across a change of active controller, and after the
 * metadata is rebuilt from a snapshot or from the log.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AllocateProducerIdsResponse,
  isControllerError,
  PRODUCER_ID_BLOCK_SIZE,
  QuorumController,
} from '../../../core/cluster/controller/index.js';
import {
  decodeRecords,
  encodeRecords,
  MetadataImage,
  MetadataStateMachine,
} from '../../../core/cluster/metadata/index.js';
import { ClusterNode } from '../../../core/cluster/net/index.js';
import { SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { SeededRandom } from '../../../core/env/random.js';
import { tempDir } from '../../helpers/tmp.js';
import { flush, harness, InstantLog } from './controller-helpers.js';

type Block = AllocateProducerIdsResponse;

/** Every block is PRODUCER_ID_BLOCK_SIZE ids and no two share an id. */
function expectDisjoint(blocks: readonly Block[]): void {
  const sorted = [...blocks].sort((a, b) => a.firstProducerId - b.firstProducerId);
  for (const b of sorted) expect(b.size).toBe(PRODUCER_ID_BLOCK_SIZE);
  for (let i = 1; i < sorted.length; i++) {
    expect(sorted[i]!.firstProducerId).toBeGreaterThanOrEqual(
      sorted[i - 1]!.firstProducerId + sorted[i - 1]!.size,
    );
  }
}

/** The InstantLog of controller-helpers, keeping every committed command (to replay the log). */
class RecordingLog extends InstantLog {
  readonly commands: Uint8Array[] = [];
  override async propose(command: Uint8Array) {
    const r = await super.propose(command);
    this.commands.push(command);
    return r;
  }
}

/** A controller that becomes active over `sm` (whose image holds `index` entries). */
async function controllerOver(sm: MetadataStateMachine, index: number) {
  const log = new RecordingLog(sm);
  log.index = index;
  const controller = new QuorumController({
    log,
    metadata: sm,
    clock: new SimClock(),
    random: new SeededRandom(3),
  });
  controller.onRaftStateChange(log.status());
  await flush();
  expect(controller.isActive).toBe(true);
  return { controller, log };
}

describe('producer id blocks in the metadata', () => {
  it('round-trip through the codec and only move up in the image', () => {
    const rec = { type: 'producerIds', brokerId: 2, brokerEpoch: 7, nextProducerId: 3000 } as const;
    expect(decodeRecords(encodeRecords([rec]))).toEqual([rec]);
    const img = MetadataImage.EMPTY.apply([rec], 1).image;
    expect(img.nextProducerId).toBe(3000);
    const older = img.apply([{ ...rec, nextProducerId: 2000 }], 2);
    expect(older.skipped).toBe(1);
    expect(older.image.nextProducerId).toBe(3000);
    // a snapshot keeps the high mark
    const rebuilt = MetadataImage.EMPTY.apply(img.toRecords(), 1).image;
    expect(rebuilt.nextProducerId).toBe(3000);
  });
});

describe('QuorumController allocateProducerIds', () => {
  it('gives unique, increasing blocks to every broker and checks the broker epoch', async () => {
    const h = await harness();
    const epochs = new Map<number, number>();
    for (const id of [1, 2, 3]) epochs.set(id, (await h.register(id)).brokerEpoch);
    const blocks: Block[] = [];
    let last = -1;
    for (let round = 0; round < 4; round++) {
      for (const id of [1, 2, 3]) {
        const b = await h.controller.call('allocateProducerIds', {
          brokerId: id,
          brokerEpoch: epochs.get(id)!,
        });
        expect(b.firstProducerId).toBeGreaterThan(last);
        last = b.firstProducerId;
        blocks.push(b);
      }
    }
    expectDisjoint(blocks);
    expect(blocks[0]!.firstProducerId).toBe(0);
    expect(h.sm.image().nextProducerId).toBe(12 * PRODUCER_ID_BLOCK_SIZE);

    const stale = await h.controller
      .call('allocateProducerIds', { brokerId: 1, brokerEpoch: epochs.get(1)! - 1 })
      .catch((e: unknown) => e);
    expect(isControllerError(stale, 'STALE_BROKER_EPOCH')).toBe(true);
    const unknown = await h.controller
      .call('allocateProducerIds', { brokerId: 9, brokerEpoch: 1 })
      .catch((e: unknown) => e);
    expect(isControllerError(unknown, 'BROKER_ID_NOT_REGISTERED')).toBe(true);
    expect(h.sm.image().nextProducerId).toBe(12 * PRODUCER_ID_BLOCK_SIZE);

    // a data directory that gave out ids on its own asks for a block above them
    const above = await h.controller.call('allocateProducerIds', {
      brokerId: 2,
      brokerEpoch: epochs.get(2)!,
      minProducerId: 50_000,
    });
    expect(above.firstProducerId).toBe(50_000);
    const after = await h.controller.call('allocateProducerIds', {
      brokerId: 3,
      brokerEpoch: epochs.get(3)!,
    });
    expect(after.firstProducerId).toBe(50_000 + PRODUCER_ID_BLOCK_SIZE);
  });

  it('continues after the highest block when another controller takes over from the log or a snapshot', async () => {
    const sm = new MetadataStateMachine();
    const { controller: first, log } = await controllerOver(sm, 0);
    const call = (c: QuorumController, brokerId: number) =>
      c.call('allocateProducerIds', { brokerId, brokerEpoch: sm.image().brokers.get(brokerId)!.epoch });
    for (const id of [1, 2]) {
      await first.call('registerBroker', {
        brokerId: id,
        incarnationId: `i${id}`,
        host: 'h',
        port: 9000 + id,
        rack: null,
        controller: true,
      });
    }
    const blocks: Block[] = [];
    for (let i = 0; i < 5; i++) blocks.push(await call(first, 1 + (i % 2)));

    // the active controller loses leadership: its calls are refused
    log.leader = false;
    first.onRaftStateChange(log.status());
    const refused = await call(first, 1).catch((e: unknown) => e);
    expect(isControllerError(refused, 'NOT_CONTROLLER')).toBe(true);

    // a controller whose image was replayed from the log
    const replayed = new MetadataStateMachine();
    for (const [i, c] of log.commands.entries()) replayed.apply(c, i + 1, 1);
    const { controller: fromLog } = await controllerOver(replayed, log.index);
    const b1 = await fromLog.call('allocateProducerIds', {
      brokerId: 2,
      brokerEpoch: replayed.image().brokers.get(2)!.epoch,
    });
    blocks.push(b1);
    expect(b1.firstProducerId).toBe(5 * PRODUCER_ID_BLOCK_SIZE);

    // a controller whose image came from a snapshot of that one
    const restored = new MetadataStateMachine();
    restored.restore(replayed.snapshot());
    expect(restored.image().nextProducerId).toBe(6 * PRODUCER_ID_BLOCK_SIZE);
    const { controller: fromSnapshot } = await controllerOver(restored, restored.image().offset);
    const b2 = await fromSnapshot.call('allocateProducerIds', {
      brokerId: 1,
      brokerEpoch: restored.image().brokers.get(1)!.epoch,
    });
    blocks.push(b2);
    expect(b2.firstProducerId).toBe(6 * PRODUCER_ID_BLOCK_SIZE);
    expectDisjoint(blocks);
    for (const c of [first, fromLog, fromSnapshot]) c.stop();
  });
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nodes: ClusterNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

describe('allocateProducerIds over Raft (3 controllers on TCP)', () => {
  it('keeps blocks unique across a controller failover, snapshots and a restart', async () => {
    const root = tempDir('trib-pid-');
    const ports = [await freePort(), await freePort(), await freePort()];
    const quorum = ports.map((port, i) => ({ id: i + 1, host: '127.0.0.1', port }));
    const start = (id: number) =>
      ClusterNode.start({
        nodeId: id,
        dataDir: path.join(root, `n${id}`),
        quorum,
        controllerListen: { host: '127.0.0.1', port: ports[id - 1]! },
        broker: { host: '127.0.0.1', port: 19290 + id },
        raft: {
          electionTimeoutMs: 300,
          heartbeatIntervalMs: 50,
          snapshotIntervalEntries: 8,
          retainEntriesAfterSnapshot: 0,
        },
        controller: {
          brokerHeartbeatIntervalMs: 200,
          brokerSessionTimeoutMs: 1500,
          sessionCheckIntervalMs: 100,
        },
      });
    for (const v of quorum) nodes.push(await start(v.id));
    await until(() => nodes.every((n) => n.lifecycle?.state === 'running'));
    const allocate = (n: ClusterNode) =>
      n.controllers.call('allocateProducerIds', {
        brokerId: n.nodeId,
        brokerEpoch: n.lifecycle!.brokerEpoch,
      });

    const blocks: Block[] = [];
    for (let round = 0; round < 4; round++) for (const n of nodes) blocks.push(await allocate(n));
    expectDisjoint(blocks);
    const highest = Math.max(...blocks.map((b) => b.firstProducerId + b.size));
    await until(() => nodes.every((n) => n.metadata.image().nextProducerId === highest));
    await until(() => nodes.every((n) => n.raft.status().snapshotIndex > 0));

    const leader = nodes.find((n) => n.controller?.isActive)!;
    await leader.stop();
    nodes.splice(nodes.indexOf(leader), 1);
    await until(() => nodes.some((n) => n.controller?.isActive));
    for (const n of nodes) {
      const b = await allocate(n);
      expect(b.firstProducerId).toBeGreaterThanOrEqual(highest);
      blocks.push(b);
    }
    expectDisjoint(blocks);

    // the old leader comes back from its snapshot and log, and catches up to the new mark
    const back = await start(leader.nodeId);
    nodes.push(back);
    const mark = Math.max(...blocks.map((b) => b.firstProducerId + b.size));
    await until(() => back.metadata.image().nextProducerId === mark);
    await until(() => back.lifecycle?.state === 'running');
    const again = await allocate(back);
    expect(again.firstProducerId).toBe(mark);
    blocks.push(again);
    expectDisjoint(blocks);
  }, 60_000);
});
