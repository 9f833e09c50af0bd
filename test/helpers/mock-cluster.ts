/**
 * librdkafka's built-in mock Kafka cluster (rdkafka_mock.h), run by mock_cluster.py over
 * Debian's librdkafka1: a Kafka broker implementation independent of ours, to test our client
 * against. Started inside a test it stops when the test finishes; otherwise at the end of the file.
 *
 * What librdkafka 2.0.2's mock serves (rdkafka_mock_handlers.c): Produce 0–7, Fetch 0–11,
 * ListOffsets 0–5, OffsetFetch 0–5, OffsetCommit 0–7, ApiVersions 0–2, Metadata 0–2,
 * FindCoordinator 0–2, InitProducerId 0–4, JoinGroup 0–5, Heartbeat 0–3, LeaveGroup 0–1,
 * SyncGroup 0–3 and the transaction APIs. Nothing else: no CreateTopics, DeleteTopics,
 * DescribeCluster, DescribeConfigs, ListGroups or DescribeGroups. Metadata requests auto-create
 * unknown topics with 4 partitions.
 *
 * Known flaws of that mock, which any client meets (Java's included):
 * - ListOffsets v4+ responses carry LeaderEpoch as an int64 (Kafka: int32), so every partition
 *   after the first is misread. startMockCluster caps ListOffsets at v3 unless told otherwise.
 * - ApiVersions v3+ requests get an UNSUPPORTED_VERSION answer whose key list is unparseable;
 *   a client must fall back to v0 without it (librdkafka and kafkajs do).
 * - Metadata names controller 0, which is no broker (they are 1..N): requests for the
 *   controller have nowhere to go.
 * - OffsetFetch with topics = null (all of a group's offsets) echoes a null array back.
 * - Produce answers LogAppendTime 1234 for every batch (so RecordMetadata.timestamp is 1234,
 *   as the Java client would report it too).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, onTestFinished } from 'vitest';
import { ensureDebianPackage, ensureLibrdkafka } from './system.js';

const SCRIPT = fileURLToPath(new URL('./mock_cluster.py', import.meta.url));

export interface MockClusterOptions {
  /** Brokers in the cluster. Default 3. */
  brokers?: number;
  /** Topics created before clients connect. */
  topics?: readonly { topic: string; partitions: number; replicationFactor?: number }[];
  /**
   * Version ranges the mock advertises, by API key ([-1, -1] disables one). Default
   * { 2: [0, 3] }: ListOffsets below the versions the mock encodes wrongly.
   */
  apiVersions?: Readonly<Record<number, readonly [number, number]>>;
  startTimeoutMs?: number;
}

/** ListOffsets (2) v4+ responses of librdkafka 2.0.2's mock are malformed: see above. */
export const MOCK_API_VERSIONS: Readonly<Record<number, readonly [number, number]>> = { 2: [0, 3] };

export interface MockCluster {
  /** "127.0.0.1:P1,127.0.0.1:P2,…" */
  readonly bootstrap: string;
  readonly child: ChildProcess;
  /** What the script wrote on stderr. */
  output(): string;
  close(): Promise<void>;
}

const fileCleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of fileCleanups.splice(0).reverse()) await c().catch(() => {});
});

export async function startMockCluster(opts: MockClusterOptions = {}): Promise<MockCluster> {
  const lib = ensureLibrdkafka();
  const python = ensureDebianPackage('python3', 'python3');
  const args = [SCRIPT, '--lib', lib, '--brokers', String(opts.brokers ?? 3)];
  for (const t of opts.topics ?? []) {
    args.push('--topic', `${t.topic}:${t.partitions}${t.replicationFactor ? `:${t.replicationFactor}` : ''}`);
  }
  for (const [key, [lo, hi]] of Object.entries(opts.apiVersions ?? MOCK_API_VERSIONS)) {
    args.push('--api-versions', `${key}:${lo}:${hi}`);
  }
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mock cluster did not start in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock cluster exited (${code}) before starting: ${err}`));
    });
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    })();
    return closing;
  };
  try {
    onTestFinished(close);
  } catch {
    fileCleanups.push(close);
  }
  return { bootstrap, child, output: () => err, close };
}
