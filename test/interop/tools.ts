/**
 * What the interop tests share: running kcat with bounded time and output, kafkajs clients with
 * every codec registered, and reading a known number of records with our consumer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { CompressionCodecs, CompressionTypes, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { decompressFrame } from 'lz4-napi';
import { uncompressSync as snappyUncompress } from 'snappy';
import { onTestFinished } from 'vitest';
import { decompress as zstdDecompress } from 'zstd-napi';
import type { Consumer, ConsumerRecord } from '../../core/client/index.js';
import { ensureKcat } from '../helpers/system.js';

/** Set INTEROP_DEBUG=1 to see kafkajs's debug log and kcat's protocol debug on stderr. */
export const DEBUG = process.env.INTEROP_DEBUG === '1';

export interface KcatResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  out: string;
}

const MAX_STDERR_CHARS = 20_000;

/**
 * Runs kcat with `args` (input written to stdin, then closed), killing it after `timeoutMs`.
 * Resolves with its output whatever the exit code; `kcatOk` asserts success.
 */
export function kcat(args: readonly string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}) {
  const bin = ensureKcat();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const fullArgs = DEBUG ? [...args, '-d', 'protocol,broker,cgrp'] : [...args];
  return new Promise<KcatResult>((resolve, reject) => {
    const child = spawn(bin, fullArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (DEBUG) process.stderr.write(d);
      err += d;
      // librdkafka retries a failing request forever: keep the start and the latest lines.
      if (err.length > MAX_STDERR_CHARS) err = `${err.slice(0, 8_000)}\n…\n${err.slice(-8_000)}`;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      const result = { code, signal, stdout, stderr: err, out: stdout.toString('utf8') };
      if (killed) {
        reject(
          Object.assign(
            new Error(`kcat ${args.join(' ')} timed out after ${timeoutMs} ms\nstderr:\n${err}`),
            {
              result,
            },
          ),
        );
      } else resolve(result);
    });
  });
}

/** kcat that must exit 0; the error carries its stderr. */
export async function kcatOk(
  args: readonly string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<KcatResult> {
  const r = await kcat(args, opts);
  if (r.code !== 0)
    throw new Error(`kcat ${args.join(' ')} exited ${r.code ?? r.signal}\nstderr:\n${r.stderr}`);
  return r;
}

let codecsRegistered = false;

/**
 * kafkajs ships gzip only; users plug in the others (kafkajs-snappy, kafkajs-lz4, …). These plug
 * the same native libraries in directly, independent of Tributary's own codec code:
 * snappy accepts librdkafka's raw block (xerial framing is unwrapped by hand), LZ4 is the frame
 * format, zstd a zstd frame.
 */
export function registerKafkajsCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  const XERIAL = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
  const snappyDecode = (buf: Buffer): Buffer => {
    if (buf.length < 16 || !buf.subarray(0, 8).equals(XERIAL))
      return snappyUncompress(buf) as unknown as Buffer;
    const parts: Buffer[] = [];
    for (let pos = 16; pos < buf.length; ) {
      const size = buf.readInt32BE(pos);
      parts.push(snappyUncompress(buf.subarray(pos + 4, pos + 4 + size)) as unknown as Buffer);
      pos += 4 + size;
    }
    return Buffer.concat(parts);
  };
  const codec = (decompress: (buf: Buffer) => Buffer | Promise<Buffer>) => () => ({
    async compress(): Promise<Buffer> {
      throw new Error('this test codec only decompresses');
    },
    async decompress(buf: Buffer): Promise<Buffer> {
      return Buffer.from(await decompress(buf));
    },
  });
  const codecs = CompressionCodecs as unknown as Record<number, unknown>;
  codecs[CompressionTypes.Snappy] = codec(async (b) => snappyDecode(b));
  codecs[CompressionTypes.LZ4] = codec((b) => decompressFrame(b));
  codecs[CompressionTypes.ZSTD] = codec((b) => zstdDecompress(b));
}

/** A kafkajs client for `bootstrap`, quiet unless INTEROP_DEBUG=1. */
export function kafkajs(bootstrap: string, config: Partial<KafkaConfig> = {}): Kafka {
  registerKafkajsCodecs();
  return new Kafka({
    clientId: 'interop-kafkajs',
    brokers: bootstrap.split(','),
    logLevel: DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    connectionTimeout: 5_000,
    ...config,
  });
}

/** Polls `consumer` until `count` records came (or fails after `timeoutMs` with what it had). */
export function pollRecords(
  consumer: Consumer,
  count: number,
  timeoutMs = 15_000,
): Promise<ConsumerRecord[]> {
  return collect(count, timeoutMs, (t) => consumer.poll({ timeoutMs: t }));
}

/**
 * pollRecords() through pollBatch(): each record rebuilt from the cursor's fields (not from
 * `record()`), so a cursor that disagrees with poll() shows up when the two are compared.
 */
export function pollBatchRecords(
  consumer: Consumer,
  count: number,
  timeoutMs = 15_000,
): Promise<ConsumerRecord[]> {
  return collect(count, timeoutMs, async (t) => {
    const out: ConsumerRecord[] = [];
    const batch = await consumer.pollBatch({ timeoutMs: t });
    for (const r = batch.cursor(); r.next(); ) {
      out.push({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestampType: r.timestampType,
        key: r.key(),
        value: r.value(),
        headers: r.headers(),
        leaderEpoch: r.leaderEpoch,
      });
    }
    return out;
  });
}

/** Calls `poll` (with at most 500 ms each) until `count` records came, or fails after `timeoutMs`. */
async function collect(
  count: number,
  timeoutMs: number,
  poll: (timeoutMs: number) => Promise<ConsumerRecord[]>,
): Promise<ConsumerRecord[]> {
  const got: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`got ${got.length} of ${count} records in ${timeoutMs} ms`);
    got.push(...(await poll(Math.min(500, left))));
  }
  return got;
}

/** Waits until `check()` is true, polling every 50 ms. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let topicCount = 0;
/** A topic name unique in this process. */
export function topicName(prefix: string): string {
  return `${prefix}-${process.pid}-${++topicCount}`;
}

/** Groups of records by partition, in offset order. */
export function byPartition<T extends { partition: number }>(records: readonly T[]): Map<number, T[]> {
  const map = new Map<number, T[]>();
  for (const r of records) {
    const list = map.get(r.partition) ?? [];
    list.push(r);
    map.set(r.partition, list);
  }
  return map;
}

export interface KcatProcess {
  readonly child: ChildProcess;
  /** stdout so far. */
  out(): string;
  /** stderr so far (bounded). */
  err(): string;
  /** SIGTERM (kcat closes cleanly: a group member commits and leaves), then waits for exit. */
  stop(): Promise<number | null>;
}

/** kcat left running (a group member, say), stopped with stop() or when the test finishes. */
export function spawnKcat(args: readonly string[]): KcatProcess {
  const bin = ensureKcat();
  const child = spawn(bin, DEBUG ? [...args, '-d', 'protocol,broker,cgrp'] : [...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (DEBUG) process.stderr.write(d);
    err += d;
    if (err.length > MAX_STDERR_CHARS) err = `${err.slice(0, 8_000)}\n…\n${err.slice(-8_000)}`;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return child.exitCode;
  };
  onTestFinished(async () => {
    await stop();
  });
  return { child, out: () => out, err: () => err, stop };
}
