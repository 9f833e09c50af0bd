/**
 * The simulator's state machine: its whole state is a running digest of every (index, command)
 * applied, so two replicas with equal digests at an index applied the same history. Snapshots
 * carry the digest and some deterministic padding (to make them span several InstallSnapshot
 * chunks). Every apply and restore is reported to the checker.
 */
import type { StateMachine } from '../raft/types.js';

export interface DigestObserver {
  applied(index: number, digest: string): void;
  restored(index: number, digest: string): void;
}

export class DigestStateMachine implements StateMachine {
  lastIndex = 0;
  count = 0;
  private h1 = 0x811c9dc5;
  private h2 = 0x2545f491;

  constructor(
    private readonly observer: DigestObserver,
    private readonly padBytes = 0,
  ) {}

  get digest(): string {
    return `${this.count}:${this.h1.toString(16)}:${this.h2.toString(16)}`;
  }

  apply(command: Uint8Array, index: number, _term: number): void {
    if (index <= this.lastIndex) throw new Error(`apply(${index}) after ${this.lastIndex}: out of order`);
    this.mix(index % 0x100000000);
    this.mix(Math.floor(index / 0x100000000));
    for (let i = 0; i < command.length; i++) this.mix(command[i]!);
    this.mix(command.length);
    this.lastIndex = index;
    this.count++;
    this.observer.applied(index, this.digest);
  }

  private mix(v: number): void {
    this.h1 = Math.imul(this.h1 ^ v, 0x01000193) >>> 0;
    this.h2 = (Math.imul(this.h2 ^ this.h1, 0x9e3779b1) + v) >>> 0;
  }

  snapshot(): Uint8Array {
    const b = Buffer.alloc(20 + this.padBytes);
    b.writeUInt32BE(Math.floor(this.lastIndex / 0x100000000), 0);
    b.writeUInt32BE(this.lastIndex % 0x100000000, 4);
    b.writeUInt32BE(this.count, 8);
    b.writeUInt32BE(this.h1, 12);
    b.writeUInt32BE(this.h2, 16);
    for (let i = 0; i < this.padBytes; i++) b[20 + i] = (this.h1 >>> (i % 24)) & 0xff;
    return b;
  }

  restore(snapshot: Uint8Array): void {
    const b = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
    if (b.length < 20) throw new Error(`snapshot of ${b.length} bytes is too short`);
    this.lastIndex = b.readUInt32BE(0) * 0x100000000 + b.readUInt32BE(4);
    this.count = b.readUInt32BE(8);
    this.h1 = b.readUInt32BE(12);
    this.h2 = b.readUInt32BE(16);
    this.observer.restored(this.lastIndex, this.digest);
  }
}
