/** A controller over an in-memory "Raft" that commits every proposal at once, on a virtual clock. */

import type { ControllerConfigInput } from '../../../core/cluster/controller/config.js';
import type { MetadataLog } from '../../../core/cluster/controller/controller.js';
import { QuorumController } from '../../../core/cluster/controller/index.js';
import { MetadataStateMachine } from '../../../core/cluster/metadata/index.js';
import { RaftError } from '../../../core/cluster/raft/errors.js';
import type { RaftStatus } from '../../../core/cluster/raft/types.js';
import { SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { SeededRandom } from '../../../core/env/random.js';

export class InstantLog implements MetadataLog {
  index = 0;
  leader = true;
  constructor(readonly sm: MetadataStateMachine) {}
  async propose(command: Uint8Array) {
    if (!this.leader) throw new RaftError('NOT_LEADER', 'not leader', { leaderId: 2 });
    this.index++;
    this.sm.apply(command, this.index, 1);
    return { index: this.index, term: 1 };
  }
  async readIndex() {
    return this.index;
  }
  status(): RaftStatus {
    return {
      id: 1,
      role: this.leader ? 'leader' : 'follower',
      term: 1,
      votedFor: 1,
      leaderId: this.leader ? 1 : 2,
      commitIndex: this.index,
      lastApplied: this.index,
      firstIndex: 1,
      lastIndex: this.index,
      snapshotIndex: 0,
      snapshotTerm: 0,
      learners: [],
      stopped: false,
    };
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export async function harness(config: ControllerConfigInput = {}) {
  const clock = new SimClock();
  const sm = new MetadataStateMachine();
  const log = new InstantLog(sm);
  const controller = new QuorumController({ log, metadata: sm, clock, random: new SeededRandom(7), config });
  controller.onRaftStateChange(log.status());
  await flush();
  /** Advances virtual time, running due timers and letting promises settle. */
  const advance = async (ms: number): Promise<void> => {
    const until = clock.monotonic() + ms;
    while (clock.nextAtMs() <= until) {
      clock.runNext();
      await flush();
    }
    clock.advanceTo(until);
  };
  const register = async (id: number, rack: string | null = null) => {
    const { brokerEpoch } = await controller.call('registerBroker', {
      brokerId: id,
      incarnationId: `inc-${id}-${clock.monotonic()}`,
      host: 'localhost',
      port: 9000 + id,
      rack,
      controller: false,
    });
    const hb = await controller.call('brokerHeartbeat', {
      brokerId: id,
      brokerEpoch,
      metadataOffset: sm.image().offset,
      wantFence: false,
      wantShutdown: false,
    });
    return { brokerEpoch, ...hb };
  };
  const heartbeat = (id: number) =>
    controller.call('brokerHeartbeat', {
      brokerId: id,
      brokerEpoch: sm.image().brokers.get(id)!.epoch,
      metadataOffset: sm.image().offset,
      wantFence: false,
      wantShutdown: false,
    });
  return { clock, sm, log, controller, advance, register, heartbeat };
}
