/**
 * Invariant checkers of the data-path simulation, fed after every event. The ghost record holds,
 * per partition and offset, the record known to be committed there — from acknowledged produces
 * and from what any replica holds below its high watermark — and nothing may ever contradict it:
 *
 * - at most one leader per leader epoch: no two brokers ever act as leader of a partition at the
 *   same epoch (nor does the controller name two);
 * - no acknowledged (acks=all) record lost: an acknowledged record is committed at its offset,
 *   and at the end it is in the final leader's log there;
 * - replicas identical up to the high watermark: every replica's records below its high watermark
 *   are the committed ones, without a gap, in non-decreasing leader epochs;
 * - a replica's high watermark never runs ahead of the highest high watermark any leader reached
 *   (a restarted broker must not expose records that were never committed).
 *
 * The first violation throws SimViolation.
 */
import { SimViolation } from '../../../cluster/sim/checker.js';
import type { PartitionLog } from '../../../log/log.js';
import { batchSize, decodeBatch } from '../../../records/index.js';

export interface ReplicaRecord {
  offset: number;
  value: string;
  /** The leader epoch of its batch. */
  epoch: number;
}

/** The records of a log in [logStartOffset, upTo), in offset order. */
export function readRecords(log: PartitionLog, upTo: number): ReplicaRecord[] {
  const out: ReplicaRecord[] = [];
  let offset = log.logStartOffset;
  while (offset < upTo) {
    const read = log.read(offset, 1 << 20, { maxOffset: upTo, minOneBatch: true });
    if (read.sizeBytes === 0) break;
    let next = offset;
    for (const chunk of read.records) {
      for (let pos = 0; pos + 61 <= chunk.length; ) {
        const batch = decodeBatch(chunk, pos);
        for (const r of batch.records) {
          if (r.offset >= offset && r.offset < upTo) {
            out.push({
              offset: r.offset,
              value: r.value === null ? '<null>' : Buffer.from(r.value).toString('utf8'),
              epoch: batch.partitionLeaderEpoch,
            });
          }
        }
        next = Math.max(next, batch.baseOffset + batch.lastOffsetDelta + 1);
        pos += batchSize(chunk, pos);
      }
    }
    if (next <= offset) break;
    offset = next;
  }
  return out;
}

export class DataChecker {
  private readonly leaders = new Map<string, number>();
  private readonly controllerLeaders = new Map<string, number>();
  /** partition → offset → committed value */
  private readonly ghost = new Map<number, Map<number, string>>();
  /** partition → offset → acknowledged value */
  readonly acked = new Map<number, Map<number, string>>();
  /** partition → highest high watermark a leader reached */
  private readonly leaderHw = new Map<number, number>();
  ackedRecords = 0;
  replicaScans = 0;
  maxLeaderEpoch = 0;

  private ghostOf(partition: number): Map<number, string> {
    let g = this.ghost.get(partition);
    if (!g) {
      g = new Map();
      this.ghost.set(partition, g);
    }
    return g;
  }

  /** Broker `broker` acts as leader of `partition` at `epoch`. */
  leader(partition: number, epoch: number, broker: number): void {
    const k = `${partition}@${epoch}`;
    const known = this.leaders.get(k);
    if (known === undefined) this.leaders.set(k, broker);
    else if (known !== broker)
      throw new SimViolation(
        `two leaders of partition ${partition} in leader epoch ${epoch}: brokers ${known} and ${broker}`,
      );
    if (epoch > this.maxLeaderEpoch) this.maxLeaderEpoch = epoch;
  }

  /** The controller named `broker` leader of `partition` at `epoch`. */
  controllerLeader(partition: number, epoch: number, broker: number): void {
    if (broker < 0) return;
    const k = `${partition}@${epoch}`;
    const known = this.controllerLeaders.get(k);
    if (known === undefined) this.controllerLeaders.set(k, broker);
    else if (known !== broker)
      throw new SimViolation(
        `the controller named two leaders of partition ${partition} in leader epoch ${epoch}: ${known} and ${broker}`,
      );
  }

  /** A leader's high watermark (only ever grows as the max). */
  leaderHighWatermark(partition: number, hw: number): void {
    if (hw > (this.leaderHw.get(partition) ?? 0)) this.leaderHw.set(partition, hw);
  }

  /** The highest high watermark a leader of the partition reached: everything below is committed. */
  committedEnd(partition: number): number {
    return this.leaderHw.get(partition) ?? 0;
  }

  /** A replica's high watermark may not exceed the highest a leader reached. */
  replicaHighWatermark(partition: number, broker: number, hw: number): void {
    const max = this.leaderHw.get(partition) ?? 0;
    if (hw > max) {
      throw new SimViolation(
        `broker ${broker} has high watermark ${hw} for partition ${partition}, above any leader's (${max}): ` +
          'it would serve records that were never committed',
      );
    }
  }

  /** A produce of `values` at baseOffset was acknowledged. */
  ack(partition: number, baseOffset: number, values: readonly string[]): void {
    const g = this.ghostOf(partition);
    let a = this.acked.get(partition);
    if (!a) {
      a = new Map();
      this.acked.set(partition, a);
    }
    values.forEach((v, i) => {
      const offset = baseOffset + i;
      const known = g.get(offset);
      if (known !== undefined && known !== v) {
        throw new SimViolation(
          `acknowledged ${JSON.stringify(v)} at offset ${offset} of partition ${partition}, but ${JSON.stringify(known)} is committed there`,
        );
      }
      g.set(offset, v);
      a.set(offset, v);
      this.ackedRecords++;
    });
  }

  /** A replica's records below its high watermark must be the committed ones. */
  replica(
    partition: number,
    broker: number,
    records: readonly ReplicaRecord[],
    from: number,
    upTo: number,
  ): void {
    this.replicaScans++;
    const g = this.ghostOf(partition);
    let expected = from;
    let epoch = -1;
    for (const r of records) {
      if (r.epoch < epoch) {
        throw new SimViolation(
          `broker ${broker} holds a batch of leader epoch ${r.epoch} at offset ${r.offset} of partition ${partition}, ` +
            `after one of epoch ${epoch}`,
        );
      }
      epoch = r.epoch;
      if (r.offset !== expected) {
        throw new SimViolation(
          `broker ${broker} lacks offset ${expected} of partition ${partition} below its high watermark ${upTo} ` +
            `(its next record is at ${r.offset})`,
        );
      }
      expected++;
      const known = g.get(r.offset);
      if (known === undefined) g.set(r.offset, r.value);
      else if (known !== r.value) {
        throw new SimViolation(
          `broker ${broker} holds ${JSON.stringify(r.value)} at offset ${r.offset} of partition ${partition} below its high watermark, ` +
            `but ${JSON.stringify(known)} was committed there`,
        );
      }
    }
    if (expected < upTo) {
      throw new SimViolation(
        `broker ${broker} lacks offsets ${expected}..${upTo - 1} of partition ${partition} below its high watermark`,
      );
    }
  }

  /** End of run: every acknowledged record is in the final leader's log at its offset. */
  finalLeader(partition: number, broker: number, records: readonly ReplicaRecord[]): void {
    const at = new Map(records.map((r) => [r.offset, r.value]));
    for (const [offset, value] of this.acked.get(partition) ?? []) {
      const got = at.get(offset);
      if (got !== value) {
        throw new SimViolation(
          `acknowledged record ${JSON.stringify(value)} at offset ${offset} of partition ${partition} is lost: ` +
            `the final leader ${broker} has ${got === undefined ? 'nothing' : JSON.stringify(got)} there`,
        );
      }
    }
  }
}
