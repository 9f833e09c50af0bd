/**
 * Holds the current image and tells subscribed brokers what changed. Shared by the Raft-backed
 * MetadataStateMachine and by StaticMetadata (tests).
 */
import { brokerDelta, fullChange } from './delta.js';
import { type ApplyResult, MetadataImage } from './image.js';
import type { MetadataListener, MetadataSource } from './listener.js';

export const MAX_SUBSCRIBERS = 1024;

interface Subscription {
  readonly brokerId: number;
  readonly listener: MetadataListener;
}

export class MetadataPublisher implements MetadataSource {
  private current: MetadataImage = MetadataImage.EMPTY;
  private readonly subs = new Set<Subscription>();
  /** Listener failures (they are reported, never propagated into Raft's apply). */
  listenerErrors = 0;

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  image(): MetadataImage {
    return this.current;
  }

  subscribe(brokerId: number, listener: MetadataListener): () => void {
    if (this.subs.size >= MAX_SUBSCRIBERS)
      throw new RangeError(`more than ${MAX_SUBSCRIBERS} metadata subscribers`);
    const sub: Subscription = { brokerId, listener };
    this.subs.add(sub);
    const first = brokerDelta(brokerId, MetadataImage.EMPTY, fullChange(MetadataImage.EMPTY, this.current));
    if (first !== null) this.deliver(sub, first);
    return () => {
      this.subs.delete(sub);
    };
  }

  /** Installs the result of applying records to the current image and notifies subscribers. */
  publish(change: ApplyResult): void {
    const previous = this.current;
    this.current = change.image;
    for (const sub of [...this.subs]) {
      const d = brokerDelta(sub.brokerId, previous, change);
      if (d !== null) this.deliver(sub, d);
    }
  }

  /** Replaces the image wholesale (snapshot restore) and notifies subscribers of the difference. */
  replace(image: MetadataImage): void {
    this.publish(fullChange(this.current, image));
  }

  private deliver(sub: Subscription, delta: Parameters<MetadataListener['onChange']>[0]): void {
    try {
      sub.listener.onChange(delta);
    } catch (err) {
      this.listenerErrors++;
      this.onListenerError(err);
    }
  }
}
