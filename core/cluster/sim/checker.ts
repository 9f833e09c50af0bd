/**
 * Invariant checkers, fed by the simulator after every event. The ghost record holds every
 * entry ever seen committed — (index, term, payload) — and every state-machine digest ever
 * reached, and nothing may ever contradict it, across crashes, truncations and snapshots:
 *
 * - election safety: at most one leader per term;
 * - leader completeness: a new leader's log holds every entry already known committed;
 * - committed entries never change: every node's log agrees with the ghost up to its commit index;
 * - state machine safety: replicas have identical digests after the same index;
 * - acknowledged proposals are committed with the same payload;
 * - reads are linearizable: readIndex covers every write acknowledged before the read began.
 *
 * The first violation throws SimViolation; the simulator reports it with the seed.
 */
import type { LogEntry, NodeId } from '../raft/types.js';

export class SimViolation extends Error {
  override readonly name = 'SimViolation';
}

interface GhostEntry {
  readonly term: number;
  readonly payload: string;
  readonly by: NodeId;
}

export function entryPayload(e: LogEntry): string {
  return `${e.type}:${Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('latin1')}`;
}

export class Checker {
  private readonly leaders = new Map<number, NodeId>();
  private readonly ghost = new Map<number, GhostEntry>();
  private readonly digests = new Map<number, { digest: string; by: NodeId }>();
  maxCommitted = 0;
  maxAcked = 0;
  acked = 0;
  reads = 0;
  restores = 0;

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  get termsWithLeader(): number {
    return this.leaders.size;
  }

  /** Returns true the first time node is seen leading term. */
  leader(term: number, node: NodeId): boolean {
    const known = this.leaders.get(term);
    if (known === undefined) {
      this.leaders.set(term, node);
      return true;
    }
    if (known !== node) throw new SimViolation(`two leaders in term ${term}: nodes ${known} and ${node}`);
    return false;
  }

  /** A node holds entry e at or below its commit index. */
  committed(node: NodeId, e: LogEntry): void {
    const payload = entryPayload(e);
    const g = this.ghost.get(e.index);
    if (g === undefined) {
      this.ghost.set(e.index, { term: e.term, payload, by: node });
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
      return;
    }
    if (g.term !== e.term || g.payload !== payload) {
      throw new SimViolation(
        `committed entry ${e.index} changed: node ${g.by} committed term ${g.term} ${show(g.payload)}, ` +
          `node ${node} has term ${e.term} ${show(payload)}`,
      );
    }
  }

  /** The committed entry at index, if known. */
  ghostAt(index: number): { term: number; payload: string } | undefined {
    return this.ghost.get(index);
  }

  /** A new leader: every entry known committed must be in its log (or under its snapshot). */
  leaderCompleteness(
    node: NodeId,
    term: number,
    lastIndex: number,
    entryAt: (i: number) => LogEntry | null,
  ): void {
    if (lastIndex < this.maxCommitted) {
      throw new SimViolation(
        `leader ${node} of term ${term} lacks committed entries: its log ends at ${lastIndex}, ` +
          `entry ${this.maxCommitted} is committed`,
      );
    }
    for (const [index, g] of this.ghost) {
      const e = entryAt(index);
      if (e === null) continue; // compacted: its snapshot digest was checked
      if (e.term !== g.term || entryPayload(e) !== g.payload) {
        throw new SimViolation(
          `leader ${node} of term ${term} holds ${index}@${e.term}, but ${index}@${g.term} committed`,
        );
      }
    }
  }

  /** A state machine applied the command at index and reached digest. */
  applied(node: NodeId, index: number, digest: string): void {
    const known = this.digests.get(index);
    if (known === undefined) this.digests.set(index, { digest, by: node });
    else if (known.digest !== digest) {
      throw new SimViolation(
        `state machines diverge after index ${index}: node ${known.by} has ${known.digest}, node ${node} has ${digest}`,
      );
    }
  }

  /** A state machine restored a snapshot whose last command was at index. */
  restored(node: NodeId, index: number, digest: string): void {
    this.restores++;
    if (index === 0) return;
    this.applied(node, index, digest);
  }

  /** A proposal was acknowledged: it must be (or become) the committed entry at index. */
  ack(index: number, term: number, payload: string): void {
    this.acked++;
    if (index > this.maxAcked) this.maxAcked = index;
    const g = this.ghost.get(index);
    if (g !== undefined && (g.term !== term || g.payload !== payload)) {
      throw new SimViolation(
        `acknowledged ${index}@${term} ${show(payload)} but ${index}@${g.term} ${show(g.payload)} committed`,
      );
    }
    if (g === undefined) this.ghost.set(index, { term, payload, by: -1 });
    if (index > this.maxCommitted) this.maxCommitted = index;
  }

  /** A read that began when maxAcked was ackedBefore returned readIndex. */
  read(ackedBefore: number, readIndex: number, node: NodeId): void {
    this.reads++;
    if (readIndex < ackedBefore) {
      throw new SimViolation(
        `stale read: node ${node} returned readIndex ${readIndex}, but ${ackedBefore} was acknowledged before the read`,
      );
    }
  }
}

function show(payload: string): string {
  return JSON.stringify(payload.length > 40 ? `${payload.slice(0, 40)}…` : payload);
}
