/**
 * Crash recovery fuzz: write batches, stop (close, or "kill -9": copy the files while the log is
 * open), damage the active segment (truncate, flip a byte, append garbage) and the indexes,
 * reopen, and check: every batch wholly before the damage reads back byte-identical, nothing at
 * or after it is served, logEndOffset is right after the last intact batch, appends work.
 *
 * The file system skips fsyncs (the crash is simulated by damaging files; durability is the
 * kill -9 test's business), which keeps 250 iterations within a few seconds on a busy disk.
 *
 * Deterministic: iteration i uses seed BASE + i. A failure prints the seed; replay one with
 *   SEED=<seed> ITERATIONS=1 npx vitest run test/core/log/crash-recovery-fuzz.test.ts
 *
 * Not damaged on purpose: a batch's baseOffset and partitionLeaderEpoch (bytes 0-7 and 12-15).
 * Record batch v2 keeps them outside the CRC so that brokers can patch them; a flipped bit there
 * is undetectable when it keeps offsets increasing (recovery checks the order and the epoch
 * against the checkpoint, nothing more can be checked).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../core/env/random.js';
import { LogError } from '../../../core/log/errors.js';
import { PartitionLog } from '../../../core/log/log.js';
import { encodeBatch } from '../../../core/records/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { config, noSyncFs } from './helpers.js';

const BASE_SEED = process.env.SEED === undefined ? 20240601 : Number(process.env.SEED);
const ITERATIONS = process.env.ITERATIONS === undefined ? 250 : Number(process.env.ITERATIONS);

interface Written {
  base: number;
  last: number;
  bytes: Buffer;
  segment: number;
  position: number;
}

function runOne(seed: number, root: string): void {
  const rng = new SeededRandom(seed);
  const dir = path.join(root, `s${seed}`, 't-0');
  const cfg = config({
    'segment.bytes': 3000 + rng.int(20000),
    'index.interval.bytes': rng.int(3000),
    'segment.index.bytes': 8 * (4 + rng.int(200)),
    'retention.ms': -1,
  });
  const log = PartitionLog.open({ dir, topic: 't', partition: 0, config: cfg, fs: noSyncFs });
  const written: Written[] = [];
  const n = 3 + rng.int(60);
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const count = 1 + rng.int(10);
    const records = Array.from({ length: count }, (_, j) => {
      const value = Buffer.alloc(1 + rng.int(200));
      rng.fill(value);
      return { key: Buffer.from(`k${i}-${j}`), value, timestamp: 1_000_000 + i * 10 + j };
    });
    const idempotent = rng.int(4) === 0;
    const b = encodeBatch(records, {
      now: 1_000_000,
      compression: rng.int(5) === 0 ? 1 : 0,
      ...(idempotent ? { producerId: 7, producerEpoch: 0, baseSequence: seq } : {}),
    });
    if (idempotent) seq += count;
    const r = log.append(b, { leaderEpoch: i < n / 2 ? 0 : 1 });
    const seg = log.segmentInfos().at(-1)!;
    written.push({
      base: r.firstOffset,
      last: r.lastOffset,
      bytes: Buffer.from(b),
      segment: seg.baseOffset,
      position: seg.sizeBytes - b.length,
    });
  }
  const leo = log.logEndOffset;
  const segments = log.segmentInfos();
  const active = segments.at(-1)!;

  // Stop: a clean close, or a kill -9 (the files as they are while the log is open).
  const killed = rng.int(2) === 0;
  let recoveryDir = dir;
  if (killed) {
    recoveryDir = path.join(root, `s${seed}`, 'copy-0');
    fs.cpSync(dir, recoveryDir, { recursive: true });
  }
  log.close();

  // Damage the active segment's .log, or now and then an older one (everything after the
  // damage goes, later segments included).
  const target = segments.length > 1 && rng.int(4) === 0 ? segments[rng.int(segments.length - 1)]! : active;
  const logFile = path.join(recoveryDir, `${String(target.baseOffset).padStart(20, '0')}.log`);
  const size = fs.statSync(logFile).size;
  const inActive = written.filter((w) => w.segment === target.baseOffset);
  const mode = size === 0 ? 'garbage' : (['truncate', 'flip', 'garbage'] as const)[rng.int(3)]!;
  let damageAt = size; // byte position in the active segment
  let finalSize = size;
  if (mode === 'truncate') {
    damageAt = rng.int(size);
    fs.truncateSync(logFile, damageAt);
    finalSize = damageAt;
  } else if (mode === 'flip') {
    for (;;) {
      damageAt = rng.int(size);
      const w = inActive.find((x) => damageAt >= x.position && damageAt < x.position + x.bytes.length)!;
      const rel = damageAt - w.position;
      if (!(rel < 8 || (rel >= 12 && rel < 16))) break;
    }
    const fd = fs.openSync(logFile, 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, damageAt);
    one[0]! ^= 1 << rng.int(8);
    fs.writeSync(fd, one, 0, 1, damageAt);
    fs.closeSync(fd);
  } else {
    const junk = Buffer.alloc(1 + rng.int(300));
    rng.fill(junk);
    if (rng.int(2) === 0) junk.fill(0);
    fs.appendFileSync(logFile, junk);
    finalSize = size + junk.length;
  }
  // Damage indexes at random.
  for (const s of segments) {
    for (const ext of ['index', 'timeindex']) {
      const f = path.join(recoveryDir, `${String(s.baseOffset).padStart(20, '0')}.${ext}`);
      if (!fs.existsSync(f)) continue;
      const what = rng.int(8);
      if (what === 0) fs.unlinkSync(f);
      else if (what === 1) fs.truncateSync(f, Math.max(0, fs.statSync(f).size - 3));
      else if (what === 2) fs.writeFileSync(f, Buffer.alloc(fs.statSync(f).size));
      else if (what === 3) {
        const junk = Buffer.alloc(fs.statSync(f).size + 24);
        rng.fill(junk);
        fs.writeFileSync(f, junk);
      }
    }
  }

  // Which batches survive.
  let damagedIdx = written.findIndex(
    (w) => w.segment === target.baseOffset && damageAt < w.position + w.bytes.length,
  );
  if (damagedIdx < 0 && target !== active) {
    // garbage after a closed segment: its following segments are cut with it
    damagedIdx = written.findIndex((w) => w.segment > target.baseOffset);
  }
  const intact = damagedIdx < 0 ? written : written.slice(0, damagedIdx);
  const expectedLeo = damagedIdx < 0 ? leo : written[damagedIdx]!.base;
  const later = segments.filter((x) => x.baseOffset > target.baseOffset).reduce((a, x) => a + x.sizeBytes, 0);
  const cutInTarget =
    damagedIdx >= 0 && written[damagedIdx]!.segment === target.baseOffset
      ? finalSize - written[damagedIdx]!.position
      : finalSize - size;
  const cutBytes = cutInTarget + later;

  // A recovery point at or before the damage (data below it was fsynced), or none. A damaged
  // closed segment must lie at or after the segment holding the recovery point.
  const rpChoice = rng.int(3);
  const candidates = target === active ? intact : intact.filter((w) => w.base <= target.baseOffset);
  const recoveryPoint =
    rpChoice === 0
      ? undefined
      : rpChoice === 1 && target === active
        ? expectedLeo
        : (candidates[rng.int(candidates.length + 1)]?.base ?? (target === active ? expectedLeo : undefined));

  const again = PartitionLog.open({
    dir: recoveryDir,
    topic: 't',
    partition: 0,
    config: cfg,
    fs: noSyncFs,
    ...(recoveryPoint === undefined ? {} : { recoveryPoint }),
  });
  const ctx = `mode=${mode} target=${target.baseOffset}/${active.baseOffset} killed=${killed} damageAt=${damageAt}/${size} rp=${recoveryPoint} problems=${again.recovery.problems.join(' | ')}`;
  expect(again.logEndOffset, ctx).toBe(expectedLeo);
  if (mode !== 'garbage' || cutBytes > 0) expect(again.recovery.truncatedBytes, ctx).toBe(cutBytes);
  for (const w of intact) {
    const r = again.read(w.base, w.bytes.length, { minOneBatch: true });
    expect(r.records.length, ctx).toBe(1);
    expect(r.records[0]!.equals(w.bytes), `${ctx} batch ${w.base}`).toBe(true);
    if (w.last > w.base) {
      const mid = again.read(w.last, 1, { minOneBatch: true });
      expect(mid.records[0]!.equals(w.bytes), ctx).toBe(true);
    }
  }
  // nothing at or after the damage
  expect(again.read(expectedLeo, 1 << 20).sizeBytes, ctx).toBe(0);
  expect(() => again.read(expectedLeo + 1, 1 << 20), ctx).toThrow(LogError);
  const all = again.read(again.logStartOffset, 64 << 20);
  expect(all.sizeBytes, ctx).toBe(intact.reduce((a, w) => a + w.bytes.length, 0));
  // appending after recovery works
  const extra = encodeBatch([{ value: Buffer.from('after') }], { now: 2_000_000 });
  const copy = Buffer.from(extra);
  const res = again.append(extra, { leaderEpoch: 2 });
  expect(res.firstOffset, ctx).toBe(expectedLeo);
  const back = again.read(expectedLeo, 1 << 20).records[0]!;
  expect(back.subarray(16).equals(copy.subarray(16)), ctx).toBe(true);
  again.close();
  // and a second reopen agrees
  const third = PartitionLog.open({ dir: recoveryDir, topic: 't', partition: 0, config: cfg, fs: noSyncFs });
  expect(third.logEndOffset, ctx).toBe(expectedLeo + 1);
  expect(third.recovery.truncatedBytes, ctx).toBe(0);
  third.close();
}

describe('crash recovery fuzz', () => {
  it(`recovers ${ITERATIONS} damaged logs (base seed ${BASE_SEED})`, () => {
    const root = tempDir('trib-fuzz-');
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = BASE_SEED + i;
      try {
        runOne(seed, root);
      } catch (err) {
        console.error(`crash recovery fuzz failed with seed ${seed}; replay: SEED=${seed} ITERATIONS=1`);
        throw err;
      }
      fs.rmSync(path.join(root, `s${seed}`), { recursive: true, force: true });
    }
  });
});
