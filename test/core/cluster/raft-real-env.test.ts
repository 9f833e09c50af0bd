/**
 * The same RaftNode on the real environment: node:fs with fdatasync, the system clock and
 * randomness, and an in-process transport that carries the binary frames (as TCP would).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeMessage, FrameDecoder } from '../../../core/cluster/raft/codec.js';
import type { RaftMessage } from '../../../core/cluster/raft/messages.js';
import { RaftNode } from '../../../core/cluster/raft/raft-node.js';
import type { Transport } from '../../../core/cluster/raft/transport.js';
import type { StateMachine } from '../../../core/cluster/raft/types.js';
import { systemClock } from '../../../core/env/clock.js';
import { nodeFileSystem } from '../../../core/env/fs.js';
import { systemRandom } from '../../../core/env/random.js';
import { tempDir } from '../../helpers/tmp.js';

class Wire {
  readonly handlers = new Map<number, (m: RaftMessage) => void>();
  readonly decoders = new Map<number, FrameDecoder>();

  endpoint(id: number): Transport {
    this.decoders.set(id, new FrameDecoder(1 << 20));
    return {
      send: (to, msg) => {
        const frame = encodeMessage(msg);
        setImmediate(() => {
          const handler = this.handlers.get(to);
          if (!handler) return;
          // deliver in two pieces, as a socket might
          const dec = this.decoders.get(to)!;
          for (const m of [...dec.push(frame.subarray(0, 3)), ...dec.push(frame.subarray(3))]) handler(m);
        });
      },
      onMessage: (h) => this.handlers.set(id, h),
    };
  }
}

class ListMachine implements StateMachine {
  items: string[] = [];
  apply(command: Uint8Array): void {
    this.items.push(Buffer.from(command).toString());
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.items));
  }
  restore(snapshot: Uint8Array): void {
    this.items = JSON.parse(Buffer.from(snapshot).toString()) as string[];
  }
}

async function until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('raft on the real file system and clock', () => {
  it('elects, commits, snapshots, and recovers from disk after a restart', async () => {
    const root = tempDir('trib-raft-');
    const wire = new Wire();
    const config = {
      voters: [1, 2, 3],
      electionTimeoutMs: 150,
      heartbeatIntervalMs: 30,
      snapshotIntervalEntries: 10,
    };
    const machines = new Map<number, ListMachine>();
    const open = (id: number): RaftNode => {
      const sm = new ListMachine();
      machines.set(id, sm);
      const node = RaftNode.open({
        id,
        config,
        dir: path.join(root, `node-${id}`),
        fs: nodeFileSystem,
        clock: systemClock,
        random: systemRandom,
        transport: wire.endpoint(id),
        stateMachine: sm,
        onFatal: (err) => {
          throw err;
        },
      });
      node.start();
      return node;
    };
    const nodes = [1, 2, 3].map(open);
    try {
      await until(() => nodes.some((n) => n.status().role === 'leader'));
      const leader = nodes.find((n) => n.status().role === 'leader')!;
      for (let i = 0; i < 25; i++) await leader.propose(Buffer.from(`item-${i}`));
      expect(await leader.readIndex()).toBeGreaterThanOrEqual(26);
      await until(() => nodes.every((n) => n.status().lastApplied === leader.status().commitIndex));
      expect(leader.status().snapshotIndex).toBeGreaterThanOrEqual(20);
      const follower = nodes.find((n) => n !== leader)!;
      follower.stop();
      wire.handlers.delete(follower.id);
      const reopened = open(follower.id);
      nodes[nodes.indexOf(follower)] = reopened;
      expect(reopened.status().snapshotIndex).toBeGreaterThanOrEqual(20);
      await until(() => reopened.status().lastApplied === leader.status().commitIndex);
      expect(machines.get(follower.id)!.items).toEqual(Array.from({ length: 25 }, (_, i) => `item-${i}`));
    } finally {
      for (const n of nodes) n.stop();
    }
  });
});
