/**
 * The metadata log's state machine: every committed command is a batch of metadata records
 * (codec.ts); applying it produces a new MetadataImage and tells subscribed brokers their new
 * roles. Controllers (voters) and brokers (learners) run the same state machine.
 */
import type { StateMachine } from '../raft/types.js';
import { decodeRecords, decodeSnapshot, encodeSnapshot } from './codec.js';
import { MetadataImage } from './image.js';
import type { MetadataListener, MetadataSource } from './listener.js';
import { MetadataPublisher } from './publisher.js';

export interface MetadataStateMachineOptions {
  /** A subscriber's onChange threw (it is not propagated: Raft treats a throw in apply as fatal). */
  readonly onListenerError?: (err: unknown) => void;
  /** Called after every applied batch (the controller uses it to wake up waiting operations). */
  readonly onApplied?: (image: MetadataImage) => void;
}

export class MetadataStateMachine implements StateMachine, MetadataSource {
  private readonly publisher: MetadataPublisher;
  /** Records skipped because they no longer fitted the state (see image.ts). */
  skippedRecords = 0;

  constructor(private readonly opts: MetadataStateMachineOptions = {}) {
    this.publisher = new MetadataPublisher(opts.onListenerError);
  }

  image(): MetadataImage {
    return this.publisher.image();
  }

  subscribe(brokerId: number, listener: MetadataListener): () => void {
    return this.publisher.subscribe(brokerId, listener);
  }

  apply(command: Uint8Array, index: number, _term: number): void {
    const records = decodeRecords(command);
    const change = this.image().apply(records, index);
    this.skippedRecords += change.skipped;
    this.publisher.publish(change);
    this.opts.onApplied?.(change.image);
  }

  snapshot(): Uint8Array {
    const img = this.image();
    return encodeSnapshot(img.offset, img.toRecords());
  }

  restore(snapshot: Uint8Array): void {
    const { offset, records } = decodeSnapshot(snapshot);
    const { image } = MetadataImage.EMPTY.apply(records, offset);
    this.publisher.replace(image);
    this.opts.onApplied?.(image);
  }
}
