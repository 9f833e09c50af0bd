import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../../core/log/errors.js';
import { batchSize } from '../../../core/records/index.js';
import { batch, batchBases, openLog, readAll, reopen } from './helpers.js';

/** Every other batch of a segment's bytes (offsets kept, as the cleaner does). */
function everyOther(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const size = batchSize(bytes, pos);
    if (i++ % 2 === 0) out.push(bytes.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

function setup() {
  const log = openLog({ 'segment.bytes': 1000 });
  for (let i = 0; i < 30; i++) log.append(batch(2, { tag: `b${i}`, valueBytes: 60 }));
  return log;
}

describe('replaceSegments', () => {
  it('swaps closed segments for a compacted one, offsets preserved, and survives reopen', () => {
    const log = setup();
    const segs = log.segmentInfos();
    expect(segs.length).toBeGreaterThan(4);
    const olds = [segs[0]!.baseOffset, segs[1]!.baseOffset];
    const kept = [...everyOther(log.readSegment(olds[0]!)), ...everyOther(log.readSegment(olds[1]!))];
    log.replaceSegments(olds, kept);
    expect(log.segmentInfos()[0]!.baseOffset).toBe(0);
    expect(log.segmentInfos()[1]!.baseOffset).toBe(segs[2]!.baseOffset);
    const bases = batchBases(log.read(0, 1 << 20).records);
    expect(bases.slice(0, kept.length)).toEqual(kept.map((b) => b.readUInt32BE(4)));
    // a fetch from a removed offset gets the next batch
    expect(batchBases(log.read(2, 1, { minOneBatch: true }).records)).toEqual([4]);
    const after = readAll(log);
    expect(fs.readdirSync(log.dir).filter((n) => n.includes('.deleted') || n.includes('.swap'))).toEqual([]);
    log.close();
    const again = reopen(log);
    expect(readAll(again)).toEqual(after);
    again.close();
  });

  it('refuses the active segment, batches out of range, and corrupt batches', () => {
    const log = setup();
    const segs = log.segmentInfos();
    expect(() => log.replaceSegments([segs.at(-1)!.baseOffset], [])).toThrow(LogError);
    const later = log.readSegment(segs[1]!.baseOffset);
    expect(() => log.replaceSegments([segs[0]!.baseOffset], [later])).toThrow(/outside/);
    const bad = Buffer.from(log.readSegment(segs[0]!.baseOffset));
    bad[bad.length - 1] ^= 1;
    expect(() => log.replaceSegments([segs[0]!.baseOffset], [bad])).toThrow(/CRC/);
    log.close();
  });

  it('completes a swap interrupted after the .swap file was written', () => {
    const log = setup();
    const segs = log.segmentInfos();
    const kept = [...everyOther(log.readSegment(0)), ...everyOther(log.readSegment(segs[1]!.baseOffset))];
    log.close();
    fs.writeFileSync(path.join(log.dir, '00000000000000000000.log.swap'), Buffer.concat(kept));
    fs.writeFileSync(path.join(log.dir, '00000000000000000000.log.cleaned'), Buffer.from('partial'));
    fs.writeFileSync(path.join(log.dir, '00000000000000000099.index.deleted'), Buffer.from('old'));
    const again = reopen(log);
    expect(again.recovery.completedSwaps).toBe(1);
    expect(again.segmentInfos().map((s) => s.baseOffset)).toEqual([
      0,
      ...segs.slice(2).map((s) => s.baseOffset),
    ]);
    const records = readAll(again);
    expect(records.length).toBe(kept.length * 2 + (30 * 2 - segs[2]!.baseOffset));
    expect(fs.readdirSync(again.dir).filter((n) => /cleaned|swap|deleted/.test(n))).toEqual([]);
    again.close();
  });

  it('completes a swap interrupted after the old segments were renamed .deleted', () => {
    const log = setup();
    const segs = log.segmentInfos();
    const kept = everyOther(log.readSegment(0));
    const before = readAll(log).filter((r) => r.offset >= segs[1]!.baseOffset);
    log.close();
    for (const ext of ['log', 'index', 'timeindex']) {
      const f = path.join(log.dir, `00000000000000000000.${ext}`);
      fs.renameSync(f, `${f}.deleted`);
    }
    fs.writeFileSync(path.join(log.dir, '00000000000000000000.log.swap'), Buffer.concat(kept));
    const again = reopen(log);
    expect(readAll(again).filter((r) => r.offset >= segs[1]!.baseOffset)).toEqual(before);
    expect(readAll(again).length).toBe(kept.length * 2 + before.length);
    again.close();
  });
});
