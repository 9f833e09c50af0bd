/**
 * `trib demo` (what `npm start` runs): a producer writing as fast as it can and a consumer reading
 * behind it, on an embedded log in a temporary data directory (or --data-dir). One line a second
 * shows produced and consumed records/s and MB/s, the consumer's lag and the log's size on disk;
 * a summary follows at the end, and the temporary directory is removed.
 *
 * The consumer is manually assigned (no group), so the figures start with the first second
 * rather than after a rebalance.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Acks, CompressionType, Consumer, Producer } from '../client/types.js';
import type { ParsedArgs } from './args.js';
import { type CliIO, intFlag, type LeafCommand, stringFlag } from './command.js';
import { openClient } from './connection.js';
import { errorCode } from './errors.js';
import { type Style, styleFor } from './style.js';
import { formatBytes, formatCount, formatDuration, perSecond } from './text.js';
import { InFlightWindow } from './window.js';

const TOPIC = 'trib-demo';
const CHUNK_RECORDS = 500;
const CHUNKS_IN_FLIGHT = 32;
const CATCH_UP_MS = 3000;

/** Running totals, sampled once a second. */
export interface DemoTotals {
  elapsedMs: number;
  produced: number;
  producedBytes: number;
  consumed: number;
  consumedBytes: number;
  logBytes: number;
}

const COLUMNS =
  `${'time'.padStart(6)} │ ${'produced/s'.padStart(11)} ${'bytes/s'.padStart(12)} │ ` +
  `${'consumed/s'.padStart(11)} ${'bytes/s'.padStart(12)} │ ${'lag'.padStart(11)} │ ${'log size'.padStart(10)}`;

/** Line `second` of the live display: rates over the interval since `prev`, lag and log size now. */
export function formatTick(second: number, prev: DemoTotals, now: DemoTotals, style: Style): string {
  const ms = now.elapsedMs - prev.elapsedMs;
  const rate = (count: number, bytes: number, paint: (s: string) => string) =>
    `${paint(formatCount(perSecond(count, ms)).padStart(11))} ${`${formatBytes(perSecond(bytes, ms))}/s`.padStart(12)}`;
  const seconds = `${second} s`.padStart(6);
  const produced = rate(now.produced - prev.produced, now.producedBytes - prev.producedBytes, style.cyan);
  const consumed = rate(now.consumed - prev.consumed, now.consumedBytes - prev.consumedBytes, style.green);
  const lag = style.yellow(formatCount(Math.max(0, now.produced - now.consumed)).padStart(11));
  return `${seconds} │ ${produced} │ ${consumed} │ ${lag} │ ${formatBytes(now.logBytes).padStart(10)}\n`;
}

export function formatSummary(t: DemoTotals, style: Style): string {
  const line = (label: string, count: number, bytes: number) =>
    `${style.bold(label.padEnd(9))}${formatCount(count).padStart(12)} records  ${formatBytes(bytes).padStart(9)}  ` +
    `${formatCount(perSecond(count, t.elapsedMs)).padStart(10)} records/s  ${formatBytes(perSecond(bytes, t.elapsedMs)).padStart(9)}/s\n`;
  return (
    `\n${style.bold(`in ${formatDuration(t.elapsedMs)}:`)}\n` +
    line('produced', t.produced, t.producedBytes) +
    line('consumed', t.consumed, t.consumedBytes)
  );
}

/** Total size of the files under `dir` (0 for what vanishes while walking: segments get deleted). */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(path);
    else if (e.isFile())
      total += await stat(path).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

interface DemoState {
  stopProducing: boolean;
  stopConsuming: boolean;
  totals: DemoTotals;
}

async function produceLoop(producer: Producer, recordBytes: number, state: DemoState): Promise<void> {
  // A few distinct values, printable so that compression has realistic work to do.
  const values = Array.from({ length: 64 }, () =>
    Buffer.from(randomBytes(recordBytes).toString('base64').slice(0, recordBytes)),
  );
  const window = new InFlightWindow(CHUNKS_IN_FLIGHT);
  let i = 0;
  try {
    while (!state.stopProducing) {
      const sends: Promise<unknown>[] = [];
      let bytes = 0;
      for (let n = 0; n < CHUNK_RECORDS; n++, i++) {
        const key = Buffer.from(`user-${i % 10_000}`);
        const value = values[i % values.length]!;
        bytes += key.length + value.length;
        sends.push(producer.send({ topic: TOPIC, key, value }));
      }
      const chunkBytes = bytes;
      await window.add(
        Promise.all(sends).then(() => {
          state.totals.produced += CHUNK_RECORDS;
          state.totals.producedBytes += chunkBytes;
        }),
      );
      await yieldToEventLoop(); // keeps the display timer and the consumer running
    }
    await window.drain();
    await producer.flush();
  } catch (err) {
    await window.settle();
    throw err;
  }
}

async function consumeLoop(consumer: Consumer, state: DemoState): Promise<void> {
  while (!state.stopConsuming) {
    const records = await consumer.poll({ timeoutMs: 100 });
    for (const r of records) {
      state.totals.consumed++;
      state.totals.consumedBytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    }
    await yieldToEventLoop();
  }
}

function waitFor(ms: number, until: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    const check = () => {
      if (until() || performance.now() - started >= ms) resolve();
      else setTimeout(check, 20);
    };
    check();
  });
}

async function run(args: ParsedArgs, io: CliIO): Promise<number | undefined> {
  const seconds = intFlag(args, 'seconds')!;
  const partitions = intFlag(args, 'partitions')!;
  const recordBytes = intFlag(args, 'record-bytes')!;
  const acksText = stringFlag(args, 'acks')!;
  const compression = stringFlag(args, 'compression') as CompressionType;
  const givenDir = stringFlag(args, 'data-dir');
  const dataDir = givenDir ?? (await mkdtemp(join(tmpdir(), 'trib-demo-')));
  const style = styleFor(io.stdout, io.env);
  const out = (text: string) => io.stdout.write(text);

  const state: DemoState = {
    stopProducing: false,
    stopConsuming: false,
    totals: { elapsedMs: 0, produced: 0, producedBytes: 0, consumed: 0, consumedBytes: 0, logBytes: 0 },
  };
  const offSignal = io.onSignal(() => {
    state.stopProducing = true;
  });
  let timer: NodeJS.Timeout | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  try {
    const client = await openClient({ 'data.dir': dataDir, 'client.id': 'trib-demo' });
    try {
      const admin = client.admin();
      try {
        await admin.createTopics([{ topic: TOPIC, numPartitions: partitions, replicationFactor: 1 }]);
      } catch (err) {
        if (errorCode(err) !== 'TOPIC_ALREADY_EXISTS') throw err;
      }
      const [description] = await admin.describeTopics([TOPIC]);
      const tps = (description?.partitions ?? []).map((p) => ({ topic: TOPIC, partition: p.partition }));
      const consumer = client.consumer({ 'client.id': 'trib-demo-consumer', 'enable.auto.commit': false });
      consumer.assign(tps);
      consumer.seekToEnd(tps);
      for (const tp of tps) await consumer.position(tp);
      const producer = client.producer({
        'client.id': 'trib-demo-producer',
        acks: acksText === 'all' ? 'all' : (Number(acksText) as Acks),
        'compression.type': compression,
      });

      out(
        `${style.bold('trib demo')}: a producer and a consumer on an embedded log\n` +
          `  data dir  ${dataDir}${givenDir ? '' : ' (temporary)'}\n` +
          `  topic     ${TOPIC}: ${tps.length} partitions, ${recordBytes}-byte values, acks=${acksText}, ` +
          `compression ${compression}\n` +
          `  running   ${seconds > 0 ? `${seconds} s` : 'until Ctrl-C'} (Ctrl-C stops early)\n\n` +
          `${style.dim(COLUMNS)}\n`,
      );
      const started = performance.now();
      let prev: DemoTotals = { ...state.totals };
      let second = 0;
      // Ticks aim at whole seconds since the start (a late one does not shift the next); each
      // line's rates are over the time that really passed since the previous line.
      const scheduleTick = () => {
        timer = setTimeout(tick, Math.max(0, started + (second + 1) * 1000 - performance.now()));
      };
      const tick = () => {
        second++;
        void dirSize(dataDir).then((logBytes) => {
          if (state.stopConsuming) return;
          state.totals.elapsedMs = performance.now() - started;
          state.totals.logBytes = logBytes;
          out(formatTick(second, prev, state.totals, style));
          prev = { ...state.totals };
          scheduleTick();
        });
      };
      scheduleTick();
      if (seconds > 0) {
        stopTimer = setTimeout(() => {
          state.stopProducing = true;
        }, seconds * 1000);
      }

      let consumerError: unknown;
      const consuming = consumeLoop(consumer, state).catch((err: unknown) => {
        consumerError = err;
        state.stopProducing = true;
      });
      try {
        await produceLoop(producer, recordBytes, state);
        if (consumerError !== undefined) throw consumerError;
        state.totals.elapsedMs = performance.now() - started;
        // Let the consumer catch up on what is left, briefly.
        await waitFor(CATCH_UP_MS, () => state.totals.consumed >= state.totals.produced);
      } finally {
        state.stopConsuming = true;
        await consuming;
        clearTimeout(timer);
      }
      if (consumerError !== undefined) throw consumerError;
      state.totals.logBytes = await dirSize(dataDir);
      out(formatSummary(state.totals, style));
      out(
        `${style.bold('log'.padEnd(9))}${formatBytes(state.totals.logBytes).padStart(12)} on disk in ${dataDir}` +
          `${givenDir ? '' : ' (removed)'}\n`,
      );
    } finally {
      await client.close();
    }
    return 0;
  } finally {
    clearTimeout(timer);
    clearTimeout(stopTimer);
    offSignal();
    if (!givenDir) await rm(dataDir, { recursive: true, force: true });
  }
}

export const demoCommand: LeafCommand = {
  kind: 'command',
  spec: {
    name: 'demo',
    summary:
      'Watch a producer and a consumer run flat out on an embedded log. Every second: records/s, MB/s, ' +
      'lag and log size, in a temporary data dir unless --data-dir.',
    usage: 'trib demo [--seconds S] [--partitions N] [--record-bytes B]',
    flags: {
      seconds: { type: 'int', arg: 'S', min: 0, default: 15, help: 'how long to run; 0 runs until Ctrl-C' },
      partitions: { type: 'int', arg: 'N', min: 1, default: 3, help: 'partitions of the demo topic' },
      'record-bytes': { type: 'int', arg: 'B', min: 0, default: 100, help: 'size of each record value' },
      acks: {
        type: 'string',
        arg: 'ACKS',
        choices: ['0', '1', 'all'],
        default: 'all',
        help: 'producer acks',
      },
      compression: {
        type: 'string',
        arg: 'CODEC',
        choices: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
        default: 'none',
        help: 'batch compression',
      },
      'data-dir': { type: 'string', arg: 'DIR', help: 'use (and keep) DIR instead of a temporary directory' },
    },
  },
  run,
};
