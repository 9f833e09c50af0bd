/**
 * The broker as a process: SIGKILL in the middle of acks=all writes loses no acknowledged record
 * and the next start opens cleanly; SIGTERM finishes what is in flight and exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../../core/client/index.js';

const TRIB = fileURLToPath(new URL('../../../bin/trib.js', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startBroker(
  dataDir: string,
): Promise<{ child: ChildProcess; bootstrap: string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [TRIB, 'broker', '--data-dir', dataDir, '--listen', '127.0.0.1:0'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(child);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let err = '';
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /tributary broker \d+ listening on (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, bootstrap: m[1]!, exited });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code}: ${err}`));
    });
  });
}

describe('broker process', () => {
  it('loses no acknowledged record to SIGKILL, and restarts cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trib-crash-'));
    dirs.push(dataDir);
    let broker = await startBroker(dataDir);
    let client = await connect({ 'bootstrap.servers': broker.bootstrap, 'request.timeout.ms': 3000 });
    await client.admin().createTopics([{ topic: 'durable', numPartitions: 2 }]);
    const producer = client.producer({
      acks: 'all',
      'linger.ms': 2,
      'delivery.timeout.ms': 4000,
      'request.timeout.ms': 2000,
    });
    const acked = new Set<string>();
    let stop = false;
    const writers = [0, 1, 2].map(async (w) => {
      for (let i = 0; !stop; i++) {
        const value = `w${w}-${i}`;
        try {
          await producer.send({ topic: 'durable', key: value, value });
          acked.add(value);
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    broker.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await client.close().catch(() => undefined);
    expect(acked.size).toBeGreaterThan(50);

    broker = await startBroker(dataDir);
    client = await connect({ 'bootstrap.servers': broker.bootstrap });
    try {
      const consumer = client.consumer();
      consumer.assign([
        { topic: 'durable', partition: 0 },
        { topic: 'durable', partition: 1 },
      ]);
      consumer.seekToBeginning();
      const ends = await consumer.endOffsets(consumer.assignment());
      const total = ends.reduce((n, e) => n + e.offset, 0);
      const seen = new Map<string, number>();
      const deadline = Date.now() + 15_000;
      let read = 0;
      while (read < total && Date.now() < deadline) {
        for (const r of await consumer.poll({ timeoutMs: 200 })) {
          read++;
          const v = r.value!.toString();
          seen.set(v, (seen.get(v) ?? 0) + 1);
        }
      }
      const lost = [...acked].filter((v) => !seen.has(v));
      expect(lost).toEqual([]);
      const duplicated = [...seen].filter(([, n]) => n > 1);
      expect(duplicated).toEqual([]);
    } finally {
      await client.close();
    }
    broker.child.kill('SIGTERM');
    expect(await broker.exited).toBe(0);
  });
});
