/**
 * ProducerIdManager: ids from the data directory on one node; in a cluster, from blocks the
 * controller gives (the next one fetched when 90% of the current one is used), with
 * ProducerIdsUnavailableError while there is none, and never below what the directory gave out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ProducerIdBlock,
  ProducerIdManager,
  ProducerIdsUnavailableError,
} from '../../../core/broker/producer-ids.js';
import { nodeFileSystem } from '../../../core/env/fs.js';
import { tempDir } from '../../helpers/tmp.js';

/** A controller stand-in: hands out 1000-id blocks from `next`, or fails while `down`. */
class FakeController {
  next = 0;
  down = false;
  readonly asked: number[] = [];
  private release: (() => void) | null = null;
  /** While set, requests wait until release() (to see a prefetch in flight). */
  hold = false;
  async allocateProducerIds(minProducerId: number): Promise<ProducerIdBlock> {
    this.asked.push(minProducerId);
    if (this.hold) await new Promise<void>((r) => (this.release = r));
    if (this.down) throw new Error('no controller');
    const first = Math.max(this.next, minProducerId);
    this.next = first + 1000;
    return { firstProducerId: first, size: 1000 };
  }
  releaseHeld(): void {
    this.hold = false;
    this.release?.();
  }
}

const nextBlockStart = (dir: string): number =>
  (JSON.parse(fs.readFileSync(path.join(dir, 'producer-ids.json'), 'utf8')) as { nextBlockStart: number })
    .nextBlockStart;

describe('ProducerIdManager', () => {
  it('on one node, hands out ids from the data directory and never again after a restart', () => {
    const dir = tempDir();
    const a = new ProducerIdManager(nodeFileSystem, dir);
    expect([a.nextProducerId(), a.nextProducerId()]).toEqual([0, 1]);
    expect(nextBlockStart(dir)).toBe(1000);
    const b = new ProducerIdManager(nodeFileSystem, dir);
    expect(b.nextProducerId()).toBe(1000);
  });

  it('in a cluster, takes blocks from the controller and prefetches the next one at 90%', async () => {
    const dir = tempDir();
    const ctl = new FakeController();
    ctl.next = 5000;
    const m = new ProducerIdManager(nodeFileSystem, dir, { blocks: ctl, waitMs: 5000 });
    expect(await m.nextProducerId()).toBe(5000);
    expect(nextBlockStart(dir)).toBe(6000);
    const ids: number[] = [5000];
    // the other controller's blocks are taken meanwhile
    ctl.next = 9000;
    while (ids.length < 899) ids.push(m.nextProducerId() as number);
    expect(ctl.asked).toHaveLength(1);
    ids.push(m.nextProducerId() as number); // the 900th (90% used): the next block is asked for
    expect(ctl.asked).toHaveLength(2);
    await new Promise((r) => setImmediate(r));
    while (ids.length < 1000) ids.push(m.nextProducerId() as number);
    // the current block is used up first, then the prefetched one, without waiting
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => 5000 + i));
    expect(m.nextProducerId()).toBe(9000);
    expect(nextBlockStart(dir)).toBe(10_000);
  });

  it('in a cluster, answers ProducerIdsUnavailableError while no controller gives a block', async () => {
    const dir = tempDir();
    const ctl = new FakeController();
    ctl.down = true;
    const m = new ProducerIdManager(nodeFileSystem, dir, { blocks: ctl, waitMs: 5000 });
    await expect(m.nextProducerId()).rejects.toBeInstanceOf(ProducerIdsUnavailableError);
    // a request that outlives its wait gets the error too, and a late block still serves the next
    ctl.down = false;
    ctl.hold = true;
    const short = new ProducerIdManager(nodeFileSystem, tempDir(), { blocks: ctl, waitMs: 20 });
    await expect(short.nextProducerId()).rejects.toBeInstanceOf(ProducerIdsUnavailableError);
    ctl.releaseHeld();
    await new Promise((r) => setImmediate(r));
    expect(short.nextProducerId()).toBe(0);
    expect(await m.nextProducerId()).toBe(1000);
  });

  it('never takes cluster ids below what the data directory gave out alone, nor gives them back alone', async () => {
    const dir = tempDir();
    const alone = new ProducerIdManager(nodeFileSystem, dir);
    for (let i = 0; i < 3; i++) alone.nextProducerId();
    const ctl = new FakeController();
    const clustered = new ProducerIdManager(nodeFileSystem, dir, { blocks: ctl });
    expect(await clustered.nextProducerId()).toBe(1000);
    expect(ctl.asked).toEqual([1000]);
    // back on one node: above the cluster block it held
    const againAlone = new ProducerIdManager(nodeFileSystem, dir);
    expect(againAlone.nextProducerId()).toBe(2000);
  });
});
