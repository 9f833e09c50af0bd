/**
 * In-process clusters for replication tests: brokers on free ports sharing one
 * StaticClusterView (the test plays the controller). Stopped brokers can be restarted on their
 * data directory (on a new port, re-registered in the view). Everything stops when the test ends.
 */
import { onTestFinished } from 'vitest';
import { StaticClusterView } from '../../../core/broker/cluster-view.js';
import { type RunningBroker, startBroker } from '../../../core/broker/node.js';
import type { PartitionLog } from '../../../core/log/log.js';
import { encodeBatch } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';

export interface TestCluster {
  view: StaticClusterView;
  /** Running brokers by node id (absent while stopped). */
  nodes: Map<number, RunningBroker>;
  bootstrap(): string;
  stop(id: number): Promise<void>;
  restart(id: number): Promise<RunningBroker>;
  log(id: number, topic: string, partition?: number): PartitionLog;
}

export async function startCluster(
  size = 3,
  opts: { lagMs?: number; config?: Record<string, string | number | boolean> } = {},
): Promise<TestCluster> {
  const view = new StaticClusterView();
  const nodes = new Map<number, RunningBroker>();
  const dirs = new Map<number, string>();
  const start = async (id: number): Promise<RunningBroker> => {
    const rb = await startBroker({
      dataDir: dirs.get(id)!,
      listen: '127.0.0.1:0',
      config: {
        'node.id': id,
        'cluster.id': 'replication-test',
        'replica.lag.time.max.ms': opts.lagMs ?? 1000,
        'group.initial.rebalance.delay.ms': 0,
        ...opts.config,
      },
      clusterView: view,
      replicaFetcher: { maxWaitMs: 100, backoffMs: 50, requestTimeoutMs: 5000 },
      log: () => {},
    });
    nodes.set(id, rb);
    view.registerBroker({ nodeId: id, host: rb.host, port: rb.port, rack: null });
    return rb;
  };
  for (let id = 1; id <= size; id++) {
    dirs.set(id, tempDir(`trib-repl-${id}-`));
    await start(id);
  }
  onTestFinished(async () => {
    for (const rb of [...nodes.values()]) await rb.close().catch(() => {});
  });
  return {
    view,
    nodes,
    bootstrap: () => [...nodes.values()].map((n) => n.bootstrap).join(','),
    async stop(id) {
      const rb = nodes.get(id);
      nodes.delete(id);
      await rb?.close();
    },
    restart: start,
    log(id, topic, partition = 0) {
      const rb = nodes.get(id);
      if (!rb) throw new Error(`broker ${id} is stopped`);
      return rb.broker.logs.getLog(topic, partition);
    },
  };
}

/** Polls until check() is true (or throws after timeoutMs). */
export async function eventually(
  check: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** All batch bytes of a log below `end`. */
export function logBytes(log: PartitionLog, end: number): Buffer {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < end) {
    const r = log.read(offset, 1 << 20, { maxOffset: end, minOneBatch: true });
    if (r.sizeBytes === 0) break;
    const bytes = Buffer.concat(r.records);
    out.push(bytes);
    // next offset: after the last batch read
    let pos = 0;
    let next = offset;
    while (pos + 61 <= bytes.length) {
      next = Number(bytes.readBigInt64BE(pos)) + bytes.readInt32BE(pos + 23) + 1;
      pos += 12 + bytes.readInt32BE(pos + 8);
    }
    offset = next;
  }
  return Buffer.concat(out);
}

export function batchOf(...values: string[]): Buffer {
  return encodeBatch(values.map((v) => ({ key: null, value: Buffer.from(v) })));
}
