/**
 * Snapshots and log compaction (Raft §7). Locally: once snapshotIntervalEntries entries (or
 * snapshotIntervalBytes) were applied since the last snapshot, the state machine's bytes are
 * written atomically as a snapshot file, and log segments older than the snapshot (less
 * retainEntriesAfterSnapshot entries kept for lagging followers) are deleted. From the leader:
 * InstallSnapshot chunks are collected in memory (at most maxSnapshotBytes), verified, saved,
 * and replace the state machine and whatever part of the log the snapshot covers.
 */
import type { Applier } from './applier.js';
import type { RaftContext } from './context.js';
import type { SnapshotRequest } from './messages.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot, type SnapshotStore } from './snapshot-store.js';
import type { StateMachine } from './types.js';

interface Incoming {
  readonly index: number;
  readonly term: number;
  readonly buf: Uint8Array;
  received: number;
}

export class Snapshots {
  private incoming: Incoming | null = null;

  constructor(
    private readonly ctx: RaftContext,
    private readonly store: SnapshotStore,
    private readonly sm: StateMachine,
    private readonly applier: Applier,
    /** The newest snapshot, kept in memory for followers that need it. */
    public latest: Snapshot | null,
    private readonly onMembershipChange: () => void,
  ) {}

  maybeTake(): void {
    const { log, config } = this.ctx;
    const since = this.applier.lastApplied - log.snapshotIndex;
    if (since <= 0) return;
    if (
      since < config.snapshotIntervalEntries &&
      this.applier.bytesSinceSnapshot < config.snapshotIntervalBytes
    )
      return;
    this.take();
  }

  /** Snapshots the state machine at lastApplied and compacts the log behind it. */
  take(): void {
    const { log, config, membership } = this.ctx;
    const index = this.applier.lastApplied;
    const term = log.termAt(index);
    if (term === null || index <= log.snapshotIndex) return;
    const snap = encodeSnapshot({ index, term, learners: membership.appliedLearners }, this.sm.snapshot());
    this.store.save(snap);
    log.setSnapshot(index, term);
    log.compactBefore(index + 1 - config.retainEntriesAfterSnapshot);
    this.latest = snap;
    this.applier.bytesSinceSnapshot = 0;
  }

  /** One InstallSnapshot chunk from the current leader. */
  onChunk(m: SnapshotRequest): void {
    const { id, hardState, host, state, config } = this.ctx;
    const reply = (nextOffsetBytes: number, done: boolean): void =>
      host.send(m.from, {
        type: 'snapshotResponse',
        from: id,
        term: hardState.term,
        snapshotIndex: m.snapshotIndex,
        nextOffsetBytes,
        done,
        seq: m.seq,
      });
    if (m.snapshotIndex <= state.commitIndex) {
      reply(m.totalBytes, true); // we hold everything it covers already
      return;
    }
    let inc = this.incoming;
    if (inc === null || inc.index !== m.snapshotIndex || inc.term !== m.snapshotTerm) {
      if (m.offsetBytes !== 0 || m.totalBytes > config.maxSnapshotBytes) {
        reply(0, false);
        return;
      }
      inc = { index: m.snapshotIndex, term: m.snapshotTerm, buf: new Uint8Array(m.totalBytes), received: 0 };
      this.incoming = inc;
    }
    if (m.offsetBytes !== inc.received || inc.buf.length !== m.totalBytes) {
      reply(inc.received, false);
      return;
    }
    inc.buf.set(m.chunk, inc.received);
    inc.received += m.chunk.length;
    if (inc.received < inc.buf.length) {
      reply(inc.received, false);
      return;
    }
    this.incoming = null;
    let snap: Snapshot;
    try {
      snap = decodeSnapshot(inc.buf, config.maxSnapshotBytes);
    } catch {
      reply(0, false);
      return;
    }
    if (snap.index !== m.snapshotIndex || snap.term !== m.snapshotTerm) {
      reply(0, false);
      return;
    }
    this.install(snap);
    reply(m.totalBytes, true);
  }

  private install(snap: Snapshot): void {
    const { log, state } = this.ctx;
    this.store.save(snap);
    log.installSnapshot(snap.index, snap.term);
    this.applier.restore(snap);
    if (state.commitIndex < snap.index) state.commitIndex = snap.index;
    this.latest = snap;
    this.onMembershipChange();
  }
}
