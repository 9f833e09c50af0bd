/**
 * The consumer side of bench/latency.ts: polls one partition and records, for every record whose
 * send stamp falls in the measured window, arrival time − send stamp. Stamps and arrival times
 * are absolute (performance.timeOrigin + performance.now(), the machine's clock), so the same code
 * runs in the producer's thread (the default) or, with --separate-consumer, in a worker_thread of
 * its own (its own event loop and heap, so the producer's garbage collections do not stop it —
 * like Kafka's separate producer-perf and consumer tools).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { connect } from '../core/client/index.js';

/** Absolute time in ms (comparable across threads and processes of this machine). */
export const absMs = (): number => performance.timeOrigin + performance.now();

export interface ConsumerSetup {
  bootstrap: string;
  topic: string;
  capacity: number;
}

export interface ConsumerOutcome {
  received: number;
  /** Latencies (ms) of the records stamped in the window, unsorted. */
  latencies: Float64Array;
  /** Garbage-collector pauses of the consumer's thread during the window (ms). */
  gc: { count: number; maxMs: number; totalMs: number };
}

export interface LatencyConsumer {
  /** The measured window, absolute ms (send stamps in [from, to) count). */
  setWindow(from: number, to: number): void;
  /** Waits until `sent` records arrived (or `deadline`, absolute ms), stops and reports. */
  drain(sent: number, deadline: number): Promise<ConsumerOutcome>;
}

/** Connects, positions at the end of the partition and starts polling. */
export async function startLatencyConsumer(setup: ConsumerSetup): Promise<LatencyConsumer> {
  const client = await connect({ 'bootstrap.servers': setup.bootstrap });
  const consumer = client.consumer({
    'fetch.min.bytes': 1,
    'fetch.max.wait.ms': 100,
    'max.poll.records': 10_000,
  });
  const topic = setup.topic;
  consumer.assign([{ topic, partition: 0 }]);
  consumer.seekToEnd();
  await consumer.position({ topic, partition: 0 }); // resolve "end" before anything is sent

  const latencies = new Float64Array(setup.capacity);
  let received = 0;
  let measured = 0;
  let stop = false;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.POSITIVE_INFINITY;
  const gc = { count: 0, maxMs: 0, totalMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const at = performance.timeOrigin + e.startTime;
      if (at < from || at >= to) continue;
      gc.count++;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      gc.totalMs += e.duration;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  const consuming = (async () => {
    while (!stop) {
      const records = await consumer.poll({ timeoutMs: 100 });
      const now = absMs();
      for (const r of records) {
        const sentAt = r.value!.readDoubleBE(0);
        received++;
        if (sentAt >= from && sentAt < to) latencies[measured++] = now - sentAt;
      }
    }
  })();

  return {
    setWindow(f, t) {
      from = f;
      to = t;
    },
    async drain(sent, deadline) {
      while (received < sent && absMs() < deadline) await new Promise((r) => setTimeout(r, 10));
      stop = true;
      await consuming;
      gcObserver.disconnect();
      await client.close();
      return { received, latencies: latencies.slice(0, measured), gc };
    },
  };
}

type ToWorker =
  | { type: 'window'; from: number; to: number }
  | { type: 'drain'; sent: number; deadline: number };

if (
  !isMainThread &&
  parentPort !== null &&
  (workerData as { latencyConsumer?: ConsumerSetup })?.latencyConsumer
) {
  const port = parentPort;
  const c = await startLatencyConsumer((workerData as { latencyConsumer: ConsumerSetup }).latencyConsumer);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'window') c.setWindow(m.from, m.to);
    else {
      void c.drain(m.sent, m.deadline).then((out) => {
        port.postMessage({ type: 'done', ...out }, [out.latencies.buffer as ArrayBuffer]);
        port.close();
      });
    }
  });
  port.postMessage({ type: 'ready' });
}
