/**
 * Replica assignment for new topics and partitions: Kafka's algorithm
 * (AdminUtils.assignReplicasToBrokers). Without racks: round robin from a random start broker,
 * followers at a shift that grows every full round so that replicas of consecutive partitions
 * do not line up. With racks on every broker: the same over a broker list that alternates racks,
 * and each follower is taken from a rack with no replica yet while there is one.
 */
import type { Random } from '../../env/random.js';
import { ControllerError } from './errors.js';

export interface AssignableBroker {
  readonly id: number;
  readonly rack: string | null;
}

export function assignReplicas(
  brokers: readonly AssignableBroker[],
  numPartitions: number,
  replicationFactor: number,
  random: Random,
  startPartition = 0,
): number[][] {
  if (replicationFactor <= 0)
    throw new ControllerError('INVALID_REPLICATION_FACTOR', 'replication factor must be at least 1');
  if (numPartitions <= 0)
    throw new ControllerError('INVALID_PARTITIONS', 'number of partitions must be at least 1');
  if (replicationFactor > brokers.length) {
    throw new ControllerError(
      'INVALID_REPLICATION_FACTOR',
      `replication factor ${replicationFactor} is larger than the ${brokers.length} available broker(s)`,
    );
  }
  const sorted = [...brokers].sort((a, b) => a.id - b.id);
  const racked = sorted.every((b) => b.rack !== null);
  return racked
    ? rackAware(sorted, numPartitions, replicationFactor, random, startPartition)
    : rackUnaware(
        sorted.map((b) => b.id),
        numPartitions,
        replicationFactor,
        random,
        startPartition,
      );
}

function replicaIndex(first: number, shift: number, j: number, n: number): number {
  return (first + 1 + ((shift + j) % (n - 1))) % n;
}

function rackUnaware(
  ids: number[],
  partitions: number,
  rf: number,
  random: Random,
  start: number,
): number[][] {
  const n = ids.length;
  const startIndex = random.int(n);
  let shift = random.int(n);
  const out: number[][] = [];
  let p = start;
  for (let i = 0; i < partitions; i++, p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = (p + startIndex) % n;
    const replicas = [ids[first]!];
    for (let j = 0; j < rf - 1; j++) replicas.push(ids[replicaIndex(first, shift, j, n)]!);
    out.push(replicas);
  }
  return out;
}

/** Brokers ordered rack by rack in turn: rack1's first, rack2's first, …, rack1's second… */
export function rackAlternatedBrokers(brokers: readonly AssignableBroker[]): number[] {
  const byRack = new Map<string, number[]>();
  for (const b of brokers) {
    const list = byRack.get(b.rack!) ?? [];
    list.push(b.id);
    byRack.set(b.rack!, list);
  }
  const racks = [...byRack.keys()].sort();
  const out: number[] = [];
  for (let i = 0; out.length < brokers.length; i++) {
    for (const r of racks) {
      const id = byRack.get(r)![i];
      if (id !== undefined) out.push(id);
    }
  }
  return out;
}

function rackAware(
  brokers: readonly AssignableBroker[],
  partitions: number,
  rf: number,
  random: Random,
  start: number,
): number[][] {
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack!]));
  const numRacks = new Set(rackOf.values()).size;
  const arranged = rackAlternatedBrokers(brokers);
  const n = arranged.length;
  const startIndex = random.int(n);
  let shift = random.int(n);
  const out: number[][] = [];
  let p = start;
  for (let i = 0; i < partitions; i++, p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = (p + startIndex) % n;
    const leader = arranged[first]!;
    const replicas = [leader];
    const racks = new Set([rackOf.get(leader)!]);
    const used = new Set([leader]);
    let k = 0;
    for (let j = 0; j < rf - 1; j++) {
      for (;;) {
        const b = arranged[replicaIndex(first, shift * numRacks, k, n)]!;
        k++;
        const rack = rackOf.get(b)!;
        if ((!racks.has(rack) || racks.size === numRacks) && (!used.has(b) || used.size === n)) {
          replicas.push(b);
          racks.add(rack);
          used.add(b);
          break;
        }
      }
    }
    out.push(replicas);
  }
  return out;
}
