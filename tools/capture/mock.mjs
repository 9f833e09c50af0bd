/**
 * librdkafka's mock cluster (rdkafka_mock.h), started through test/helpers/mock_cluster.py
 * (python3 + ctypes over a librdkafka.so.1): the broker side of the captures, a Kafka broker
 * implementation nobody here wrote.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../test/helpers/mock_cluster.py', import.meta.url));

/**
 * Starts a mock cluster of `brokers` brokers on the librdkafka at `lib` and returns
 * `{ brokers: ["127.0.0.1:P", ...], version, close() }`.
 */
export async function startMockCluster({ lib = 'librdkafka.so.1', brokers = 1, topics = [] } = {}) {
  const args = [SCRIPT, '--lib', lib, '--brokers', String(brokers)];
  for (const t of topics) args.push('--topic', t);
  const child = spawn('python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const line = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`mock cluster did not start: ${stderr}`)), 15_000);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock cluster exited (${code}): ${stderr}`));
    });
  });
  const version = /librdkafka (\S+)/.exec(stderr)?.[1] ?? 'unknown';
  return {
    brokers: line.split(','),
    version,
    async close() {
      if (child.exitCode === null) {
        child.stdin.end();
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
