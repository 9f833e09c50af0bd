/**
 * The records of one source of a task: a hot, synchronous multicast, as an RxJS `Subject` is,
 * minus what a Subject does per value (an error-context closure, a closed check): the runtime
 * pushes every record through `next()`. Subscribers are kept in a copy-on-write array, so one
 * that subscribes or unsubscribes while a record is pushed does not disturb that push.
 */
import { Observable, type Subscriber } from 'rxjs';

export class SourceStream<T> {
  private subscribers: readonly Subscriber<T>[] = [];
  private completed = false;

  /** What operators subscribe to. */
  readonly observable: Observable<T> = new Observable<T>((subscriber) => {
    if (this.completed) {
      subscriber.complete();
      return;
    }
    this.subscribers = [...this.subscribers, subscriber];
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
    };
  });

  next(value: T): void {
    const subscribers = this.subscribers;
    for (let i = 0; i < subscribers.length; i++) subscribers[i]!.next(value);
  }

  complete(): void {
    this.completed = true;
    const subscribers = this.subscribers;
    this.subscribers = [];
    for (const s of subscribers) s.complete();
  }
}
