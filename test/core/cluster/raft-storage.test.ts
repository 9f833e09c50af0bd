/**
 * Durable state: log segments (append, roll, truncate, compact, torn-tail recovery), the
 * two-slot quorum-state file, and snapshot files — over the simulated disk, whose crash keeps
 * only what was fsynced (plus a random, possibly torn, part of the rest).
 */
import { describe, expect, it } from 'vitest';
import { Durability } from '../../../core/cluster/raft/durability.js';
import { HardState } from '../../../core/cluster/raft/hard-state.js';
import { RaftLog } from '../../../core/cluster/raft/raft-log.js';
import { decodeSnapshot, encodeSnapshot, SnapshotStore } from '../../../core/cluster/raft/snapshot-store.js';
import { EntryType, type LogEntry } from '../../../core/cluster/raft/types.js';
import { NodeClock, SimClock } from '../../../core/cluster/sim/sim-clock.js';
import { drainMicrotasks } from '../../../core/cluster/sim/sim-cluster.js';
import { SimDisk } from '../../../core/cluster/sim/sim-disk.js';
import type { FileSystem } from '../../../core/env/fs.js';
import { SeededRandom } from '../../../core/env/random.js';

const DIR = '/raft';

function setup(seed = 1) {
  const sim = new SimClock();
  const disk = new SimDisk(new SeededRandom(seed), {
    tornWriteProbability: 1,
    minSyncMs: 1,
    maxSyncMs: 2,
    stallProbability: 0,
    stallMaxMs: 0,
  });
  let clock = new NodeClock(sim);
  let fs = disk.mount(clock);
  fs.mkdirp(DIR);
  const open = () => {
    const durability = new Durability((err) => {
      throw err;
    });
    return {
      durability,
      log: RaftLog.open({ fs, dir: DIR, segmentBytes: 200, maxEntryBytes: 1024, durability }, null),
    };
  };
  return {
    sim,
    disk,
    get fs(): FileSystem {
      return fs;
    },
    open,
    crash(): void {
      clock.kill();
      disk.crash();
      clock = new NodeClock(sim);
      fs = disk.mount(clock);
    },
    async fsync(durability: Durability): Promise<void> {
      let done = false;
      durability.after(() => {
        done = true;
      });
      while (!done && sim.runNext()) await drainMicrotasks();
      expect(done).toBe(true);
    },
  };
}

const entry = (index: number, term: number, s = `e${index}`): LogEntry => ({
  index,
  term,
  type: EntryType.command,
  data: Buffer.from(s),
});

describe('raft log storage', () => {
  it('appends across segments, reads back, and recovers after a clean fsync', async () => {
    const t = setup();
    const { log, durability } = t.open();
    log.append(Array.from({ length: 30 }, (_, i) => entry(i + 1, 1 + Math.floor(i / 10))));
    expect(log.lastIndex).toBe(30);
    expect(log.termAt(25)).toBe(3);
    expect(t.fs.readdir(DIR).filter((f) => f.endsWith('.raftlog')).length).toBeGreaterThan(2);
    expect(log.slice(5, 3, 1_000_000).map((e) => e.index)).toEqual([5, 6, 7]);
    expect(log.slice(5, 100, 1).map((e) => e.index)).toEqual([5]); // at least one
    expect(log.lastIndexOfTerm(2)).toBe(20);
    expect(log.firstIndexOfTerm(15, 2)).toBe(11);
    await t.fsync(durability);
    t.crash();
    const again = t.open().log;
    expect(again.lastIndex).toBe(30);
    expect(Buffer.from(again.entryAt(17)!.data).toString()).toBe('e17');
  });

  it('loses or tears what was not fsynced, and recovers a valid prefix', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const t = setup(seed);
      const { log, durability } = t.open();
      log.append(Array.from({ length: 10 }, (_, i) => entry(i + 1, 1)));
      await t.fsync(durability);
      log.append(Array.from({ length: 10 }, (_, i) => entry(i + 11, 1, `x${i}`.repeat(20))));
      t.crash(); // no fsync
      const again = t.open().log;
      expect(again.lastIndex).toBeGreaterThanOrEqual(10);
      expect(again.lastIndex).toBeLessThanOrEqual(20);
      for (let i = 1; i <= again.lastIndex; i++) expect(again.entryAt(i)!.index).toBe(i);
      // appending after recovery works
      again.append([entry(again.lastIndex + 1, 2)]);
      expect(again.termAt(again.lastIndex)).toBe(2);
    }
  });

  it('truncates a conflicting suffix, also across segments', async () => {
    const t = setup();
    const { log, durability } = t.open();
    log.append(Array.from({ length: 30 }, (_, i) => entry(i + 1, 1)));
    log.truncateFrom(8);
    expect(log.lastIndex).toBe(7);
    log.append([entry(8, 2, 'new')]);
    await t.fsync(durability);
    t.crash();
    const again = t.open().log;
    expect(again.lastIndex).toBe(8);
    expect(again.termAt(8)).toBe(2);
    expect(Buffer.from(again.entryAt(8)!.data).toString()).toBe('new');
  });

  it('compacts whole segments behind a snapshot and reopens against it', async () => {
    const t = setup();
    const { log, durability } = t.open();
    log.append(Array.from({ length: 40 }, (_, i) => entry(i + 1, 1)));
    log.setSnapshot(25, 1);
    log.compactBefore(26);
    expect(log.firstIndex).toBeGreaterThan(1);
    expect(log.firstIndex).toBeLessThanOrEqual(26);
    expect(log.termAt(25)).toBe(1);
    await t.fsync(durability);
    t.crash();
    const durability2 = new Durability(() => {});
    const again = RaftLog.open(
      { fs: t.fs, dir: DIR, segmentBytes: 200, maxEntryBytes: 1024, durability: durability2 },
      {
        index: 25,
        term: 1,
      },
    );
    expect(again.lastIndex).toBe(40);
    expect(again.snapshotIndex).toBe(25);
    // a snapshot that does not match the log's entry replaces the whole log
    again.installSnapshot(30, 9);
    expect(again.lastIndex).toBe(30);
    expect(again.firstIndex).toBe(31);
    expect(again.termAt(30)).toBe(9);
  });
});

describe('raft log recovery never mixes old and new entries', () => {
  it('drops a newer segment that does not chain to the older segment before it', () => {
    // what a crash can leave: segment 1 still holds the old entries 5..6 of term 1 (its truncation
    // and rewrite were lost) while the next segment, written after the rewrite, survived
    const data = (i: number): Buffer => Buffer.from(`x${String(i).padStart(2, '0')}`);
    const build = (terms: number[]): ReturnType<typeof setup> => {
      const t = setup();
      const { log } = t.open();
      log.append(
        terms.map((term, i) => ({ index: i + 1, term, type: EntryType.command, data: data(i + 1) })),
      );
      return t;
    };
    const rewritten = build([1, 1, 1, 1, 2, 2, 2, 2]);
    const old = build([1, 1, 1, 1, 1, 1]);
    const names = rewritten.fs.readdir(DIR).filter((f) => f.endsWith('.raftlog'));
    expect(names).toHaveLength(2);
    const [first, second] = names as [string, string];
    expect(old.fs.readdir(DIR).filter((f) => f.endsWith('.raftlog'))).toEqual([first]);
    old.fs.writeFileAtomic(`${DIR}/${second}`, rewritten.fs.readFile(`${DIR}/${second}`));
    const recovered = old.open().log;
    expect(recovered.lastIndex).toBe(6);
    expect(recovered.termAt(6)).toBe(1);
    expect(old.fs.readdir(DIR).filter((f) => f.endsWith('.raftlog'))).toEqual([first]);
  });
});

describe('quorum state (term and vote)', () => {
  it('never overwrites the slot holding the last fsynced state', async () => {
    const t = setup();
    const d = new Durability(() => {});
    const hs = HardState.open(t.fs, DIR, d);
    hs.set(3, 2);
    await t.fsync(d);
    const durable = t.fs.readFile(`${DIR}/quorum-state`);
    hs.set(4, null);
    hs.set(5, 1); // both unsynced: a disk that reorders or tears them must not touch the durable slot
    const now = t.fs.readFile(`${DIR}/quorum-state`);
    const same = [0, 1].filter((slot) =>
      now.subarray(slot * 32, slot * 32 + 32).equals(durable.subarray(slot * 32, slot * 32 + 32)),
    );
    expect(same).toHaveLength(1);
    await t.fsync(d);
    hs.set(6, null); // now the other slot is durable, and this goes to the first one
    const again = HardState.open(t.fs, DIR, new Durability(() => {}));
    expect([again.term, again.votedFor]).toEqual([6, null]);
  });

  it('survives restarts, and a torn write leaves the previous state', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const t = setup(seed);
      const d = new Durability(() => {});
      const hs = HardState.open(t.fs, DIR, d);
      expect([hs.term, hs.votedFor]).toEqual([0, null]);
      hs.set(3, 2);
      await t.fsync(d);
      hs.set(4, null); // never fsynced
      t.crash();
      const again = HardState.open(t.fs, DIR, new Durability(() => {}));
      // either the durable state or (if the lost write happened to land whole) the newer one
      expect([
        [3, 2],
        [4, null],
      ]).toContainEqual([again.term, again.votedFor]);
    }
  });
});

describe('snapshot files', () => {
  it('round-trips, rejects corruption, and the store keeps the newest valid one', () => {
    const t = setup();
    const snap = encodeSnapshot({ index: 10, term: 2, learners: [100] }, Buffer.from('state'));
    const back = decodeSnapshot(snap.fileBytes, 1 << 20);
    expect(back).toMatchObject({ index: 10, term: 2, learners: [100] });
    expect(Buffer.from(back.data).toString()).toBe('state');
    const bad = Buffer.from(snap.fileBytes);
    bad[12] = bad[12]! ^ 0xff;
    expect(() => decodeSnapshot(bad, 1 << 20)).toThrow(/invalid snapshot/);
    const store = new SnapshotStore(t.fs, DIR, 1 << 20);
    store.save(snap);
    store.save(encodeSnapshot({ index: 20, term: 3, learners: [] }, Buffer.from('newer')));
    expect(store.latest()?.index).toBe(20);
    expect(t.fs.readdir(DIR).filter((f) => f.endsWith('.raftsnap'))).toHaveLength(1);
  });
});
